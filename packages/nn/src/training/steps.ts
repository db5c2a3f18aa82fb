/**
 * The jitted programs `fit` runs: one training step (forward, loss, gradient, optimiser update,
 * and the epoch's running sums, all in one program with the carried state donated) and one
 * evaluation step. Losses and metrics may be named as in Keras.
 */
import { type Array, jit, np, type PyTree, ShapeError, tree, valueAndGrad, WebjaxError } from "@webjax/core";
import { applyUpdates, chain, type GradientTransformation, losses } from "@webjax/optax";
import { accuracy } from "../metrics.js";
import type { Module, Variables } from "../module.js";

/** A loss of (model output, target) → a scalar, averaged over the batch. */
export type LossFn = (output: Array, target: Array) => Array;
/** A metric of (model output, target) → a scalar, averaged over the batch. */
export type MetricFn = (output: Array, target: Array) => Array;

/** Keras' loss names (outputs are logits, as `from_logits=True`). */
export type LossName =
  | "sparseCategoricalCrossentropy"
  | "categoricalCrossentropy"
  | "binaryCrossentropy"
  | "mse"
  | "mae"
  | "huber";

/**
 * Keras' shape rule for targets: a target of the output's shape without a trailing axis of 1
 * (labels `[n]` against logits `[n, 1]`) gains that axis; any other mismatch is an error, never
 * a silent broadcast to `[n, n]`.
 */
export function alignTarget(op: string, output: Array, target: Array): Array {
  const o = output.shape;
  const t = target.shape;
  if (t.length === o.length - 1 && o[o.length - 1] === 1 && t.every((d, i) => d === o[i])) return target.reshape(o);
  if (t.length !== o.length || t.some((d, i) => d !== o[i])) {
    throw new ShapeError(
      `${op}: targets must have the outputs' shape [${o.join(",")}] (or [${o.slice(0, -1).join(",")}] for one output unit), got [${t.join(",")}]`,
    );
  }
  return target;
}

const same =
  (name: string, f: (o: Array, t: Array) => Array): LossFn =>
  (o, t) =>
    f(o, alignTarget(`fit: loss "${name}"`, o, t).astype(o.dtype)).mean();

const LOSSES: Record<LossName, LossFn> = {
  sparseCategoricalCrossentropy: (o, t) => losses.softmaxCrossEntropyWithIntegerLabels(o, t).mean(),
  categoricalCrossentropy: same("categoricalCrossentropy", losses.softmaxCrossEntropy),
  binaryCrossentropy: same("binaryCrossentropy", losses.sigmoidBinaryCrossEntropy),
  mse: same("mse", losses.squaredError),
  mae: same("mae", losses.absoluteError),
  huber: same("huber", losses.huberLoss),
};

/** Keras' other spellings of the loss names. */
const ALIASES: Record<string, LossName> = {
  meansquarederror: "mse",
  meanabsoluteerror: "mae",
  huberloss: "huber",
  bce: "binaryCrossentropy",
};

const normalise = (s: string) => s.replace(/_/g, "").toLowerCase();

/** The loss function for a name or a function. */
export function resolveLoss(loss: LossName | LossFn): LossFn {
  if (typeof loss === "function") return loss;
  if (typeof loss !== "string") {
    throw new WebjaxError(
      'fit: pass a loss: a Keras name such as "sparseCategoricalCrossentropy", or (output, target) => scalar',
    );
  }
  const key = ALIASES[normalise(loss)] ?? loss;
  const hit = Object.entries(LOSSES).find(([k]) => normalise(k) === normalise(key));
  if (!hit) {
    throw new WebjaxError(
      `fit: unknown loss ${JSON.stringify(loss)}; expected one of ${Object.keys(LOSSES).join(", ")} or a function`,
    );
  }
  return hit[1];
}

/**
 * Keras' "accuracy": the argmax against integer or one-hot labels, or, for one output unit,
 * binary accuracy of the logits thresholded at 0 (probability 0.5) against labels > 0.5.
 */
export const kerasAccuracy: MetricFn = (o, t) => {
  if (o.shape[o.ndim - 1] === 1) {
    const labels = alignTarget('fit: metric "accuracy"', o, t);
    return o.greater(0).equal(labels.greater(0.5)).astype("float32").mean();
  }
  return accuracy(o, t);
};

/** Metrics by name (`"accuracy"`, or `"acc"`: see {@link kerasAccuracy}) or as functions. */
export function resolveMetrics(
  metrics: string | ReadonlyArray<string> | Readonly<Record<string, MetricFn>> | undefined,
): Record<string, MetricFn> {
  if (metrics === undefined) return {};
  const list = typeof metrics === "string" ? [metrics] : metrics;
  if (globalThis.Array.isArray(list)) {
    const out: Record<string, MetricFn> = {};
    for (const m of list as ReadonlyArray<string>) {
      if (m !== "accuracy" && m !== "acc") {
        throw new WebjaxError(
          `fit: unknown metric ${JSON.stringify(m)}; name "accuracy" (or "acc"), or pass { name: (output, target) => scalar }`,
        );
      }
      out[m] = kerasAccuracy;
    }
    return out;
  }
  for (const [k, f] of Object.entries(list)) {
    if (typeof f !== "function") {
      throw new WebjaxError(
        `fit: metric ${JSON.stringify(k)} must be a function (output, target) => scalar, got ${typeof f}`,
      );
    }
  }
  return { ...(list as Record<string, MetricFn>) };
}

/** The carried training state: variables, optimiser state and the epoch's running sums. */
export interface TrainCarry {
  params: PyTree;
  state: PyTree;
  optState: PyTree;
  /** Sums over the epoch's batches, weighted by batch size: `loss` and each metric; `count`. */
  sums: Record<string, Array>;
}

export type TrainStep = (carry: TrainCarry, x: Array, y: Array, key: Array, lrScale: Array) => TrainCarry;
export type EvalStep = (variables: Variables, sums: Record<string, Array>, x: Array, y: Array) => Record<string, Array>;

/** The optimiser `fit` steps with: the user's, then the model's constraints if it has any. */
export function withConstraints(model: Module, tx: GradientTransformation): GradientTransformation {
  return model.rules().constraints.length > 0 ? (chain(tx, model.constraints()) as GradientTransformation) : tx;
}

/** Zeroed running sums for `loss`, each metric and `count`. */
export function zeroSums(names: readonly string[]): Record<string, Array> {
  return Object.fromEntries(["loss", "count", ...names].map((n) => [n, np.zeros([], { dtype: "float32" })]));
}

function addSums(sums: Record<string, Array>, loss: Array, values: Record<string, Array>, n: number) {
  const out: Record<string, Array> = {
    loss: (sums.loss as Array).add(loss.mul(n)),
    count: (sums.count as Array).add(n),
  };
  for (const [k, v] of Object.entries(values)) out[k] = (sums[k] as Array).add(v.astype("float32").mul(n));
  return out;
}

/**
 * The training step: the loss (plus the model's penalties, as Keras adds regularisation losses)
 * and its gradient in train mode, the optimiser's update scaled by `lrScale` (reduce-on-plateau),
 * and the running sums. The carry is donated: its buffers are reused for the new carry.
 */
export function makeTrainStep(
  model: Module,
  tx: GradientTransformation,
  loss: LossFn,
  metrics: Record<string, MetricFn>,
): TrainStep {
  const names = Object.keys(metrics);
  return jit(
    (carry: TrainCarry, x: Array, y: Array, key: Array, lrScale: Array): TrainCarry => {
      const objective = (params: PyTree) => {
        const [out, newState] = model.apply({ params, state: carry.state }, x, { train: true, key });
        const total = loss(out, y).add(model.penalty(params));
        return [total, { out, newState }] as [Array, { out: Array; newState: PyTree }];
      };
      const [[total, aux], grads] = valueAndGrad(objective, { hasAux: true })(carry.params);
      const [updates, optState] = tx.update(grads, carry.optState, carry.params);
      const scaled = tree.map((u: unknown) => (u as Array).mul(lrScale.astype((u as Array).dtype)), updates);
      const values = Object.fromEntries(names.map((n) => [n, (metrics[n] as MetricFn)(aux.out, y)]));
      return {
        params: applyUpdates(carry.params, scaled),
        state: aux.newState,
        optState: optState as PyTree,
        sums: addSums(carry.sums, total, values, x.shape[0] as number),
      };
    },
    { donateArgnums: 0 },
  ) as unknown as TrainStep;
}

/** The evaluation step: loss (with penalties) and metrics in inference mode, added to `sums`. */
export function makeEvalStep(model: Module, loss: LossFn, metrics: Record<string, MetricFn>): EvalStep {
  const names = Object.keys(metrics);
  return jit((variables: Variables, sums: Record<string, Array>, x: Array, y: Array) => {
    const [out] = model.apply(variables, x, { train: false });
    const total = loss(out, y).add(model.penalty(variables.params));
    const values = Object.fromEntries(names.map((n) => [n, (metrics[n] as MetricFn)(out, y)]));
    return addSums(sums, total, values, x.shape[0] as number);
  }) as unknown as EvalStep;
}
