/**
 * The lectures' default configurations (Géron, *Hands-On Machine Learning*, ch. 11, tables
 * 11-3 and 11-4) as two presets that build a model, an optimiser with its schedule, and early
 * stopping from a list of layer widths. Every field can be overridden; `config` reports what was
 * chosen, row by row, beside the table.
 *
 * | | `dense` | `selfNormalizing` |
 * |---|---|---|
 * | kernel initialiser | He (normal) | LeCun (normal) |
 * | activation | ELU | SELU |
 * | normalisation | batch norm if deep (≥ 3 hidden layers) | none (self-normalisation) |
 * | regularisation | early stopping; L2 if asked | early stopping; alpha dropout if asked |
 * | optimiser | Nadam (or momentum) | Nesterov momentum (or Nadam) |
 * | schedule | 1cycle | 1cycle |
 */
import type { Array } from "@webjax/core";
import { WebjaxError } from "@webjax/core";
import {
  cycleMomentum,
  type GradientTransformation,
  injectHyperparams,
  linearOnecycleSchedule,
  nadam,
  type Schedule,
  sgd,
} from "@webjax/optax";
import { elu, selu } from "./activations.js";
import { checkStandardized, type StandardizationReport } from "./data/scalers.js";
import { dense as denseLayer, flatten } from "./dense.js";
import { alphaDropout } from "./dropout.js";
import type { Initializer } from "./initializers.js";
import * as init from "./initializers.js";
import type { Module } from "./module.js";
import { batchNorm } from "./normalization.js";
import { l2 } from "./regularizers.js";
import { type Layer, sequential } from "./sequential.js";
import { type EarlyStopping, type EarlyStoppingOptions, earlyStopping } from "./training/early-stopping.js";

/** Options shared by both presets; each overrides one row of the table. */
export interface PresetOptions {
  /** Epochs and steps per epoch: the 1cycle schedule spans epochs × stepsPerEpoch steps. */
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly kernelInit?: Initializer;
  readonly activation?: (x: Array) => Array;
  /** The optimiser: "nadam", "momentum" (Nesterov, momentum cycled with the learning rate) or your own. */
  readonly optimizer?: "nadam" | "momentum" | GradientTransformation;
  /** The 1cycle peak learning rate (default 1e-3 for Nadam, 1e-2 for momentum). */
  readonly learningRate?: number;
  /** "1cycle" (default), "constant", or any optax schedule. */
  readonly schedule?: "1cycle" | "constant" | Schedule;
  /** Early-stopping options (default patience 10, restoreBestWeights) or false. */
  readonly earlyStopping?: EarlyStoppingOptions | false;
  /** Flatten inputs first (default true: images in, vectors to the first dense layer). */
  readonly flatten?: boolean;
}

/** Options of `presets.dense`. */
export interface DensePresetOptions extends PresetOptions {
  /** Batch norm after each hidden dense layer: "auto" (default: when ≥ 3 hidden layers), or a boolean. */
  readonly batchNorm?: boolean | "auto";
  /** An L2 penalty rate on the kernels (Keras' l2), off by default. */
  readonly l2?: number;
}

/** Options of `presets.selfNormalizing`. */
export interface SelfNormalizingOptions extends PresetOptions {
  /** Alpha dropout rate before the output layer (default 0: off). */
  readonly alphaDropout?: number;
}

/** What a preset builds. */
export interface Preset {
  readonly model: Module;
  readonly optimizer: GradientTransformation;
  readonly schedule: Schedule;
  readonly earlyStopping: EarlyStopping | undefined;
  /** The table's rows as chosen. */
  readonly config: Readonly<Record<string, string>>;
  /**
   * Checks that `x` is standardised (selfNormalizing needs it): warns naming the features'
   * statistics when it is not, and returns the report.
   */
  checkInputs(x: Array): Promise<StandardizationReport>;
}

function checkWidths(op: string, widths: readonly number[]): void {
  if (widths.length < 1 || widths.some((w) => !Number.isInteger(w) || w < 1)) {
    throw new WebjaxError(
      `${op}: widths must be positive integers (hidden layers, then the output), got [${widths.join(", ")}]`,
    );
  }
}

function optimizerFor(op: string, o: PresetOptions, defaultOpt: "nadam" | "momentum") {
  const steps = o.epochs * o.stepsPerEpoch;
  if (!(steps > 0))
    throw new WebjaxError(`${op}: epochs × stepsPerEpoch must be positive, got ${o.epochs} × ${o.stepsPerEpoch}`);
  const choice = o.optimizer ?? defaultOpt;
  const peak = o.learningRate ?? (choice === "momentum" ? 1e-2 : 1e-3);
  const sched = o.schedule ?? "1cycle";
  const schedule: Schedule =
    sched === "1cycle" ? linearOnecycleSchedule(steps, peak) : sched === "constant" ? () => peak : sched;
  let optimizer: GradientTransformation;
  if (typeof choice === "object") optimizer = choice;
  else if (choice === "nadam")
    optimizer = injectHyperparams((h: { learningRate: Array }) => nadam(h.learningRate))({ learningRate: schedule });
  else {
    const momentum = sched === "1cycle" ? cycleMomentum(steps) : 0.9;
    optimizer = injectHyperparams((h: { learningRate: Array; momentum: Array }) =>
      sgd(h.learningRate, { momentum: h.momentum, nesterov: true }),
    )({ learningRate: schedule, momentum });
  }
  const name = typeof choice === "object" ? "custom" : choice === "nadam" ? "Nadam" : "Nesterov momentum";
  const schedName =
    typeof sched === "function"
      ? "custom"
      : sched === "1cycle"
        ? `1cycle (peak ${peak}, ${steps} steps)`
        : `constant ${peak}`;
  return { optimizer, schedule, optName: name, schedName };
}

function stopperFor(o: PresetOptions): EarlyStopping | undefined {
  if (o.earlyStopping === false) return undefined;
  return earlyStopping({ patience: 10, restoreBestWeights: true, ...(o.earlyStopping ?? {}) });
}

async function warnIfNotStandardized(op: string, x: Array): Promise<StandardizationReport> {
  const r = await checkStandardized(x);
  if (!r.ok) {
    const list = r.offenders
      .map((f) => `feature ${f.feature}: mean ${f.mean.toFixed(3)}, std ${f.std.toFixed(3)}`)
      .join("; ");
    console.warn(
      `${op}: ${r.offending} input features are not standardised (${list}${r.offending > r.offenders.length ? "; …" : ""}); SELU self-normalises only standardised inputs: fit nn.data.standardScaler() on the training set`,
    );
  }
  return r;
}

/**
 * Géron's default deep net: He init, ELU, batch norm when deep, optional L2, Nadam (or Nesterov
 * momentum) on a 1cycle schedule, early stopping with the best weights restored. `widths` are
 * the dense layers' units, the last being the output (logits).
 *
 * ```ts
 * const p = nn.presets.dense([300, 100, 10], { epochs: 10, stepsPerEpoch: 1875 });
 * ```
 */
export function dense(widths: readonly number[], opts: DensePresetOptions): Preset {
  checkWidths("presets.dense", widths);
  const hidden = widths.slice(0, -1);
  const bn = opts.batchNorm === undefined || opts.batchNorm === "auto" ? hidden.length >= 3 : opts.batchNorm;
  const kernelInit = opts.kernelInit ?? init.heNormal();
  const act = opts.activation ?? elu;
  const reg = opts.l2 === undefined ? {} : { kernelRegularizer: l2(opts.l2) };
  const layers: Layer[] = opts.flatten === false ? [] : [flatten()];
  for (const w of hidden) {
    layers.push(denseLayer(w, { kernelInit, ...reg }));
    if (bn) layers.push(batchNorm());
    layers.push(act);
  }
  layers.push(denseLayer(widths[widths.length - 1] as number, { kernelInit: init.glorotUniform(), ...reg }));
  const { optimizer, schedule, optName, schedName } = optimizerFor("presets.dense", opts, "nadam");
  return {
    model: sequential(...layers),
    optimizer,
    schedule,
    earlyStopping: stopperFor(opts),
    config: {
      kernelInit: opts.kernelInit ? "custom" : "He normal",
      activation: opts.activation ? opts.activation.name || "custom" : "ELU",
      normalization: bn ? "batch norm" : "none",
      regularization: `${opts.earlyStopping === false ? "" : "early stopping"}${opts.l2 === undefined ? "" : `, L2 ${opts.l2}`}`,
      optimizer: optName,
      schedule: schedName,
    },
    checkInputs: (x) => checkStandardized(x),
  };
}

/**
 * Géron's self-normalising net: LeCun normal init, SELU, no batch norm, optional alpha dropout,
 * Nesterov momentum (or Nadam) on 1cycle, early stopping. Inputs must be standardised:
 * `checkInputs(x)` warns otherwise.
 */
export function selfNormalizing(widths: readonly number[], opts: SelfNormalizingOptions): Preset {
  checkWidths("presets.selfNormalizing", widths);
  const hidden = widths.slice(0, -1);
  const kernelInit = opts.kernelInit ?? init.lecunNormal();
  const act = opts.activation ?? selu;
  const layers: Layer[] = opts.flatten === false ? [] : [flatten()];
  for (const w of hidden) layers.push(denseLayer(w, { kernelInit }), act);
  if (opts.alphaDropout) layers.push(alphaDropout(opts.alphaDropout));
  layers.push(denseLayer(widths[widths.length - 1] as number, { kernelInit }));
  const { optimizer, schedule, optName, schedName } = optimizerFor("presets.selfNormalizing", opts, "momentum");
  return {
    model: sequential(...layers),
    optimizer,
    schedule,
    earlyStopping: stopperFor(opts),
    config: {
      kernelInit: opts.kernelInit ? "custom" : "LeCun normal",
      activation: opts.activation ? opts.activation.name || "custom" : "SELU",
      normalization: "none (self-normalising)",
      regularization: `${opts.earlyStopping === false ? "" : "early stopping"}${opts.alphaDropout ? `, alpha dropout ${opts.alphaDropout}` : ""}`,
      optimizer: optName,
      schedule: schedName,
    },
    checkInputs: (x) => warnIfNotStandardized("presets.selfNormalizing", x),
  };
}
