/** Pytree plumbing shared by the transforms: flat leaf lists in, typed pytrees out. */
import { Array, type NestedValues } from "../array.js";
import { ConcreteArray } from "../core/concrete.js";
import { type DType, isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { scalar } from "../numpy/convert.js";
import { zeros } from "../numpy/creation.js";
import { flattenWithPathAs } from "../tree/flatten.js";
import { matchLeaves } from "../tree/match.js";
import type { TreeDef } from "../tree/treedef.js";

/** What a transform returns for an input or output pytree: the same structure with Array leaves. */
export type Cotangent<T> = T extends Array
  ? Array
  : T extends number
    ? Array
    : T extends null | undefined
      ? T
      : T extends Map<infer K, infer V>
        ? Map<K, Cotangent<V>>
        : T extends readonly unknown[]
          ? NestedValues extends T
            ? Array // the open-ended nested-values type of ArrayLike parameters (np functions' inputs)
            : { -readonly [K in keyof T]: Cotangent<T[K]> }
          : T extends object
            ? { [K in keyof T]: Cotangent<T[K]> }
            : T;

/** Cotangent of each element of a tuple/list (a homomorphic map, so tuples stay tuples). */
export type CotangentsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: Cotangent<T[K]> };

/** The leaves of a pytree as arrays (JS numbers become weakly typed scalars), with paths for errors. */
export function arrayLeaves(op: string, what: string, t: unknown): { leaves: Array[]; paths: string[]; def: TreeDef } {
  const [withPath, def] = flattenWithPathAs(op, t);
  const leaves = withPath.map(([path, x]) => {
    if (x instanceof Array) return x;
    // JS has no float literal (2.0 is 2), so a number here is a weak float32 scalar.
    if (typeof x === "number") return scalar(x, "float32", true);
    throw new TracerError(
      `${op}: ${what}${path ? ` at ${path}` : ""} is ${describe(x)}; expected an Array or a number ` +
        "(mark non-array arguments static by closing over them)",
    );
  });
  return { leaves, paths: withPath.map(([p]) => p), def };
}

function describe(x: unknown): string {
  if (typeof x === "string") return `the string ${JSON.stringify(x)}`;
  if (typeof x === "boolean") return `the boolean ${x}`;
  return typeof x;
}

/** Rejects Promise-returning functions (a traced function must be synchronous). */
export function checkSync(op: string, out: unknown): void {
  if (out !== null && typeof out === "object" && typeof (out as { then?: unknown }).then === "function") {
    // The async function keeps running and will fail on the tracer it holds: its rejection is
    // this error's business, not an unhandled one that ends the process.
    (out as Promise<unknown>).catch?.(() => {});
    throw new TracerError(
      `${op}: the function returned a Promise. Transforms trace synchronous functions: ` +
        "await data outside the transformed function and pass the arrays in",
    );
  }
}

/** The leaves of `x` that match `def` (an error naming the path where they differ). */
export function leavesLike(op: string, who: string, def: TreeDef, x: unknown): Array[] {
  return matchLeaves(def, x, { op, who, prefix: false }).map((v, i) => {
    if (v instanceof Array) return v;
    if (typeof v === "number") return scalar(v, "float32", true);
    throw new TracerError(`${op}: ${who}: leaf ${i} is ${describe(v)}; expected an Array`);
  });
}

export function requireFloat(op: string, what: string, x: Array): void {
  if (!isFloat(x.dtype)) {
    throw new TracerError(
      `${op}: ${what} is ${x.dtype}[${x.shape}]; differentiation needs float inputs ` +
        "(JAX's rule too). Cast it with x.astype('float32'), or leave it out of argnums",
    );
  }
}

/** What a zero result needs to know about a value (taken while the value is alive). */
export interface ZeroSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly backend: string | undefined;
}

export function zeroSpec(x: Array): ZeroSpec {
  return { shape: x.shape, dtype: x.dtype, backend: x.backendHint()?.name };
}

/** A symbolic zero made concrete for a result (zeros of the value's shape and dtype). */
export function orZeros(t: Array | null, like: ZeroSpec): Array {
  return t ?? zeros(like.shape, { dtype: like.dtype, ...(like.backend ? { backend: like.backend } : {}) });
}

/**
 * Results the caller owns. An output the transform did not create itself (an input, a value
 * the function closed over, a residual the transform holds) or one that appears twice becomes a
 * new handle on the same buffer, so disposing a result never frees anything else. `mark` is
 * `nextArraySerial()` taken when the transform started.
 */
export function owned(outs: readonly Array[], mark: number): Array[] {
  const seen = new Set<Array>();
  return outs.map((o) => {
    const again = seen.has(o);
    seen.add(o);
    return o instanceof ConcreteArray && (again || o.serial < mark || o.detached) ? o.alias() : o;
  });
}
