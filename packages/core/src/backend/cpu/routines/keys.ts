import type { DataArray, DType } from "../../../dtype.js";

/**
 * Sort keys: each element becomes an unsigned integer whose order is numpy's sort order (NaN
 * after everything and equal to every NaN, −0 equal to 0), so the sorts compare plain uint32
 * words. float64 takes two words (hi, lo); everything else one.
 */

/** The 32 bits of a buffer's elements (bool bytes stay bytes: their values are the keys). */
export function bitsOf(data: DataArray): Uint32Array | Uint8Array {
  if (data instanceof Uint8Array) return data;
  return new Uint32Array(data.buffer, data.byteOffset, (data.byteLength / 4) | 0);
}

/** The key of float32 bits `b`. */
export function float32Key(b: number): number {
  const mag = b & 0x7fffffff;
  if (mag > 0x7f800000) return 0xffffffff; // NaN
  if (mag === 0) return 0x80000000; // ±0
  return b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
}

/** Whether keys of `dtype` take two words. */
export const wideKeys = (dtype: DType): boolean => dtype === "float64";

/**
 * Writes the keys of n elements of `data` (element i at `start + i·stride`) into `hi` (and `lo`
 * for float64), complemented when `descending` so an ascending sort of the keys orders values
 * from largest to smallest.
 */
export function fillKeys(
  data: DataArray,
  dtype: DType,
  start: number,
  stride: number,
  n: number,
  descending: boolean,
  hi: Uint32Array,
  lo: Uint32Array | null,
): void {
  const flip = descending ? 0xffffffff : 0;
  const bits = bitsOf(data);
  switch (dtype) {
    case "float32":
      for (let i = 0, q = start; i < n; i++, q += stride) hi[i] = (float32Key(bits[q] as number) ^ flip) >>> 0;
      return;
    case "int32":
      for (let i = 0, q = start; i < n; i++, q += stride) hi[i] = ((bits[q] as number) ^ 0x80000000 ^ flip) >>> 0;
      return;
    case "uint32":
    case "bool":
      for (let i = 0, q = start; i < n; i++, q += stride) hi[i] = ((bits[q] as number) ^ flip) >>> 0;
      return;
    case "float64": {
      const l = lo as Uint32Array;
      for (let i = 0, q = start; i < n; i++, q += stride) {
        const w0 = bits[2 * q] as number; // little endian: low word first
        const w1 = bits[2 * q + 1] as number;
        const mag = w1 & 0x7fffffff;
        let h: number;
        let w: number;
        if (mag > 0x7ff00000 || (mag === 0x7ff00000 && w0 !== 0)) {
          h = 0xffffffff;
          w = 0xffffffff;
        } else if (mag === 0 && w0 === 0) {
          h = 0x80000000;
          w = 0;
        } else if (w1 & 0x80000000) {
          h = ~w1 >>> 0;
          w = ~w0 >>> 0;
        } else {
          h = (w1 | 0x80000000) >>> 0;
          w = w0;
        }
        hi[i] = (h ^ flip) >>> 0;
        l[i] = (w ^ flip) >>> 0;
      }
      return;
    }
    case "float16":
      throw new Error("internal: float16 reaches routines widened to float32");
  }
}
