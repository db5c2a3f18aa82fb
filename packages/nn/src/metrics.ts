/**
 * `nn.metrics`: classification metrics over arrays, with sklearn's conventions (confusion
 * matrix rows are true classes; a precision, recall or F1 whose denominator is 0 is 0, sklearn's
 * `zero_division` default), and running means that accumulate across batches — a pure
 * `{ init, update, compute }` over a pytree of arrays (so it runs inside `jit`) and a small
 * host-side collector, `RunningMeans`. Everything is array code: no per-element JS loops, and
 * every function but `RunningMeans.compute` works under `jit` and `vmap`.
 */
import { Array, type ArrayLike, np, ShapeError, WebjaxError } from "@webjax/core";

const arr = (x: ArrayLike): Array => (x instanceof Array ? x : np.asarray(x));

/** `[2,3]`, for messages. */
const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;
const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * int32 class labels for `predictions` [..., C]: integer labels of shape [...] as they are (any
 * dtype holding integers), one-hot (or soft) labels of shape [..., C] by their argmax.
 */
function labelsFor(op: string, predictions: Array, labels: Array): Array {
  if (predictions.ndim < 1) throw new ShapeError(`${op}: predictions must have a class axis, got shape []`);
  if (sameShape(labels.shape, predictions.shape)) return np.argmax(labels, -1).astype("int32");
  if (sameShape(labels.shape, predictions.shape.slice(0, -1))) return labels.astype("int32");
  throw new ShapeError(
    `${op}: labels of shape ${fmt(labels.shape)} fit neither predictions ${fmt(predictions.shape)} (one-hot labels) nor ${fmt(predictions.shape.slice(0, -1))} (integer labels)`,
  );
}

/**
 * The fraction of rows whose argmax over the last axis (of logits or probabilities) is the
 * label, as a float32 scalar. `labels` are integer class indices (shape [...]) or one-hot rows
 * (the shape of `predictions`).
 *
 * ```ts
 * nn.metrics.accuracy(np.array([[2, 1], [0, 3]]), np.array([0, 0], "int32")); // 0.5
 * ```
 */
export function accuracy(predictions: ArrayLike, labels: ArrayLike): Array {
  const p = arr(predictions);
  const y = labelsFor("accuracy", p, arr(labels));
  return np.argmax(p, -1).astype("int32").equal(y).astype("float32").mean();
}

/**
 * The fraction of rows whose label is among the k highest scores (a float32 scalar). Ties are
 * broken as `lax.topK` and argmax break them, lower class index first, so `k = 1` is
 * {@link accuracy}: the label's rank is #{j : sⱼ > s_y} + #{j < y : sⱼ = s_y}, and it counts
 * when that rank is below k.
 */
export function topKAccuracy(predictions: ArrayLike, labels: ArrayLike, k: number): Array {
  const p = arr(predictions);
  const y = labelsFor("topKAccuracy", p, arr(labels));
  const c = p.shape[p.ndim - 1] as number;
  if (!Number.isInteger(k) || k < 1 || k > c) {
    throw new ShapeError(`topKAccuracy: k must be an integer in [1, ${c}] (the number of classes), got ${k}`);
  }
  const yk = y.reshape([...y.shape, 1]);
  const own = np.takeAlongAxis(p, yk, -1);
  const before = np
    .arange(c)
    .reshape([...globalThis.Array.from({ length: p.ndim - 1 }, () => 1), c])
    .less(yk);
  const rank = np
    .logicalOr(p.greater(own), np.logicalAnd(p.equal(own), before))
    .astype("int32")
    .sum(-1);
  return rank.less(k).astype("float32").mean();
}

function checkNumClasses(op: string, numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ShapeError(`${op}: numClasses must be a positive integer, got ${numClasses}`);
  }
}

/**
 * The int32 confusion matrix [numClasses, numClasses]: entry (i, j) counts the samples of true
 * class i predicted as j (sklearn's confusion_matrix, rows = true). Both arguments are integer
 * class labels of one shape (any); a pair with a label outside [0, numClasses) is not counted.
 * One scatter-add (bincount of label·C + predicted), exact in int32.
 */
export function confusionMatrix(predictedLabels: ArrayLike, labels: ArrayLike, numClasses: number): Array {
  checkNumClasses("confusionMatrix", numClasses);
  const p = arr(predictedLabels).astype("int32").reshape([-1]);
  const t = arr(labels).astype("int32").reshape([-1]);
  if (p.size !== t.size) {
    throw new ShapeError(
      `confusionMatrix: predicted labels ${fmt(arr(predictedLabels).shape)} and labels ${fmt(arr(labels).shape)} have different sizes`,
    );
  }
  const inRange = (v: Array) => np.logicalAnd(v.greaterEqual(0), v.less(numClasses));
  const cell = np.where(np.logicalAnd(inRange(p), inRange(t)), t.mul(numClasses).add(p), -1);
  return np.bincount(cell, { length: numClasses * numClasses }).reshape([numClasses, numClasses]);
}

/**
 * How per-class scores are combined (sklearn's `average`): "macro" (default), their unweighted
 * mean over all numClasses classes; "weighted", their mean weighted by each class' support;
 * "micro", the score of the pooled counts; "none", the float32 [numClasses] scores themselves.
 */
export type Average = "macro" | "micro" | "weighted" | "none";

/** Options of precision, recall and f1. */
export interface ClassOptions {
  /** The number of classes C: labels are 0 … C − 1. */
  readonly numClasses: number;
  /** How the per-class scores are combined (default "macro"). */
  readonly average?: Average;
}

/** a/b with 0 where b = 0 (sklearn's zero_division default), with no NaN in the gradient either. */
const safeDiv = (a: Array, b: Array): Array => np.where(b.greater(0), a.div(np.where(b.greater(0), b, 1)), 0);

/** A per-class score num/den (with its counts) combined as `average` asks. */
function score(op: string, num: Array, den: Array, support: Array, opts: ClassOptions): Array {
  const average = opts.average ?? "macro";
  switch (average) {
    case "none":
      return safeDiv(num, den);
    case "macro":
      return safeDiv(num, den).mean();
    case "weighted":
      return safeDiv(safeDiv(num, den).mul(support).sum(), support.sum());
    case "micro":
      return safeDiv(num.sum(), den.sum());
    default:
      throw new WebjaxError(
        `${op}: average must be "macro", "micro", "weighted" or "none", got ${JSON.stringify(average)}`,
      );
  }
}

/** True positives, predicted positives (tp + fp) and actual positives (tp + fn) per class, float32. */
function counts(op: string, predicted: ArrayLike, labels: ArrayLike, numClasses: number) {
  checkNumClasses(op, numClasses);
  const cm = confusionMatrix(predicted, labels, numClasses).astype("float32");
  return { tp: np.diagonal(cm), predicted: cm.sum(0), actual: cm.sum(1) };
}

/**
 * Precision tp/(tp + fp) per class (sklearn's precision_score with labels 0 … C − 1), averaged as
 * `average` asks; a class never predicted scores 0. Micro-averaged it is the accuracy.
 */
export function precision(predictedLabels: ArrayLike, labels: ArrayLike, opts: ClassOptions): Array {
  const c = counts("precision", predictedLabels, labels, opts.numClasses);
  return score("precision", c.tp, c.predicted, c.actual, opts);
}

/** Recall tp/(tp + fn) per class (sklearn's recall_score), averaged as asked; a class never present scores 0. */
export function recall(predictedLabels: ArrayLike, labels: ArrayLike, opts: ClassOptions): Array {
  const c = counts("recall", predictedLabels, labels, opts.numClasses);
  return score("recall", c.tp, c.actual, c.actual, opts);
}

/**
 * F1 = 2tp/(2tp + fp + fn) per class — the harmonic mean of precision and recall — averaged as
 * asked (sklearn's f1_score); a class neither present nor predicted scores 0.
 */
export function f1(predictedLabels: ArrayLike, labels: ArrayLike, opts: ClassOptions): Array {
  const c = counts("f1", predictedLabels, labels, opts.numClasses);
  return score("f1", c.tp.mul(2), c.predicted.add(c.actual), c.actual, opts);
}

/** A running mean's state: the weighted total and the total weight (float32 scalars). */
export interface MeanState {
  readonly total: Array;
  readonly count: Array;
}

/** A metric as a pure state machine (as clu's and torchmetrics' functional metrics). */
export interface Metric<S, V> {
  /** The state before any batch. */
  init(): S;
  /** The state after one more batch. */
  update(state: S, value: V, weight?: ArrayLike): S;
  /** The metric's value so far. */
  compute(state: S): Array;
}

/**
 * A running weighted mean as a pure metric: `init()` → `{ total: 0, count: 0 }`;
 * `update(state, value, weight = 1)` adds Σ weight·value and Σ weight over the elements of
 * `value` (a scalar, or an array whose every element counts; `weight` broadcasts against it);
 * `compute(state)` = total/count (0 before any weight). The state is a pytree of arrays, so
 * `update` runs inside a jitted training step.
 *
 * ```ts
 * let s = nn.metrics.mean.init();
 * s = nn.metrics.mean.update(s, loss, batchSize); // per batch, also under jit
 * await nn.metrics.mean.compute(s).item();        // the epoch's mean loss
 * ```
 */
export const mean: Metric<MeanState, ArrayLike> = {
  init(): MeanState {
    return { total: np.zeros([]), count: np.zeros([]) };
  },
  update(state: MeanState, value: ArrayLike, weight: ArrayLike = 1): MeanState {
    const v = arr(value).astype("float32");
    const w = np.broadcastTo(arr(weight).astype("float32"), v.shape);
    return { total: state.total.add(v.mul(w).sum()), count: state.count.add(w.sum()) };
  },
  compute(state: MeanState): Array {
    return safeDiv(state.total, state.count);
  },
};

/**
 * Named running means on the host, for a training loop: `update({ loss, accuracy }, batchSize)`
 * after each step (the sums stay arrays on the device; nothing is read), `await compute()` →
 * `{ loss: 0.31, accuracy: 0.9 }` once per epoch (one read per name), `reset()` between epochs.
 * A name missing from one update simply gets no weight from it.
 */
export class RunningMeans {
  private readonly states = new Map<string, MeanState>();

  /** Adds one batch: each named value (scalar or array) with the same weight (default 1). */
  update(values: Readonly<Record<string, ArrayLike>>, weight: ArrayLike = 1): this {
    for (const [name, v] of Object.entries(values)) {
      this.states.set(name, mean.update(this.states.get(name) ?? mean.init(), v, weight));
    }
    return this;
  }

  /** The names seen since the last reset, in the order first seen. */
  get names(): string[] {
    return [...this.states.keys()];
  }

  /** The means so far, as numbers. */
  async compute(): Promise<Record<string, number>> {
    const entries = [...this.states].map(async ([name, s]) => [name, await mean.compute(s).item()] as const);
    return Object.fromEntries(await Promise.all(entries));
  }

  /** Forgets every mean (start of an epoch). */
  reset(): void {
    this.states.clear();
  }
}
