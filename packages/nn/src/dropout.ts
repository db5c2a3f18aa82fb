/**
 * Stochastic regularisation layers: `dropout` (inverted: kept units scale by 1/(1 − rate), so
 * inference is the identity) and `alphaDropout` (keeps SELU's zero mean and unit variance).
 * Both are on with `train: true` or `mcDropout: true` and need `key` then; layer i of a
 * sequential gets `foldIn(key, i)`.
 */
import { type Array, np, random, ShapeError, WebjaxError } from "@webjax/core";
import { SELU_ALPHA, SELU_SCALE } from "./activations.js";
import { type ApplyOptions, type Module, module } from "./module.js";

function checkRate(op: string, rate: number): void {
  if (!(rate >= 0 && rate < 1)) throw new ShapeError(`${op}: rate must be in [0, 1), got ${rate}`);
}

/** The key of a stochastic layer that is on, or an error saying how to pass one. */
export function layerKey(op: string, opts: ApplyOptions): Array {
  if (opts.key === undefined) {
    const mode = opts.train ? "train: true" : "mcDropout: true";
    throw new WebjaxError(`${op} with ${mode} needs a PRNG key: apply(variables, x, { ${mode}, key })`);
  }
  return opts.key;
}

/** Which dims the mask varies along: all, or those not in `broadcastDims` (Flax's). */
function maskShape(x: Array, broadcastDims: readonly number[]): number[] {
  const r = x.ndim;
  const b = new Set(broadcastDims.map((d) => (d < 0 ? d + r : d)));
  return x.shape.map((n, i) => (b.has(i) ? 1 : n));
}

/** The keep mask of a dropout layer that is on (train or mcDropout, rate > 0), else null. */
function keepMask(op: string, x: Array, o: ApplyOptions, rate: number, broadcastDims: readonly number[]): Array | null {
  if (!(o.train || o.mcDropout) || rate === 0) return null;
  return random.bernoulli(layerKey(op, o), 1 - rate, maskShape(x, broadcastDims));
}

export interface DropoutOptions {
  /** Dims along which one mask value is shared (Flax's `broadcast_dims`; e.g. [1, 2] for spatial dropout of NHWC). */
  readonly broadcastDims?: readonly number[];
  readonly name?: string;
}

/** Inverted dropout (Srivastava et al. 2014): each unit is zeroed with probability `rate` and the rest scale by 1/(1 − rate). */
export function dropout(rate: number, opts: DropoutOptions = {}): Module {
  checkRate("dropout", rate);
  const broadcastDims = opts.broadcastDims ?? [];
  return module({
    kind: "dropout",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { rate },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x, o) => {
      const keep = keepMask("dropout", x, o, rate, broadcastDims);
      return [keep ? np.where(keep, x.div(1 - rate), 0) : x, vars.state];
    },
  });
}

/**
 * Alpha dropout (Klambauer et al. 2017): dropped units are set to SELU's negative saturation
 * α' = −λα, then y = a·x + b with a = ((1 − p)(1 + p·α'²))^(−1/2) and b = −a·α'·p, so a
 * standard-normal input keeps mean 0 and variance 1 (Keras' AlphaDropout).
 */
export function alphaDropout(rate: number, opts: DropoutOptions = {}): Module {
  checkRate("alphaDropout", rate);
  const alphaP = -SELU_ALPHA * SELU_SCALE;
  const a = ((1 - rate) * (1 + rate * alphaP * alphaP)) ** -0.5;
  const b = -a * alphaP * rate;
  const broadcastDims = opts.broadcastDims ?? [];
  return module({
    kind: "alphaDropout",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { rate },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x, o) => {
      const keep = keepMask("alphaDropout", x, o, rate, broadcastDims);
      return [keep ? np.where(keep, x, alphaP).mul(a).add(b) : x, vars.state];
    },
  });
}
