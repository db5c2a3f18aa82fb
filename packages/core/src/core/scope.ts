import { Array } from "../array.js";

/**
 * Internal ownership scopes. A numpy-level function is a composition of primitives; every
 * array it creates but does not return (promoted operands, broadcast views, scalars, partial
 * results) is released when it returns, so composed functions never leak to the GC.
 *
 * Inside a transform (DESIGN, memory rule 1) nothing is released early: every array created
 * while the transform runs belongs to it (a traced value may hold any of them, and a residual of
 * a nested vjp may need them later) and is released when the outermost transform returns, except
 * its outputs. Residuals that outlive the transform (a vjpFn's) hold their own references.
 * Scopes are synchronous and internal: users never wrap anything.
 */
let current: Array[] | null = null;
let transformDepth = 0;

/** Called for every concrete array created. */
export function noteCreated(x: Array): void {
  current?.push(x);
}

/** Runs `f` with array creation unrecorded (for arrays that own themselves, e.g. retained residuals). */
export function untracked<T>(f: () => T): T {
  const outer = current;
  current = null;
  try {
    return f();
  } finally {
    current = outer;
  }
}

function collect(value: unknown, into: Set<Array>): void {
  if (value instanceof Array) into.add(value);
  else if (globalThis.Array.isArray(value)) for (const v of value) collect(v, into);
  else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collect(v, into);
}

function release(mine: readonly Array[], keep: ReadonlySet<Array>, outer: Array[] | null): void {
  for (const x of mine) {
    if (keep.has(x)) outer?.push(x);
    else x.dispose();
  }
}

/** Runs `f`, then disposes the arrays it created that are not part of its result (arrays in lists and plain objects). */
export function scoped<T>(f: () => T): T {
  if (transformDepth > 0) return f();
  const outer = current;
  const mine: Array[] = [];
  current = mine;
  let result: T;
  try {
    result = f();
  } catch (e) {
    current = outer;
    for (const x of mine) x.dispose();
    throw e;
  }
  current = outer;
  const keep = new Set<Array>();
  collect(result, keep);
  release(mine, keep, outer);
  return result;
}

/**
 * The ownership scope of a transform. The outermost one releases, when `f` returns (or throws),
 * every array created inside except those `outputs(result)` lists; nested ones defer to it.
 */
export function transformScope<T>(f: () => T, outputs: (result: T) => readonly Array[]): T {
  if (transformDepth > 0) {
    transformDepth++;
    try {
      return f();
    } finally {
      transformDepth--;
    }
  }
  const outer = current;
  const mine: Array[] = [];
  current = mine;
  transformDepth++;
  let result: T;
  try {
    result = f();
  } catch (e) {
    current = outer;
    transformDepth--;
    for (const x of mine) x.dispose();
    throw e;
  }
  current = outer;
  transformDepth--;
  release(mine, new Set(outputs(result)), outer);
  return result;
}
