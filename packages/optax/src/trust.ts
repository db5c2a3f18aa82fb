/**
 * Layer-wise trust ratios and NovoGrad: LAMB (You et al. 2020), LARS (You et al. 2017), Fromage
 * (Bernstein et al. 2020) and NovoGrad (Ginsburg et al. 2019), as optax 0.2.8 defines them.
 */
import { type Array, np, WebjaxError } from "@webjax/core";
import type { LearningRate } from "./aliases.js";
import {
  chain,
  type GradientTransformation,
  type Hyper,
  hyper,
  type OptState,
  oneMinus,
  safeIncrement,
  treeMap,
  zeroCount,
} from "./base.js";
import { type Mask, masked } from "./masking.js";
import { addDecayedWeights, scaleByAdam, scaleByLearningRate, trace } from "./transforms.js";

/** ‖x‖, or `minNorm` where the norm is at most minNorm (optax's numerics.safe_norm). */
function safeNorm(x: Array, minNorm: number): Array {
  const n = np.sqrt(x.square().sum());
  return minNorm > 0 ? np.where(n.lessEqual(minNorm), minNorm, n) : n;
}

/**
 * Each leaf's update scaled by trustCoefficient·‖θ‖/(‖u‖ + ε) (optax.scale_by_trust_ratio), or left
 * as is where either norm is zero: the step is proportional to the layer's weight norm.
 */
export function scaleByTrustRatio(
  opts: { minNorm?: number; trustCoefficient?: Hyper; eps?: Hyper } = {},
): GradientTransformation<null> {
  const { minNorm = 0, trustCoefficient = 1, eps = 0 } = opts;
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined)
        throw new WebjaxError("scaleByTrustRatio: update needs the params (its third argument)");
      const out = treeMap(
        (u, p) => {
          const pn = safeNorm(p, minNorm);
          const un = safeNorm(u, minNorm);
          const ratio = pn.mul(hyper(trustCoefficient, pn)).div(un.add(hyper(eps, un)));
          const zero = np.logicalOr(pn.equal(0), un.equal(0));
          return u.mul(np.where(zero, 1, ratio).astype(u.dtype));
        },
        updates,
        params,
      );
      return [out as typeof updates, state];
    },
  };
}

/** LAMB (optax.lamb): Adam's direction plus weight decay, scaled by the trust ratio, then −η. Default ε = 1e-6. */
export function lamb(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper; weightDecay?: Hyper; mask?: Mask } = {},
) {
  return chain(
    scaleByAdam({ eps: 1e-6, ...opts }),
    addDecayedWeights(opts.weightDecay ?? 0, opts.mask === undefined ? {} : { mask: opts.mask }),
    scaleByTrustRatio(),
    scaleByLearningRate(learningRate),
  );
}

/** LARS (optax.lars): weight decay, the trust ratio (coefficient 1e-3), −η, then momentum 0.9. */
export function lars(
  learningRate: LearningRate,
  opts: {
    weightDecay?: Hyper;
    weightDecayMask?: Mask;
    trustCoefficient?: Hyper;
    eps?: Hyper;
    trustRatioMask?: Mask;
    momentum?: Hyper;
    nesterov?: boolean;
  } = {},
) {
  return chain(
    addDecayedWeights(opts.weightDecay ?? 0, { mask: opts.weightDecayMask ?? true }),
    masked(
      scaleByTrustRatio({ trustCoefficient: opts.trustCoefficient ?? 0.001, eps: opts.eps ?? 0 }),
      opts.trustRatioMask ?? true,
    ),
    scaleByLearningRate(learningRate),
    trace({ decay: opts.momentum ?? 0.9, nesterov: opts.nesterov ?? false }),
  );
}

/**
 * Fromage (optax.fromage): the trust ratio (with minNorm), then η/√(1+η²) as the step and
 * 1/√(1+η²) − 1 as weight decay, which keeps the weights' norms from growing.
 */
export function fromage(learningRate: Hyper, opts: { minNorm?: number } = {}) {
  const lr = learningRate;
  const mult = typeof lr === "number" ? 1 / Math.sqrt(1 + lr ** 2) : np.rsqrt(lr.square().add(1));
  return chain(
    scaleByTrustRatio({ minNorm: opts.minNorm ?? 1e-6 }),
    scaleByLearningRate(typeof lr === "number" ? lr * (mult as number) : lr.mul(mult)),
    addDecayedWeights(typeof mult === "number" ? mult - 1 : mult.sub(1)),
  );
}

/** State of NovoGrad: the count, the first moment and each layer's (scalar) second moment. */
export interface ScaleByNovogradState {
  readonly count: Array;
  readonly mu: OptState;
  readonly nu: OptState;
}

/**
 * NovoGrad (Ginsburg et al. 2019; optax.scale_by_novograd): per layer, ν ← ‖g‖² at the first
 * step, then b2·ν + (1−b2)·‖g‖²; m ← g/(√(ν + εroot) + ε) + λ·θ at the first step, then
 * b1·m + that.
 */
export function scaleByNovograd(
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper; weightDecay?: Hyper } = {},
): GradientTransformation<ScaleByNovogradState> {
  const { b1 = 0.9, b2 = 0.25, eps = 1e-8, epsRoot = 0, weightDecay = 0 } = opts;
  return {
    init: (params) => ({
      count: zeroCount(params),
      mu: treeMap((p) => np.zerosLike(p), params),
      nu: treeMap((p) => np.zeros([], { dtype: p.dtype, ...backendOpt(p) }), params),
    }),
    update: (updates, state, params) => {
      if (params === undefined) throw new WebjaxError("scaleByNovograd: update needs the params (its third argument)");
      const count = safeIncrement(state.count);
      const first = count.equal(1);
      const nu = treeMap(
        (g, n) => {
          const sq = g.square().sum().astype(n.dtype);
          return np.where(first, sq, sq.mul(oneMinus(b2, n)).add(n.mul(hyper(b2, n))));
        },
        updates,
        state.nu,
      );
      const mu = treeMap(
        (g, p, n, m) => {
          const add = g.div(np.sqrt(n.add(hyper(epsRoot, n))).add(hyper(eps, n))).add(p.mul(hyper(weightDecay, p)));
          return np.where(first, add, m.mul(hyper(b1, m)).add(add));
        },
        updates,
        params,
        nu,
        state.mu,
      );
      return [mu, { count, mu, nu }];
    },
  };
}

const backendOpt = (x: Array): { backend?: string } => {
  const b = x.backendHint()?.name;
  return b ? { backend: b } : {};
};

/** NovoGrad (optax.novograd): defaults b2 = 0.25, ε = 1e-6. */
export function novograd(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; epsRoot?: Hyper; weightDecay?: Hyper } = {},
) {
  return chain(scaleByNovograd({ eps: 1e-6, ...opts }), scaleByLearningRate(learningRate));
}
