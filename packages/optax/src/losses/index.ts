/**
 * `optax.losses`: optax's loss functions (camelCase names). Each returns one value per example
 * (or per element): average it yourself, e.g. `np.mean(losses.softmaxCrossEntropy(logits, y))`.
 */
export * from "./classification.js";
export * from "./regression.js";
