/**
 * Shared pieces of the property suites: shape arbitraries, array construction from JS values,
 * exact comparison (−0 counts as 0, NaN matches NaN) and disposal tracking.
 * Everything here is independent of webjax's own shape/broadcast code.
 */
import { type Array, np } from "@webjax/core";
import { ftz } from "@webjax/test-utils";
import fc from "fast-check";
import { expect } from "vitest";

export type NumDType = "float32" | "int32";

/** Product of dims (1 for a scalar). */
export { sizeOf as size } from "@webjax/test-utils";

/** `[2,3]`, as webjax formats shapes in messages. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** A dim in 0..4, biased towards 1 (the interesting broadcast case) and 0 (empty arrays). */
export const dimArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 2, max: 4 }), weight: 4 },
  { arbitrary: fc.constant(1), weight: 2 },
  { arbitrary: fc.constant(0), weight: 1 },
);

/** A shape of rank 0..maxRank with dims 0..4. */
export function shapeArb(maxRank = 4, dim: fc.Arbitrary<number> = dimArb): fc.Arbitrary<number[]> {
  return fc.array(dim, { minLength: 0, maxLength: maxRank });
}

/** Small integers stored as float32 (every sum/product we form of them is exact). */
export const smallIntArb: fc.Arbitrary<number> = fc.integer({ min: -9, max: 9 });

/** Makes an array of `dtype` with row-major `values` and `shape` (values are stored by the typed array). */
export function makeArray(values: readonly number[], shape: readonly number[], dtype: NumDType | "bool"): Array {
  const data =
    dtype === "float32"
      ? Float32Array.from(values)
      : dtype === "int32"
        ? Int32Array.from(values)
        : Uint8Array.from(values);
  return np.array(data, { shape, dtype });
}

/** What a JS number becomes when stored as `dtype`. */
export function storeAs(v: number, dtype: NumDType): number {
  return dtype === "float32" ? Math.fround(v) : v | 0;
}

/**
 * Plain numbers, −0 mapped to 0 (numpy prints them alike; we do not test the sign of zero), and
 * float32 subnormals flushed to zero on backends that flush them (WebGPU).
 */
export function plain(xs: ArrayLike<number>): number[] {
  return globalThis.Array.from(xs, (v) => {
    const f = ftz(v);
    return f === 0 ? 0 : f;
  });
}

/** fc.float, with subnormals flushed where the backend flushes them (so inputs mean the same on every backend). */
export function floatArb(constraints: fc.FloatConstraints = {}): fc.Arbitrary<number> {
  return fc.float(constraints).map(ftz);
}

/** Exact comparison of shape, dtype and values (NaN equals NaN). */
export async function expectExact(
  actual: Array,
  shape: readonly number[],
  dtype: string,
  values: readonly number[],
  what = "",
): Promise<void> {
  expect(actual.shape, `shape ${what}`).toEqual(shape);
  expect(actual.dtype, `dtype ${what}`).toBe(dtype);
  expect(plain(await actual.data()), `values ${what}`).toEqual(plain(values));
}

/** Collects arrays made during one property run and disposes them all at its end. */
export class Arrays {
  private readonly list: Array[] = [];
  /** Registers `x` for disposal and returns it. */
  t<T extends Array>(x: T): T {
    this.list.push(x);
    return x;
  }
  dispose(): void {
    for (const x of this.list) x.dispose();
    this.list.length = 0;
  }
}

/** Runs `body` with a fresh tracker, disposing everything it registered (also on failure). */
export async function withArrays<T>(body: (a: Arrays) => Promise<T>): Promise<T> {
  const arrays = new Arrays();
  try {
    return await body(arrays);
  } finally {
    arrays.dispose();
  }
}

/** All subsets of 0..n-1, as sorted lists. */
export function subsets(n: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) s.push(i);
    out.push(s);
  }
  return out;
}

/** Runs `f` and returns what it threw (fails the test when it returns normally). */
export function thrown(f: () => unknown): unknown {
  try {
    const r = f();
    if (r && typeof r === "object" && "dispose" in r) (r as Array).dispose();
  } catch (e) {
    return e;
  }
  expect.fail("expected the call to throw");
}

export { forEachIndex, stridesOf as rowMajorStrides } from "@webjax/test-utils";
