/**
 * Memory-efficient adaptive scalings: Adafactor's factored second moment (Shazeer & Stern 2018)
 * and SM3's cover of per-axis accumulators (Anil et al. 2019), with the parameter-scale
 * transforms Adafactor chains; names, defaults and formulas follow optax 0.2.8.
 */
import { type Array, np, tree, WebjaxError } from "@webjax/core";
import type { LearningRate } from "./aliases.js";
import { chain, type GradientTransformation, type Hyper, hyper, safeIncrement, treeMap, zeroCount } from "./base.js";
import { clipByBlockRms } from "./clipping.js";
import type { Mask } from "./masking.js";
import { backendOf } from "./placement.js";
import { addDecayedWeights, scale, scaleByLearningRate } from "./transforms.js";
import { ema } from "./wrappers.js";

/** Adafactor's second-moment decay at step t (0-based): 1 − (t + 1)^(−exponent), as float32. */
export function decayRatePow(step: Array, exponent: number): Array {
  return np.subtract(1, np.power(step.astype("float32").add(1), -exponent));
}

/**
 * The two largest axes of `shape` (the second largest first), when both are at least `minDim`;
 * ties keep the lower axis first, as numpy's argsort does on short shapes.
 */
function factoredDims(shape: readonly number[], factored: boolean, minDim: number): [number, number] | null {
  if (!factored || shape.length < 2) return null;
  const sorted = shape.map((_, i) => i).sort((a, b) => (shape[a] as number) - (shape[b] as number) || a - b);
  const d1 = sorted[sorted.length - 2] as number;
  const d0 = sorted[sorted.length - 1] as number;
  return (shape[d1] as number) < minDim ? null : [d1, d0];
}

/** State of scaleByFactoredRms: per leaf, the row and column statistics (factored) or the full v. */
export interface FactoredState {
  readonly count: Array;
  /** Per leaf: the mean of g² over the largest axis (factored leaves), else a [1] placeholder. */
  readonly vRow: unknown;
  /** Per leaf: the mean of g² over the second largest axis (factored leaves), else a [1] placeholder. */
  readonly vCol: unknown;
  /** Per leaf: the full second moment (leaves not factored), else a [1] placeholder. */
  readonly v: unknown;
}

export interface FactoredRmsOptions {
  /** Factor the second moment of leaves with two axes ≥ minDimSizeToFactor (default true). */
  factored?: boolean;
  /** The decay schedule's exponent (default 0.8). */
  decayRate?: number;
  /** Subtracted from the step count before the decay schedule (fine-tuning; default 0). */
  stepOffset?: number;
  /** Only factor leaves whose two largest axes are at least this size (default 128). */
  minDimSizeToFactor?: number;
  /** Added to g² (default 1e-30). */
  epsilon?: number;
  /** The decay at step t, given the step and decayRate (default 1 − (t + 1)^(−decayRate)). */
  decayRateFn?: (step: Array, decayRate: number) => Array;
}

/**
 * Scaling by a factored estimate of the gradient's RMS (optax.scale_by_factored_rms, Adafactor;
 * Shazeer & Stern 2018). With β̂_t = 1 − t^(−0.8) and G = g² + ε: a leaf whose two largest axes
 * (rows r, columns c) are ≥ minDimSizeToFactor keeps R ← β̂R + (1−β̂)·mean_c G and
 * C ← β̂C + (1−β̂)·mean_r G and returns g / √(R·C / mean(R)) — O(r + c) memory instead of O(rc);
 * any other leaf keeps v ← β̂v + (1−β̂)G and returns g/√v.
 */
export function scaleByFactoredRms(opts: FactoredRmsOptions = {}): GradientTransformation<FactoredState> {
  const {
    factored = true,
    decayRate = 0.8,
    stepOffset = 0,
    minDimSizeToFactor = 128,
    epsilon = 1e-30,
    decayRateFn = decayRatePow,
  } = opts;
  const placeholder = (p: Array) => np.zeros([1], { dtype: p.dtype, ...backendOf(p) });
  return {
    init: (params) => {
      const init = (f: (p: Array, dims: [number, number] | null) => Array) =>
        treeMap((p) => f(p, factoredDims(p.shape, factored, minDimSizeToFactor)), params);
      return {
        count: zeroCount(params),
        vRow: init((p, d) => (d ? np.zerosLike(p.sum({ axis: d[1] })) : placeholder(p))),
        vCol: init((p, d) => (d ? np.zerosLike(p.sum({ axis: d[0] })) : placeholder(p))),
        v: init((p, d) => (d ? placeholder(p) : np.zerosLike(p))),
      };
    },
    update: (updates, state, params) => {
      if (params === undefined) {
        throw new WebjaxError("scaleByFactoredRms: update needs the params (pass them as update's third argument)");
      }
      const [grads, def] = tree.flatten(updates as unknown);
      const ps = def.flattenUpTo(params) as Array[];
      const rows = def.flattenUpTo(state.vRow) as Array[];
      const cols = def.flattenUpTo(state.vCol) as Array[];
      const vs = def.flattenUpTo(state.v) as Array[];
      const outU: Array[] = [];
      const outR: Array[] = [];
      const outC: Array[] = [];
      const outV: Array[] = [];
      const beta = decayRateFn(state.count.sub(stepOffset), decayRate);
      (grads as Array[]).forEach((g, i) => {
        const p = ps[i] as Array;
        const dims = factoredDims(p.shape, factored, minDimSizeToFactor);
        const b = beta.astype(g.dtype);
        const oneMinusB = np.subtract(1, b);
        const gsq = g.square().add(epsilon);
        if (dims) {
          const [d1, d0] = dims;
          const r = b.mul(rows[i] as Array).add(oneMinusB.mul(np.mean(gsq, { axis: d0 })));
          const c = b.mul(cols[i] as Array).add(oneMinusB.mul(np.mean(gsq, { axis: d1 })));
          const rowColMean = np.mean(r, { axis: d1 > d0 ? d1 - 1 : d1, keepdims: true });
          const rowFactor = np.rsqrt(r.div(rowColMean));
          const colFactor = np.rsqrt(c);
          outU.push(g.mul(np.expandDims(rowFactor, d0)).mul(np.expandDims(colFactor, d1)));
          outR.push(r);
          outC.push(c);
          outV.push(placeholder(p));
        } else {
          const v = b.mul(vs[i] as Array).add(oneMinusB.mul(gsq));
          outU.push(g.mul(np.rsqrt(v)));
          outR.push(placeholder(p));
          outC.push(placeholder(p));
          outV.push(v);
        }
      });
      return [
        def.unflatten(outU) as typeof updates,
        {
          count: safeIncrement(state.count),
          vRow: def.unflatten(outR),
          vCol: def.unflatten(outC),
          v: def.unflatten(outV),
        },
      ];
    },
  };
}

/** rms(x), or minScale where it is at most minScale (optax's numerics.safe_root_mean_squares). */
function safeRms(x: Array, minScale: number): Array {
  const rms = np.sqrt(x.square().mean());
  return np.where(rms.lessEqual(minScale), minScale, rms).astype(x.dtype);
}

/** Each leaf's update times max(rms(param), minScale) (optax.scale_by_param_block_rms). */
export function scaleByParamBlockRms(minScale = 1e-3): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined) throw new WebjaxError("scaleByParamBlockRms: update needs the params");
      return [treeMap((u, p) => u.mul(safeRms(p, minScale)), updates, params), state];
    },
  };
}

/** Each leaf's update times max(‖param‖, minScale) (optax.scale_by_param_block_norm). */
export function scaleByParamBlockNorm(minScale = 1e-3): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined) throw new WebjaxError("scaleByParamBlockNorm: update needs the params");
      return [
        treeMap(
          (u, p) => {
            const n = np.sqrt(p.square().sum());
            return u.mul(np.where(n.lessEqual(minScale), minScale, n).astype(p.dtype));
          },
          updates,
          params,
        ),
        state,
      ];
    },
  };
}

export interface AdafactorOptions {
  /** Only factor leaves whose two largest axes are at least this size (default 128). */
  minDimSizeToFactor?: number;
  /** The second-moment decay schedule's exponent (default 0.8). */
  decayRate?: number;
  /** Step offset of the decay schedule, for fine-tuning (default 0). */
  decayOffset?: number;
  /** Scale the step by each param's RMS (relative step size; default true). */
  multiplyByParameterScale?: boolean;
  /** Clip each leaf's update to this RMS (default 1; null: no clipping). */
  clippingThreshold?: number | null;
  /** Momentum of a non-debiased EMA of the updates (default null: none). */
  momentum?: number | null;
  /** Decoupled weight decay (default null: none). */
  weightDecayRate?: Hyper | null;
  /** Which params decay. */
  weightDecayMask?: Mask;
  /** Added to g² (default 1e-30). */
  eps?: number;
  /** Factor the second moments (default true). */
  factored?: boolean;
}

/**
 * Adafactor (optax.adafactor; Shazeer & Stern 2018): scaleByFactoredRms, then clipping each
 * leaf's update to RMS ≤ clippingThreshold, the learning rate (none by default: with
 * multiplyByParameterScale the step is relative to each param's RMS), the param scale, optional
 * momentum and weight decay, then the descent sign.
 */
export function adafactor(learningRate: LearningRate | null = null, opts: AdafactorOptions = {}) {
  const {
    minDimSizeToFactor = 128,
    decayRate = 0.8,
    decayOffset = 0,
    multiplyByParameterScale = true,
    clippingThreshold = 1,
    momentum = null,
    weightDecayRate = null,
    weightDecayMask,
    eps = 1e-30,
    factored = true,
  } = opts;
  const txs: GradientTransformation[] = [
    scaleByFactoredRms({ factored, decayRate, stepOffset: decayOffset, minDimSizeToFactor, epsilon: eps }),
  ];
  if (clippingThreshold !== null) txs.push(clipByBlockRms(clippingThreshold));
  if (learningRate !== null) txs.push(scaleByLearningRate(learningRate, { flipSign: false }));
  if (multiplyByParameterScale) txs.push(scaleByParamBlockRms());
  if (momentum !== null) txs.push(ema(momentum, { debias: false }));
  if (weightDecayRate !== null) {
    txs.push(addDecayedWeights(weightDecayRate, weightDecayMask === undefined ? {} : { mask: weightDecayMask }));
  }
  txs.push(scale(-1));
  return chain(...txs);
}

/** State of scaleBySm3: per leaf, one accumulator per axis (`mu`), and the momentum (`nu`). */
export interface ScaleBySm3State {
  /** Per leaf, a list of rank-1 accumulators, one per axis (a rank-0 or rank-1 leaf: the full accumulator). */
  readonly mu: unknown;
  readonly nu: unknown;
}

/**
 * SM3 (optax.scale_by_sm3; Anil et al. 2019): per axis i of a leaf an accumulator μ_i; each step
 * ν = (1−β2 or 1)·g² + β2·min_i μ_i (broadcast), μ_i ← max of ν over the other axes, and the
 * update is the EMA (β1) of g/√(ν + ε) (0 where ν = 0). Memory is the sum of the axes' sizes
 * rather than their product. (optax rejects rank-0 leaves; here a scalar keeps one accumulator,
 * as a vector does.)
 */
export function scaleBySm3(
  opts: { b1?: Hyper; b2?: number; eps?: number } = {},
): GradientTransformation<ScaleBySm3State> {
  const { b1 = 0.9, b2 = 1, eps = 1e-8 } = opts;
  const accumulators = (p: Array): Array[] =>
    p.ndim < 2
      ? [np.zerosLike(p)]
      : p.shape.map((_, i) => np.zerosLike(p.sum({ axis: p.shape.map((_, j) => j).filter((j) => j !== i) })));
  return {
    init: (params) => {
      const [leaves, def] = tree.flatten(params as unknown);
      return {
        mu: def.unflatten((leaves as Array[]).map(accumulators)),
        nu: treeMap((p) => np.zerosLike(p), params),
      };
    },
    update: (updates, state) => {
      const [grads, def] = tree.flatten(updates as unknown);
      const mus = def.flattenUpTo(state.mu) as Array[][];
      const nus = def.flattenUpTo(state.nu) as Array[];
      const newMu: Array[][] = [];
      const newNu: Array[] = [];
      const c0 = b2 === 1 ? 1 : 1 - b2;
      (grads as Array[]).forEach((g, i) => {
        const mu = mus[i] as Array[];
        const n = g.ndim;
        let prev: Array;
        if (n < 2) prev = mu[0] as Array;
        else {
          const expanded = mu.map((m, ax) => m.reshape(g.shape.map((d, j) => (j === ax ? d : 1))));
          prev = expanded.reduce((a, b) => np.minimum(a, b));
        }
        const acc = g.square().mul(c0).add(prev.mul(b2));
        const inv = np.where(acc.greater(0), np.rsqrt(acc.add(eps)), 0);
        const up = g.mul(inv);
        const nu = up
          .mul(typeof b1 === "number" ? 1 - b1 : np.subtract(1, hyper(b1, up)))
          .add((nus[i] as Array).mul(hyper(b1, up)));
        newNu.push(nu);
        newMu.push(
          n < 2
            ? [acc]
            : g.shape.map((_, ax) => np.max(acc, { axis: g.shape.map((_, j) => j).filter((j) => j !== ax) })),
        );
      });
      return [def.unflatten(newNu) as typeof updates, { mu: def.unflatten(newMu), nu: def.unflatten(newNu) }];
    },
  };
}

/** SM3 (optax.sm3): scaleBySm3 with b1 = momentum (default 0.9), then −learningRate (not a schedule, as in optax). */
export function sm3(learningRate: Hyper, opts: { momentum?: Hyper } = {}) {
  return chain(
    scaleBySm3({ b1: opts.momentum ?? 0.9 }),
    scale(typeof learningRate === "number" ? -learningRate : np.negative(learningRate)),
  );
}
