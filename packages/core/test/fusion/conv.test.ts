/**
 * Rule 5c (docs/architecture.md, "Fusion"): on a backend whose float32 matmul is a GEMM, a
 * float32 NHWC convolution runs as its im2col patches kernel — computing an elementwise input
 * as its prologue — and a matmul that takes the convolution's elementwise readers (bias,
 * activation, a residual add) as its epilogue. Kernel counts from `jit(f).lower`, values
 * against the same function run eagerly.
 */
import { getBackend, type Array as JArray, jit, lax, np, random, valueAndGrad } from "@webjax/core";
import { expectClose, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const gemm = getBackend(testBackend).gemmDtypes?.includes("float32") ?? false;
const keys = [...(random.split(random.key(11), 6) as Iterable<JArray>)] as JArray[];
const normal = (i: number, shape: number[], s = 1) => random.normal(keys[i] as JArray, shape).mul(s);
const nhwc = { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] as [string, string, string] };

async function sameAsEager(got: JArray, want: JArray, tol: number): Promise<void> {
  await expectClose(got, (await want.toArray()) as number[], { rtol: tol, atol: tol });
}

describe(`conv epilogues (rule 5c) on ${testBackend}`, () => {
  // Shared by the tests (and so never disposed).
  const x = normal(0, [2, 9, 9, 3]);
  const w = normal(1, [3, 3, 3, 5], 0.3);
  const b = normal(2, [5]);
  const r = normal(3, [2, 9, 9, 5]);

  test("conv → bias → relu → residual add: the matmul's epilogue (2 kernels: patches, matmul)", async () => {
    const f = (x: JArray, w: JArray, b: JArray, r: JArray) =>
      np.maximum(lax.convGeneralDilated(x, w, [1, 1], "SAME", nhwc).add(b), 0).add(r.mul(0.5));
    const g = jit(f);
    const lowered = g.lower(x, w, b, r);
    const kinds = lowered.kernels.map((k) => k.kind);
    if (gemm) {
      expect(kinds).toEqual(["fused", "matmul"]);
      const covers = (lowered.kernels[1]?.covers ?? []).join("\n");
      for (const prim of ["conv_general_dilated", "add", "max", "mul"]) expect(covers).toContain(prim);
    } else {
      // No GEMM: the direct convolution kernel, then one elementwise kernel.
      expect(kinds).toEqual(["fused", "fused"]);
    }
    using got = g(x, w, b, r);
    using want = f(x, w, b, r);
    // The epilogue computes the same float32 ops in the same order: bit for bit on the CPU.
    await sameAsEager(got, want, testBackend === "cpu" ? 0 : 1e-5);
  });

  test("conv of relu(x·s + t): the patches kernel computes the input's cone as its prologue", async () => {
    const s3 = normal(5, [3]);
    const f = (x: JArray, w: JArray, b: JArray, s: JArray) =>
      np.maximum(lax.convGeneralDilated(np.maximum(x.mul(s).add(0.1), 0), w, [1, 1], "SAME", nhwc).add(b), 0);
    const g = jit(f);
    const lowered = g.lower(x, w, b, s3);
    if (gemm) {
      expect(lowered.kernels.map((k) => k.kind)).toEqual(["fused", "matmul"]);
      const patches = (lowered.kernels[0]?.covers ?? []).join("\n");
      for (const prim of ["mul", "add", "max", "conv_general_dilated"]) expect(patches).toContain(prim);
    }
    using got = g(x, w, b, s3);
    using want = f(x, w, b, s3);
    // Padding reads zeros of the prologue's value, not the prologue of zeros: relu(0.1) ≠ 0.
    await sameAsEager(got, want, testBackend === "cpu" ? 0 : 1e-5);
  });

  test("strided, dilated and VALID convolutions with an epilogue equal eager", async () => {
    const cases: [string, (x: JArray, w: JArray) => JArray][] = [
      ["stride 2 VALID", (x, w) => lax.convGeneralDilated(x, w, [2, 2], "VALID", nhwc)],
      ["rhs dilation 2", (x, w) => lax.convGeneralDilated(x, w, [1, 1], "SAME", { ...nhwc, rhsDilation: [2, 2] })],
      [
        "explicit padding",
        (x, w) =>
          lax.convGeneralDilated(
            x,
            w,
            [1, 2],
            [
              [0, 2],
              [1, 1],
            ],
            nhwc,
          ),
      ],
    ];
    for (const [, conv] of cases) {
      const f = (x: JArray, w: JArray, b: JArray) => np.tanh(conv(x, w).add(b)).mul(2);
      using got = jit(f)(x, w, b);
      using want = f(x, w, b);
      await sameAsEager(got, want, 1e-5);
    }
  });

  test("an NCHW convolution is not a dot: its elementwise reader stays a kernel of its own", async () => {
    using xc = np.transpose(x, [0, 3, 1, 2]);
    using wc = np.transpose(w, [3, 2, 0, 1]);
    const f = (x: JArray, w: JArray, b: JArray) =>
      np.maximum(lax.convGeneralDilated(x, w, [1, 1], "SAME").add(b.reshape([1, 5, 1, 1])), 0);
    const g = jit(f);
    const last = g.lower(xc, wc, b).kernels.at(-1);
    expect(last?.kind).toBe("fused");
    expect(last?.covers.join("\n")).not.toContain("conv_general_dilated");
    using got = g(xc, wc, b);
    using want = f(xc, wc, b);
    await sameAsEager(got, want, 1e-5);
  });

  test("a jitted two-layer CNN gradient (conv, bias, relu, conv, mean-square loss) equals the eager gradient", async () => {
    using y = normal(4, [2, 9, 9, 4]);
    const w2 = normal(5, [3, 3, 5, 4], 0.3);
    type P = { w: JArray; b: JArray; w2: JArray };
    const loss = (p: P, x: JArray) => {
      const h = np.maximum(lax.convGeneralDilated(x, p.w, [1, 1], "SAME", nhwc).add(p.b), 0);
      return lax.convGeneralDilated(h, p.w2, [1, 1], "SAME", nhwc).sub(y).square().mean();
    };
    const step = jit(valueAndGrad(loss));
    const p = { w, b, w2 };
    const [l1, g1] = step(p, x);
    const [l0, g0] = valueAndGrad(loss)(p, x);
    await sameAsEager(l1, l0, 1e-5);
    for (const k of ["w", "b", "w2"] as const) await sameAsEager(g1[k], g0[k], 1e-4);
    for (const a of [l1, l0, g1.w, g1.b, g1.w2, g0.w, g0.b, g0.w2]) a.dispose();
  });
});
