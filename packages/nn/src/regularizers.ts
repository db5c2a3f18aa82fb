/**
 * `nn.regularizers`: weight penalties and constraints, kept pure. A penalty is a function of a
 * weight, used per layer (`dense(100, { kernelRegularizer: l2(1e-4) })`, summed by
 * `model.penalty(params)`) or over a whole params pytree with a path filter (`penalty(params,
 * l2(1e-4))`, kernels only by default). A constraint is a projection, used per layer
 * (`kernelConstraint: maxNorm(2)`, applied by `model.constraints()`) or over a pytree as an
 * optax transform (`constrain(maxNorm(2))`), chained after the optimiser.
 */
import { type Array, type Axis, np, type PyTree, tree } from "@webjax/core";
import type { GradientTransformation } from "@webjax/optax";
import { type Constraint, projection, type Regularizer } from "./module.js";

export type { Constraint, Regularizer };

/** Which leaves a pytree-wide penalty or constraint touches, by path (`dense_0/kernel`). */
export type PathFilter = (path: string, leaf: Array) => boolean;

/** The default filter: leaves named `kernel` (weights, not biases or batch-norm parameters). */
export const kernelsOnly: PathFilter = (path) => path === "kernel" || path.endsWith("/kernel");

/** L1: rate · Σ|w| (Keras' `L1`, default rate 0.01). */
export function l1(rate = 0.01): Regularizer {
  return (w) => np.abs(w).sum().mul(rate);
}

/** L2: rate · Σw² (Keras' `L2`, default rate 0.01; no ½). */
export function l2(rate = 0.01): Regularizer {
  return (w) => np.square(w).sum().mul(rate);
}

/** L1 + L2: l1 · Σ|w| + l2 · Σw² (Keras' `L1L2`). */
export function l1l2({ l1: a = 0.01, l2: b = 0.01 }: { l1?: number; l2?: number } = {}): Regularizer {
  return (w) => np.abs(w).sum().mul(a).add(np.square(w).sum().mul(b));
}

/** The sum of `reg` over the leaves of `params` that `filter` accepts (default: kernels). */
export function penalty(params: PyTree, reg: Regularizer, opts: { filter?: PathFilter } = {}): Array {
  const filter = opts.filter ?? kernelsOnly;
  let total = np.zeros([]);
  for (const [path, leaf] of tree.leavesWithPath(params)) {
    if (filter(path, leaf as Array)) total = total.add(reg(leaf as Array));
  }
  return total;
}

/**
 * Max-norm (Srebro et al. 2005; Keras' `MaxNorm`): rescales each slice along `axis` (default 0,
 * the input axis of a dense kernel [in, out], so each unit's incoming weights) whose L2 norm
 * exceeds `maxValue`: w · min(‖w‖, maxValue) / (ε + ‖w‖), ε = 1e-7.
 */
export function maxNorm(maxValue = 2, { axis = 0 }: { axis?: Axis } = {}): Constraint {
  return (w) => {
    const norms = np.sqrt(np.square(w).sum(axis, { keepdims: true }));
    return w.mul(np.clip(norms, 0, maxValue).div(norms.add(1e-7)));
  };
}

/** Unit norm along `axis` (Keras' `UnitNorm`): w / (ε + ‖w‖). */
export function unitNorm({ axis = 0 }: { axis?: Axis } = {}): Constraint {
  return (w) => w.div(np.sqrt(np.square(w).sum(axis, { keepdims: true })).add(1e-7));
}

/** Non-negative weights (Keras' `NonNeg`): max(w, 0). */
export function nonNeg(): Constraint {
  return (w) => np.maximum(w, 0);
}

/**
 * A constraint over a params pytree as an optax transform: each update u of a leaf the filter
 * accepts (default: kernels) becomes c(p + u) − p, so after `applyUpdates` the leaf is c(p + u).
 * Chain it last: `chain(adam(1e-3), constrain(maxNorm(2)))`.
 */
export function constrain(c: Constraint, opts: { filter?: PathFilter } = {}): GradientTransformation<null> {
  const filter = opts.filter ?? kernelsOnly;
  return projection("constrain", (path, p) => (filter(path, p) ? c : undefined));
}
