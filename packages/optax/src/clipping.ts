/**
 * Gradient clipping (Pascanu et al. 2013, "On the difficulty of training recurrent neural
 * networks"): by value (Keras' `clipvalue`), by the global norm over all leaves (Keras'
 * `global_clipnorm`), by each leaf's norm (Keras' `clipnorm`).
 */
import { type Array, np, tree } from "@webjax/core";
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
