/**
 * Gradient clipping (Pascanu et al. 2013, "On the difficulty of training recurrent neural
 * networks"): by value (Keras' `clipvalue`), by the global norm over all leaves (Keras'
 * `global_clipnorm`), by each leaf's norm (Keras' `clipnorm`).
 */
import { type Array, np, tree, WebjaxError } from "@webjax/core";
import { castLike, type GradientTransformation, treeMap, type Updates } from "./base.js";

/** √(Σ over leaves of Σ x²) (optax.global_norm). */
export function globalNorm(updates: Updates): Array {
  const leaves = tree.leaves(updates) as Array[];
  if (leaves.length === 0) return np.zeros([]);
  return np.sqrt(leaves.map((x) => x.square().sum()).reduce((a, b) => a.add(b)));
}

/** Each update clipped to [−maxDelta, maxDelta] (optax.clip). */
export function clip(maxDelta: number): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state) => [treeMap((g) => np.clip(g, -maxDelta, maxDelta), updates), state],
  };
}

/**
 * The updates scaled by maxNorm / ‖g‖ when their global norm ‖g‖ exceeds maxNorm (optax.
 * clip_by_global_norm): the direction is kept, the step bounded.
 */
export function clipByGlobalNorm(maxNorm: number): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state) => {
      const norm = globalNorm(updates);
      const small = norm.less(maxNorm);
      return [
        treeMap((g) => np.where(small, g, castLike(g.div(norm.astype(g.dtype)).mul(maxNorm), g)), updates),
        state,
      ];
    },
  };
}

/** Each leaf scaled by maxNorm / ‖leaf‖ where its own norm exceeds maxNorm (Keras' `clipnorm`). */
export function clipByLeafNorm(maxNorm: number): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state) => [
      treeMap((g) => {
        const n = np.sqrt(g.square().sum());
        return np.where(n.less(maxNorm), g, g.div(n).mul(maxNorm));
      }, updates),
      state,
    ],
  };
}

/** Each leaf divided by max(1, rms(leaf)/threshold) (optax.clip_by_block_rms). */
export function clipByBlockRms(threshold: number): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state) => [
      treeMap((g) => g.div(np.maximum(1, np.sqrt(g.square().mean()).div(threshold))), updates),
      state,
    ],
  };
}

/**
 * The norm of each unit (optax.unitwise_norm): over `axis` if given, else the whole array for
 * scalars and vectors, the input dim for [in, out] (and [heads, in, out]) kernels, the spatial
 * and input dims for conv kernels (HWIO, DHWIO); broadcast back to x's shape.
 */
export function unitwiseNorm(x: Array, axis?: number | number[]): Array {
  let sq: Array;
  const squeezedRank = x.shape.filter((d) => d !== 1).length;
  if (axis !== undefined) sq = np.sum(x.square(), { axis, keepdims: true });
  else if (squeezedRank <= 1) sq = np.sum(x.square(), { keepdims: true });
  else if (x.ndim === 2 || x.ndim === 3) sq = np.sum(x.square(), { axis: 0, keepdims: true });
  else if (x.ndim === 4) sq = np.sum(x.square(), { axis: [0, 1, 2], keepdims: true });
  else if (x.ndim === 5) sq = np.sum(x.square(), { axis: [0, 1, 2, 3], keepdims: true });
  else {
    throw new WebjaxError(
      `unitwiseNorm: expected a parameter of rank 1 to 5, got shape [${x.shape}]; pass axis for other shapes`,
    );
  }
  return np.broadcastTo(np.sqrt(sq), x.shape);
}

/**
 * Adaptive gradient clipping (Brock et al. 2021, NFNets; optax.adaptive_grad_clip): each unit's
 * gradient is clipped to norm clipping·max(‖θ_unit‖, ε).
 */
export function adaptiveGradClip(
  clipping: number,
  opts: { eps?: number; axis?: number | number[] } = {},
): GradientTransformation<null> {
  const eps = opts.eps ?? 1e-3;
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined) throw new WebjaxError("adaptiveGradClip: update needs the params (its third argument)");
      const out = treeMap(
        (g, p) => {
          const gn = unitwiseNorm(g, opts.axis);
          const maxNorm = np.maximum(unitwiseNorm(p, opts.axis), eps).mul(clipping);
          return np.where(gn.less(maxNorm), g, g.mul(maxNorm.div(np.maximum(gn, 1e-6))));
        },
        updates,
        params,
      );
      return [out as typeof updates, state];
    },
  };
}

/**
 * DP-SGD's per-example clipping (Abadi et al. 2016; optax.per_example_global_norm_clip): `grads`
 * carry a leading batch dim (per-example gradients, e.g. from vmap(grad)); each example's
 * gradient is scaled to global norm ≤ l2NormClip, and the clipped ones are summed. Returns the sum
 * and the number of examples clipped.
 */
export function perExampleGlobalNormClip(grads: Updates, l2NormClip: number): [Updates, Array] {
  const leaves = tree.leaves(grads) as Array[];
  if (leaves.length === 0 || leaves.some((x) => x.ndim === 0 || x.shape[0] !== leaves[0]?.shape[0])) {
    throw new WebjaxError("perExampleGlobalNormClip: every leaf needs the same batch dimension in axis 0");
  }
  const norms = np.sqrt(
    leaves.map((x) => np.sum(x.square().reshape([x.shape[0] as number, -1]), { axis: 1 })).reduce((a, b) => a.add(b)),
  );
  const mult = np.nanToNum(np.minimum(np.divide(l2NormClip, norms), 1), { nan: 1 });
  const clipped = treeMap((g) => np.tensordot(mult, g, 1), grads);
  return [clipped, mult.less(1).astype("int32").sum()];
}
