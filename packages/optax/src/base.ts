/**
 * optax's abstraction: a gradient transformation is a pair of pure functions, `init(params) →
 * state` and `update(updates, state, params?, extra?) → [updates, state]`, over pytrees of
 * arrays. States are pytrees of arrays (step counts as int32 scalars), so an update runs inside
 * `jit` and its state can be donated; nothing reads a value back to the host.
 */
import { Array, np, type PyTree, tree } from "@webjax/core";

/** Pytrees of arrays: params, gradients, updates. */
export type Params = PyTree;
export type Updates = PyTree;
/** A transformation's state: a pytree of arrays (and nulls); typed per transformation. */
export type OptState = unknown;

/** Values passed along with the updates (optax's extra args), e.g. `{ value: loss }` for reduceOnPlateau. */
export type Extra = Record<string, unknown>;

/** optax.GradientTransformation (with its extra-args form: `chain` forwards `extra` to every member). */
export interface GradientTransformation<S extends OptState = OptState> {
  init(params: Params): S;
  update<U extends Updates>(updates: U, state: S, params?: Params, extra?: Extra): [U, S];
}

/** A schedule: the step count (a JS number, or an int32 array under jit) → a value of the same kind. */
export type Schedule = (count: number | Array) => number | Array;
/** A hyperparameter given as a number or a schedule. */
export type ScalarOrSchedule = number | Schedule;

/**
 * A hyperparameter's value inside a transformation: a JS number, or a scalar array (what
 * injectHyperparams passes, so the value can change between jitted steps without a recompile).
 */
export type Hyper = number | Array;

/** `h` ready to meet `like`: a number stays (weak), an array takes like's dtype. */
export function hyper(h: Hyper, like: Array): number | Array {
  return typeof h === "number" ? h : h.dtype === like.dtype ? h : h.astype(like.dtype);
}

/** 1 − h (computed in float64 for a number). */
export function oneMinus(h: Hyper, like: Array): number | Array {
  return typeof h === "number" ? 1 - h : np.subtract(1, hyper(h, like));
}

/** A new int32 step counter at zero, on the backend of the params' first leaf. */
export function zeroCount(params?: Params): Array {
  const leaf = params === undefined ? undefined : (tree.leaves(params)[0] as unknown);
  const backend = leaf instanceof Array ? leaf.backendHint()?.name : undefined;
  return np.zeros([], backend ? { dtype: "int32", backend } : { dtype: "int32" });
}

/** count + 1, saturating at int32's maximum (optax's numerics.safe_increment). */
export function safeIncrement(count: Array): Array {
  return np.where(count.less(2147483647), count.add(1), count);
}

/** Maps `f` over matching leaves of `trees` (the first tree decides the structure). */
// biome-ignore lint/suspicious/noExplicitAny: pytree maps are untyped by nature.
export function treeMap(f: (...xs: Array[]) => Array, ...trees: any[]): any {
  return tree.map(f as (...xs: unknown[]) => unknown, trees[0], ...trees.slice(1));
}

/** The updates (any pytree of arrays) with each leaf cast back to the given leaf's dtype. */
export function castLike(x: Array, like: Array): Array {
  return x.dtype === like.dtype ? x : x.astype(like.dtype);
}

/** The identity transformation: no state, updates unchanged. */
export function identity(): GradientTransformation<null> {
  return { init: () => null, update: (updates, state) => [updates, state] };
}

/** Every update becomes zero (with `masked`, a freeze). */
export function setToZero(): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state) => [treeMap((u) => np.zerosLike(u), updates), state],
  };
}

/** A stateless transformation from `f(updates, params) → updates`. */
export function stateless(f: (updates: Updates, params?: Params) => Updates): GradientTransformation<null> {
  return { init: () => null, update: (updates, state, params) => [f(updates, params) as typeof updates, state] };
}

/** A stateless transformation applying `f(update, param)` to every leaf. */
export function statelessWithTreeMap(f: (update: Array, param?: Array) => Array): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state, params) => [
      (params === undefined
        ? treeMap((u) => f(u), updates)
        : treeMap((u, p) => f(u, p), updates, params)) as typeof updates,
      state,
    ],
  };
}

/**
 * The transformations applied in sequence (optax.chain); the state is the list of their states,
 * and `extra` reaches every one of them.
 */
export function chain(...txs: GradientTransformation[]): GradientTransformation<OptState[]> {
  return {
    init: (params) => txs.map((t) => t.init(params)),
    update: (updates, state, params, extra) => {
      let u = updates;
      const next = txs.map((t, i) => {
        const [nu, s] = t.update(u, (state as OptState[])[i] as OptState, params, extra);
        u = nu;
        return s;
      });
      return [u, next];
    },
  };
}

/** optax.named_chain: like chain, the state an object keyed by the given names. */
export function namedChain(
  ...named: [string, GradientTransformation][]
): GradientTransformation<Record<string, OptState>> {
  return {
    init: (params) => Object.fromEntries(named.map(([n, t]) => [n, t.init(params)])),
    update: (updates, state, params, extra) => {
      let u = updates;
      const next: Record<string, OptState> = {};
      for (const [n, t] of named) {
        const [nu, s] = t.update(u, (state as Record<string, OptState>)[n] as OptState, params, extra);
        u = nu;
        next[n] = s;
      }
      return [u, next];
    },
  };
}

/** params + updates, each result in its param's dtype (optax.apply_updates). */
export function applyUpdates<P extends Params>(params: P, updates: Updates): P {
  return treeMap((p, u) => castLike(p.add(u), p), params, updates) as P;
}
