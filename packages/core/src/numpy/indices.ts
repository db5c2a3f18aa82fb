/**
 * Index arrays as numpy and JAX read them: JS numbers or nested arrays, or int Arrays (bool
 * ones are masks), checked here, normalised by an index mode, and data-dependent sizes read
 * eagerly where a backend can (or asked for as `size`).
 */
import { Array } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { ConcreteArray } from "../core/concrete.js";
import { bind1, Tracer } from "../core/trace.js";
import { isFloat } from "../dtype.js";
import { BackendError, DTypeError, ShapeError, TracerError } from "../errors.js";
import { backendOf, convert } from "./convert.js";
import { array, type NestedInput } from "./creation.js";
import { greaterEqual, less, logicalAnd, maximum, minimum, where } from "./elementwise.js";
import { concatenate } from "./join.js";
import { mod } from "./math.js";

/**
 * How out-of-range indices read (JAX's `mode`): `fill` gives the fill value; `clip` clamps into
 * [0, n) (a negative index reads element 0); `wrap` takes them modulo n; `promise_in_bounds`
 * lets negative ones count from the end and clamps the rest, as `x[i]` does.
 */
export type IndexMode = "fill" | "clip" | "wrap" | "promise_in_bounds";

const MODES: readonly IndexMode[] = ["fill", "clip", "wrap", "promise_in_bounds"];

export function checkMode(op: string, mode: unknown): IndexMode {
  if (MODES.includes(mode as IndexMode)) return mode as IndexMode;
  throw new DTypeError(
    `${op}: mode must be one of ${MODES.map((m) => `"${m}"`).join(", ")}, got ${JSON.stringify(mode)}`,
  );
}

/** Whether `indices` is a boolean mask (a bool Array, or nested JS booleans). */
export function isMask(indices: unknown): boolean {
  if (indices instanceof Array) return indices.dtype === "bool";
  let v = indices;
  while (globalThis.Array.isArray(v)) {
    if (v.length === 0) return false;
    v = v[0];
  }
  return typeof v === "boolean";
}

/** Integer indices as an int32 Array; floats (JS or Array) are a DTypeError naming the op. */
export function intIndices(op: string, indices: Array | NestedInput, like: Array): Array {
  if (indices instanceof Array) {
    if (isFloat(indices.dtype)) {
      throw new DTypeError(`${op}: indices must be integers, got ${fmtAval(indices.aval)}; cast with .astype("int32")`);
    }
    return convert(indices, "int32", false);
  }
  if (containsArray(indices)) return stackIndices(op, indices, like);
  const check = (i: NestedInput): void => {
    if (globalThis.Array.isArray(i)) for (const c of i) check(c);
    else if (typeof i !== "number" || !Number.isInteger(i)) {
      throw new DTypeError(`${op}: indices must be integers, got ${typeof i === "number" ? i : typeof i}`);
    }
  };
  check(indices);
  return array(indices, { dtype: "int32", backend: backendOf([like]).name });
}

const containsArray = (i: unknown): boolean =>
  i instanceof Array || (globalThis.Array.isArray(i) && i.some((c) => containsArray(c)));

/** A nested list with Array leaves (numpy's `x[[i, j]]` with 0-d arrays i, j) stacked into one index array. */
function stackIndices(op: string, indices: unknown, like: Array): Array {
  if (!globalThis.Array.isArray(indices)) return intIndices(op, indices as Array | NestedInput, like);
  const parts = indices.map((c) => stackIndices(op, c, like));
  const shape = (parts[0] as Array | undefined)?.shape ?? [];
  for (const q of parts) {
    if (q.shape.length !== shape.length || q.shape.some((d, i) => d !== shape[i])) {
      throw new ShapeError(`${op}: the entries of an index list must have one shape, got [${shape}] and [${q.shape}]`);
    }
  }
  return concatenate(
    parts.map((q) => bind1("reshape", [q], { newShape: [1, ...q.shape] })),
    0,
  );
}

/** A bool mask as a bool Array. */
export function maskArray(indices: Array | NestedInput, like: Array): Array {
  return indices instanceof Array ? indices : array(indices, { dtype: "bool", backend: backendOf([like]).name });
}

/**
 * The indices the `take` primitive should read (it wraps negatives once, then clamps) for `mode`
 * over an axis of n, and for `fill` the mask of the in-range ones.
 */
export function normalizeIndices(idx: Array, n: number, mode: IndexMode): { idx: Array; valid: Array | null } {
  switch (mode) {
    case "promise_in_bounds":
      return { idx, valid: null };
    case "clip":
      return { idx: maximum(minimum(idx, Math.max(n - 1, 0)), 0), valid: null };
    case "wrap":
      return { idx: n === 0 ? idx : mod(idx, n), valid: null };
    case "fill":
      return { idx, valid: logicalAnd(greaterEqual(idx, -n), less(idx, n)) };
  }
}

/** JAX's default fill of a dtype: NaN for floats, the most negative int32, the largest uint32, true. */
export function defaultFill(dtype: Array["dtype"]): number | boolean {
  if (isFloat(dtype)) return Number.NaN;
  if (dtype === "int32") return -2147483648;
  if (dtype === "uint32") return 4294967295;
  return true;
}

/** `values` where `valid` (whose dims sit at `validDims` of values, the rest broadcast), else `fill`. */
export function filled(values: Array, valid: Array, fill: number | boolean, validDims: readonly number[]): Array {
  const v = bind1("broadcast_in_dim", [valid], { shape: values.shape, broadcastDimensions: validDims });
  return where(v, values, fill);
}

/**
 * A size that depends on the data (the number of unique values, of true mask elements): read
 * from the scalar int32 `count` where the backend reads synchronously; under a transform, or on
 * a backend that cannot (WebGPU, deferred CPU), an error asking for `size`.
 */
export function dataDependentSize(op: string, count: Array, what: string): number {
  if (count instanceof Tracer || !(count instanceof ConcreteArray)) {
    throw new TracerError(
      `${op}: the number of ${what} depends on the data, so under a transform pass { size } (and fillValue), as in JAX`,
    );
  }
  if (!count.backend.canReadSync) {
    throw new BackendError(
      `${op}: the number of ${what} depends on the data, and the ${count.backend.name} backend cannot read it ` +
        "synchronously; pass { size } (and fillValue) for a fixed-size result",
    );
  }
  return count.dataSync()[0] as number;
}
