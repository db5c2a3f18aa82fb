import { DTypeError } from "./errors.js";

/**
 * The element types of webjax arrays. `float64` lives on the CPU backend only; `float16` is a
 * storage type on every backend (arithmetic runs in float32 and rounds on store, as XLA does).
 */
export type DType = "float32" | "int32" | "uint32" | "bool" | "float64" | "float16";

export const DTYPES: readonly DType[] = ["float32", "int32", "uint32", "bool", "float64", "float16"];

/**
 * The typed array that stores each dtype on the host. `bool` is one byte of 0 or 1; `float16`
 * is a Uint16Array of binary16 bits (JS has no Float16Array here).
 */
export type TypedArrayFor<D extends DType> = D extends "float16"
  ? Uint16Array
  : D extends "float32"
    ? Float32Array
    : D extends "float64"
      ? Float64Array
      : D extends "int32"
        ? Int32Array
        : D extends "uint32"
          ? Uint32Array
          : Uint8Array;

/** Host storage of any dtype (float16 as Uint16Array bits). */
export type DataArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | Uint16Array;

/** What reads return: values, with float16 widened to Float32Array. */
export type ValueArray = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;

/** Checks that `d` names a dtype; the error lists the valid ones. */
export function checkDType(d: unknown, op: string): DType {
  if (typeof d === "string" && (DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new DTypeError(`${op}: unknown dtype ${JSON.stringify(d)}; expected one of ${DTYPES.join(", ")}`);
}

export function itemSize(d: DType): number {
  return d === "float64" ? 8 : d === "bool" ? 1 : d === "float16" ? 2 : 4;
}

export function isFloat(d: DType): boolean {
  return d === "float32" || d === "float64" || d === "float16";
}

export function isInt(d: DType): boolean {
  return d === "int32" || d === "uint32";
}

/** The typed-array constructor that stores dtype `d` (bool as 0/1 bytes, float16 as its bits). */
export function arrayType(d: DType): { new (size: number): DataArray; new (buffer: ArrayBufferLike): DataArray } {
  switch (d) {
    case "float32":
      return Float32Array;
    case "float64":
      return Float64Array;
    case "int32":
      return Int32Array;
    case "uint32":
      return Uint32Array;
    case "bool":
      return Uint8Array;
    case "float16":
      return Uint16Array;
  }
}

/** A fresh zeroed host array of `size` elements of dtype `d`. */
export function allocHost(d: DType, size: number): DataArray {
  return new (arrayType(d))(size);
}

/**
 * Type promotion, as JAX's lattice with x64 disabled except that an explicit `float64`
 * operand wins (webjax never produces float64 from narrower types).
 * Weak types are the dtypes of bare JS numbers: a weak operand takes the other operand's dtype
 * when that is of the same or a higher kind (`int32 * 2 → int32`, `float32 + 1.5 → float32`),
 * and the default of its own kind otherwise (`int32 + 2.5 → float32`, `bool + 1 → int32`).
 */
export interface TypeRef {
  dtype: DType;
  weak: boolean;
}

const KIND_RANK: Record<DType, number> = { bool: 0, uint32: 1, int32: 1, float16: 2, float32: 2, float64: 2 };

export function promoteTypes(a: TypeRef, b: TypeRef): TypeRef {
  if (a.weak && b.weak) {
    return KIND_RANK[a.dtype] >= KIND_RANK[b.dtype] ? a : b;
  }
  if (a.weak || b.weak) {
    const [weak, strong] = a.weak ? [a, b] : [b, a];
    if (KIND_RANK[weak.dtype] <= KIND_RANK[strong.dtype]) return { dtype: strong.dtype, weak: false };
    // Weak of a higher kind than the strong operand: the weak kind's default, still weak (JAX).
    return { dtype: weak.dtype === "bool" ? "bool" : KIND_RANK[weak.dtype] === 2 ? "float32" : "int32", weak: true };
  }
  return { dtype: promoteStrong(a.dtype, b.dtype), weak: false };
}

function promoteStrong(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === "float64" || b === "float64") return "float64";
  if (a === "float32" || b === "float32") return "float32";
  if (a === "float16" || b === "float16") return "float16";
  if (a === "bool") return b;
  if (b === "bool") return a;
  // int32 with uint32: JAX gives int64, canonicalised to int32 without x64.
  return "int32";
}

/** The dtype of a result of true division and of float-only functions. */
export function floatResult(d: DType): DType {
  return isFloat(d) ? d : "float32";
}
