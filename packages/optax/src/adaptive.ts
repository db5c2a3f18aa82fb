/**
 * More of optax's adaptive scalings and their aliases: AMSGrad, Lion, AdaDelta, AdaBelief, Yogi
 * and RAdam. Formulas and defaults are optax 0.2.8's (t is the step, 1 at the first update).
 */
import { type Array, np } from "@webjax/core";
import type { LearningRate } from "./aliases.js";
import {
  castLike,
  chain,
  type GradientTransformation,
  type Hyper,
  hyper,
  identity,
  type OptState,
  oneMinus,
  safeIncrement,
  treeMap,
  zeroCount,
} from "./base.js";
import type { Mask } from "./masking.js";
import { addDecayedWeights, type ScaleByAdamState, scaleByLearningRate } from "./transforms.js";

const zeros = (params: unknown) => treeMap((p) => np.zerosLike(p), params);
const moment1 = (g: Array, m: Array, d: Hyper) => g.mul(oneMinus(d, g)).add(m.mul(hyper(d, m)));
const moment2 = (g: Array, v: Array, d: Hyper) =>
  g
    .square()
    .mul(oneMinus(d, g))
    .add(v.mul(hyper(d, v)));
const correct = (m: Array, d: Hyper, count: Array) =>
  m.div(np.subtract(1, np.power(hyper(d, m), count.astype(m.dtype))));
/** Dozat's Nesterov first moment: b1·m/(1−b1^(t+1)) + (1−b1)·g/(1−b1^t). */
const nesterovMu = (m: Array, g: Array, b1: Hyper, count: Array) =>
  correct(m, b1, safeIncrement(count))
    .mul(hyper(b1, m))
    .add(correct(g, b1, count).mul(oneMinus(b1, g)));

/** State of AMSGrad: Adam's, plus the running maximum of the (corrected) second moment. */
export interface ScaleByAmsgradState extends ScaleByAdamState {
  readonly nuMax: OptState;
}

/**
 * AMSGrad (Reddi et al. 2018; optax.scale_by_amsgrad): Adam's moments, with the denominator
 * using v_max ← max(v_max, v̂), so the effective step never grows.
 */
export function scaleByAmsgrad(
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper } = {},
): GradientTransformation<ScaleByAmsgradState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0 } = opts;
  return {
    init: (params) => ({ count: zeroCount(params), mu: zeros(params), nu: zeros(params), nuMax: zeros(params) }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment1(g, m, b1), updates, state.mu);
      const nu = treeMap((g, v) => moment2(g, v, b2), updates, state.nu);
      const count = safeIncrement(state.count);
      const nuMax = treeMap((x, v) => np.maximum(x, correct(v, b2, count)), state.nuMax, nu);
      const out = treeMap(
        (m, v, g) => castLike(correct(m, b1, count).div(np.sqrt(v.add(hyper(epsRoot, v))).add(hyper(eps, v))), g),
        mu,
        nuMax,
        updates,
      );
      return [out, { count, mu, nu, nuMax }];
    },
  };
}

/** AMSGrad (optax.amsgrad). */
export function amsgrad(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper } = {},
) {
  return chain(scaleByAmsgrad(opts), scaleByLearningRate(learningRate));
}

/** State of Lion: the step count and the momentum. */
export interface ScaleByLionState {
  readonly count: Array;
  readonly mu: OptState;
}

/**
 * Lion (Chen et al. 2023, "Symbolic discovery of optimization algorithms"; optax.scale_by_lion):
 * update sign((1−b1)·g + b1·m), then m ← (1−b2)·g + b2·m.
 */
export function scaleByLion(opts: { b1?: Hyper; b2?: Hyper } = {}): GradientTransformation<ScaleByLionState> {
  const { b1 = 0.9, b2 = 0.99 } = opts;
  return {
    init: (params) => ({ count: zeroCount(params), mu: zeros(params) }),
    update: (updates, state) => {
      const out = treeMap((g, m) => np.sign(moment1(g, m, b1)), updates, state.mu);
      const mu = treeMap((g, m) => moment1(g, m, b2), updates, state.mu);
      return [out, { count: safeIncrement(state.count), mu }];
    },
  };
}

/** Lion with decoupled weight decay (optax.lion; default λ = 1e-3). */
export function lion(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; weightDecay?: Hyper; mask?: Mask } = {},
) {
  return chain(
    scaleByLion(opts),
    addDecayedWeights(opts.weightDecay ?? 1e-3, opts.mask === undefined ? {} : { mask: opts.mask }),
    scaleByLearningRate(learningRate),
  );
}

/** State of AdaDelta: running averages of squared gradients and of squared updates. */
export interface ScaleByAdadeltaState {
  readonly eG: OptState;
  readonly eX: OptState;
}

/**
 * AdaDelta (Zeiler 2012; optax.scale_by_adadelta): E[g²] ← ρ·E[g²] + (1−ρ)·g²,
 * Δ = √(E[Δ²] + ε)/√(E[g²] + ε) · g, E[Δ²] ← ρ·E[Δ²] + (1−ρ)·Δ².
 */
export function scaleByAdadelta(opts: { rho?: Hyper; eps?: Hyper } = {}): GradientTransformation<ScaleByAdadeltaState> {
  const { rho = 0.9, eps = 1e-6 } = opts;
  return {
    init: (params) => ({ eG: zeros(params), eX: zeros(params) }),
    update: (updates, state) => {
      const eG = treeMap((g, e) => moment2(g, e, rho), updates, state.eG);
      const out = treeMap(
        (g, e, x) =>
          np
            .sqrt(x.add(hyper(eps, x)))
            .div(np.sqrt(e.add(hyper(eps, e))))
            .mul(g),
        updates,
        eG,
        state.eX,
      );
      const eX = treeMap((d, x) => moment2(d, x, rho), out, state.eX);
      return [out, { eG, eX }];
    },
  };
}

/** AdaDelta (optax.adadelta): weight decay first, then the scaling; no learning rate by default. */
export function adadelta(
  learningRate?: LearningRate,
  opts: { rho?: Hyper; eps?: Hyper; weightDecay?: Hyper; weightDecayMask?: Mask } = {},
) {
  return chain(
    addDecayedWeights(opts.weightDecay ?? 0, opts.weightDecayMask === undefined ? {} : { mask: opts.weightDecayMask }),
    scaleByAdadelta(opts),
    learningRate === undefined ? identity() : scaleByLearningRate(learningRate),
  );
}

export interface BeliefOptions {
  b1?: Hyper;
  b2?: Hyper;
  eps?: Hyper;
  epsRoot?: Hyper;
  nesterov?: boolean;
}

/**
 * AdaBelief (Zhuang et al. 2020; optax.scale_by_belief): Adam with the second moment of the
 * prediction error s ← b2·s + (1−b2)·(g − m)² + εroot, update m̂/(√ŝ + ε).
 */
export function scaleByBelief(opts: BeliefOptions = {}): GradientTransformation<ScaleByAdamState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-16, epsRoot = 1e-16, nesterov = false } = opts;
  return {
    init: (params) => ({ count: zeroCount(params), mu: zeros(params), nu: zeros(params) }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment1(g, m, b1), updates, state.mu);
      const nu = treeMap((g, m, v) => moment2(g.sub(m), v, b2).add(hyper(epsRoot, v)), updates, mu, state.nu);
      const count = safeIncrement(state.count);
      const out = treeMap(
        (m, v, g) => {
          const mh = nesterov ? nesterovMu(m, g, b1, count) : correct(m, b1, count);
          return castLike(mh.div(np.sqrt(correct(v, b2, count)).add(hyper(eps, v))), g);
        },
        mu,
        nu,
        updates,
      );
      return [out, { count, mu, nu }];
    },
  };
}

/** AdaBelief (optax.adabelief). */
export function adabelief(learningRate: LearningRate, opts: BeliefOptions = {}) {
  return chain(scaleByBelief(opts), scaleByLearningRate(learningRate));
}

/**
 * Yogi (Zaheer et al. 2018; optax.scale_by_yogi): Adam with the additive second-moment update
 * v ← v − (1−b2)·sign(v − g²)·g²; moments start at `initialAccumulatorValue`; ε = 1e-3.
 */
export function scaleByYogi(
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper; initialAccumulatorValue?: number } = {},
): GradientTransformation<ScaleByAdamState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-3, epsRoot = 0 } = opts;
  const init = opts.initialAccumulatorValue ?? 1e-6;
  return {
    init: (params) => ({
      count: zeroCount(params),
      mu: treeMap((p) => np.fullLike(p, init), params),
      nu: treeMap((p) => np.fullLike(p, init), params),
    }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment1(g, m, b1), updates, state.mu);
      const nu = treeMap(
        (g, v) => {
          const g2 = g.square();
          return v.sub(np.sign(v.sub(g2)).mul(g2).mul(oneMinus(b2, v)));
        },
        updates,
        state.nu,
      );
      const count = safeIncrement(state.count);
      const out = treeMap(
        (m, v, g) =>
          castLike(
            correct(m, b1, count).div(np.sqrt(correct(v, b2, count).add(hyper(epsRoot, v))).add(hyper(eps, v))),
            g,
          ),
        mu,
        nu,
        updates,
      );
      return [out, { count, mu, nu }];
    },
  };
}

/** Yogi (optax.yogi). */
export function yogi(learningRate: LearningRate, opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper } = {}) {
  return chain(scaleByYogi(opts), scaleByLearningRate(learningRate));
}

export interface RadamOptions {
  b1?: Hyper;
  b2?: number;
  eps?: Hyper;
  epsRoot?: Hyper;
  /** The SMA length ρ_t from which the adaptive step is used (default 5). */
  threshold?: number;
  nesterov?: boolean;
}

/**
 * Rectified Adam (Liu et al. 2020; optax.scale_by_radam): with ρ∞ = 2/(1−b2) − 1 and
 * ρ_t = ρ∞ − 2t·b2^t/(1−b2^t), the update is r_t·m̂/(√(v̂ + εroot) + ε) where ρ_t ≥ threshold,
 * r_t = √((ρ_t−4)(ρ_t−2)ρ∞ / ((ρ∞−4)(ρ∞−2)ρ_t)), and plain momentum m̂ before.
 */
export function scaleByRadam(opts: RadamOptions = {}): GradientTransformation<ScaleByAdamState> {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, threshold = 5, nesterov = false } = opts;
  const roInf = 2 / (1 - b2) - 1;
  return {
    init: (params) => ({ count: zeroCount(params), mu: zeros(params), nu: zeros(params) }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment1(g, m, b1), updates, state.mu);
      const nu = treeMap((g, v) => moment2(g, v, b2), updates, state.nu);
      const count = safeIncrement(state.count);
      const t = count.astype("float32");
      const b2t = np.power(b2, t);
      const ro = np.subtract(roInf, t.mul(2).mul(b2t).div(np.subtract(1, b2t)));
      const r = np.sqrt(
        ro
          .sub(4)
          .mul(ro.sub(2))
          .mul(roInf)
          .div(ro.mul((roInf - 4) * (roInf - 2))),
      );
      const out = treeMap(
        (m, v, g) => {
          const mh = nesterov ? nesterovMu(m, g, b1, count) : correct(m, b1, count);
          const adaptive = r
            .astype(mh.dtype)
            .mul(mh)
            .div(np.sqrt(correct(v, b2, count).add(hyper(epsRoot, v))).add(hyper(eps, v)));
          return castLike(np.where(ro.greaterEqual(threshold), adaptive, mh), g);
        },
        mu,
        nu,
        updates,
      );
      return [out, { count, mu, nu }];
    },
  };
}

/** RAdam (optax.radam). */
export function radam(learningRate: LearningRate, opts: RadamOptions = {}) {
  return chain(scaleByRadam(opts), scaleByLearningRate(learningRate));
}
