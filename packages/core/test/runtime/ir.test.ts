import { type DType, getBackend } from "@webjax/core";
import {
  acc,
  binary,
  cast,
  constant,
  type Expr,
  type FusedKernel,
  load,
  type MatmulKernel,
  unary,
} from "@webjax/core/internal";
import { describe, expect, test } from "vitest";

type Host = Float32Array | Int32Array | Uint32Array | Uint8Array | Float64Array;

/** Runs a kernel directly on the backend: inputs are written, the output read back. */
async function run(
  kernel: FusedKernel | MatmulKernel,
  inputs: Host[],
  outSize: number,
  params: number[] = [],
): Promise<number[]> {
  const b = getBackend();
  const exe = b.compile(kernel);
  const slots = inputs.map((data, i) => {
    const s = b.alloc(kernel.inputs[i] as DType, data.length);
    b.write(s, data);
    return s;
  });
  const outDtype = kernel.outputs[0];
  const out = b.alloc(outDtype, outSize);
  b.dispatch(exe, slots, [out], Int32Array.from(params));
  const data = await b.read(out, outDtype, 0, outSize);
  for (const s of [...slots, out]) b.free(s);
  return Array.from(data);
}

/** A flat elementwise kernel over `n` elements of inputs of the given dtypes. */
function flat(expr: Expr, inputs: DType[], n: number): FusedKernel {
  return {
    kind: "fused",
    label: "test",
    inputs,
    outputs: [expr.dtype],
    outRank: 1,
    loops: [n],
    loads: inputs.map((_, i) => ({ input: i, offset: 0, strides: [1] })),
    expr,
  };
}

describe("kernel IR: pinned semantics", () => {
  test("int32 division truncates; x / 0 = -1; INT_MIN / -1 = INT_MIN", async () => {
    const a = Int32Array.from([7, -7, 5, -2147483648, 9]);
    const b = Int32Array.from([2, 2, 0, -1, -4]);
    const e = binary("div", load(0, "int32"), load(1, "int32"));
    expect(await run(flat(e, ["int32", "int32"], 5), [a, b], 5)).toEqual([3, -3, -1, -2147483648, -2]);
  });

  test("int32 remainder has the dividend's sign; x % 0 = x", async () => {
    const a = Int32Array.from([7, -7, 5, -2147483648]);
    const b = Int32Array.from([3, 3, 0, -1]);
    const e = binary("rem", load(0, "int32"), load(1, "int32"));
    expect(await run(flat(e, ["int32", "int32"], 4), [a, b], 4)).toEqual([1, -1, 5, 0]);
  });

  test("uint32 arithmetic wraps and x / 0 = 0xFFFFFFFF", async () => {
    const a = Uint32Array.from([4294967295, 0, 10]);
    const b = Uint32Array.from([1, 1, 0]);
    const add = binary("add", load(0, "uint32"), load(1, "uint32"));
    const sub = binary("sub", load(0, "uint32"), load(1, "uint32"));
    const div = binary("div", load(0, "uint32"), load(1, "uint32"));
    expect(await run(flat(add, ["uint32", "uint32"], 3), [a, b], 3)).toEqual([0, 1, 10]);
    expect(await run(flat(sub, ["uint32", "uint32"], 3), [a, b], 3)).toEqual([4294967294, 4294967295, 10]);
    expect(await run(flat(div, ["uint32", "uint32"], 3), [a, b], 3)).toEqual([4294967295, 0, 4294967295]);
  });

  test("float → int casts truncate toward zero, saturate, and send NaN to 0", async () => {
    const x = Float32Array.from([2.9, -2.9, 3e9, -3e9, Number.NaN, Number.POSITIVE_INFINITY]);
    const toI = cast(load(0, "float32"), "int32");
    const toU = cast(load(0, "float32"), "uint32");
    expect(await run(flat(toI, ["float32"], 6), [x], 6)).toEqual([2, -2, 2147483647, -2147483648, 0, 2147483647]);
    expect(await run(flat(toU, ["float32"], 6), [x], 6)).toEqual([2, 0, 3000000000, 0, 0, 4294967295]);
  });

  test("index expressions: an iota times a constant, over a strided 2-D loop", async () => {
    const k: FusedKernel = {
      kind: "fused",
      label: "iota",
      inputs: [],
      outputs: ["int32"],
      outRank: 2,
      loops: [{ param: 0 }, 3],
      loads: [],
      expr: binary("add", binary("mul", { op: "index", loop: 0, dtype: "int32" }, constant(10, "int32")), {
        op: "index",
        loop: 1,
        dtype: "int32",
      }),
    };
    expect(await run(k, [], 6, [2])).toEqual([0, 1, 2, 10, 11, 12]);
  });

  test("a reduction with a post expression (mean of squares, then sqrt)", async () => {
    const x = Float32Array.from([3, 4, 0, 0, 1, 1]);
    const k: FusedKernel = {
      kind: "fused",
      label: "rms",
      inputs: ["float32"],
      outputs: ["float32"],
      outRank: 1,
      loops: [3, 2],
      loads: [{ input: 0, offset: 0, strides: [2, 1] }],
      expr: binary("mul", load(0, "float32"), load(0, "float32")),
      reduce: "sum",
      post: unary("sqrt", binary("mul", acc("float32"), constant(0.5, "float32"))),
    };
    const got = await run(k, [x], 3);
    [Math.sqrt(12.5), 0, 1].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  });

  test("argmax takes the first index on ties and counts NaN as the maximum", async () => {
    const x = Float32Array.from([1, 5, 5, 2, Number.NaN, 9, Number.NaN, 0]);
    const k: FusedKernel = {
      kind: "fused",
      label: "argmax",
      inputs: ["float32"],
      outputs: ["int32"],
      outRank: 1,
      loops: [2, 4],
      loads: [{ input: 0, offset: 0, strides: [4, 1] }],
      expr: load(0, "float32"),
      reduce: "argmax",
    };
    expect(await run(k, [x], 2)).toEqual([1, 0]);
  });

  test("the matmul kernel's epilogue: relu(A·B + bias) with a broadcast bias load", async () => {
    const A = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2×3
    const B = Float32Array.from([1, -1, 0, 1, -1, 0]); // 3×2
    const bias = Float32Array.from([0.5, -10]);
    const k: MatmulKernel = {
      kind: "matmul",
      label: "dense",
      dtype: "float32",
      inputs: ["float32", "float32", "float32"],
      outputs: ["float32"],
      batch: [],
      m: 2,
      n: 2,
      k: 3,
      lhs: { offset: 0, batchStrides: [], rowStride: 3, colStride: 1 },
      rhs: { offset: 0, batchStrides: [], rowStride: 2, colStride: 1 },
      epilogue: {
        loads: [{ input: 2, offset: 0, strides: [0, 1] }],
        expr: binary("max", binary("add", acc("float32"), load(0, "float32")), constant(0, "float32")),
      },
    };
    // A·B = [[1-3, -1+2], [4-6, -4+5]] = [[-2, 1], [-2, 1]]; + bias = [[-1.5, -9], [-1.5, -9]].
    expect(await run(k, [A, B, bias], 4)).toEqual([0, 0, 0, 0]);
    const bias2 = Float32Array.from([3, 10]);
    expect(await run(k, [A, B, bias2], 4)).toEqual([1, 11, 1, 11]);
  });

  test("a batched matmul's epilogue with param sizes: tanh(acc/2 + bias[n]) + resid[b, m, n] against float64", async () => {
    const [nb, M, N, K] = [2, 33, 47, 19];
    let seed = 3;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 2 - 1;
    };
    const A = Float32Array.from({ length: nb * M * K }, next);
    const B = Float32Array.from({ length: nb * K * N }, next);
    const bias = Float32Array.from({ length: N }, next);
    const resid = Float32Array.from({ length: nb * M * N }, next);
    const P = (param: number) => ({ param });
    const k: MatmulKernel = {
      kind: "matmul",
      label: "batched dense",
      dtype: "float32",
      inputs: ["float32", "float32", "float32", "float32"],
      outputs: ["float32"],
      batch: [nb],
      m: P(0),
      n: P(1),
      k: P(2),
      lhs: { offset: 0, batchStrides: [P(3)], rowStride: P(2), colStride: 1 },
      rhs: { offset: 0, batchStrides: [P(4)], rowStride: P(1), colStride: 1 },
      epilogue: {
        loads: [
          { input: 2, offset: 0, strides: [0, 0, 1] },
          { input: 3, offset: 0, strides: [P(5), P(1), 1] },
        ],
        expr: binary(
          "add",
          unary("tanh", binary("add", binary("mul", acc("float32"), constant(0.5, "float32")), load(0, "float32"))),
          load(1, "float32"),
        ),
      },
    };
    const got = await run(k, [A, B, bias, resid], nb * M * N, [M, N, K, M * K, K * N, M * N]);
    let worst = 0;
    for (let b = 0; b < nb; b++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let dot = 0;
          for (let t = 0; t < K; t++) dot += (A[(b * M + i) * K + t] as number) * (B[(b * K + t) * N + j] as number);
          const o = (b * M + i) * N + j;
          const want = Math.tanh(dot / 2 + (bias[j] as number)) + (resid[o] as number);
          worst = Math.max(worst, Math.abs((got[o] as number) - want));
        }
    expect(worst).toBeLessThan(2e-6);
  });
});
