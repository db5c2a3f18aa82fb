/**
 * Our own WGSL transcendentals against float64 references, over ordinary ranges and at the
 * edges (±88, ±100) where driver built-ins go wrong (SwiftShader's tanh(100) is NaN).
 * Tolerance: 4e-7 relative (a few float32 ulps) plus 1e-7 absolute near zeros of the function.
 * References are rounded to float32 (exp(100) is Inf in float32). GPUs flush subnormals to zero,
 * so inputs stay normal (log(1e-40) is -Inf on a GPU, as in XLA on GPU).
 */
import { np } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, test } from "vitest";

const f32 = (xs: number[]) => xs.map(Math.fround);
const grid = (lo: number, hi: number, n: number) => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
const edges = [-100, -88.5, -88, -20, -1, -1e-3, -1e-6, 0, 1e-6, 1e-3, 1, 20, 88, 88.5, 100];
const tol = { rtol: 4e-7, atol: 1e-7 };

const cases: [
  string,
  (x: ReturnType<typeof np.array>) => ReturnType<typeof np.array>,
  (x: number) => number,
  number[],
][] = [
  ["exp", np.exp, Math.exp, [...grid(-20, 20, 201), ...edges]],
  ["expm1", np.expm1, Math.expm1, [...grid(-2, 2, 201), ...edges]],
  ["log", np.log, Math.log, [...grid(1e-3, 50, 200), 1e-30, 1e-37, 1, 2, 100, 3e38, 0, -1]],
  ["log1p", np.log1p, Math.log1p, [...grid(-0.99, 5, 200), 1e-7, -1e-7, 0, -1, -2]],
  ["tanh", np.tanh, Math.tanh, [...grid(-10, 10, 201), ...edges]],
  ["sigmoid", np.sigmoid, (x) => 1 / (1 + Math.exp(-x)), [...grid(-30, 30, 201), ...edges]],
  ["sin", np.sin, Math.sin, [...grid(-50, 50, 301), ...edges]],
  ["cos", np.cos, Math.cos, [...grid(-50, 50, 301), ...edges]],
  ["sqrt", np.sqrt, Math.sqrt, [...grid(0, 1000, 200), 1e-30, 0, -1]],
];

describe("WGSL transcendentals match float64 references", () => {
  test.each(cases)("%s", async (_, f, ref, xs) => {
    const inputs = f32(xs);
    using x = np.array(Float32Array.from(inputs));
    using y = f(x);
    await expectClose(
      y,
      inputs.map((v) => Math.fround(ref(v))),
      tol,
    );
  });

  test("power: integer exponents exactly, others through exp/log, negative bases as numpy", async () => {
    const a = f32([2, -2, 3, 0.5, 10, 0, 0, -8, 2.5, 1e-3]);
    const b = f32([10, 3, -2, 0.5, 0, 2, -1, 1 / 3, 1.7, 2]);
    using x = np.array(Float32Array.from(a));
    using y = np.array(Float32Array.from(b));
    using p = np.power(x, y);
    await expectClose(
      p,
      a.map((v, i) => (v < 0 && !Number.isInteger(b[i] as number) ? Number.NaN : (v as number) ** (b[i] as number))),
      {
        rtol: 1e-6,
        atol: 0,
      },
    );
  });
});
