/**
 * Diagnostics for the unstable-gradients lesson: what each layer outputs and what gradient it
 * gets. Everything here is pure array code, so it runs inside a jitted training step and the
 * numbers are read once, after the step.
 */
import { type Array, np, type PyTree, tree, WebjaxError } from "@webjax/core";
import type { ApplyOptions, Module, Variables } from "../module.js";
import { applyChildren } from "../sequential.js";

/**
 * `model.apply` that also returns every top-level layer's output, keyed by layer name (Flax's
 * `capture_intermediates`): `[y, newState, outputs]`. The outputs are plain arrays, so they can
 * be a `valueAndGrad` aux or a jitted function's result. The model must be a `sequential`.
 */
export function intermediates(
  model: Module,
  variables: Variables,
  x: Array,
  opts: ApplyOptions = {},
): [Array, PyTree, Record<string, Array>] {
  if (model.kind !== "sequential") {
    throw new WebjaxError(`intermediates: expected a sequential model, got a module of kind ${model.kind}`);
  }
  const outputs: Record<string, Array> = {};
  const [y, state] = applyChildren(model.layers, variables, x, opts, (c, output) => {
    outputs[c.name] = output;
  });
  return [y, state, outputs];
}

/**
 * The activation a layer applies: a bare activation's kind (`relu_1` → relu), or the one a
 * dense/conv layer was given (`dense(…, { activation: "sigmoid" })`) when the model is known.
 */
function activationOf(name: string, model: Module | undefined): string {
  const child = model?.layers.find((c) => c.name === name);
  const act = child?.config.activation;
  if (typeof act === "function" && act.name) return act.name;
  return child?.kind ?? name.replace(/_\d+$/, "");
}

/** A layer's gradient statistics (float32 scalars). */
export interface GradStats {
  /** The L2 norm over all of the layer's parameter gradients. */
  readonly norm: Array;
  readonly mean: Array;
  readonly std: Array;
}

/** A layer's activation statistics (float32 scalars). */
export interface ActivationStats {
  readonly mean: Array;
  readonly std: Array;
  /** ReLU-family layers: the fraction of units that output 0 for every example of the batch. */
  readonly deadFraction?: Array;
  /** Sigmoid layers: outputs within 0.01 of 0 or 1; tanh layers: |y| > 0.99. */
  readonly saturatedFraction?: Array;
}

/** Per-layer statistics, keyed by layer name. */
export interface LayerStats {
  readonly grads: Record<string, GradStats>;
  readonly activations: Record<string, ActivationStats>;
}

const RELU_LIKE = new Set(["relu", "relu6", "leakyRelu"]);

function statsOf(leaves: Array[]): GradStats {
  const flat = np.concatenate(leaves.map((l) => l.astype("float32").reshape([-1])));
  return { norm: flat.square().sum().sqrt(), mean: flat.mean(), std: flat.std() };
}

/**
 * Per-layer gradient norm, mean and std (from `grads`, the gradient of the params tree, keyed by
 * layer name), and per-layer activation mean, std, dead-ReLU and saturation fractions (from
 * `intermediates`' outputs). Pass `model` so layers with a built-in activation (`dense(…, {
 * activation })`) are classified too. The gradient norms show vanishing or exploding gradients
 * layer by layer; the fractions show dying ReLUs and saturated sigmoids/tanh (Glorot & Bengio
 * 2010). Plain array code: it runs inside a jitted step.
 */
export function layerStats(
  grads: PyTree,
  activations: Readonly<Record<string, Array>> = {},
  opts: { model?: Module } = {},
): LayerStats {
  const g: Record<string, GradStats> = {};
  if (grads !== null && typeof grads === "object" && !("shape" in (grads as object))) {
    for (const [name, sub] of Object.entries(grads as Record<string, PyTree>)) {
      const leaves = tree.leaves(sub) as Array[];
      if (leaves.length > 0) g[name] = statsOf(leaves);
    }
  } else {
    throw new WebjaxError("layerStats: expected grads keyed by layer name (the gradient of a model's params)");
  }
  const a: Record<string, ActivationStats> = {};
  for (const [name, output] of Object.entries(activations)) {
    const y = output.astype("float32");
    const act = activationOf(name, opts.model);
    const base = { mean: y.mean(), std: y.std() };
    if (RELU_LIKE.has(act) && y.ndim >= 1) {
      const units = y.reshape([y.shape[0] as number, -1]);
      a[name] = { ...base, deadFraction: units.max(0).lessEqual(0).astype("float32").mean() };
    } else if (act === "sigmoid") {
      a[name] = { ...base, saturatedFraction: y.sub(0.5).abs().greater(0.49).astype("float32").mean() };
    } else if (act === "tanh") {
      a[name] = { ...base, saturatedFraction: y.abs().greater(0.99).astype("float32").mean() };
    } else {
      a[name] = base;
    }
  }
  return { grads: g, activations: a };
}
