import { Array, type ArrayLike as Values } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { aval } from "../core/aval.js";
import { ConcreteArray } from "../core/concrete.js";
import { bind1, currentStager } from "../core/trace.js";
import { allocHost, checkDType, type DataArray, type DType } from "../dtype.js";
import { DTypeError, ShapeError } from "../errors.js";
import { hostStore } from "../host.js";
import { checkShape, sizeOf } from "../shape.js";
import { convert, scalar, typeOf } from "./convert.js";
import { checkOptions } from "./options.js";

/** Stores JS numbers as `dtype` with the IR's cast semantics (bool: nonzero; ints: truncate and saturate). */
function storeAs(dtype: DType, values: ArrayLike<number>): DataArray {
  // Same element type: storing is the identity and `Backend.write` copies, so the input itself
  // goes to the backend (a 188 MB dataset is then copied once, not twice).
  if (
    (dtype === "float32" && values instanceof Float32Array) ||
    (dtype === "int32" && values instanceof Int32Array) ||
    (dtype === "uint32" && values instanceof Uint32Array) ||
    (dtype === "float64" && values instanceof Float64Array)
  ) {
    return values as DataArray;
  }
  const data = allocHost(dtype, values.length);
  const f = hostStore(dtype);
  for (let i = 0; i < values.length; i++) data[i] = f(values[i] as number);
  return data;
}

/** Options of the creation functions. */
export interface CreateOptions {
  dtype?: DType;
  /** The backend to create on (default: the current one). */
  backend?: string;
}

/** Nested JS arrays of numbers or booleans. */
export type NestedInput = number | boolean | readonly NestedInput[];

type TypedInput =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint8ClampedArray;

/**
 * Creation options as numpy and JAX users pass them: an options object (checked), or the dtype
 * alone (`np.zeros([2, 3], "int32")`, as `jnp.zeros((2, 3), jnp.int32)`).
 */
function createOpts<O extends CreateOptions>(
  op: string,
  opts: O | DType | undefined,
  extra: readonly string[] = [],
): O | undefined {
  if (typeof opts === "string") return { dtype: checkDType(opts, op) } as O;
  checkOptions(op, opts, ["dtype", "backend", ...extra]);
  return opts;
}

function backendFor(opts?: CreateOptions): Backend {
  return getBackend(opts?.backend);
}

function fromHost(
  data: DataArray,
  shape: readonly number[],
  dtype: DType,
  opts: CreateOptions | undefined,
  label: string,
): Array {
  return ConcreteArray.fromHost(backendFor(opts), aval(shape, dtype), data, label);
}

function filled(
  shape: readonly number[],
  dtype: DType,
  value: number,
  opts: CreateOptions | undefined,
  label: string,
): Array {
  const s = checkShape(shape, label);
  if (currentStager()) return filledStaged(s, dtype, value);
  const data = allocHost(dtype, sizeOf(s));
  if (value !== 0) data.fill(hostStore(dtype)(value));
  return fromHost(data, s, dtype, opts, label);
}

// Staged creation (DESIGN decision 3): under a staging trace these functions record a
// broadcast literal or an iota instead of making (and capturing) a host array.

/** `value` broadcast to `shape` (the literal itself for a scalar). */
function filledStaged(shape: readonly number[], dtype: DType, value: number): Array {
  const lit = scalar(value, dtype, false);
  return shape.length === 0 ? lit : bind1("broadcast_in_dim", [lit], { shape, broadcastDimensions: [] });
}

function iota(dtype: DType, shape: readonly number[], dimension: number): Array {
  return bind1("iota", [], { dtype, shape, dimension });
}

function binaryStaged(op: "add" | "mul" | "eq", x: Array, value: number): Array {
  return bind1(op, [x, filledStaged(x.shape, x.dtype, value)], {});
}

const toDtype = (x: Array, dtype: DType): Array =>
  x.dtype === dtype ? x : bind1("convert_element_type", [x], { newDtype: dtype, weakType: false });

/** start + i·step for i < n, computed in `via` (int32, or float32), then cast to dtype. */
function rampStaged(n: number, start: number, step: number, via: DType, dtype: DType): Array {
  let r = iota(via, [n], 0);
  if (step !== 1) r = binaryStaged("mul", r, step);
  if (start !== 0) r = binaryStaged("add", r, start);
  return toDtype(r, dtype);
}

/** Infers the shape of nested JS arrays; ragged input names the position. */
function nestedShape(x: NestedInput): number[] {
  const shape: number[] = [];
  let cur: NestedInput = x;
  while (globalThis.Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0] as NestedInput;
  }
  const check = (v: NestedInput, dim: number, path: number[]): void => {
    if (dim === shape.length) {
      if (typeof v !== "number" && typeof v !== "boolean") {
        throw new ShapeError(
          `array: expected a number or boolean at [${path.join(",")}], got ${globalThis.Array.isArray(v) ? "an array (ragged nesting)" : typeof v}`,
        );
      }
      return;
    }
    if (!globalThis.Array.isArray(v) || v.length !== shape[dim]) {
      const got = globalThis.Array.isArray(v) ? `length ${v.length}` : typeof v;
      throw new ShapeError(
        `array: ragged nested array at [${path.join(",")}]: expected length ${shape[dim]}, got ${got}`,
      );
    }
    v.forEach((c, i) => check(c as NestedInput, dim + 1, [...path, i]));
  };
  check(x, 0, []);
  return shape;
}

function typedDType(x: TypedInput): DType {
  if (x instanceof Int32Array) return "int32";
  if (x instanceof Uint32Array) return "uint32";
  if (x instanceof Float32Array || x instanceof Float64Array) return "float32";
  return "int32";
}

/**
 * Creates an array from nested JS arrays, a typed array (with `shape`) or another array (a copy).
 * JS numbers give float32 unless `dtype` says otherwise; booleans give bool; Int32Array gives
 * int32, Uint32Array uint32; a Float64Array gives float32 unless `dtype: "float64"` is asked.
 */
export function array(
  x: NestedInput | TypedInput | Array,
  options?: (CreateOptions & { shape?: readonly number[] }) | DType,
): Array {
  const opts = createOpts("array", options, ["shape"]);
  if (x instanceof Array) {
    const c = bind1("copy", [x], {});
    if (!opts?.dtype) return c;
    const r = convert(c, checkDType(opts.dtype, "array"), false);
    if (r !== c) c.dispose();
    return r;
  }
  if (ArrayBuffer.isView(x)) {
    const dtype = opts?.dtype ? checkDType(opts.dtype, "array") : typedDType(x);
    const shape = opts?.shape ? checkShape(opts.shape, "array") : [x.length];
    if (sizeOf(shape) !== x.length)
      throw new ShapeError(`array: shape [${shape}] needs ${sizeOf(shape)} elements, the typed array has ${x.length}`);
    return fromHost(storeAs(dtype, x as ArrayLike<number>), shape, dtype, opts, "array");
  }
  if (typeof x === "number" || typeof x === "boolean") {
    // A 0-d array of a JS value is a scalar that programs record as a literal.
    if (opts?.shape) throw new DTypeError("array: `shape` applies to typed-array input only");
    const dtype = opts?.dtype ? checkDType(opts.dtype, "array") : typeof x === "boolean" ? "bool" : "float32";
    return scalar(x, dtype, false, backendFor(opts));
  }
  const shape = nestedShape(x as NestedInput);
  const flat: (number | boolean)[] = [];
  const walk = (v: NestedInput): void => {
    if (globalThis.Array.isArray(v)) for (const c of v as readonly NestedInput[]) walk(c);
    else flat.push(v as number | boolean);
  };
  walk(x as NestedInput);
  const allBool = flat.length > 0 && flat.every((v) => typeof v === "boolean");
  const dtype = opts?.dtype ? checkDType(opts.dtype, "array") : allBool ? "bool" : "float32";
  const data = storeAs(dtype, flat.map(Number));
  if (opts?.shape) throw new DTypeError("array: `shape` applies to typed-array input only");
  return fromHost(data, shape, dtype, opts, "array");
}

/** Creation options naming x's backend, where x knows it (a concrete array, or a tracer of one). */
export function onBackendOf(x: Array): CreateOptions {
  const b = x.backendHint();
  return b ? { backend: b.name } : {};
}

/** An array of zeros. */
export function zeros(shape: readonly number[] | number, options?: CreateOptions | DType): Array {
  const opts = createOpts("zeros", options);
  return filled(checkShape(shape, "zeros"), checkDType(opts?.dtype ?? "float32", "zeros"), 0, opts, "zeros");
}

/** An array of ones. */
export function ones(shape: readonly number[] | number, options?: CreateOptions | DType): Array {
  const opts = createOpts("ones", options);
  return filled(checkShape(shape, "ones"), checkDType(opts?.dtype ?? "float32", "ones"), 1, opts, "ones");
}

/** An array filled with `value` (float32 for numbers, bool for booleans, unless `dtype`). */
export function full(
  shape: readonly number[] | number,
  value: number | boolean,
  options?: CreateOptions | DType,
): Array {
  const opts = createOpts("full", options);
  const dtype = checkDType(opts?.dtype ?? (typeof value === "boolean" ? "bool" : "float32"), "full");
  return filled(checkShape(shape, "full"), dtype, Number(value), opts, "full");
}

/** The shape and dtype of any ArrayLike (JS values by the dtype rule). */
function likeOf(x: Values): { shape: readonly number[]; dtype: DType; opts: CreateOptions } {
  if (x instanceof Array) return { shape: x.shape, dtype: x.dtype, opts: onBackendOf(x) };
  if (typeof x === "boolean") return { shape: [], dtype: "bool", opts: {} };
  if (typeof x === "number") return { shape: [], dtype: "float32", opts: {} };
  const shape = nestedShape(x as NestedInput);
  const t = typeOf(x);
  return { shape, dtype: t.dtype === "bool" ? "bool" : "float32", opts: {} };
}

/** Zeros with the shape (and dtype, unless given) of `x`. */
export function zerosLike(x: Values, options?: CreateOptions | DType): Array {
  const opts = createOpts("zerosLike", options);
  const l = likeOf(x);
  return zeros(l.shape, { dtype: l.dtype, ...l.opts, ...opts });
}

/** Ones with the shape (and dtype, unless given) of `x`. */
export function onesLike(x: Values, options?: CreateOptions | DType): Array {
  const opts = createOpts("onesLike", options);
  const l = likeOf(x);
  return ones(l.shape, { dtype: l.dtype, ...l.opts, ...opts });
}

/** `value` with the shape (and dtype, unless given) of `x`. */
export function fullLike(x: Values, value: number | boolean, options?: CreateOptions | DType): Array {
  const opts = createOpts("fullLike", options);
  const l = likeOf(x);
  return full(l.shape, value, { dtype: l.dtype, ...l.opts, ...opts });
}

/**
 * Evenly spaced values in [start, stop): `arange(n)`, `arange(start, stop)`, `arange(start, stop, step)`.
 * int32 when every argument is an integer, else float32 (unless `dtype`).
 */
export function arange(start: number, stop?: number, step = 1, options?: CreateOptions | DType): Array {
  const opts = createOpts("arange", options);
  const [a, b] = stop === undefined ? [0, start] : [start, stop];
  for (const v of [a, b, step]) {
    if (!Number.isFinite(v)) throw new ShapeError(`arange: arguments must be finite numbers, got ${v}`);
  }
  if (step === 0) throw new ShapeError("arange: step must be nonzero");
  const dtype = checkDType(opts?.dtype ?? ([a, b, step].every(Number.isInteger) ? "int32" : "float32"), "arange");
  const n = Math.max(0, Math.ceil((b - a) / step));
  // Staged: exact in int32 for integer arguments (JAX's iota path); other float ramps are a
  // constant, as JAX's arange makes them.
  const exactInt =
    Number.isInteger(a) && Number.isInteger(step) && Math.max(Math.abs(a), Math.abs(a + n * step)) < 2 ** 24;
  if (currentStager() && exactInt) return rampStaged(n, a, step, "int32", dtype);
  const data = allocHost(dtype, n);
  const put = hostStore(dtype);
  for (let i = 0; i < n; i++) data[i] = put(a + i * step);
  return fromHost(data, [n], dtype, opts, "arange");
}

/** `num` evenly spaced values from start to stop (inclusive unless `endpoint: false`). */
export function linspace(
  start: number,
  stop: number,
  num = 50,
  options?: (CreateOptions & { endpoint?: boolean }) | DType,
): Array {
  const opts = createOpts("linspace", options, ["endpoint"]);
  if (!Number.isInteger(num) || num < 0)
    throw new ShapeError(`linspace: num must be a non-negative integer, got ${num}`);
  const dtype = checkDType(opts?.dtype ?? "float32", "linspace");
  const endpoint = opts?.endpoint ?? true;
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  if (currentStager()) {
    // Staged in float32 (as JAX's linspace, within an ulp of the host's float64 ramp); the
    // endpoint is exact.
    const ramp = rampStaged(num, start, step, "float32", "float32");
    if (!(endpoint && num > 1)) return toDtype(ramp, dtype);
    const last = binaryStaged("eq", iota("int32", [num], 0), num - 1);
    return toDtype(bind1("select", [last, filledStaged([num], "float32", stop), ramp], {}), dtype);
  }
  const data = allocHost(dtype, num);
  const put = hostStore(dtype);
  for (let i = 0; i < num; i++) data[i] = put(start + i * step);
  if (endpoint && num > 1) data[num - 1] = put(stop);
  return fromHost(data, [num], dtype, opts, "linspace");
}

/** An n×m matrix with ones on diagonal `k` (0: main, >0: above, <0: below). */
export function eye(n: number, m?: number, options?: (CreateOptions & { k?: number }) | DType): Array {
  const opts = createOpts("eye", options, ["k"]);
  const cols = m ?? n;
  const shape = checkShape([n, cols], "eye");
  const k = opts?.k ?? 0;
  if (!Number.isInteger(k)) throw new ShapeError(`eye: k must be an integer, got ${k}`);
  const dtype = checkDType(opts?.dtype ?? "float32", "eye");
  if (currentStager()) {
    const rows = iota("int32", shape, 0);
    const diag = bind1("eq", [k === 0 ? rows : binaryStaged("add", rows, k), iota("int32", shape, 1)], {});
    return toDtype(diag, dtype);
  }
  const data = allocHost(dtype, n * cols);
  for (let i = 0; i < n; i++) {
    const j = i + k;
    if (j >= 0 && j < cols) data[i * cols + j] = hostStore(dtype)(1);
  }
  return fromHost(data, shape, dtype, opts, "eye");
}
