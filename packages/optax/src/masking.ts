/**
 * Applying transformations to parts of the params: `masked` (optax's semantics: masked-out
 * updates pass through unchanged), `freeze` and `multiTransform` (transfer learning's "train
 * these layers, freeze those" in one line; frozen params stay bit-identical).
 */
import { type PyTree, tree, WebjaxError } from "@webjax/core";
import type { GradientTransformation, OptState, Params, Updates } from "./base.js";
import { setToZero } from "./base.js";

/** A mask: a pytree of booleans matching the params (or a prefix of them), or a function of the params giving one. */
export type Mask = PyTree | ((params: never) => PyTree);

/** One boolean per leaf of `params`: a prefix mask's boolean covers its whole subtree. */
function fullMask(op: string, mask: Mask, params: Params): boolean[] {
  const m = typeof mask === "function" ? (mask as (p: Params) => PyTree)(params) : mask;
  const [flags, def] = tree.flatten(m);
  for (const f of flags) {
    if (typeof f !== "boolean") throw new WebjaxError(`${op}: a mask's leaves must be booleans, got ${typeof f}`);
  }
  return def.flattenUpTo(params).flatMap((sub, i) => tree.leaves(sub).map(() => flags[i] as boolean));
}

/** `t` with the leaves where `keep` is false replaced by empty nodes (optax's MaskedNode). */
function maskTree<T>(t: T, keep: readonly boolean[]): T {
  const [leaves, def] = tree.flatten(t);
  return def.unflatten(leaves.map((x, i) => (keep[i] ? x : null))) as T;
}

/** State of masked: the inner transformation's state over the masked-in params. */
export interface MaskedState {
  readonly innerState: OptState;
}

/**
 * `inner` applied only where `mask` is true (optax.masked); the other updates pass through
 * unchanged (so masking a transformation does not freeze anything by itself: see `freeze`).
 * The inner state covers only the masked-in params.
 */
export function masked(inner: GradientTransformation, mask: Mask): GradientTransformation<MaskedState> {
  return {
    init: (params) => ({ innerState: inner.init(maskTree(params, fullMask("masked", mask, params))) }),
    update: (updates, state, params, extra) => {
      const keep = fullMask("masked", mask, params ?? updates);
      const [newMasked, innerState] = inner.update(
        maskTree(updates, keep),
        state.innerState,
        params === undefined ? undefined : maskTree(params, keep),
        extra,
      );
      const fresh = tree.leaves(newMasked as PyTree);
      const [old, def] = tree.flatten(updates);
      let k = 0;
      const merged = old.map((u, i) => (keep[i] ? fresh[k++] : u));
      return [def.unflatten(merged) as typeof updates, { innerState }];
    },
  };
}

/** Zero updates where `mask` is true (optax.freeze = masked(setToZero(), mask)): those params never change. */
export function freeze(mask: Mask): GradientTransformation<MaskedState> {
  return masked(setToZero(), mask);
}

/** State of multiTransform: each label's inner state. */
export interface MultiTransformState {
  readonly innerStates: Record<string, MaskedState>;
}

/**
 * A transformation per label (optax.multi_transform / partition): `labels` is a pytree of label
 * strings matching the params (or a prefix, or a function of the params giving one); each
 * label's transformation sees only its params. Every label used must have a transformation.
 * Transfer learning: `multiTransform({ train: adam(1e-3), frozen: setToZero() }, labels)`.
 */
export function multiTransform(
  transforms: Record<string, GradientTransformation>,
  labels: PyTree | ((params: never) => PyTree),
): GradientTransformation<MultiTransformState> {
  const names = Object.keys(transforms);
  const labelsOf = (params: Params): string[] => {
    const l = typeof labels === "function" ? (labels as (p: Params) => PyTree)(params) : labels;
    const [flat, def] = tree.flatten(l);
    const perLeaf = def.flattenUpTo(params).flatMap((sub, i) => tree.leaves(sub).map(() => flat[i]));
    for (const x of perLeaf) {
      if (typeof x !== "string" || !(x in transforms)) {
        throw new WebjaxError(
          `multiTransform: the label ${JSON.stringify(x)} has no transformation; the transformations are ${names.map((n) => JSON.stringify(n)).join(", ")}`,
        );
      }
    }
    return perLeaf as string[];
  };
  const parts = (params: Params) => {
    const per = labelsOf(params);
    return names.map(
      (n) => [n, masked(transforms[n] as GradientTransformation, () => maskFor(params, per, n))] as const,
    );
  };
  const maskFor = (params: Params, per: readonly string[], n: string) => {
    const [leaves, def] = tree.flatten(params);
    return def.unflatten(leaves.map((_, i) => per[i] === n)) as PyTree;
  };
  return {
    init: (params) => ({
      innerStates: Object.fromEntries(parts(params).map(([n, t]) => [n, t.init(params)])),
    }),
    update: (updates, state, params, extra) => {
      let u: Updates = updates;
      const innerStates: Record<string, MaskedState> = {};
      for (const [n, t] of parts(params ?? updates)) {
        const [nu, s] = t.update(u, state.innerStates[n] as MaskedState, params, extra);
        u = nu;
        innerStates[n] = s;
      }
      return [u as typeof updates, { innerStates }];
    },
  };
}

/** optax.partition: multiTransform's other name. */
export const partition = multiTransform;
