/**
 * @webjax/core with every `np`, `lax` and `random` function run through `jit`: the
 * `core-cpu-jit` and `webgpu-jit` projects alias `@webjax/core` to this module, so the core op
 * tests run a second time, each call staged and executed as a compiled program (its array
 * arguments traced, every other argument static), against the same expected values.
 *
 * A call that cannot be staged (a data-dependent output shape, a value read to the host, a
 * non-array result) raises a TracerError under jit; it then runs eagerly, and only for the
 * functions in JIT_EAGER_ONLY (as in JAX, which cannot jit them either). Any other function that
 * fails under jit but not eagerly fails the test with the jit error.
 */
import * as core from "@webjax/core";
import { ConcreteArray } from "@webjax/core/internal";

export * from "@webjax/core";

/**
 * Functions whose result shape depends on the values (without `size`): jit cannot stage them,
 * and they run eagerly here.
 */
export const JIT_EAGER_ONLY = new Set<string>([
  "np.nonzero",
  "np.argwhere",
  "np.flatnonzero",
  "np.unique",
  "np.uniqueValues",
  "np.uniqueCounts",
  "np.uniqueInverse",
  "np.uniqueAll",
  "np.extract",
  // np.where(cond) with one argument is np.nonzero
  "np.where",
]);

/** Functions that fell back to eager under jit, with a count (a test may inspect it). */
export const jitFallbacks = new Map<string, number>();

const isArray = (x: unknown): x is core.Array => x instanceof core.Array;

const wrappedOf = new Map<unknown, unknown>();

function wrap(name: string, fn: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  // Aliases stay aliases (np.variance === np.var).
  const known = wrappedOf.get(fn);
  if (known) return known as (...args: unknown[]) => unknown;
  const wrapped = (...args: unknown[]): unknown => {
    // Array arguments, top level or inside a list argument (np.concatenate([a, b])), are traced.
    const where: [number, number][] = [];
    const arrays: core.Array[] = [];
    args.forEach((a, i) => {
      if (isArray(a)) {
        where.push([i, -1]);
        arrays.push(a);
      } else if (globalThis.Array.isArray(a)) {
        a.forEach((e, j) => {
          if (isArray(e)) {
            where.push([i, j]);
            arrays.push(e);
          }
        });
      }
    });
    // Under a user's transform (tracers) the call binds into that trace as it would eagerly.
    if (arrays.some((x) => !(x instanceof ConcreteArray))) return fn(...args);
    const staged = (...xs: core.Array[]) => {
      const full = args.map((a) => (globalThis.Array.isArray(a) ? a.slice() : a));
      where.forEach(([i, j], k) => {
        if (j < 0) full[i] = xs[k];
        else (full[i] as unknown[])[j] = xs[k];
      });
      return fn(...full);
    };
    Object.defineProperty(staged, "name", { value: name });
    const jf = core.jit(staged as (...xs: core.Array[]) => core.Array);
    try {
      return jf(...arrays);
    } catch (e) {
      // The same call eagerly: an error there is the op's own (thrown as eager code throws it,
      // so tests of messages see the op's words); success there means jit could not stage it.
      let eager: unknown;
      try {
        eager = fn(...args);
      } catch (eagerError) {
        if (JIT_EAGER_ONLY.has(name)) throw eagerError;
        if (!(e instanceof Error && eagerError instanceof Error && e.message.includes(eagerError.message))) {
          throw new Error(
            `${name}: under jit the error was ${String(e)}, eagerly ${String(eagerError)} (they should agree)`,
          );
        }
        throw eagerError;
      }
      if (!(e instanceof core.TracerError) || !JIT_EAGER_ONLY.has(name)) throw e;
      jitFallbacks.set(name, (jitFallbacks.get(name) ?? 0) + 1);
      return eager;
    } finally {
      // The program's consts and literal scalars go now, not at the next collection: tests
      // count live buffers. (Every output owns its buffer, so none is freed with them.)
      jf.clearCache();
    }
  };
  Object.defineProperty(wrapped, "name", { value: fn.name });
  wrappedOf.set(fn, wrapped);
  return wrapped;
}

/** A namespace with its functions wrapped (nested namespaces too; classes and constants as they are). */
function wrapNamespace<T extends object>(prefix: string, ns: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ns)) {
    if (typeof v === "function" && !/^[A-Z]/.test(k)) out[k] = wrap(`${prefix}.${k}`, v as never);
    else if (v !== null && typeof v === "object" && !(v instanceof core.Array) && !ArrayBuffer.isView(v))
      out[k] = wrapNamespace(`${prefix}.${k}`, v);
    else out[k] = v;
  }
  return out as T;
}

export const np = wrapNamespace("np", core.np);
export const lax = wrapNamespace("lax", core.lax);
export const random = wrapNamespace("random", core.random);
