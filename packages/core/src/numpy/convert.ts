import { Array, type ArrayLike, type NestedValues } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { aval } from "../core/aval.js";
import { ConcreteArray } from "../core/concrete.js";
import { bind1, currentStager } from "../core/trace.js";
import { allocHost, type DType, promoteTypes, type TypeRef } from "../dtype.js";
import { DTypeError } from "../errors.js";
import { hostStore, hostValue } from "../host.js";
import { broadcastShapes, shapesEqual } from "../shape.js";
import { array, type NestedInput } from "./creation.js";

/** The values of nested JS arrays, flattened (shape errors come from np.array later). */
function flatValues(x: NestedValues, out: unknown[] = []): unknown[] {
  for (const v of x) {
    if (globalThis.Array.isArray(v)) flatValues(v as NestedValues, out);
    else out.push(v);
  }
  return out;
}

/**
 * The dtype a bare JS value stands for: numbers (and nested arrays of them) are weak, int32 if
 * integral, float32 otherwise; booleans (and nested arrays of them) are bool.
 */
export function typeOf(x: ArrayLike): TypeRef {
  if (x instanceof Array) return { dtype: x.dtype, weak: x.weakType };
  if (typeof x === "boolean") return { dtype: "bool", weak: false };
  if (typeof x === "number") return { dtype: Number.isInteger(x) ? "int32" : "float32", weak: true };
  if (globalThis.Array.isArray(x)) {
    const vs = flatValues(x as NestedValues);
    if (vs.length > 0 && vs.every((v) => typeof v === "boolean")) return { dtype: "bool", weak: false };
    if (vs.every((v) => typeof v === "number" || typeof v === "boolean")) {
      return { dtype: vs.every((v) => typeof v !== "number" || Number.isInteger(v)) ? "int32" : "float32", weak: true };
    }
  }
  throw new DTypeError(`expected an Array, a number, a boolean or nested arrays of them, got ${describe(x)}`);
}

/** Any operand as an array of `dtype` (JS values created on `backend`). */
function asArrayOf(x: ArrayLike, res: TypeRef, backend: Backend): Array {
  if (x instanceof Array) return convert(x, res.dtype, res.weak);
  if (typeof x === "number" || typeof x === "boolean") return scalar(x, res.dtype, typeof x === "number", backend);
  const a = array(x as NestedInput, { dtype: res.dtype, backend: backend.name });
  return res.weak ? bind1("convert_element_type", [a], { newDtype: res.dtype, weakType: true }) : a;
}

function describe(x: unknown): string {
  if (x === null) return "null";
  if (globalThis.Array.isArray(x)) return "a JS array (wrap it with np.array)";
  return typeof x === "object" ? (x.constructor?.name ?? "object") : typeof x;
}

/** The backend that a set of operands lives on (the default one when all are JS values or tracers). */
export function backendOf(xs: readonly ArrayLike[]): Backend {
  for (const x of xs) {
    const b = x instanceof Array ? x.backendHint() : null;
    if (b) return b;
  }
  return getBackend();
}

/** A scalar array holding `value` (weakly typed when it came from a bare JS number). */
export function scalar(value: number | boolean, dtype: DType, weak: boolean, backend: Backend = getBackend()): Array {
  const stager = currentStager();
  if (stager) return stager.literal(value, dtype, weak);
  const data = allocHost(dtype, 1);
  data[0] = hostStore(dtype)(Number(value));
  const a = ConcreteArray.fromHost(backend, aval([], dtype, weak), data, "scalar");
  a.literal = hostValue(dtype, Number(value));
  return a;
}

/** Converts an array to `dtype` (no-op when it already is); `weak` is the result's weakness. */
export function convert(x: Array, dtype: DType, weak = x.weakType): Array {
  if (x.dtype === dtype && x.weakType === weak) return x;
  return bind1("convert_element_type", [x], { newDtype: dtype, weakType: weak });
}

/** Broadcasts to `shape` (numpy rule, dims aligned right); a view eagerly. */
export function broadcastTo(x: Array, shape: readonly number[], op = "broadcastTo"): Array {
  if (shapesEqual(x.shape, shape)) return x;
  broadcastShapes(op, x.shape, shape);
  const lead = shape.length - x.ndim;
  return bind1("broadcast_in_dim", [x], { shape, broadcastDimensions: x.shape.map((_, i) => i + lead) });
}

/** One operand of `op` as an Array (JS numbers and nested arrays weakly typed, as `prepare`). */
export function asArray(x: ArrayLike, op: string): Array {
  return prepare(op, [x])[0] as Array;
}

/**
 * Prepares the operands of a numpy function: JAX's promotion (weak JS numbers take the other
 * operand's dtype; `forceDtype` overrides the result dtype), then numpy broadcasting. Call it
 * inside `scoped` so the temporaries it makes are released.
 */
export function prepare(
  op: string,
  xs: readonly ArrayLike[],
  forceDtype?: DType,
  opts: { intNumbers?: boolean } = {},
): Array[] {
  const types = xs.map(typeOf);
  let res = types.reduce(promoteTypes);
  // The dtype rule (sharp bits): JS numbers take the dtype of the arrays they meet; with no
  // array to take it from, they are float32, integral or not (JS has no integer literal).
  // Integer-only functions (bitwise ops, shifts) keep int32 (`intNumbers`).
  if (!opts.intNumbers && res.weak && res.dtype === "int32" && xs.every((x) => !(x instanceof Array))) {
    res = { dtype: "float32", weak: true };
  }
  if (forceDtype) res = { dtype: forceDtype, weak: res.weak };
  for (const x of xs) if (typeof x === "number") checkFits(op, x, res.dtype);
  const backend = backendOf(xs);
  const arrays = xs.map((x) => asArrayOf(x, res, backend));
  const shape = broadcastShapes(op, ...arrays.map((a) => a.shape));
  return arrays.map((a) => broadcastTo(a, shape, op));
}

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
};

/** A JS integer that cannot be stored in `dtype` is an error (JAX's OverflowError), never a silent wrap. */
export function checkFits(op: string, x: number, dtype: DType): void {
  const range = INT_RANGE[dtype];
  if (!range || !Number.isInteger(x)) return;
  if (x < range[0] || x > range[1]) {
    throw new DTypeError(
      `${op}: the JS number ${x} does not fit in ${dtype} [${range[0]}, ${range[1]}]; convert the array first (x.astype("float32")) or use a value in range`,
    );
  }
}

/** Promotes operands (any ArrayLike) to their common dtype without broadcasting (for contractions). */
export function promoteOnly(xs: readonly ArrayLike[]): Array[] {
  let res = xs.map(typeOf).reduce(promoteTypes);
  if (res.weak && res.dtype === "int32" && xs.every((x) => !(x instanceof Array)))
    res = { dtype: "float32", weak: true };
  const backend = backendOf(xs);
  return xs.map((x) => asArrayOf(x, res, backend));
}

/**
 * Public functions return arrays the caller owns: when a no-op would hand back the input
 * itself, return a new view of it instead, so disposing the result never frees the input.
 */
export function fresh(result: Array, input: ArrayLike): Array {
  return result === input ? bind1("reshape", [result], { newShape: result.shape }) : result;
}
