/**
 * Learning-rate schedules: pure functions of the step count. A JS number in gives a JS number
 * out (computed in float64); an int32 array in (the count in an optimiser's state, under jit; or
 * any array of steps, elementwise) gives a float32 array out, computed with traced ops. Formulas
 * and parameters are optax's.
 */
import { type Array, np, WebjaxError } from "@webjax/core";
import type { Schedule } from "./base.js";

type Num = number | Array;

const isNum = (x: Num): x is number => typeof x === "number";
const f32 = (x: Num): Num => (isNum(x) ? x : x.dtype === "float32" ? x : x.astype("float32"));
const add = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? a + b : np.add(f32(a), f32(b)));
const sub = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? a - b : np.subtract(f32(a), f32(b)));
const mul = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? a * b : np.multiply(f32(a), f32(b)));
const div = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? a / b : np.divide(f32(a), f32(b)));
const pow = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? a ** b : np.power(f32(a), f32(b)));
const minimum = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? Math.min(a, b) : np.minimum(f32(a), f32(b)));
const maximum = (a: Num, b: Num): Num => (isNum(a) && isNum(b) ? Math.max(a, b) : np.maximum(f32(a), f32(b)));
const clipTo = (x: Num, lo: number, hi: number): Num => minimum(maximum(x, lo), hi);
const floor = (x: Num): Num => (isNum(x) ? Math.floor(x) : np.floor(f32(x)));
const cos = (x: Num): Num => (isNum(x) ? Math.cos(x) : np.cos(f32(x)));
/** cond ? a : b, with cond a JS boolean or a bool array. */
const where = (cond: boolean | Array, a: Num, b: Num): Num =>
  typeof cond === "boolean" ? (cond ? a : b) : np.where(cond, f32(a), f32(b));
const less = (a: Num, b: number): boolean | Array => (isNum(a) ? a < b : a.less(b));
const lessEqual = (a: Num, b: number): boolean | Array => (isNum(a) ? a <= b : a.lessEqual(b));

/** `{ boundary: scale }` as [boundary, scale] pairs in step order; scales must be non-negative. */
function boundaryScales(op: string, boundariesAndScales: Record<number, number>): (readonly [number, number])[] {
  const entries = Object.entries(boundariesAndScales)
    .map(([b, s]) => [Number(b), s] as const)
    .sort((a, b) => a[0] - b[0]);
  if (entries.some(([, s]) => s < 0)) throw new WebjaxError(`${op}: scale factors must be non-negative`);
  return entries;
}

/** The same value at every step (optax.constant_schedule). */
export function constantSchedule(value: number): Schedule {
  return (count) => (isNum(count) ? value : np.fullLike(count, value, "float32"));
}

/**
 * (init − end)·(1 − min(max(t − begin, 0), steps)/steps)^power + end (optax.polynomial_schedule);
 * constant at init for steps ≤ 0.
 */
export function polynomialSchedule(
  initValue: number,
  endValue: number,
  power: number,
  transitionSteps: number,
  opts: { transitionBegin?: number } = {},
): Schedule {
  if (transitionSteps <= 0) return constantSchedule(initValue);
  const begin = Math.max(0, opts.transitionBegin ?? 0);
  return (count) => {
    const t = clipTo(sub(count, begin), 0, transitionSteps);
    const frac = sub(1, div(t, transitionSteps));
    return add(mul(initValue - endValue, pow(frac, power)), endValue);
  };
}

/** Linear from init to end over `transitionSteps` (optax.linear_schedule: polynomial with power 1). */
export function linearSchedule(
  initValue: number,
  endValue: number,
  transitionSteps: number,
  opts: { transitionBegin?: number } = {},
): Schedule {
  return polynomialSchedule(initValue, endValue, 1, transitionSteps, opts);
}

/**
 * init · rate^((t − begin)/steps) (optax.exponential_decay; `staircase` floors the exponent;
 * `endValue` bounds it). The lectures' exponential scheduling η0·0.1^(t/s) is
 * `exponentialDecay(η0, s, 0.1)`.
 */
export function exponentialDecay(
  initValue: number,
  transitionSteps: number,
  decayRate: number,
  opts: { transitionBegin?: number; staircase?: boolean; endValue?: number } = {},
): Schedule {
  if (transitionSteps <= 0 || decayRate === 0) return constantSchedule(initValue);
  const begin = Math.max(0, opts.transitionBegin ?? 0);
  const end = opts.endValue;
  return (count) => {
    const dec = sub(count, begin);
    let p = div(dec, transitionSteps);
    if (opts.staircase) p = floor(p);
    let v = where(lessEqual(dec, 0), initValue, mul(initValue, pow(decayRate, p)));
    if (end !== undefined) v = decayRate < 1 ? maximum(v, end) : minimum(v, end);
    return v;
  };
}

/**
 * η0 / (1 + t/s)^c: power scheduling (the lectures' name; Keras' InverseTimeDecay with c = 1).
 * Not in optax; defined here with its formula.
 */
export function powerDecay(initValue: number, steps: number, power = 1): Schedule {
  if (!(steps > 0)) throw new WebjaxError(`powerDecay: steps must be positive, got ${steps}`);
  return (count) => div(initValue, pow(add(1, div(count, steps)), power));
}

/**
 * init, multiplied by each scale once the step passes its boundary (optax.piecewise_constant_schedule):
 * `piecewiseConstantSchedule(0.1, { 1000: 0.1, 2000: 0.1 })` is 0.1, 0.01 from step 1000, 0.001 from 2000.
 */
export function piecewiseConstantSchedule(
  initValue: number,
  boundariesAndScales: Record<number, number> = {},
): Schedule {
  const entries = boundaryScales("piecewiseConstantSchedule", boundariesAndScales);
  return (count) => {
    let v: Num = initValue;
    // optax's indicator max(0, sign(b − t)): the scale applies from step b on.
    for (const [b, s] of entries) v = where(less(count, b), v, mul(v, s));
    return v;
  };
}

/**
 * init·((1 − α)·(½(1 + cos(π·min(t, steps)/steps)))^exponent + α) (optax.cosine_decay_schedule;
 * Loshchilov & Hutter 2017's SGDR without restarts).
 */
export function cosineDecaySchedule(
  initValue: number,
  decaySteps: number,
  opts: { alpha?: number; exponent?: number } = {},
): Schedule {
  if (!(decaySteps > 0)) throw new WebjaxError(`cosineDecaySchedule: decaySteps must be positive, got ${decaySteps}`);
  const alpha = opts.alpha ?? 0;
  const exponent = opts.exponent ?? 1;
  return (count) => {
    const t = minimum(count, decaySteps);
    const c = mul(0.5, add(1, cos(div(mul(Math.PI, t), decaySteps))));
    return mul(initValue, add(mul(1 - alpha, pow(c, exponent)), alpha));
  };
}

/** schedules[0] until boundaries[0], then schedules[1] of (t − boundaries[0]), … (optax.join_schedules). */
export function joinSchedules(schedules: readonly Schedule[], boundaries: readonly number[]): Schedule {
  if (schedules.length !== boundaries.length + 1) {
    throw new WebjaxError(
      `joinSchedules: ${schedules.length} schedules need ${schedules.length - 1} boundaries, got ${boundaries.length}`,
    );
  }
  return (count) => {
    let out = (schedules[0] as Schedule)(count);
    boundaries.forEach((b, i) => {
      out = where(less(count, b), out, (schedules[i + 1] as Schedule)(sub(count, b)));
    });
    return out;
  };
}

/** Linear warm-up from init to peak, then cosine decay to end (optax.warmup_cosine_decay_schedule). */
export function warmupCosineDecaySchedule(
  initValue: number,
  peakValue: number,
  warmupSteps: number,
  decaySteps: number,
  opts: { endValue?: number; exponent?: number } = {},
): Schedule {
  const end = opts.endValue ?? 0;
  const alpha = peakValue === 0 ? 0 : end / peakValue;
  return joinSchedules(
    [
      linearSchedule(initValue, peakValue, warmupSteps),
      cosineDecaySchedule(peakValue, decaySteps - warmupSteps, { alpha, exponent: opts.exponent ?? 1 }),
    ],
    [warmupSteps],
  );
}

/**
 * Interpolates between the cumulative products of init and the scales at the boundaries,
 * linearly or by a half cosine (optax.piecewise_interpolate_schedule).
 */
export function piecewiseInterpolateSchedule(
  interpolateType: "linear" | "cosine",
  initValue: number,
  boundariesAndScales: Record<number, number> = {},
): Schedule {
  const entries = boundaryScales("piecewiseInterpolateSchedule", boundariesAndScales);
  const bounds = [0, ...entries.map(([b]) => b)];
  const values = [initValue];
  for (const [, s] of entries) values.push((values[values.length - 1] as number) * s);
  const interp = (a: number, b: number, pct: Num): Num =>
    interpolateType === "linear" ? add(mul(b - a, pct), a) : add(b, mul((a - b) / 2, add(cos(mul(Math.PI, pct)), 1)));
  return (count) => {
    // Past the last boundary: the last value; inside interval i: interpolate over it.
    let out: Num = values[values.length - 1] as number;
    for (let i = bounds.length - 2; i >= 0; i--) {
      const lo = bounds[i] as number;
      const hi = bounds[i + 1] as number;
      const pct = div(sub(count, lo), Math.max(hi - lo, 1));
      out = where(less(count, hi), interp(values[i] as number, values[i + 1] as number, pct), out);
    }
    return out;
  };
}

/**
 * Smith's 1cycle with linear pieces (optax.linear_onecycle_schedule): from peak/div up to peak
 * at pctStart·T, back to peak/div at pctFinal·T, then down to peak/(div·finalDiv) at T.
 */
export function linearOnecycleSchedule(
  transitionSteps: number,
  peakValue: number,
  opts: { pctStart?: number; pctFinal?: number; divFactor?: number; finalDivFactor?: number } = {},
): Schedule {
  if (transitionSteps <= 0) throw new WebjaxError("linearOnecycleSchedule: transitionSteps must be positive");
  const div0 = opts.divFactor ?? 25;
  return piecewiseInterpolateSchedule("linear", peakValue / div0, {
    [Math.trunc((opts.pctStart ?? 0.3) * transitionSteps)]: div0,
    [Math.trunc((opts.pctFinal ?? 0.85) * transitionSteps)]: 1 / div0,
    [transitionSteps]: 1 / (opts.finalDivFactor ?? 1e4),
  });
}

/**
 * Smith's 1cycle with cosine pieces (optax.cosine_onecycle_schedule): from peak/div up to peak at
 * pctStart·T, then down to peak/(div·finalDiv) at T.
 */
export function cosineOnecycleSchedule(
  transitionSteps: number,
  peakValue: number,
  opts: { pctStart?: number; divFactor?: number; finalDivFactor?: number } = {},
): Schedule {
  if (transitionSteps <= 0) throw new WebjaxError("cosineOnecycleSchedule: transitionSteps must be positive");
  const div0 = opts.divFactor ?? 25;
  return piecewiseInterpolateSchedule("cosine", peakValue / div0, {
    [Math.trunc((opts.pctStart ?? 0.3) * transitionSteps)]: div0,
    [transitionSteps]: 1 / (div0 * (opts.finalDivFactor ?? 1e4)),
  });
}

/** Linear warm-up from init to peak over warmupSteps, then peak (optax.warmup_constant_schedule). */
export function warmupConstantSchedule(initValue: number, peakValue: number, warmupSteps: number): Schedule {
  return linearSchedule(initValue, peakValue, warmupSteps);
}

/** Linear warm-up to peak, then exponentialDecay from peak (optax.warmup_exponential_decay_schedule). */
export function warmupExponentialDecaySchedule(
  initValue: number,
  peakValue: number,
  warmupSteps: number,
  transitionSteps: number,
  decayRate: number,
  opts: { transitionBegin?: number; staircase?: boolean; endValue?: number } = {},
): Schedule {
  return joinSchedules(
    [linearSchedule(initValue, peakValue, warmupSteps), exponentialDecay(peakValue, transitionSteps, decayRate, opts)],
    [warmupSteps],
  );
}

/** One cycle of SGDR: warmupCosineDecaySchedule's arguments. */
export interface CosineCycle {
  initValue: number;
  peakValue: number;
  warmupSteps: number;
  decaySteps: number;
  endValue?: number;
  exponent?: number;
}

/**
 * SGDR, warm restarts (Loshchilov & Hutter 2017; optax.sgdr_schedule): warm-up-and-cosine cycles
 * one after another, each restarting at its own decaySteps.
 */
export function sgdrSchedule(cycles: readonly CosineCycle[]): Schedule {
  const schedules: Schedule[] = [];
  const boundaries: number[] = [];
  let step = 0;
  for (const c of cycles) {
    const o: { endValue?: number; exponent?: number } = {};
    if (c.endValue !== undefined) o.endValue = c.endValue;
    if (c.exponent !== undefined) o.exponent = c.exponent;
    schedules.push(warmupCosineDecaySchedule(c.initValue, c.peakValue, c.warmupSteps, c.decaySteps, o));
    step += c.decaySteps;
    boundaries.push(step);
  }
  return joinSchedules(schedules, boundaries.slice(0, -1));
}

/**
 * Cyclical learning rates (Smith 2017, "Cyclical learning rates for training neural networks"):
 * a triangle between base and max with a half-period of `stepSize` steps. `triangular2` halves
 * the amplitude every cycle; `expRange` scales it by gamma^t. Not in optax; defined by the
 * paper's formulas: cycle = ⌊1 + t/(2s)⌋, x = |t/s − 2·cycle + 1|,
 * lr = base + (max − base)·max(0, 1 − x)·scale.
 */
export function cyclicalSchedule(
  baseValue: number,
  maxValue: number,
  stepSize: number,
  opts: { mode?: "triangular" | "triangular2" | "expRange"; gamma?: number } = {},
): Schedule {
  if (!(stepSize > 0)) throw new WebjaxError(`cyclicalSchedule: stepSize must be positive, got ${stepSize}`);
  const mode = opts.mode ?? "triangular";
  const gamma = opts.gamma ?? 1;
  return (count) => {
    const cycle = floor(add(1, div(count, 2 * stepSize)));
    const t = div(count, stepSize);
    const x0 = sub(t, sub(mul(2, cycle), 1));
    const x = isNum(x0) ? Math.abs(x0) : np.abs(x0);
    let scale: Num = 1;
    if (mode === "triangular2") scale = div(1, pow(2, sub(cycle, 1)));
    else if (mode === "expRange") scale = pow(gamma, count);
    return add(baseValue, mul(mul(maxValue - baseValue, maximum(0, sub(1, x))), scale));
  };
}
