import { castFn, storeFn } from "./backend/cpu/scalar.js";
import type { DType } from "./dtype.js";
import { float16ToFloat32 } from "./float16.js";

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

/** A JS number as `dtype` holds it, read back as a value (a program's literals keep this). */
export function hostValue(dtype: DType, v: number): number {
  const stored = hostStore(dtype)(v);
  return dtype === "float16" ? (float16ToFloat32(new Uint16Array([stored]))[0] as number) : stored;
}
