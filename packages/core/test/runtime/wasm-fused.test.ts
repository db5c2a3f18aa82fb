/**
 * Fused kernels in Wasm against the generated-JS kernels (`wasm: "off"`) in one process: every
 * op of the IR on every Wasm dtype, over values that hit the pinned edge cases (NaN, ±0, ±Inf,
 * INT_MIN, division by zero, out-of-range shifts and casts), must give the same bits (NaNs
 * compared as NaN: engines differ in a NaN's sign bit). Shapes cover the four-lane loop and its
 * scalar tail, broadcasts, strided views, reductions and gathers.
 */
import { getBackend, type Array as JArray, lax, np, registerBackend } from "@webjax/core";
import { CpuBackend } from "@webjax/core/internal";
import { cpuMode, testBackend } from "@webjax/test-utils";
import { beforeAll, describe, expect, test } from "vitest";

/** The projects whose default CPU backend runs Wasm kernels (js and interpreter turn it off). */
const wasmDefault = testBackend === "cpu" && (cpuMode === "normal" || cpuMode === "deferred");

const F = [
  0,
  -0,
  1,
  -1,
  0.5,
  -2.5,
  3.75,
  1e-30,
  -1e30,
  3e38,
  Infinity,
  -Infinity,
  Number.NaN,
  2 ** 31,
  -(2 ** 31),
  4.5e9,
  7,
  -7,
  0.1,
  123.456,
];
const I = [0, 1, -1, 2, -2, 7, -7, 31, 32, 33, -33, 2147483647, -2147483648, 1000, -1000, 5, 64, 3, 100000, -99];
const U = [0, 1, 2, 7, 31, 32, 33, 4294967295, 2147483648, 1000, 5, 64, 3, 100000, 99, 6, 13, 17, 255, 65536];
const B = [
  true,
  false,
  true,
  true,
  false,
  false,
  true,
  false,
  true,
  false,
  true,
  false,
  true,
  true,
  false,
  false,
  true,
  false,
  true,
  false,
];

let js = "cpu-js";

function same(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    if (!Object.is(x, y)) expect.fail(`${what}: element ${i}: wasm ${x}, js ${y}`);
  }
}

/** Runs `f` on both backends over the same host data and compares the results' bits. */
async function agree(
  what: string,
  inputs: { data: ArrayLike<number> | boolean[]; dtype: string; shape?: number[] }[],
  f: (...xs: JArray[]) => JArray,
) {
  const run = async (backend: string) => {
    const xs = inputs.map((i) => {
      const a = np.array(i.data as number[], { dtype: i.dtype as "float32", backend });
      if (!i.shape) return a;
      const r = a.reshape(i.shape);
      a.dispose();
      return r;
    });
    const y = f(...xs);
    const out = Array.from((await y.data()) as ArrayLike<number>);
    for (const x of [...xs, y]) x.dispose();
    return out;
  };
  same(await run("cpu"), await run(js), what);
}

describe.runIf(wasmDefault)("fused kernels in Wasm agree with the JS kernels bit for bit", () => {
  let cpu: CpuBackend;
  beforeAll(() => {
    cpu = getBackend("cpu") as CpuBackend;
    js = `cpu-js-${Math.random()}`;
    registerBackend(js, () => new CpuBackend({ ...cpu.options, wasm: "off", codegen: "js" }, js));
  });

  const fUnary: [string, (x: JArray) => JArray][] = [
    ["negative", np.negative],
    ["abs", np.abs],
    ["sign", np.sign],
    ["sqrt", np.sqrt],
    ["floor", np.floor],
    ["ceil", np.ceil],
    ["round", np.round],
    ["exp", np.exp],
    ["log", np.log],
    ["tanh", np.tanh],
    ["sin", np.sin],
    ["erf", np.erf],
    ["erfinv", np.erfinv],
    ["isfinite", np.isfinite],
    ["logistic", lax.logistic],
    ["rsqrt", np.rsqrt],
    ["to int32", (x) => x.astype("int32")],
    ["to uint32", (x) => x.astype("uint32")],
    ["to bool", (x) => x.astype("bool")],
    ["bitcast", (x) => lax.bitcastConvertType(x, "int32")],
  ];
  test.each(fUnary)("float32 %s", async (name, f) => {
    const before = cpu.counters.wasmKernels;
    await agree(name, [{ data: F, dtype: "float32" }], f);
    expect(cpu.counters.wasmKernels).toBeGreaterThan(before);
  });

  const binary: [string, (x: JArray, y: JArray) => JArray][] = [
    ["add", np.add],
    ["subtract", np.subtract],
    ["multiply", np.multiply],
    ["divide", lax.div],
    ["maximum", np.maximum],
    ["minimum", np.minimum],
    ["less", np.less],
    ["greater_equal", np.greaterEqual],
    ["equal", np.equal],
    ["not_equal", np.notEqual],
  ];
  const rotated = (xs: number[]) => [...xs.slice(7), ...xs.slice(0, 7)];
  test.each(binary)("float32, int32, uint32 %s", async (name, f) => {
    for (const [data, dtype] of [
      [F, "float32"],
      [I, "int32"],
      [U, "uint32"],
    ] as const) {
      await agree(
        `${dtype} ${name}`,
        [
          { data, dtype },
          { data: rotated([...data]), dtype },
        ],
        f,
      );
    }
  });

  test("float32 power and arctan2 (expanded by the math library)", async () => {
    await agree(
      "power",
      [
        { data: F, dtype: "float32" },
        { data: rotated(F), dtype: "float32" },
      ],
      np.power,
    );
    await agree(
      "arctan2",
      [
        { data: F, dtype: "float32" },
        { data: rotated(F), dtype: "float32" },
      ],
      np.arctan2,
    );
  });

  test("integer division, remainder, shifts and bitwise ops at their pinned edge cases", async () => {
    const ops: [string, (x: JArray, y: JArray) => JArray][] = [
      ["div", lax.div],
      ["rem", lax.rem],
      ["shl", lax.shiftLeft],
      ["shr", lax.shiftRightArithmetic],
      ["shru", lax.shiftRightLogical],
      ["and", np.bitwiseAnd],
      ["or", np.bitwiseOr],
      ["xor", np.bitwiseXor],
    ];
    for (const [name, f] of ops) {
      await agree(
        `int32 ${name}`,
        [
          { data: I, dtype: "int32" },
          { data: rotated(I), dtype: "int32" },
        ],
        f,
      );
      await agree(
        `uint32 ${name}`,
        [
          { data: U, dtype: "uint32" },
          { data: rotated(U), dtype: "uint32" },
        ],
        f,
      );
    }
    await agree(
      "INT_MIN / -1",
      [
        { data: [-2147483648, -2147483648, 7], dtype: "int32" },
        { data: [-1, 0, -1], dtype: "int32" },
      ],
      lax.div,
    );
    await agree(
      "INT_MIN % -1",
      [
        { data: [-2147483648, 5, -7], dtype: "int32" },
        { data: [-1, 0, 2], dtype: "int32" },
      ],
      lax.rem,
    );
  });

  test("integer unary ops and casts, bool logic", async () => {
    for (const [name, f] of [
      ["negative", np.negative],
      ["abs", np.abs],
      ["sign", np.sign],
      ["invert", np.invert],
      ["to float32", (x: JArray) => x.astype("float32")],
      ["to bool", (x: JArray) => x.astype("bool")],
    ] as const) {
      await agree(`int32 ${name}`, [{ data: I, dtype: "int32" }], f);
      await agree(`uint32 ${name}`, [{ data: U, dtype: "uint32" }], f);
    }
    await agree("int32 to uint32", [{ data: I, dtype: "int32" }], (x) => x.astype("uint32"));
    await agree("uint32 to int32", [{ data: U, dtype: "uint32" }], (x) => x.astype("int32"));
    await agree(
      "bool and",
      [
        { data: B, dtype: "bool" },
        { data: rotated(B as unknown as number[]), dtype: "bool" },
      ],
      np.logicalAnd,
    );
    await agree(
      "bool xor",
      [
        { data: B, dtype: "bool" },
        { data: rotated(B as unknown as number[]), dtype: "bool" },
      ],
      np.logicalXor,
    );
    await agree("bool not", [{ data: B, dtype: "bool" }], np.logicalNot);
    await agree("bool to float32", [{ data: B, dtype: "bool" }], (x) => x.astype("float32"));
    await agree(
      "where",
      [
        { data: B, dtype: "bool" },
        { data: F, dtype: "float32" },
        { data: rotated(F), dtype: "float32" },
      ],
      np.where,
    );
  });

  test("the four-lane loop, its tail, broadcasts and strided views", async () => {
    const data = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i) * 10);
    for (const n of [1, 3, 4, 5, 17, 1001]) {
      await agree(`chain n=${n}`, [{ data: data(n), dtype: "float32" }], (x) =>
        np.tanh(x.mul(2).add(1)).sub(np.exp(x.mul(-0.1))),
      );
    }
    await agree(
      "row broadcast",
      [
        { data: data(35), dtype: "float32", shape: [5, 7] },
        { data: data(7), dtype: "float32" },
      ],
      np.add,
    );
    await agree(
      "column broadcast",
      [
        { data: data(35), dtype: "float32", shape: [5, 7] },
        { data: data(5), dtype: "float32", shape: [5, 1] },
      ],
      np.multiply,
    );
    await agree(
      "scalar broadcast",
      [
        { data: data(9), dtype: "float32" },
        { data: [3], dtype: "float32", shape: [] },
      ],
      np.maximum,
    );
    await agree("transposed", [{ data: data(35), dtype: "float32", shape: [5, 7] }], (x) => x.T.mul(x.T));
    await agree("strided slice", [{ data: data(40), dtype: "float32", shape: [40] }], (x) =>
      np.sqrt(np.abs(x.slice([1, 40, 3]))),
    );
    await agree(
      "int32 to float32 in a chain",
      [
        { data: data(10), dtype: "float32" },
        { data: Array.from({ length: 10 }, (_, i) => i * 3 - 7), dtype: "int32" },
      ],
      (x, i) => x.add(i.astype("float32")),
    );
  });

  test("reductions: sums in f64 rounded once, NaN-propagating max/min, first-index argmax, means", async () => {
    const data = Array.from({ length: 6 * 37 }, (_, i) => Math.cos(i * 1.3) * 1e3);
    const withNan = [...data];
    withNan[40] = Number.NaN;
    const x = { data, dtype: "float32", shape: [6, 37] };
    for (const [name, f] of [
      ["sum", (v: JArray) => np.sum(v, 1)],
      ["sum all", (v: JArray) => np.sum(v)],
      ["sum axis 0", (v: JArray) => np.sum(v, 0)],
      ["prod", (v: JArray) => np.prod(v.mul(0.001), 1)],
      ["max", (v: JArray) => np.max(v, 1)],
      ["min", (v: JArray) => np.min(v, 0)],
      ["argmax", (v: JArray) => np.argmax(v, 1)],
      ["argmin", (v: JArray) => np.argmin(v, 0)],
      ["mean", (v: JArray) => np.mean(v, 1)],
    ] as const) {
      await agree(name, [x], f);
      await agree(`${name} with NaN`, [{ ...x, data: withNan }], f);
    }
    const ints = { data: Array.from({ length: 60 }, (_, i) => (i * 2654435761) | 0), dtype: "int32", shape: [6, 10] };
    await agree("int32 sum wraps", [ints], (v) => np.sum(v, 1));
    await agree("int32 max", [ints], (v) => np.max(v, 1));
    await agree("int32 argmin", [ints], (v) => np.argmin(v, 1));
    await agree("bool any", [{ data: B, dtype: "bool", shape: [4, 5] }], (v) => np.any(v, 1));
    await agree("bool all", [{ data: B, dtype: "bool", shape: [4, 5] }], (v) => np.all(v, 0));
  });

  test("reductions four outputs at a time along the output's innermost loop: tails, strides, broadcasts, pooling", async () => {
    const data = Array.from({ length: 37 * 13 }, (_, i) => Math.sin(i * 0.7) * 300);
    data[5] = Number.NaN;
    data[100] = Infinity;
    const x = { data, dtype: "float32", shape: [37, 13] };
    for (const [name, f] of [
      ["sum axis 0", (v: JArray) => np.sum(v, 0)],
      ["prod axis 0", (v: JArray) => np.prod(v.mul(0.01), 0)],
      ["max axis 0", (v: JArray) => np.max(v, 0)],
      ["min axis 0", (v: JArray) => np.min(v, 0)],
      ["mean axis 0 (post)", (v: JArray) => np.mean(v, 0)],
      ["sum of a 3-d middle axis", (v: JArray) => np.sum(v.reshape([37, 1, 13]).add(v.reshape([1, 37, 13])), 1)],
      ["transposed (lane stride 13: the scalar loop)", (v: JArray) => np.sum(v.T, 1)],
      ["broadcast lanes (stride 0)", (v: JArray) => np.sum(np.broadcastTo(v.reshape([37, 13, 1]), [37, 13, 6]), 0)],
    ] as const)
      await agree(name, [x], f);
    const ints = {
      data: Array.from({ length: 9 * 11 }, (_, i) => (i * 2654435761) | 0),
      dtype: "int32",
      shape: [9, 11],
    };
    await agree("int32 sum axis 0 wraps", [ints], (v) => np.sum(v, 0));
    await agree("int32 min axis 0", [ints], (v) => np.min(v, 0));
    const uints = { ...ints, data: ints.data.map((v) => v >>> 0), dtype: "uint32" };
    await agree("uint32 max axis 0", [uints], (v) => np.max(v, 0));
    const img = { data: Array.from({ length: 2 * 7 * 5 * 6 }, (_, i) => Math.cos(i * 1.1) * 9), dtype: "float32" };
    const nhwc = { ...img, shape: [2, 7, 5, 6] };
    await agree("max pool 2×2 stride 2, SAME (padding reads -inf)", [nhwc], (v) =>
      lax.reduceWindow(v, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
    );
    await agree("avg pool 3×3 stride 1 (sum)", [nhwc], (v) =>
      lax.reduceWindow(v, 0, "add", [1, 3, 3, 1], [1, 1, 1, 1], "VALID"),
    );
    await agree("pooling with dilations (gathers with div/rem: the scalar loop)", [nhwc], (v) =>
      lax.reduceWindow(v, 0, "add", [1, 2, 2, 1], [1, 1, 1, 1], "SAME", { baseDilation: [1, 2, 1, 1] }),
    );
  });

  test("gathers: take along an axis", async () => {
    const table = Array.from({ length: 50 }, (_, i) => i * 1.5);
    await agree(
      "take",
      [
        { data: table, dtype: "float32", shape: [10, 5] },
        { data: [3, 0, 9, 9, 2], dtype: "int32" },
      ],
      (t, i) => np.take(t, i, { axis: 0 }),
    );
  });

  test.each(["float64", "float16"])(
    "%s: every op, cast and reduction in Wasm (f64 values, float16 rounded per op)",
    async (dtype) => {
      const before = { wasm: cpu.counters.wasmKernels, fallbacks: cpu.counters.wasmFallbacks };
      const unary: [string, (x: JArray) => JArray][] = [
        ...fUnary.filter(([n]) => n !== "bitcast"),
        ["expm1", np.expm1],
        ["cos", np.cos],
        ["arctan", np.arctan],
        ["cbrt", np.cbrt],
        ["to float32", (x) => x.astype("float32")],
        ["to float16", (x) => x.astype("float16")],
        ["to float64", (x) => x.astype("float64")],
      ];
      for (const [name, f] of unary) await agree(`${dtype} ${name}`, [{ data: F, dtype }], f);
      const ops: [string, (x: JArray, y: JArray) => JArray][] = [
        ...binary,
        ["power", np.power],
        ["arctan2", np.arctan2],
        ["rem", lax.rem],
      ];
      for (const [name, f] of ops)
        await agree(
          `${dtype} ${name}`,
          [
            { data: F, dtype },
            { data: rotated(F), dtype },
          ],
          f,
        );
      const M = { data: F, dtype, shape: [4, 5] };
      await agree(`${dtype} sum`, [M], (v) => np.sum(v, 1));
      await agree(`${dtype} prod`, [M], (v) => np.prod(v, 0));
      await agree(`${dtype} max`, [M], (v) => np.max(v, 1));
      await agree(`${dtype} argmin`, [M], (v) => np.argmin(v, 0));
      await agree(`${dtype} mean`, [{ data: F.filter(Number.isFinite), dtype }], (v) => np.mean(v));
      await agree(`${dtype} from int32`, [{ data: I, dtype: "int32" }], (v) => v.astype(dtype as "float64"));
      await agree(`${dtype} from uint32`, [{ data: U, dtype: "uint32" }], (v) => v.astype(dtype as "float64"));
      await agree(
        `${dtype} + float32`,
        [
          { data: F, dtype },
          { data: rotated(F), dtype: "float32" },
        ],
        np.add,
      );
      expect(cpu.counters.wasmKernels).toBeGreaterThan(before.wasm);
      expect(cpu.counters.wasmFallbacks).toBe(before.fallbacks);
    },
  );

  test("float32 remainder and integer power go to Wasm through the JS scalar functions", async () => {
    const before = cpu.counters.wasmFallbacks;
    await agree(
      "float32 rem",
      [
        { data: F, dtype: "float32" },
        { data: rotated(F), dtype: "float32" },
      ],
      lax.rem,
    );
    const small = [0, 1, -1, 2, -2, 3, -3, 7, 10, 31, 32, 33, -5, 5, 16, 2147483647, -2147483648, 4, 6, 9];
    const exps = [0, 1, 2, 3, 5, 31, 32, -1, -2, 0, 7, 2, 1, 3, 4, 2, 2, 30, 12, 11];
    await agree(
      "int32 pow",
      [
        { data: small, dtype: "int32" },
        { data: exps, dtype: "int32" },
      ],
      np.power,
    );
    await agree(
      "uint32 pow",
      [
        { data: small.map((v) => v >>> 0), dtype: "uint32" },
        { data: exps.map((v) => v >>> 0), dtype: "uint32" },
      ],
      np.power,
    );
    expect(cpu.counters.wasmFallbacks).toBe(before);
  });
});
