/**
 * Activations with parameters or randomness, as layers: `prelu` and `srelu` (learnable),
 * `rrelu` (a random slope in training), `maxout` (the max over groups of features).
 */
import { np, random, ShapeError } from "@webjax/core";
import { layerKey } from "./dropout.js";
import { type Initializer, ones, uniform, zeros } from "./initializers.js";
import { checkInput, fmt, initOf, param, positiveInt } from "./layer-options.js";
import { type Module, module } from "./module.js";

/** The per-example param shape of an input: its shape without the batch axis, 1 on `sharedAxes` (Keras'). */
function paramShape(x: { shape: readonly number[] }, sharedAxes: readonly number[]): number[] {
  const r = x.shape.length;
  const shared = new Set(sharedAxes.map((a) => (a < 0 ? a + r : a)));
  return x.shape.slice(1).map((n, i) => (shared.has(i + 1) ? 1 : n));
}

export interface PreluOptions {
  /** The slopes' initialiser (default zeros, Keras'; PyTorch starts at 0.25: `nn.initializers.constant(0.25)`). */
  readonly alphaInit?: Initializer | string;
  /** Axes sharing one slope (e.g. [1, 2] for one slope per channel of NHWC). Default none. */
  readonly sharedAxes?: readonly number[];
  readonly name?: string;
}

/**
 * Parametric ReLU (He et al. 2015): y = max(0, x) + α·min(0, x) with a learned α per element of
 * an example (params `alpha`, the input's shape without the batch axis, 1 on `sharedAxes`).
 */
export function prelu(opts: PreluOptions = {}): Module {
  const init = initOf(opts.alphaInit, zeros);
  const shared = opts.sharedAxes ?? [];
  return module({
    kind: "prelu",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: {},
    init: (key, x) => {
      checkInput(x, { minRank: 2, expected: "[N, ...features]" });
      return { params: { alpha: init(key, paramShape(x, shared), x.dtype) }, state: {} };
    },
    apply: (vars, x) => {
      const alpha = param(vars, "alpha");
      return [np.maximum(x, 0).add(alpha.mul(np.minimum(x, 0))), vars.state];
    },
  });
}

export interface SreluOptions {
  readonly tLeftInit?: Initializer | string;
  readonly aLeftInit?: Initializer | string;
  readonly tRightInit?: Initializer | string;
  readonly aRightInit?: Initializer | string;
  readonly sharedAxes?: readonly number[];
  readonly name?: string;
}

/**
 * S-shaped ReLU (Jin et al. 2016): three linear pieces with learned thresholds and slopes,
 * y = t_l + a_l·(x − t_l) for x ≤ t_l, x between, and t_r + a_r·(x − t_r) for x ≥ t_r, where
 * t_r = t_l + |tRight| keeps the thresholds ordered. Initialisation as keras-contrib's: t_l = 0,
 * a_l ~ U[0, 1), tRight ~ U[0, 5), a_r = 1.
 */
export function srelu(opts: SreluOptions = {}): Module {
  const inits = {
    tLeft: initOf(opts.tLeftInit, zeros),
    aLeft: initOf(opts.aLeftInit, uniform(1)),
    tRight: initOf(opts.tRightInit, uniform(5)),
    aRight: initOf(opts.aRightInit, ones),
  };
  const shared = opts.sharedAxes ?? [];
  return module({
    kind: "srelu",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: {},
    init: (key, x) => {
      checkInput(x, { minRank: 2, expected: "[N, ...features]" });
      const s = paramShape(x, shared);
      const params = Object.fromEntries(
        Object.entries(inits).map(([k, f], i) => [k, f(random.foldIn(key, i), s, x.dtype)]),
      );
      return { params, state: {} };
    },
    apply: (vars, x) => {
      const tl = param(vars, "tLeft");
      const al = param(vars, "aLeft");
      const tr = tl.add(np.abs(param(vars, "tRight")));
      const ar = param(vars, "aRight");
      const left = tl.add(al.mul(x.sub(tl)));
      const right = tr.add(ar.mul(x.sub(tr)));
      return [np.where(x.lessEqual(tl), left, np.where(x.greaterEqual(tr), right, x)), vars.state];
    },
  });
}

/**
 * Randomised leaky ReLU (Xu et al. 2015): in training each negative element gets a slope drawn
 * from U[lower, upper); at inference the mean slope (lower + upper)/2. Defaults 1/8 and 1/3 (PyTorch's).
 */
export function rrelu(opts: { lower?: number; upper?: number; name?: string } = {}): Module {
  const lower = opts.lower ?? 1 / 8;
  const upper = opts.upper ?? 1 / 3;
  if (!(lower <= upper)) throw new ShapeError(`rrelu: needs lower ≤ upper, got ${lower} and ${upper}`);
  return module({
    kind: "rrelu",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { lower, upper },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x, o) => {
      const slope = o.train
        ? random.uniform(layerKey("rrelu", o), x.shape, { minval: lower, maxval: upper })
        : (lower + upper) / 2;
      return [np.where(x.greaterEqual(0), x, x.mul(slope)), vars.state];
    },
  });
}

/**
 * Maxout (Goodfellow et al. 2013) over the last axis: its C features split into C/k groups of
 * `k` consecutive features, each replaced by its max ([..., C] → [..., C/k]). Put it after a
 * dense layer of k·units features.
 */
export function maxout(k: number, opts: { name?: string } = {}): Module {
  positiveInt("maxout", "k", k);
  return module({
    kind: "maxout",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { k },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x) => {
      const c = x.shape[x.ndim - 1] as number;
      if (x.ndim < 1 || c % k !== 0) {
        throw new ShapeError(`expected a last axis that divides into groups of ${k}, got shape ${fmt(x.shape)}`);
      }
      return [x.reshape([...x.shape.slice(0, -1), c / k, k]).max(-1), vars.state];
    },
  });
}
