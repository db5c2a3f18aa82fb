/**
 * The rest of optax's first-order aliases: Signum, optimistic gradient descent (and optax's
 * optimistic Adam), Rprop, Polyak's step size (SPS) and Adan, as optax 0.2.8 defines them.
 */
import { type Array, np, random, tree, WebjaxError } from "@webjax/core";
import { type LearningRate, sgd } from "./aliases.js";
import {
  chain,
  type Extra,
  type GradientTransformation,
  type Hyper,
  hyper,
  type OptState,
  oneMinus,
  safeIncrement,
  treeMap,
  zeroCount,
} from "./base.js";
import type { Mask } from "./masking.js";
import { addDecayedWeights, scale, scaleByAdam, scaleByLearningRate, scaleBySign } from "./transforms.js";
import { ema } from "./wrappers.js";

/** Signum (Bernstein et al. 2018; optax.signum): θ ← θ − η·sign(m), m the un-debiased EMA of g (β = 0.9). */
export function signum(learningRate: LearningRate, opts: { beta?: number } = {}) {
  return chain(ema(opts.beta ?? 0.9, { debias: false }), scaleBySign(), scaleByLearningRate(learningRate));
}

/** State of the optimistic gradient: the previous gradient (and whether there is one). */
export interface ScaleByOptimisticGradientState {
  readonly isInitialStep: Array;
  readonly previousGradient: OptState;
}

/**
 * Optimistic gradient (Mokhtari et al. 2019; optax.scale_by_optimistic_gradient):
 * (α + β)·g_t − β·g_{t−1} (g_{t−1} = g_t at the first step).
 */
export function scaleByOptimisticGradient(
  opts: { alpha?: Hyper; beta?: Hyper } = {},
): GradientTransformation<ScaleByOptimisticGradientState> {
  const { alpha = 1, beta = 1 } = opts;
  return {
    init: (params) => ({
      isInitialStep: np.equal(zeroCount(params), 0),
      previousGradient: treeMap((p) => np.zerosLike(p), params),
    }),
    update: (updates, state) => {
      const out = treeMap(
        (g, prev) => {
          const p = np.where(state.isInitialStep, g, prev);
          return g.mul(np.add(hyper(alpha, g), hyper(beta, g))).sub(p.mul(hyper(beta, g)));
        },
        updates,
        state.previousGradient,
      );
      // The state keeps its own copy: the caller may release its gradients after the update.
      const previousGradient = treeMap((g) => np.array(g), updates);
      return [out, { isInitialStep: np.logicalAnd(state.isInitialStep, false), previousGradient }];
    },
  };
}

/** Optimistic gradient descent (optax.optimistic_gradient_descent; α = β = 1). */
export function optimisticGradientDescent(learningRate: LearningRate, opts: { alpha?: Hyper; beta?: Hyper } = {}) {
  return chain(scaleByOptimisticGradient(opts), scaleByLearningRate(learningRate));
}

/**
 * Optimistic Adam (Daskalakis et al. 2018; optax.optimistic_adam): Adam with Nesterov momentum,
 * then the optimistic gradient with α = η and β = optimism (default η).
 */
export function optimisticAdam(
  learningRate: number,
  opts: { optimism?: number; b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper; nesterov?: boolean } = {},
) {
  return chain(
    scaleByAdam({ ...opts, nesterov: opts.nesterov ?? true }),
    scaleByOptimisticGradient({ alpha: learningRate, beta: opts.optimism ?? learningRate }),
    scaleByLearningRate(1),
  );
}

/** State of Rprop: each weight's step size and the previous update. */
export interface ScaleByRpropState {
  readonly stepSizes: OptState;
  readonly prevUpdates: OptState;
}

/**
 * Rprop (Riedmiller & Braun 1993; optax.scale_by_rprop): each weight's step grows by ηplus
 * while its gradient keeps its sign and shrinks by ηminus when it flips (clipped to [min, max]);
 * the update is step·sign(g), zero after a flip. As optax 0.2.8 computes it, each call returns
 * the update decided at the previous call (the first is zero).
 */
export function scaleByRprop(
  learningRate: number,
  opts: { etaMinus?: Hyper; etaPlus?: Hyper; minStepSize?: number; maxStepSize?: number } = {},
): GradientTransformation<ScaleByRpropState> {
  const { etaMinus = 0.5, etaPlus = 1.2, minStepSize = 1e-6, maxStepSize = 50 } = opts;
  return {
    init: (params) => ({
      stepSizes: treeMap((p) => np.fullLike(p, learningRate), params),
      prevUpdates: treeMap((p) => np.zerosLike(p), params),
    }),
    update: (updates, state) => {
      const sign = treeMap((g, p) => g.mul(p), updates, state.prevUpdates);
      const stepSizes = treeMap(
        (s, st) =>
          np.where(
            s.equal(0),
            st,
            np.clip(st.mul(np.where(s.greater(0), hyper(etaPlus, st), hyper(etaMinus, st))), minStepSize, maxStepSize),
          ),
        sign,
        state.stepSizes,
      );
      const prevUpdates = treeMap(
        (s, g, st) => np.where(s.less(0), np.zerosLike(g), st.mul(np.sign(g))),
        sign,
        updates,
        stepSizes,
      );
      // optax 0.2.8 returns the previous step's update (zero at the first step, and after a
      // flip): kept, so the numbers are optax's.
      const out = treeMap((s, p) => np.where(s.less(0), np.zerosLike(p), p), sign, state.prevUpdates);
      return [out, { stepSizes, prevUpdates }];
    },
  };
}

/** Rprop (optax.rprop): the scaling, then −1. */
export function rprop(
  learningRate: number,
  opts: { etaMinus?: Hyper; etaPlus?: Hyper; minStepSize?: number; maxStepSize?: number } = {},
) {
  return chain(scaleByRprop(learningRate, opts), scale(-1));
}

/**
 * Polyak's step size (Loizou et al. 2021, SPS; optax.scale_by_polyak): the updates times
 * min((f − f*)/(‖g‖² + ε), maxLearningRate), with the loss f passed as `extra.value`; `sps+`
 * clamps f − f* at 0.
 */
export function scaleByPolyak(
  opts: { fMin?: number; maxLearningRate?: number; eps?: number; variant?: "sps" | "sps+" } = {},
): GradientTransformation<null> {
  const { fMin = 0, maxLearningRate = 1, eps = 0, variant = "sps" } = opts;
  return {
    init: () => null,
    update: (updates, state, _params, extra?: Extra) => {
      const value = extra?.value;
      if (value === undefined) {
        throw new WebjaxError("scaleByPolyak: pass the loss as update(updates, state, params, { value: loss })");
      }
      const leaves = tree.leaves(updates) as Array[];
      const sq = leaves.map((g) => g.square().sum()).reduce((a, b) => a.add(b));
      let gap = np.subtract(typeof value === "number" ? value : (value as Array), fMin).astype(sq.dtype);
      if (variant === "sps+") gap = np.maximum(gap, 0);
      const step = np.where(
        sq.add(eps).lessEqual(2.220446049250313e-16),
        0,
        np.minimum(gap.div(sq.add(eps)), maxLearningRate),
      );
      return [treeMap((g) => g.mul(step.astype(g.dtype)), updates), state];
    },
  };
}

/** Polyak SGD (optax.polyak_sgd): SGD with learning rate `scaling`, then the Polyak step. */
export function polyakSgd(
  opts: {
    maxLearningRate?: number;
    scaling?: LearningRate;
    fMin?: number;
    eps?: number;
    variant?: "sps" | "sps+";
  } = {},
) {
  return chain(sgd(opts.scaling ?? 1), scaleByPolyak(opts));
}

/** State of Adan: three moments, the previous gradient and the count. */
export interface ScaleByAdanState {
  readonly m: OptState;
  readonly v: OptState;
  readonly n: OptState;
  readonly g: OptState;
  readonly t: Array;
}

/**
 * Adan (Xie et al. 2022; optax.scale_by_adan): with d = g_t − g_{t−1} (0 at the first step),
 * m ← b1·m + (1−b1)·g, v ← b2·v + (1−b2)·d, n ← b3·n + (1−b3)·(g + (1−b2)·d)², update
 * (m̂ + (1−b2)·v̂)/(√(n̂ + εroot) + ε).
 */
export function scaleByAdan(
  opts: { b1?: Hyper; b2?: Hyper; b3?: Hyper; eps?: Hyper; epsRoot?: Hyper } = {},
): GradientTransformation<ScaleByAdanState> {
  const { b1 = 0.98, b2 = 0.92, b3 = 0.99, eps = 1e-8, epsRoot = 0 } = opts;
  const mom = (x: Array, m: Array, d: Hyper) => x.mul(oneMinus(d, x)).add(m.mul(hyper(d, m)));
  const corr = (m: Array, d: Hyper, t: Array) => m.div(np.subtract(1, np.power(hyper(d, m), t.astype(m.dtype))));
  return {
    init: (params) => {
      const z = () => treeMap((p) => np.zerosLike(p), params);
      return { m: z(), v: z(), n: z(), g: z(), t: zeroCount(params) };
    },
    update: (updates, state) => {
      const first = state.t.equal(0);
      const diff = treeMap((g, prev) => np.where(first, np.zerosLike(g), g.sub(prev)), updates, state.g);
      const m = treeMap((g, x) => mom(g, x, b1), updates, state.m);
      const v = treeMap((d, x) => mom(d, x, b2), diff, state.v);
      const n = treeMap((g, d, x) => mom(g.add(d.mul(oneMinus(b2, d))).square(), x, b3), updates, diff, state.n);
      const t = safeIncrement(state.t);
      const out = treeMap(
        (mm, vv, nn) =>
          corr(mm, b1, t)
            .add(corr(vv, b2, t).mul(oneMinus(b2, vv)))
            .div(np.sqrt(corr(nn, b3, t).add(hyper(epsRoot, nn))).add(hyper(eps, nn))),
        m,
        v,
        n,
      );
      return [out, { m, v, n, g: treeMap((g) => np.array(g), updates), t }];
    },
  };
}

/** Adan (optax.adan): defaults b1 0.98, b2 0.92, b3 0.99, ε 1e-8, εroot 1e-8, then weight decay and −η. */
export function adan(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; b3?: Hyper; eps?: Hyper; epsRoot?: Hyper; weightDecay?: Hyper; mask?: Mask } = {},
) {
  return chain(
    scaleByAdan({ epsRoot: 1e-8, ...opts }),
    addDecayedWeights(opts.weightDecay ?? 0, opts.mask === undefined ? {} : { mask: opts.mask }),
    scaleByLearningRate(learningRate),
  );
}

/** State of addNoise: the count and the random key. */
export interface AddNoiseState {
  readonly count: Array;
  readonly rngKey: Array;
}

/**
 * Gradient noise (Neelakantan et al. 2015; optax.add_noise): g + √(η/t^γ)·N(0, 1), the noise
 * drawn with JAX's key handling (split the state's key, then one subkey per leaf), so the
 * numbers are optax's for the same key.
 */
export function addNoise(eta: number, gamma: number, key: Array | number = 0): GradientTransformation<AddNoiseState> {
  return {
    init: (params) => {
      const count = zeroCount(params);
      const backend = count.backendHint()?.name;
      if (typeof key === "number") return { count, rngKey: random.key(key, backend ? { backend } : {}) };
      if (backend && key.backendHint()?.name !== backend) {
        throw new WebjaxError(
          `addNoise: the key lives on ${key.backendHint()?.name} and the params on ${backend}; ` +
            "pass a seed (a number: the key is made beside the params) or move the key with devicePut",
        );
      }
      // A copy: the state may be donated, and the caller's key must survive that.
      return { count, rngKey: np.array(key) };
    },
    update: (updates, state) => {
      const count = safeIncrement(state.count);
      const std = np.sqrt(np.divide(eta, np.power(count.astype("float32"), gamma)));
      const [next, sample] = random.split(state.rngKey) as Iterable<Array> as [Array, Array];
      const leaves = tree.leaves(updates) as Array[];
      const keys = [...(random.split(sample, leaves.length) as Iterable<Array>)];
      const noisy = leaves.map((g, i) =>
        g.add(random.normal(keys[i] as Array, g.shape, { dtype: g.dtype as "float32" }).mul(std.astype(g.dtype))),
      );
      return [tree.unflatten(tree.structure(updates), noisy) as typeof updates, { count, rngKey: next }];
    },
  };
}

/** Noisy SGD (optax.noisy_sgd): gradient noise with η = 0.01, γ = 0.55, then −η·g. */
export function noisySgd(
  learningRate: LearningRate,
  opts: { eta?: number; gamma?: number; key?: Array | number } = {},
) {
  return chain(addNoise(opts.eta ?? 0.01, opts.gamma ?? 0.55, opts.key ?? 0), scaleByLearningRate(learningRate));
}

/**
 * `inner` on the params flattened into one vector (optax.flatten): fewer, larger kernels for
 * transformations with many small leaves; updates come back in the params' structure.
 */
export function flatten(inner: GradientTransformation): GradientTransformation {
  const flat = (t: unknown): Array => {
    const leaves = tree.leaves(t) as Array[];
    return np.concatenate(leaves.map((x) => x.reshape([-1])));
  };
  const unflat = <U>(like: U, v: Array): U => {
    const [leaves, def] = tree.flatten(like);
    let at = 0;
    const parts = (leaves as Array[]).map((x) => {
      const n = x.size;
      const part = v.slice([at, at + n]).reshape(x.shape);
      at += n;
      return part;
    });
    return def.unflatten(parts) as U;
  };
  return {
    init: (params) => inner.init(flat(params)),
    update: (updates, state, params, extra) => {
      const [u, s] = inner.update(flat(updates), state, params === undefined ? undefined : flat(params), extra);
      return [unflat(updates, u as Array), s];
    },
  };
}
