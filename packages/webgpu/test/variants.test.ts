/**
 * Program steps' kernel variants (variants.ts): a matmul step with its params compiled into the
 * WGSL as constants, with and without an in-place alias, against hand-computed products.
 */
import { getBackend } from "@webjax/core";
import type { MatmulKernel } from "@webjax/core/internal";
import type { WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend("webgpu") as unknown as WebGPUBackend;

/** C[m, n] = Σ_k A[m, k] B[k, n] over params (M, N, K) = p0, p1, p2; with `epilogue`, out = in2 − acc. */
const kernel = (epilogue: boolean): MatmulKernel => ({
  kind: "matmul",
  label: "test matmul",
  dtype: "float32",
  inputs: epilogue ? ["float32", "float32", "float32"] : ["float32", "float32"],
  outputs: ["float32"],
  batch: [],
  m: { param: 0 },
  n: { param: 1 },
  k: { param: 2 },
  lhs: { offset: 0, batchStrides: [], rowStride: { param: 2 }, colStride: 1 },
  rhs: { offset: 0, batchStrides: [], rowStride: { param: 1 }, colStride: 1 },
  ...(epilogue
    ? {
        epilogue: {
          loads: [{ input: 2, offset: 0, strides: [{ param: 1 }, 1] }],
          expr: {
            op: "binary",
            fn: "sub",
            dtype: "float32",
            x: { op: "load", load: 0, dtype: "float32" },
            y: { op: "acc", dtype: "float32" },
          },
        } as never,
      }
    : {}),
});

const [M, N, K] = [3, 5, 4];
const a = Float32Array.from({ length: M * K }, (_, i) => (i % 7) - 3);
const bm = Float32Array.from({ length: K * N }, (_, i) => ((i * 3) % 5) - 2);
const product = (m: number, n: number) => {
  let s = 0;
  for (let k = 0; k < K; k++) s += (a[m * K + k] as number) * (bm[k * N + n] as number);
  return s;
};

describe("WebGPU kernel variants", () => {
  test("a specialised matmul reads its sizes as WGSL constants and computes the same product", async () => {
    const b = gpu();
    const exe = b.compile(kernel(false));
    const params = Int32Array.of(M, N, K);
    const spec = b.specialize(exe, params);
    const k = spec.kernel as MatmulKernel;
    expect([k.m, k.n, k.k]).toEqual([M, N, K]);
    const source = b.kernelSource(k);
    expect(source).toContain(`let M = ${M};`);
    expect(source).toContain(`let K = ${K};`);
    expect(b.kernelSource(exe.kernel)).toContain("let M = prm(0u);");
    const [sa, sb, out] = [b.alloc("float32", M * K), b.alloc("float32", K * N), b.alloc("float32", M * N)];
    b.write(sa, a);
    b.write(sb, bm);
    b.dispatch(spec, [sa, sb], [out], params);
    const got = await b.read(out, "float32", 0, M * N);
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) expect(got[m * N + n]).toBe(product(m, n));
    for (const s of [sa, sb, out]) b.free(s);
  });

  test("specialised and in place: out = c − A·B written over c", async () => {
    const b = gpu();
    const params = Int32Array.of(M, N, K);
    const inPlace = b.inPlace(b.compile(kernel(true)), [[2, 0]]);
    expect(inPlace).not.toBeNull();
    const spec = b.specialize(inPlace as never, params);
    expect((spec.kernel as MatmulKernel).m).toBe(M);
    const c = Float32Array.from({ length: M * N }, (_, i) => i * 0.5);
    const [sa, sb, sc] = [b.alloc("float32", M * K), b.alloc("float32", K * N), b.alloc("float32", M * N)];
    b.write(sa, a);
    b.write(sb, bm);
    b.write(sc, c);
    b.dispatch(spec, [sa, sb, sc], [sc], params);
    const got = await b.read(sc, "float32", 0, M * N);
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) expect(got[m * N + n]).toBe((c[m * N + n] as number) - product(m, n));
    for (const s of [sa, sb, sc]) b.free(s);
  });
});
