/**
 * Wrappers around a transformation: skip non-finite steps (optax.apply_if_finite), accumulate
 * gradients over k mini-batches (optax.MultiSteps), scale by a performance schedule
 * (optax.contrib.reduce_on_plateau), and the max-norm constraint. optax branches with lax.cond;
 * here both sides are computed and selected with `where` (they are pure), until control flow.
 */
import { type Array, np, tree, WebjaxError } from "@webjax/core";
import {
  castLike,
  type Extra,
  type GradientTransformation,
  type OptState,
  safeIncrement,
  treeMap,
  zeroCount,
} from "./base.js";
import { backendOf } from "./placement.js";

/** `cond ? a : b` over matching pytrees of arrays (cond a bool scalar array). */
function select<T>(cond: Array, a: T, b: T): T {
  return treeMap((x, y) => castLike(np.where(cond, x, y), y), a, b) as T;
}

/** State of applyIfFinite. */
export interface ApplyIfFiniteState {
  readonly notfiniteCount: Array;
  readonly lastFinite: Array;
  readonly totalNotfinite: Array;
  readonly innerState: OptState;
}

/**
 * `inner`, except that a step whose updates hold a NaN or ±Inf is skipped — zero updates, the
 * inner state unchanged — and counted (optax.apply_if_finite); after more than
 * `maxConsecutiveErrors` bad steps in a row the update goes through.
 */
export function applyIfFinite(
  inner: GradientTransformation,
  maxConsecutiveErrors: number,
): GradientTransformation<ApplyIfFiniteState> {
  return {
    init: (params) => ({
      notfiniteCount: zeroCount(params),
      lastFinite: zeroCount(params).equal(0),
      totalNotfinite: zeroCount(params),
      innerState: inner.init(params),
    }),
    update: (updates, state, params, extra) => {
      const leaves = tree.leaves(updates) as Array[];
      const finite = leaves.map((x) => np.all(np.isfinite(x))).reduce((a, b) => np.logicalAnd(a, b), np.array(true));
      const notfiniteCount = np.where(finite, 0, safeIncrement(state.notfiniteCount)).astype("int32");
      const apply = np.logicalOr(finite, notfiniteCount.greater(maxConsecutiveErrors));
      const [u, s] = inner.update(updates, state.innerState, params, extra);
      return [
        treeMap((x) => np.where(apply, x, np.zerosLike(x)), u) as typeof updates,
        {
          notfiniteCount,
          lastFinite: finite,
          totalNotfinite: np.where(finite, state.totalNotfinite, safeIncrement(state.totalNotfinite)).astype("int32"),
          innerState: select(apply, s, state.innerState),
        },
      ];
    },
  };
}

/** State of multiSteps. */
export interface MultiStepsState {
  readonly miniStep: Array;
  readonly gradientStep: Array;
  readonly innerOptState: OptState;
  readonly accGrads: OptState;
}

/**
 * Gradient accumulation (optax.MultiSteps): the mean of k mini-batches' gradients goes to `opt`
 * every k-th update; the updates in between are exactly zero. `hasUpdated(state)` tells whether
 * the last update was a real one.
 */
export function multiSteps(
  opt: GradientTransformation,
  everyKSteps: number,
): GradientTransformation<MultiStepsState> & { hasUpdated(state: MultiStepsState): Array } {
  if (!Number.isInteger(everyKSteps) || everyKSteps < 1) {
    throw new WebjaxError(`multiSteps: everyKSteps must be a positive integer, got ${everyKSteps}`);
  }
  const k = everyKSteps;
  return {
    init: (params) => ({
      miniStep: zeroCount(params),
      gradientStep: zeroCount(params),
      innerOptState: opt.init(params),
      accGrads: treeMap((p) => np.zerosLike(p), params),
    }),
    update: (updates, state, params, extra) => {
      const n = state.miniStep;
      // The running mean (g + n·acc) / (n + 1).
      const acc = treeMap(
        (g, a) => g.add(n.astype(a.dtype).mul(a)).div(n.add(1).astype(a.dtype)),
        updates,
        state.accGrads,
      );
      const [fin, inner] = opt.update(treeMap(castLike, acc, updates), state.innerOptState, params, extra);
      const emit = n.equal(k - 1);
      const e = emit.astype("int32");
      return [
        treeMap((u) => u.mul(emit.astype(u.dtype)), fin) as typeof updates,
        {
          miniStep: np.mod(safeIncrement(n), k),
          gradientStep: e.mul(safeIncrement(state.gradientStep)).add(np.subtract(1, e).mul(state.gradientStep)),
          innerOptState: select(emit, inner, state.innerOptState),
          accGrads: treeMap((a) => a.mul(np.logicalNot(emit).astype(a.dtype)), acc),
        },
      ];
    },
    hasUpdated: (state) => np.logicalAnd(state.miniStep.equal(0), state.gradientStep.greater(0)),
  };
}

/** State of reduceOnPlateau. */
export interface ReduceOnPlateauState {
  readonly bestValue: Array;
  readonly plateauCount: Array;
  readonly scale: Array;
  readonly cooldownCount: Array;
  readonly count: Array;
  readonly avgValue: Array;
}

export interface ReduceOnPlateauOptions {
  /** The scale's multiplier on a plateau, in (0, 1) (default 0.1). */
  factor?: number;
  /** Updates without improvement before the scale drops (default 10). */
  patience?: number;
  /** Relative improvement that counts (default 1e-4). */
  rtol?: number;
  /** Absolute improvement that counts (default 0). */
  atol?: number;
  /** Updates after a drop before counting resumes (default 0). */
  cooldown?: number;
  /** Values averaged before each check (default 1). */
  accumulationSize?: number;
  /** The scale never goes below this (default 0). */
  minScale?: number;
}

/**
 * Performance scheduling (optax.contrib.reduce_on_plateau; Keras' ReduceLROnPlateau): the updates
 * times a scale that drops by `factor` when the monitored value, passed as `extra.value` (the
 * loss), has not improved on the best by rtol·best + atol for `patience` checks.
 */
export function reduceOnPlateau(opts: ReduceOnPlateauOptions = {}): GradientTransformation<ReduceOnPlateauState> {
  const factor = opts.factor ?? 0.1;
  const patience = opts.patience ?? 10;
  const rtol = opts.rtol ?? 1e-4;
  const atol = opts.atol ?? 0;
  const cooldown = opts.cooldown ?? 0;
  const accumulation = opts.accumulationSize ?? 1;
  const minScale = opts.minScale ?? 0;
  if (!(factor > 0 && factor < 1)) throw new WebjaxError(`reduceOnPlateau: factor must be in (0, 1), got ${factor}`);
  if (rtol < 0 || atol < 0 || (rtol === 0 && atol === 0) || rtol > 1) {
    throw new WebjaxError(
      `reduceOnPlateau: need rtol in [0, 1] and atol ≥ 0, not both zero; got rtol ${rtol}, atol ${atol}`,
    );
  }
  return {
    init: (params) => {
      // Every leaf its own array: a state is donated leaf by leaf.
      const f = () => zeroCount(params).astype("float32");
      return {
        bestValue: f().add(Number.POSITIVE_INFINITY),
        plateauCount: zeroCount(params),
        scale: f().add(1),
        cooldownCount: zeroCount(params),
        count: zeroCount(params),
        avgValue: f(),
      };
    },
    update: (updates, state, _params, extra?: Extra) => {
      const value = extra?.value;
      if (value === undefined) {
        throw new WebjaxError(
          "reduceOnPlateau: pass the monitored value as update(updates, state, params, { value: loss })",
        );
      }
      const v = (typeof value === "number" ? np.array(value) : (value as Array)).astype("float32");
      const newCount = safeIncrement(state.count);
      const avg = state.count.astype("float32").mul(state.avgValue).add(v).div(newCount.astype("float32"));
      // The check, computed always and applied when newCount == accumulationSize.
      const improved = avg.less(state.bestValue.mul(1 - rtol).sub(atol));
      const best = np.where(improved, avg, state.bestValue);
      const plateau = np.where(improved, 0, safeIncrement(state.plateauCount)).astype("int32");
      const inCooldown = state.cooldownCount.greater(0);
      const hit = plateau.equal(patience);
      const checked: ReduceOnPlateauState = {
        bestValue: best,
        plateauCount: np.where(inCooldown, 0, np.where(hit, 0, plateau)).astype("int32"),
        scale: np.where(
          inCooldown,
          state.scale,
          np.maximum(np.where(hit, state.scale.mul(factor), state.scale), minScale),
        ),
        cooldownCount: np.where(inCooldown, state.cooldownCount.sub(1), np.where(hit, cooldown, 0)).astype("int32"),
        count: np.zerosLike(state.count),
        avgValue: np.zerosLike(avg),
      };
      const unchecked: ReduceOnPlateauState = { ...state, count: newCount, avgValue: avg };
      const next = select(newCount.equal(accumulation), checked, unchecked);
      return [treeMap((g) => g.mul(next.scale.astype(g.dtype)), updates) as typeof updates, next];
    },
  };
}

/**
 * The max-norm constraint (Srebro & Shraibman 2005; the lectures' max-norm regularisation,
 * Keras' MaxNorm): after the step, each unit's incoming weights — the norm over `axis` (default
 * 0: a dense kernel's input dim) — are scaled down to at most r. A transformation placed last
 * in a chain: it returns the update that lands the params on the constrained values. Applies to
 * leaves of rank ≥ 2 (kernels); mask it for finer control.
 */
export function maxNorm(r: number, opts: { axis?: number | number[] } = {}): GradientTransformation<null> {
  if (!(r > 0)) throw new WebjaxError(`maxNorm: r must be positive, got ${r}`);
  const axis = opts.axis ?? 0;
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (params === undefined) throw new WebjaxError("maxNorm: update needs the params (its third argument)");
      const out = treeMap(
        (u, p) => {
          if (p.ndim < 2) return u;
          const w = p.add(u);
          const norms = np.sqrt(np.sum(w.square(), { axis, keepdims: true }));
          const scaled = w.mul(np.minimum(1, np.divide(r, np.maximum(norms, 1e-12))));
          return castLike(scaled.sub(p), u);
        },
        updates,
        params,
      );
      return [out as typeof updates, state];
    },
  };
}

/** State of ema. */
export interface EmaState {
  readonly count: Array;
  readonly ema: OptState;
}

/**
 * The exponential moving average of the updates (optax.ema): e ← decay·e + (1−decay)·g, returned
 * bias-corrected (e/(1 − decay^t)) with `debias` (default true).
 */
export function ema(decay: number, opts: { debias?: boolean } = {}): GradientTransformation<EmaState> {
  const debias = opts.debias ?? true;
  return {
    init: (params) => ({ count: zeroCount(params), ema: treeMap((p) => np.zerosLike(p), params) }),
    update: (updates, state) => {
      const e = treeMap((g, m) => g.mul(1 - decay).add(m.mul(decay)), updates, state.ema);
      const count = safeIncrement(state.count);
      const out = debias ? treeMap((m) => m.div(np.subtract(1, np.power(decay, count.astype(m.dtype)))), e) : e;
      return [out, { count, ema: e }];
    },
  };
}

/** State of zeroNans: whether each leaf held a NaN at the last update. */
export interface ZeroNansState {
  readonly foundNan: OptState;
}

/** NaNs in the updates replaced by zeros, each leaf's "found a NaN" kept in the state (optax.zero_nans). */
export function zeroNans(): GradientTransformation<ZeroNansState> {
  return {
    init: (params) => ({ foundNan: treeMap((p) => np.array(false, backendOf(p)), params) }),
    update: (updates) => [
      treeMap((g) => np.where(np.isnan(g), np.zerosLike(g), g), updates),
      { foundNan: treeMap((g) => np.any(np.isnan(g)), updates) },
    ],
  };
}
