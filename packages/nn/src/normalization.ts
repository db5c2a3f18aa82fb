/**
 * Normalisation layers: `batchNorm` with Keras' defaults and update rule, and `layerNorm`
 * (Flax's). Batch norm (Ioffe & Szegedy 2015) keeps its moving statistics in `state`.
 */
import { type Array, np, ShapeError } from "@webjax/core";
import { type Initializer, ones, zeros } from "./initializers.js";
import { checkInput, fmt, initOf, param, stateEntry } from "./layer-options.js";
import { type Module, module } from "./module.js";

export interface BatchNormOptions {
  /** The moving statistics' decay: moving = momentum·moving + (1 − momentum)·batch. Default 0.99 (Keras). */
  readonly momentum?: number;
  /** Added to the variance before the square root. Default 1e-3 (Keras). */
  readonly epsilon?: number;
  /** The feature axis (default −1: channels last). */
  readonly axis?: number;
  /** Learn an offset β (params `bias`). Default true. */
  readonly center?: boolean;
  /** Learn a scale γ (params `scale`). Default true. */
  readonly scale?: boolean;
  readonly betaInit?: Initializer | string;
  readonly gammaInit?: Initializer | string;
  readonly name?: string;
}

function featureAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for an input of rank ${rank}`);
  }
  return a;
}

/** `v` [C] shaped to broadcast along axis `a` of a rank-`r` input. */
function along(v: Array, a: number, r: number): Array {
  return a === r - 1 ? v : v.reshape(globalThis.Array.from({ length: r }, (_, i) => (i === a ? -1 : 1)));
}

/**
 * Batch normalisation, Keras' `BatchNormalization`: in training, y = γ·(x − μ_B)/√(σ²_B + ε) + β
 * with the batch mean and (biased) variance over every axis but `axis`, and the moving
 * statistics updated as moving·momentum + batch·(1 − momentum); at inference, the moving
 * statistics are used. State: `mean` (init 0) and `var` (init 1); params: `scale` (γ, init 1)
 * and `bias` (β, init 0).
 */
export function batchNorm(opts: BatchNormOptions = {}): Module {
  const momentum = opts.momentum ?? 0.99;
  const epsilon = opts.epsilon ?? 1e-3;
  const axis = opts.axis ?? -1;
  const center = opts.center ?? true;
  const scale = opts.scale ?? true;
  const betaInit = initOf(opts.betaInit, zeros);
  const gammaInit = initOf(opts.gammaInit, ones);
  return module({
    kind: "batchNorm",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { momentum, epsilon, axis, center, scale },
    init: (key, x) => {
      checkInput(x, { minRank: 1 });
      const c = x.shape[featureAxis("batchNorm", axis, x.shape.length)] as number;
      const params: Record<string, Array> = {};
      if (scale) params.scale = gammaInit(key, [c], x.dtype);
      if (center) params.bias = betaInit(key, [c], x.dtype);
      return { params, state: { mean: np.zeros([c], { dtype: x.dtype }), var: np.ones([c], { dtype: x.dtype }) } };
    },
    apply: (vars, x, opts) => {
      const movingMean = stateEntry(vars, "mean");
      const movingVar = stateEntry(vars, "var");
      const c = movingMean.shape[0] as number;
      const r = x.ndim;
      checkInput(x, { minRank: 1 });
      const a = featureAxis("batchNorm", axis, r);
      if (x.shape[a] !== c) {
        throw new ShapeError(`expected ${c} features on axis ${axis}, got shape ${fmt(x.shape)}`);
      }
      let mean = movingMean;
      let variance = movingVar;
      let state = vars.state;
      if (opts.train) {
        const axes = globalThis.Array.from({ length: r }, (_, i) => i).filter((i) => i !== a);
        if (axes.length === 0) {
          throw new ShapeError(`in training, batch norm needs a batch axis: got one example of shape ${fmt(x.shape)}`);
        }
        mean = x.mean(axes);
        variance = np.square(x.sub(along(mean, a, r))).mean(axes);
        state = {
          mean: movingMean.mul(momentum).add(mean.mul(1 - momentum)),
          var: movingVar.mul(momentum).add(variance.mul(1 - momentum)),
        };
      }
      let k = np.rsqrt(variance.add(epsilon));
      if (scale) k = k.mul(param(vars, "scale"));
      let y = x.sub(along(mean, a, r)).mul(along(k, a, r));
      if (center) y = y.add(along(param(vars, "bias"), a, r));
      return [y, state];
    },
  });
}

export interface LayerNormOptions {
  /** Default 1e-6 (Flax). */
  readonly epsilon?: number;
  /** The axes normalised over (default −1). */
  readonly axis?: number | readonly number[];
  readonly center?: boolean;
  readonly scale?: boolean;
  readonly name?: string;
}

/**
 * Layer normalisation (Ba et al. 2016): y = γ·(x − μ)/√(σ² + ε) + β with the mean and (biased)
 * variance of each example over `axis` (default the last); γ and β have the shape of those axes.
 */
export function layerNorm(opts: LayerNormOptions = {}): Module {
  const epsilon = opts.epsilon ?? 1e-6;
  const axisOpt = opts.axis ?? -1;
  const center = opts.center ?? true;
  const scale = opts.scale ?? true;
  const axesOf = (r: number): number[] =>
    (typeof axisOpt === "number" ? [axisOpt] : [...axisOpt]).map((ax) => featureAxis("layerNorm", ax, r)).sort();
  return module({
    kind: "layerNorm",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { epsilon, axis: axisOpt, center, scale },
    init: (_key, x) => {
      checkInput(x, { minRank: 1 });
      const axes = axesOf(x.shape.length);
      const shape = axes.map((a) => x.shape[a] as number);
      const params: Record<string, Array> = {};
      if (scale) params.scale = np.ones(shape, { dtype: x.dtype });
      if (center) params.bias = np.zeros(shape, { dtype: x.dtype });
      return { params, state: {} };
    },
    apply: (vars, x) => {
      checkInput(x, { minRank: 1 });
      const r = x.ndim;
      const axes = axesOf(r);
      const mean = x.mean(axes, { keepdims: true });
      const centred = x.sub(mean);
      const variance = np.square(centred).mean(axes, { keepdims: true });
      let y = centred.mul(np.rsqrt(variance.add(epsilon)));
      // γ and β [shape of axes] broadcast over the other axes.
      const shaped = (v: Array): Array => {
        const want = axes.map((a) => x.shape[a] as number);
        if (v.shape.join() !== want.join()) {
          throw new ShapeError(`expected params of shape ${fmt(want)} for input ${fmt(x.shape)}, got ${fmt(v.shape)}`);
        }
        return v.reshape(
          globalThis.Array.from({ length: r }, (_, i) => (axes.includes(i) ? (x.shape[i] as number) : 1)),
        );
      };
      if (scale) y = y.mul(shaped(param(vars, "scale")));
      if (center) y = y.add(shaped(param(vars, "bias")));
      return [y, vars.state];
    },
  });
}
