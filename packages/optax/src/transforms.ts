/**
 * optax's building blocks: scaling, momentum and the adaptive scalings (Adam, AdaMax, RMS,
 * centred RMS, AdaGrad), weight decay. Names, defaults and formulas follow optax 0.2.8; g is
 * the incoming update, t the step (1 at the first update).
 */
import { Array, np, WebjaxError } from "@webjax/core";
import {
  castLike,
  type GradientTransformation,
  type Hyper,
  hyper,
  type OptState,
  oneMinus,
  type ScalarOrSchedule,
  type Schedule,
  safeIncrement,
  treeMap,
  zeroCount,
} from "./base.js";
import { type Mask, masked } from "./masking.js";

/** The schedule's value at `count` as an array of `dtype`'s kind (a JS number stays weak). */
function valueAt(s: Schedule, count: Array): Array {
  const v = s(count);
  return typeof v === "number" ? np.array(v) : v;
}

/** m · (1 − decay) … the moment update (1 − decay)·g^order + decay·m (optax.tree.update_moment[_per_elem_norm]). */
function moment(g: Array, m: Array, decay: Hyper, order: 1 | 2): Array {
  const gp = order === 1 ? g : g.square();
  return gp.mul(oneMinus(decay, g)).add(m.mul(hyper(decay, m)));
}

/** moment / (1 − decay^t) (optax.tree.bias_correction), t an int32 count. */
function biasCorrection(m: Array, decay: Hyper, count: Array): Array {
  const t = count.astype(m.dtype);
  return m.div(np.subtract(1, np.power(hyper(decay, m), t)));
}

/** updates · step (optax.scale). */
export function scale(step: Hyper): GradientTransformation<null> {
  return { init: () => null, update: (updates, state) => [treeMap((g) => g.mul(hyper(step, g)), updates), state] };
}

/** State of transformations that only count steps. */
export interface CountState {
  readonly count: Array;
}

/** updates · schedule(t − 1): the step size from a schedule of the step count (optax.scale_by_schedule). */
export function scaleBySchedule(stepSize: Schedule): GradientTransformation<CountState> {
  return {
    init: (params) => ({ count: zeroCount(params) }),
    update: (updates, state) => {
      const s = valueAt(stepSize, state.count);
      return [treeMap((g) => g.mul(s.astype(g.dtype)), updates), { count: safeIncrement(state.count) }];
    },
  };
}

/**
 * −learningRate · updates (optax.scale_by_learning_rate; `flipSign: false` keeps the sign): the
 * last link of every alias, turning a direction into a descent step.
 */
export function scaleByLearningRate(
  learningRate: ScalarOrSchedule | Array,
  opts: { flipSign?: boolean } = {},
): GradientTransformation<CountState | null> {
  if (!(typeof learningRate === "number" || typeof learningRate === "function" || learningRate instanceof Array)) {
    throw new WebjaxError(
      `scaleByLearningRate: the learning rate must be a number, a schedule or a scalar array, got ${learningRate === undefined ? "nothing" : typeof learningRate}` +
        " (an alias needs its learning rate: adam(1e-3); with injectHyperparams, build the optimiser from the hyperparameters: injectHyperparams((h) => adam(h.learningRate))({ learningRate: 1e-3 }))",
    );
  }
  const m = (opts.flipSign ?? true) ? -1 : 1;
  if (typeof learningRate === "function") {
    return scaleBySchedule((c) => {
      const v = learningRate(c);
      return typeof v === "number" ? m * v : v.mul(m);
    }) as GradientTransformation<CountState | null>;
  }
  const step = typeof learningRate === "number" ? m * learningRate : learningRate.mul(m);
  return scale(step) as GradientTransformation<CountState | null>;
}

/** State of trace: the momentum buffer. */
export interface TraceState {
  readonly trace: OptState;
}

/**
 * Momentum (optax.trace): m ← g + decay·m; the update is m, or with `nesterov` g + decay·m
 * (Sutskever et al. 2013's Nesterov momentum in its look-ahead-free form: the gradient at the
 * look-ahead point θ + decay·m is approximated by the current one, which makes the step
 * g + decay·(g + decay·m_prev)).
 */
export function trace(opts: { decay: Hyper; nesterov?: boolean }): GradientTransformation<TraceState> {
  const { decay } = opts;
  const nesterov = opts.nesterov ?? false;
  return {
    init: (params) => ({ trace: treeMap((p) => np.zerosLike(p), params) }),
    update: (updates, state) => {
      const f = (g: Array, t: Array) => g.add(t.mul(hyper(decay, t)));
      const next = treeMap(f, updates, state.trace);
      const out = nesterov ? treeMap(f, updates, next) : next;
      return [out, { trace: next }];
    },
  };
}

/** State of the Adam family: the step count and the first and second moments. */
export interface ScaleByAdamState {
  readonly count: Array;
  readonly mu: OptState;
  readonly nu: OptState;
}

export interface AdamOptions {
  /** Decay of the first moment (default 0.9). */
  b1?: Hyper;
  /** Decay of the second moment (default 0.999). */
  b2?: Hyper;
  /** Added to the denominator outside the square root (default 1e-8). */
  eps?: Hyper;
  /** Added inside the square root (default 0; > 0 when differentiating through the update). */
  epsRoot?: Hyper;
  /** Nesterov momentum in the first moment (Dozat 2016's NAdam). */
  nesterov?: boolean;
}

/**
 * Adam's scaling (Kingma & Ba 2015; optax.scale_by_adam): m ← b1·m + (1−b1)·g,
 * v ← b2·v + (1−b2)·g², m̂ = m/(1−b1^t), v̂ = v/(1−b2^t), update m̂ / (√(v̂ + εroot) + ε).
 * With `nesterov` (Dozat 2016, as optax defines NAdam) m̂ = b1·m/(1−b1^(t+1)) + (1−b1)·g/(1−b1^t).
 */
export function scaleByAdam(opts: AdamOptions = {}): GradientTransformation<ScaleByAdamState> {
  const b1 = opts.b1 ?? 0.9;
  const b2 = opts.b2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  const epsRoot = opts.epsRoot ?? 0;
  const nesterov = opts.nesterov ?? false;
  return {
    init: (params) => ({
      count: zeroCount(params),
      mu: treeMap((p) => np.zerosLike(p), params),
      nu: treeMap((p) => np.zerosLike(p), params),
    }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment(g, m, b1, 1), updates, state.mu);
      const nu = treeMap((g, v) => moment(g, v, b2, 2), updates, state.nu);
      const count = safeIncrement(state.count);
      const muHat = nesterov
        ? treeMap(
            (m, g) =>
              biasCorrection(m, b1, safeIncrement(count))
                .mul(hyper(b1, m))
                .add(biasCorrection(g, b1, count).mul(oneMinus(b1, g))),
            mu,
            updates,
          )
        : treeMap((m) => biasCorrection(m, b1, count), mu);
      const out = treeMap(
        (m, v, g) =>
          castLike(m.div(np.sqrt(biasCorrection(v, b2, count).add(hyper(epsRoot, v))).add(hyper(eps, v))), g),
        muHat,
        nu,
        updates,
      );
      return [out, { count, mu, nu }];
    },
  };
}

/**
 * AdaMax's scaling (Kingma & Ba 2015, §7; optax.scale_by_adamax): m ← b1·m + (1−b1)·g,
 * u ← max(b2·u, |g| + ε), update (m/(1−b1^t)) / u.
 */
export function scaleByAdamax(
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper } = {},
): GradientTransformation<ScaleByAdamState> {
  const b1 = opts.b1 ?? 0.9;
  const b2 = opts.b2 ?? 0.999;
  const eps = opts.eps ?? 1e-8;
  return {
    init: (params) => ({
      count: zeroCount(params),
      mu: treeMap((p) => np.zerosLike(p), params),
      nu: treeMap((p) => np.zerosLike(p), params),
    }),
    update: (updates, state) => {
      const count = safeIncrement(state.count);
      const mu = treeMap((g, m) => moment(g, m, b1, 1), updates, state.mu);
      const nu = treeMap((g, u) => np.maximum(u.mul(hyper(b2, u)), np.abs(g).add(hyper(eps, g))), updates, state.nu);
      const out = treeMap((m, u) => biasCorrection(m, b1, count).div(u), mu, nu);
      return [out, { count, mu, nu }];
    },
  };
}

/** State of RMS scaling: the second moment (and the count, with bias correction). */
export interface ScaleByRmsState {
  readonly nu: OptState;
  readonly count?: Array;
}

export interface RmsOptions {
  /** Decay of the moving average (default 0.9). */
  decay?: Hyper;
  /** Default 1e-8. */
  eps?: Hyper;
  /** The second moment's initial value (default 0; Keras and PyTorch use 1 and 0). */
  initialScale?: number;
  /** ε inside the square root (default true), else added to it. */
  epsInSqrt?: boolean;
  /** Divide the moments by 1 − decay^t (default false). */
  biasCorrection?: boolean;
}

/**
 * RMSProp's scaling (Hinton's lecture 6e; optax.scale_by_rms): v ← decay·v + (1−decay)·g²,
 * update g / √(v + ε) (or g / (√v + ε) without `epsInSqrt`).
 */
export function scaleByRms(opts: RmsOptions = {}): GradientTransformation<ScaleByRmsState> {
  const decay = opts.decay ?? 0.9;
  const eps = opts.eps ?? 1e-8;
  const init = opts.initialScale ?? 0;
  const inSqrt = opts.epsInSqrt ?? true;
  const bc = opts.biasCorrection ?? false;
  const scaling = (v: Array) =>
    inSqrt ? np.rsqrt(v.add(hyper(eps, v))) : np.reciprocal(np.sqrt(v).add(hyper(eps, v)));
  return {
    init: (params) => ({
      nu: treeMap((p) => np.fullLike(p, init), params),
      ...(bc ? { count: zeroCount(params) } : {}),
    }),
    update: (updates, state) => {
      const nu = treeMap((g, v) => moment(g, v, decay, 2), updates, state.nu);
      const count = bc ? safeIncrement(state.count as Array) : undefined;
      const out = treeMap((g, v) => scaling(count ? biasCorrection(v, decay, count) : v).mul(g), updates, nu);
      return [out, count ? { nu, count } : { nu }];
    },
  };
}

/** State of centred RMS scaling: the first and second moments (and the count, with bias correction). */
export interface ScaleByStddevState {
  readonly mu: OptState;
  readonly nu: OptState;
  readonly count?: Array;
}

/**
 * Centred RMSProp's scaling (Graves 2013; optax.scale_by_stddev): m ← decay·m + (1−decay)·g,
 * v ← decay·v + (1−decay)·g², update g / √(v − m² + ε).
 */
export function scaleByStddev(opts: RmsOptions = {}): GradientTransformation<ScaleByStddevState> {
  const decay = opts.decay ?? 0.9;
  const eps = opts.eps ?? 1e-8;
  const init = opts.initialScale ?? 0;
  const inSqrt = opts.epsInSqrt ?? true;
  const bc = opts.biasCorrection ?? false;
  return {
    init: (params) => ({
      mu: treeMap((p) => np.zerosLike(p), params),
      nu: treeMap((p) => np.fullLike(p, init), params),
      ...(bc ? { count: zeroCount(params) } : {}),
    }),
    update: (updates, state) => {
      const mu = treeMap((g, m) => moment(g, m, decay, 1), updates, state.mu);
      const nu = treeMap((g, v) => moment(g, v, decay, 2), updates, state.nu);
      const count = bc ? safeIncrement(state.count as Array) : undefined;
      const out = treeMap(
        (g, m, v) => {
          const mh = count ? biasCorrection(m, decay, count) : m;
          const vh = count ? biasCorrection(v, decay, count) : v;
          const spread = vh.sub(mh.square());
          const e = hyper(eps, spread);
          return (inSqrt ? np.rsqrt(spread.add(e)) : np.reciprocal(np.sqrt(spread).add(e))).mul(g);
        },
        updates,
        mu,
        nu,
      );
      return [out, count ? { mu, nu, count } : { mu, nu }];
    },
  };
}

/** State of AdaGrad's scaling: the running sum of squared updates. */
export interface ScaleByRssState {
  readonly sumOfSquares: OptState;
}

/**
 * AdaGrad's scaling (Duchi et al. 2011; optax.scale_by_rss): s ← s + g², update
 * g / √(s + ε) where s > 0 (else 0).
 */
export function scaleByRss(
  opts: { initialAccumulatorValue?: number; eps?: number } = {},
): GradientTransformation<ScaleByRssState> {
  const init = opts.initialAccumulatorValue ?? 0.1;
  const eps = opts.eps ?? 1e-7;
  return {
    init: (params) => ({ sumOfSquares: treeMap((p) => np.fullLike(p, init), params) }),
    update: (updates, state) => {
      const sumOfSquares = treeMap((g, s) => g.square().add(s), updates, state.sumOfSquares);
      const out = treeMap((g, s) => np.where(s.greater(0), np.rsqrt(s.add(eps)), 0).mul(g), updates, sumOfSquares);
      return [out, { sumOfSquares }];
    },
  };
}

/** sign(g) (optax.scale_by_sign): signSGD's direction. */
export function scaleBySign(): GradientTransformation<null> {
  return { init: () => null, update: (updates, state) => [treeMap((g) => np.sign(g), updates), state] };
}

/**
 * updates + weightDecay · params (optax.add_decayed_weights): decoupled weight decay
 * (Loshchilov & Hutter 2019) when placed before the learning rate; `mask` (a pytree of booleans
 * or a function of the params) limits it, e.g. to kernels and not biases.
 */
export function addDecayedWeights(weightDecay: Hyper = 0, opts: { mask?: Mask } = {}): GradientTransformation {
  const inner: GradientTransformation<null> = {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined) {
        throw new WebjaxError("addDecayedWeights: update needs the params (pass them as update's third argument)");
      }
      return [treeMap((g, p) => g.add(p.mul(hyper(weightDecay, p))), updates, params), state];
    },
  };
  return opts.mask === undefined ? inner : masked(inner, opts.mask as Mask);
}
