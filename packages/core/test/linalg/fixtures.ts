/**
 * The linalg tests' inputs and references: NumPy/SciPy results from fixtures/make_linalg.py
 * (float64, float32-exact inputs), seeded random matrices, and the error of an identity.
 */
import { type DType, type Array as JArray, np } from "@webjax/core";
import { hasFloat64, rng } from "@webjax/test-utils";
import golden from "./fixtures/linalg.json" with { type: "json" };

export interface Dense {
  shape: number[];
  data: (number | string | null)[];
}

export const cases = golden.cases as unknown as Record<string, Record<string, Dense>>;

/** The most precise float dtype of the backend under test (float64 on the CPU). */
export const precise: DType = hasFloat64 ? "float64" : "float32";

/** Tolerances against float64 references: float32 results, and results in `dtype`. */
export const tol = (dtype: DType) => (dtype === "float64" ? { rtol: 1e-9, atol: 1e-9 } : { rtol: 2e-5, atol: 2e-5 });

/** The reference values, with "inf"/"-inf"/null read as ±Infinity/NaN. */
export function values(d: Dense): number[] {
  return d.data.map((v) =>
    v === null ? Number.NaN : typeof v === "string" ? (v.startsWith("-") ? -Infinity : Infinity) : v,
  );
}

/** A fixture entry as an array of `dtype`. */
export function fixture(name: string, key: string, dtype: DType = "float32"): JArray {
  const d = (cases[name] as Record<string, Dense>)[key] as Dense;
  return np.array(values(d), { dtype }).reshape(d.shape);
}

/** A fixture entry's reference values (float64 numbers). */
export function ref(name: string, key: string): number[] {
  return values((cases[name] as Record<string, Dense>)[key] as Dense);
}

/** A seeded random matrix stack, entries uniform in [−1, 1), plus `diag`·I. */
export function random(shape: readonly number[], seed: number, diag = 0, dtype: DType = "float32"): JArray {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const a = np
    .array(
      Array.from({ length: n }, () => 2 * next() - 1),
      { dtype },
    )
    .reshape(shape);
  if (diag === 0) return a;
  const [r, c] = shape.slice(-2) as [number, number];
  return a.add(np.eye(r, c, { dtype }).mul(diag));
}

/** A symmetric positive-definite stack: X Xᵀ / n + I. */
export function spd(shape: readonly number[], seed: number, dtype: DType = "float32"): JArray {
  const x = random(shape, seed, 0, dtype);
  const n = shape[shape.length - 1] as number;
  return np
    .matmul(x, np.swapaxes(x, -1, -2))
    .div(n)
    .add(np.eye(n, n, { dtype }));
}

/** max |x − y| as a number. */
export async function maxDiff(x: JArray, y: JArray | number): Promise<number> {
  return np.max(np.abs(np.subtract(x, y))).item();
}

/** The identity matrix broadcast to the shape of a stack of square matrices. */
export function eyeLike(x: JArray): JArray {
  const n = x.shape[x.ndim - 1] as number;
  return np.broadcastTo(np.eye(n, n, { dtype: x.dtype }), x.shape);
}

/** The last two axes swapped. */
export const mT = (x: JArray): JArray => np.swapaxes(x, -1, -2);
