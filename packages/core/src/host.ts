import { castFn, storeFn } from "./backend/cpu/scalar.js";
import type { DType } from "./dtype.js";

/**
 * A JS number as stored on the host for `dtype`: the IR's cast semantics (bool: nonzero; ints:
 * truncate and saturate), then storage (float16 as binary16 bits). Every path that writes JS
 * numbers into a new array goes through this.
 */
export function hostStore(dtype: DType): (v: number) => number {
  const cast = castFn("float64", dtype);
  const store = storeFn(dtype);
  return store ? (v) => store(cast(v)) : cast;
}
