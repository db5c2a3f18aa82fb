/**
 * Smith's learning-rate range test (Smith 2017, §3.3; the lectures' way to pick the peak of
 * 1cycle): train from `minLr`, multiplying the learning rate by a constant factor every step up
 * to `maxLr`, record the loss (exponentially smoothed, bias-corrected), and stop once it
 * diverges (the smoothed loss passes `divergeFactor` × the best so far, or is not finite).
 */
import { Array, jit, np, tree, valueAndGrad, WebjaxError } from "@webjax/core";
import { sgd } from "./aliases.js";
import { applyUpdates, type GradientTransformation, type Params, treeMap } from "./base.js";

export interface LrRangeOptions {
  minLr?: number;
  maxLr?: number;
  /** Steps from minLr to maxLr (default 100). */
  steps?: number;
  /** The smoothing β of the loss's moving average (default 0.98, as fastai's finder). */
  smoothing?: number;
  /** Stop when the smoothed loss exceeds this × the best (default 4). */
  divergeFactor?: number;
  /** The optimiser, built from the learning rate (a scalar array); default plain SGD. */
  optimizer?: (learningRate: Array) => GradientTransformation;
}

export interface LrRangeResult {
  /** The learning rate of each step taken. */
  readonly lrs: number[];
  /** The smoothed loss after each step. */
  readonly losses: number[];
  /** The raw loss of each step. */
  readonly rawLosses: number[];
  /** The learning rate at the lowest smoothed loss. */
  readonly minLossLr: number;
  /** A tenth of it: "about 10 times lower than the turning point", the peak to give 1cycle. */
  readonly suggestedLr: number;
  /** Whether the run stopped on divergence (otherwise it reached maxLr). */
  readonly diverged: boolean;
}

/**
 * Runs the range test on a copy of `params` (the caller's are untouched): `lossFn(params, batch)`
 * over `data` (batches used in turn, or a function of the step).
 */
export async function lrRangeTest<P extends Params, B>(
  lossFn: (params: P, batch: B) => Array,
  params: P,
  data: readonly B[] | ((step: number) => B),
  opts: LrRangeOptions = {},
): Promise<LrRangeResult> {
  const minLr = opts.minLr ?? 1e-7;
  const maxLr = opts.maxLr ?? 10;
  const steps = opts.steps ?? 100;
  const beta = opts.smoothing ?? 0.98;
  const diverge = opts.divergeFactor ?? 4;
  if (!(minLr > 0 && maxLr > minLr))
    throw new WebjaxError(`lrRangeTest: need 0 < minLr < maxLr, got ${minLr} and ${maxLr}`);
  if (!Number.isInteger(steps) || steps < 2)
    throw new WebjaxError(`lrRangeTest: steps must be an integer ≥ 2, got ${steps}`);
  if (typeof data !== "function" && data.length === 0) throw new WebjaxError("lrRangeTest: no batches");
  const batchAt = (i: number): B => (typeof data === "function" ? data(i) : (data[i % data.length] as B));
  const factor = (maxLr / minLr) ** (1 / (steps - 1));
  const make = opts.optimizer ?? ((lr: Array) => sgd(lr));
  let p = treeMap((x) => np.array(x), params) as P;
  const lr0 = np.array(minLr);
  let state = make(lr0).init(p);
  lr0.dispose();
  // The learning rate is a traced argument (a JS number): one program for the whole ramp.
  const step = jit(
    (q: P, s: unknown, batch: B, lr: number) => {
      const [loss, g] = valueAndGrad((r: P) => lossFn(r, batch))(q);
      const [u, s2] = make(np.asarray(lr)).update(g, s, q);
      return [loss, applyUpdates(q, u), s2] as const;
    },
    { donateArgnums: [0, 1] },
  );
  const lrs: number[] = [];
  const losses: number[] = [];
  const rawLosses: number[] = [];
  let avg = 0;
  let best = Number.POSITIVE_INFINITY;
  let diverged = false;
  for (let i = 0; i < steps; i++) {
    const lr = minLr * factor ** i;
    const [l, next, s2] = step(p, state, batchAt(i), lr);
    p = next;
    state = s2;
    const raw = await l.item();
    l.dispose();
    avg = beta * avg + (1 - beta) * raw;
    const smooth = avg / (1 - beta ** (i + 1));
    lrs.push(lr);
    rawLosses.push(raw);
    losses.push(smooth);
    if (!Number.isFinite(smooth) || (i > 0 && smooth > diverge * best)) {
      diverged = true;
      break;
    }
    best = Math.min(best, smooth);
  }
  for (const x of [...(tree.leaves(p) as unknown[]), ...(tree.leaves(state) as unknown[])]) {
    if (x instanceof Array) x.dispose();
  }
  let k = 0;
  losses.forEach((v, i) => {
    if (v < (losses[k] as number)) k = i;
  });
  const minLossLr = lrs[k] as number;
  return { lrs, losses, rawLosses, minLossLr, suggestedLr: minLossLr / 10, diverged };
}
