/** Shared test helpers: closeness checks, backend lists, naive references. */
import { type Array, getBackend, type NestedArray } from "@webjax/core";
import { expect } from "vitest";

export {
  forEachIndex,
  naiveStridedGet,
  refBroadcast,
  refReduce,
  refTranspose,
  sizeOf,
  stridesOf,
} from "./reference.js";

/** The backends every suite runs on (`describe.each(backends)`). */
export const backends: string[] = ["cpu"];

/** How the CPU backend runs in this project (normal, deferred or interpreter). */
export const cpuMode: string = process.env.WEBJAX_CPU ?? "normal";

export interface Tolerance {
  rtol?: number;
  atol?: number;
}

function flatten(x: NestedArray | readonly number[] | ArrayLike<number>): number[] {
  if (typeof x === "number") return [x];
  return globalThis.Array.from(x as ArrayLike<number | NestedArray>).flatMap((v) =>
    typeof v === "number" ? [v] : flatten(v as NestedArray),
  );
}

/** Asserts |actual − expected| ≤ atol + rtol·|expected| elementwise (NaN matches NaN, ±Inf must match exactly). */
export async function expectClose(
  actual: Array,
  expected: NestedArray | readonly number[] | ArrayLike<number>,
  tol: Tolerance = {},
): Promise<void> {
  const rtol = tol.rtol ?? 1e-6;
  const atol = tol.atol ?? 1e-6;
  const got = globalThis.Array.from(await actual.data());
  const want = flatten(expected);
  expect(got.length, `size of ${actual.dtype}[${actual.shape}]`).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i] as number;
    if (Number.isNaN(w)) {
      expect(Number.isNaN(g), `element ${i}: expected NaN, got ${g}`).toBe(true);
    } else if (!Number.isFinite(w)) {
      expect(g, `element ${i}`).toBe(w);
    } else if (Math.abs(g - w) > atol + rtol * Math.abs(w)) {
      expect.fail(
        `element ${i} of ${actual.dtype}[${actual.shape}]: got ${g}, expected ${w} (rtol ${rtol}, atol ${atol})`,
      );
    }
  });
}

/** Asserts exact equality of values (after reading) and of shape. */
export async function expectArray(actual: Array, shape: readonly number[], values: readonly number[]): Promise<void> {
  expect(actual.shape).toEqual(shape);
  expect(globalThis.Array.from(await actual.data())).toEqual(values);
}

/** The default backend's name (sanity for suites). */
export function backendName(): string {
  return getBackend().name;
}

/** The backend this project runs the suite on (the default backend of every test). */
export const testBackend: string = process.env.WEBJAX_BACKEND ?? "cpu";

/** Whether the backend under test stores float64 (only the CPU does). */
export const hasFloat64: boolean = testBackend === "cpu";

/** Whether `dataSync()` and value-printing `toString()` work here (the CPU backend outside deferred mode). */
export const syncReads: boolean = testBackend === "cpu" && cpuMode !== "deferred";

/** GPUs flush float32 subnormals to zero (WGSL allows it); the CPU keeps them. */
export const flushesSubnormals: boolean = testBackend === "webgpu";

/** `v` as the backend under test sees it: float32 subnormals become (signed) zero where they are flushed. */
export function ftz(v: number): number {
  return flushesSubnormals && v !== 0 && Math.abs(v) < 1.1754943508222875e-38 ? 0 * Math.sign(v) : v;
}

export { type CheckGradsOptions, checkGrads, rng } from "./grads.js";
export { type CheckVmapOptions, checkVmap, countDispatches, loopVmap } from "./vmap.js";
