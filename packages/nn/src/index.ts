/**
 * @webjax/nn: the building blocks of deep nets over @webjax/core — pure modules
 * (`{ init, apply }` over plain pytrees), layers, initialisers, activations, metrics and
 * regularisers. Names follow jax.nn and Flax; batch norm follows Keras.
 *
 * ```ts
 * import * as nn from "@webjax/nn";
 * const model = nn.sequential(
 *   nn.flatten(),
 *   nn.dense(300, { kernelInit: nn.initializers.heNormal() }), nn.batchNorm(), nn.elu,
 *   nn.dense(10),
 * );
 * const { params, state } = model.init(random.key(0), x);
 * const [logits, newState] = model.apply({ params, state }, x, { train: true, key });
 * ```
 */

/** `nn.losses`: optax.losses, re-exported (softmaxCrossEntropy, huberLoss, …). */
export { losses } from "@webjax/optax";
export * from "./activation-layers.js";
export * from "./activations.js";
export * from "./checkpoint/index.js";
export { type ConvOptions, conv, conv1d, conv2d, type PaddingArg } from "./conv.js";
export * as data from "./data/index.js";
export { activation, dense, type EmbeddingOptions, embedding, flatten } from "./dense.js";
export { alphaDropout, type DropoutOptions, dropout } from "./dropout.js";
export { foldBatchNorm } from "./fold.js";
export type { Initializer } from "./initializers.js";
export * as initializers from "./initializers.js";
export type { ActivationArg, KernelOptions } from "./layer-options.js";
export * as metrics from "./metrics.js";
export {
  type ApplyOptions,
  type Constraint,
  type InputSpec,
  type Module,
  type ModuleSpec,
  module,
  type ParamRules,
  type Regularizer,
  type Variables,
} from "./module.js";
export { type BatchNormOptions, batchNorm, type LayerNormOptions, layerNorm } from "./normalization.js";
export { avgPool, globalAvgPool, globalMaxPool, maxPool, type PoolOptions } from "./pooling.js";
export * as presets from "./presets.js";
export * as regularizers from "./regularizers.js";
export { type Layer, sequential } from "./sequential.js";
export { type SummaryRow, summary, summaryRows } from "./summary.js";
export * from "./training/early-stopping.js";
export { type Dataset, type EpochContext, type FitOptions, type FitResult, fit, type History } from "./training/fit.js";
export {
  type ActivationStats,
  type GradStats,
  intermediates,
  type LayerStats,
  layerStats,
} from "./training/layer-stats.js";
export { type McPrediction, type McPredictOptions, mcPredict } from "./training/mc-predict.js";
export { formatLogs, type ProgressInfo, type ProgressOption } from "./training/progress.js";
export type { LossFn, LossName, MetricFn } from "./training/steps.js";
export {
  freezeWith,
  layerOrder,
  type TrainLabel,
  type TransferOptions,
  type Transferred,
  transfer,
  unfreeze,
} from "./training/transfer.js";
