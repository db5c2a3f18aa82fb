/**
 * Control flow (issue 24): `lax.cond` and `lax.switch` over pytrees, as the `cond` primitive
 * (primitives/cond.ts), and `lax.scan`, `lax.foriLoop` and `lax.map` as the `scan` primitive
 * (primitives/scan-loop.ts), so they work eagerly, under jit, grad and vmap.
 */
import type { Array, ArrayLike } from "./array.js";
import { fmtAval } from "./core/aval.js";
import { type ClosedJaxpr, evalJaxpr } from "./core/jaxpr.js";
import { stage } from "./core/staging.js";
import { bind } from "./core/trace.js";
import { TracerError } from "./errors.js";
import { asArray, convert } from "./numpy/convert.js";
import { releaseMade, releaseUnstaged } from "./primitives/higher-order.js";
import { shapesEqual } from "./shape.js";
import { flattenAs } from "./tree/flatten.js";
import type { TreeDef } from "./tree/treedef.js";

/**
 * `trueFn(...operands)` where `pred` (a scalar) is true, else `falseFn(...operands)`: only that
 * branch runs (JAX's `lax.cond`). Both must return the same pytree structure with the same
 * shapes and dtypes; operands and outputs are pytrees of arrays. Under vmap with a batched
 * `pred` both branches run and each member picks its own (as in JAX); grad differentiates the
 * branch taken.
 */
export function cond<A extends unknown[], R>(
  pred: ArrayLike,
  trueFn: (...operands: A) => R,
  falseFn: (...operands: A) => R,
  ...operands: A
): R {
  const p = asArray(pred, "lax.cond");
  if (p.shape.length !== 0) {
    throw new TracerError(
      `lax.cond: the predicate must be a scalar, got ${fmtAval(p.aval)} (for an elementwise choice use np.where)`,
    );
  }
  const made = new Set<Array>();
  const own = (x: Array) => {
    if (x !== pred) made.add(x);
    return x;
  };
  const index = own(convert(own(p.dtype === "bool" ? p : own(p).notEqual(0)), "int32", false));
  try {
    return branchOn("lax.cond", index, [falseFn, trueFn], operands, ["falseFn", "trueFn"]);
  } finally {
    releaseMade(made);
  }
}

/**
 * `branches[index](...operands)`, `index` (an integer scalar) clamped into
 * [0, branches.length − 1] (JAX's `lax.switch`); the branches return one structure and types.
 */
function switchOn<A extends unknown[], R>(
  index_: ArrayLike,
  branches: readonly ((...operands: A) => R)[],
  ...operands: A
): R {
  if (branches.length === 0) throw new TracerError("lax.switch: needs at least one branch");
  if (typeof index_ === "number" && !Number.isInteger(index_)) {
    throw new TracerError(`lax.switch: the index must be an integer, got ${index_}`);
  }
  const i = asArray(index_, "lax.switch");
  // A JS integer arrives as a weak float; an array index must have an integer dtype.
  const integral = typeof index_ === "number" || ["int32", "uint32", "bool"].includes(i.dtype);
  if (i.shape.length !== 0 || !integral) {
    throw new TracerError(`lax.switch: the index must be an integer scalar, got ${fmtAval(i.aval)}`);
  }
  const index = convert(i, "int32", false);
  try {
    return branchOn(
      "lax.switch",
      index,
      branches,
      operands,
      branches.map((_, k) => `branch ${k}`),
    );
  } finally {
    releaseMade([i, index].filter((x) => x !== index_));
  }
}

export { switchOn as switch };

function branchOn<R>(
  name: string,
  index: Array,
  // biome-ignore lint/suspicious/noExplicitAny: each branch takes the operands as the caller typed them
  branches: readonly ((...operands: any[]) => R)[],
  operands: readonly unknown[],
  labels: readonly string[],
): R {
  const [leaves, inDef] = flattenAs(name, operands as unknown[]);
  const args = leaves.map((l) => asArray(l as ArrayLike, name));
  const made = args.filter((a, i) => a !== leaves[i]);
  const avals = args.map((a) => a.aval);
  const outDefs: TreeDef[] = [];
  const staged = branches.map((f, k) =>
    stage(
      `${name} ${labels[k]}`,
      (xs) => {
        const out = f(...(inDef.unflatten(xs) as unknown[]));
        const [outLeaves, def] = flattenAs(name, out);
        outDefs[k] = def;
        return outLeaves.map((l) => asArray(l as ArrayLike, name));
      },
      avals,
    ),
  );
  const def0 = outDefs[0] as TreeDef;
  const out0 = (staged[0] as { closed: ClosedJaxpr }).closed.outAvals;
  staged.forEach(({ closed }, k) => {
    const def = outDefs[k] as TreeDef;
    if (!def.equals(def0)) {
      throw new TracerError(
        `${name}: ${labels[k]} returns ${String(def)} but ${labels[0]} returns ${String(def0)}; every branch must return the same structure`,
      );
    }
    const outs = closed.outAvals;
    const bad = outs.findIndex((a, i) => a.dtype !== out0[i]?.dtype || !shapesEqual(a.shape, out0[i]?.shape ?? []));
    if (bad >= 0) {
      throw new TracerError(
        `${name}: ${labels[k]} returns (${outs.map(fmtAval).join(", ")}) but ${labels[0]} returns (${out0.map(fmtAval).join(", ")}); ` +
          "every branch must return the same shapes and dtypes",
      );
    }
  });
  // Values of enclosing transforms that any branch reads become operands of every branch.
  const lifted: Array[] = [];
  for (const s of staged) for (const l of s.lifted) if (!lifted.includes(l)) lifted.push(l);
  const programs = staged.map(({ closed, lifted: own }) => {
    if (lifted.length === 0) return closed;
    const picked = own.map((l) => lifted.indexOf(l));
    const wrapped = stage(
      name,
      (xs) => evalJaxpr(closed, [...picked.map((j) => xs[j] as Array), ...xs.slice(lifted.length)]),
      [...lifted.map((l) => l.aval), ...avals],
    );
    return wrapped.closed;
  });
  if (lifted.length > 0) releaseUnstaged(staged.map((st) => st.closed));
  const outs = bind("cond", [index, ...lifted, ...args], { name, branches: programs });
  releaseUnstaged(programs);
  releaseMade(made);
  return def0.unflatten(outs) as R;
}

export interface ScanOptions {
  /** The number of steps (required when there are no xs; else the xs' leading size). */
  length?: number;
  /** Scan from the last slice to the first (ys still line up with xs). */
  reverse?: boolean;
  /**
   * JAX's unroll factor: accepted for compatibility. It does not change the values; this
   * version runs the loop as one scan primitive however it is set.
   */
  unroll?: number | boolean;
}

/** The leaves of a pytree as arrays (JS numbers: weak scalars; null or undefined: no leaves). */
function arraysOf(name: string, t: unknown): [Array[], TreeDef] {
  const [leaves, def] = flattenAs(name, t ?? []);
  return [leaves.map((l) => asArray(l as ArrayLike, name)), def];
}

/**
 * JAX's `lax.scan`: `f(carry, x) → [carry, y]` over the leading axis of `xs` (a pytree; null
 * for none, with `length`), returning the final carry and the ys stacked along a new leading
 * axis. The carry keeps its structure, shapes and dtypes from step to step (a JS number in
 * the carry becomes its dtype's array). One `scan` primitive, so jit stages one loop however
 * long it is, and grad, jvp and vmap transform it.
 */
export function scan<C, X, Y>(
  f: (carry: C, x: X) => readonly [C, Y],
  init: C,
  xs?: X | null,
  opts: ScanOptions = {},
): [C, Y] {
  const name = "lax.scan";
  if (
    opts.unroll !== undefined &&
    typeof opts.unroll !== "boolean" &&
    !(Number.isInteger(opts.unroll) && opts.unroll >= 1)
  ) {
    throw new TracerError(`${name}: unroll must be a positive integer or a boolean, got ${String(opts.unroll)}`);
  }
  const [carry0, carryDef] = arraysOf(name, init);
  const carry = carry0.map((c) => convert(c, c.dtype, false));
  const [xLeaves, xDef] = arraysOf(name, xs);
  const userLeaves = new Set<unknown>([...flattenAs(name, init ?? [])[0], ...flattenAs(name, xs ?? [])[0]]);
  const made = [...carry0, ...carry, ...xLeaves].filter((a) => !userLeaves.has(a));
  const length = opts.length ?? xLeaves[0]?.shape[0];
  if (length === undefined) throw new TracerError(`${name}: with no xs, pass { length }`);
  if (!Number.isInteger(length) || length < 0)
    throw new TracerError(`${name}: length must be a non-negative integer, got ${length}`);
  xLeaves.forEach((x, i) => {
    if (x.shape[0] !== length) {
      throw new TracerError(
        `${name}: xs leaf ${i} is ${fmtAval(x.aval)}, but the scan has length ${length}: every xs leaf needs ${length} leading rows`,
      );
    }
  });
  const nk = carry.length;
  let yDef: TreeDef | null = null;
  const carryAvals = carry.map((c) => c.aval);
  const { closed, lifted } = stage(
    `${name} body`,
    (vs) => {
      const out = f(carryDef.unflatten(vs.slice(0, nk)) as C, xDef.unflatten(vs.slice(nk)) as X);
      if (!globalThis.Array.isArray(out) || out.length !== 2) {
        throw new TracerError(`${name}: the body must return [carry, y] (y may be null)`);
      }
      const [c2, def] = arraysOf(name, out[0]);
      if (!def.equals(carryDef)) {
        throw new TracerError(
          `${name}: the body returns a carry of structure ${String(def)}, but the initial carry is ${String(carryDef)}`,
        );
      }
      const next = c2.map((c, i) => {
        const want = carryAvals[i] as (typeof carryAvals)[number];
        if (shapesEqual(c.shape, want.shape) && (c.dtype === want.dtype || c.weakType))
          return convert(c, want.dtype, false);
        throw new TracerError(
          `${name}: carry leaf ${i} comes in as ${fmtAval(want)} but the body returns ${fmtAval(c.aval)}; the carry must keep its shape and dtype`,
        );
      });
      const [ys, def2] = arraysOf(name, out[1]);
      yDef = def2;
      return [...next, ...ys];
    },
    [...carryAvals, ...xLeaves.map((x) => ({ ...x.aval, shape: x.shape.slice(1), weakType: false }))],
  );
  const outs = bind("scan", [...lifted, ...carry, ...xLeaves], {
    name,
    body: closed,
    numConsts: lifted.length,
    numCarry: nk,
    length,
    reverse: opts.reverse ?? false,
  });
  releaseUnstaged([closed]);
  releaseMade(made);
  return [carryDef.unflatten(outs.slice(0, nk)) as C, (yDef as unknown as TreeDef).unflatten(outs.slice(nk)) as Y];
}

/**
 * JAX's `lax.fori_loop`: `body(i, val)` for i = lower … upper − 1 (i an int32 scalar),
 * returning the last value. With JS-number bounds it is a scan (reverse mode works); with array
 * bounds, a while loop (forward mode only), as in JAX.
 */
export function foriLoop<T>(
  lower: number | Array,
  upper: number | Array,
  body: (i: Array, val: T) => T,
  init: T,
  opts: { unroll?: number | boolean } = {},
): T {
  if (typeof lower !== "number" || typeof upper !== "number") {
    // Bounds known only when it runs: a while loop over (i, val), as in JAX (no reverse mode).
    const [, out] = whileLoop(
      ([i]: [Array, T]) => i.less(upper),
      ([i, v]: [Array, T]) => [i.add(1), body(i, v)] as [Array, T],
      [convert(asArray(lower, "lax.foriLoop"), "int32", false), init] as [Array, T],
    );
    return out;
  }
  if (!Number.isInteger(lower) || !Number.isInteger(upper)) {
    throw new TracerError(`lax.foriLoop: the bounds must be integers, got ${lower} and ${upper}`);
  }
  const length = Math.max(upper - lower, 0);
  const start = asArray(lower, "lax.foriLoop").astype("int32");
  const [[last, out]] = scan(
    ([i, v]: [Array, T]) => [[i.add(1), body(i, v)] as [Array, T], null] as const,
    [start, init] as [Array, T],
    null,
    { length, ...(opts.unroll !== undefined ? { unroll: opts.unroll } : {}) },
  );
  releaseMade([start, last]);
  return out;
}

/** JAX's `lax.map`: `f` over the leading axis of `xs` (a pytree), the results stacked; one scan. */
export function map<X, Y>(f: (x: X) => Y, xs: X): Y {
  return scan((c: null, x: X) => [c, f(x)] as const, null, xs)[1];
}

/**
 * JAX's `lax.while_loop`: `body(val)` while `cond(val)` (a bool scalar) holds, from `init` (a
 * pytree; the body keeps its structure, shapes and dtypes). Forward mode (jvp) and vmap work
 * (a batched predicate runs every member until all stop, each keeping its value once its own
 * predicate fails); reverse mode does not — use foriLoop with static bounds or scan — as in JAX.
 */
export function whileLoop<T>(cond: (val: T) => ArrayLike, body: (val: T) => T, init: T): T {
  const name = "lax.whileLoop";
  const [carry0, def] = arraysOf(name, init);
  const carry = carry0.map((c) => convert(c, c.dtype, false));
  const userLeaves = new Set<unknown>(flattenAs(name, init ?? [])[0]);
  const made = [...carry0, ...carry].filter((a) => !userLeaves.has(a));
  const avals = carry.map((c) => c.aval);
  const c = stage(
    `${name} cond`,
    (vs) => {
      const p = asArray(cond(def.unflatten(vs) as T), name);
      if (p.dtype !== "bool" || p.shape.length !== 0) {
        throw new TracerError(`${name}: cond must return a bool scalar, got ${fmtAval(p.aval)}`);
      }
      return [p];
    },
    avals,
  );
  const b = stage(
    `${name} body`,
    (vs) => {
      const [next, nextDef] = arraysOf(name, body(def.unflatten(vs) as T));
      if (!nextDef.equals(def)) {
        throw new TracerError(`${name}: the body returns ${String(nextDef)}, but the initial value is ${String(def)}`);
      }
      return next.map((x, i) => {
        const want = avals[i] as (typeof avals)[number];
        if (shapesEqual(x.shape, want.shape) && (x.dtype === want.dtype || x.weakType))
          return convert(x, want.dtype, false);
        throw new TracerError(
          `${name}: leaf ${i} comes in as ${fmtAval(want)} but the body returns ${fmtAval(x.aval)}; the value must keep its shape and dtype`,
        );
      });
    },
    avals,
  );
  const outs = bind("while", [...c.lifted, ...b.lifted, ...carry], {
    name,
    cond: c.closed,
    body: b.closed,
    condConsts: c.lifted.length,
    bodyConsts: b.lifted.length,
  });
  releaseUnstaged([c.closed, b.closed]);
  releaseMade(made);
  return def.unflatten(outs) as T;
}
