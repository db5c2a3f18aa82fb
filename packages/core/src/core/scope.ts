import { Array } from "../array.js";

/**
 * Internal ownership scopes. A numpy-level function is a composition of primitives; every
 * array it creates but does not return (promoted operands, broadcast views, scalars, partial
 * results) is released when it returns, so composed functions never leak to the GC.
 * Scopes are synchronous and internal: users never wrap anything.
 */
let current: Array[] | null = null;

/** Called for every concrete array created. */
export function noteCreated(x: Array): void {
  current?.push(x);
}

function collect(value: unknown, into: Set<Array>): void {
  if (value instanceof Array) into.add(value);
  else if (globalThis.Array.isArray(value)) for (const v of value) collect(v, into);
}

/** Runs `f`, then disposes the arrays it created that are not part of its result (an array or a list of them). */
export function scoped<T>(f: () => T): T {
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
  for (const x of mine) {
    if (keep.has(x)) outer?.push(x);
    else x.dispose();
  }
  return result;
}
