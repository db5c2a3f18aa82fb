/** `nn.data`: batching, prefetching, splits and feature scaling. */
export { type Batches, type BatchOptions, batches, numExamples, type PrefetchOptions, prefetch } from "./batches.js";
export {
  checkStandardized,
  type MinMaxStats,
  minMaxScaler,
  type Scaler,
  type StandardizationReport,
  type StandardStats,
  standardScaler,
} from "./scalers.js";
export { type SplitOptions, trainValidationSplit } from "./split.js";
