/** optax's regression losses: elementwise, no reduction (take the mean yourself). */
import { type Array, np } from "@webjax/core";

/** ½(p − t)² (optax.l2_loss; t defaults to 0). */
export function l2Loss(predictions: Array, targets?: Array): Array {
  return squaredError(predictions, targets).mul(0.5);
}

/** (p − t)² (optax.squared_error; t defaults to 0). */
export function squaredError(predictions: Array, targets?: Array): Array {
  return np.square(targets === undefined ? predictions : predictions.sub(targets));
}

/** |p − t| (optax.absolute_error). */
export function absoluteError(predictions: Array, targets?: Array): Array {
  return np.abs(targets === undefined ? predictions : predictions.sub(targets));
}

/** Huber's loss (optax.huber_loss): ½e² for |e| ≤ δ, δ(|e| − ½δ) beyond; default δ = 1. */
export function huberLoss(predictions: Array, targets?: Array, { delta = 1 }: { delta?: number } = {}): Array {
  const e = np.abs(targets === undefined ? predictions : predictions.sub(targets));
  const quadratic = np.minimum(e, delta);
  return np.square(quadratic).mul(0.5).add(e.sub(quadratic).mul(delta));
}

/** log(cosh(p − t)) (optax.log_cosh), as |e| + log1p(e^(−2|e|)) − log 2: no overflow. */
export function logCosh(predictions: Array, targets?: Array): Array {
  const e = targets === undefined ? predictions : predictions.sub(targets);
  const a = np.abs(e);
  return a.add(np.log1p(np.exp(a.mul(-2)))).sub(Math.LN2);
}

/** Options of cosine similarity and distance. */
export interface CosineOptions {
  /** Each norm is clamped below by ε (optax's default 0). */
  readonly epsilon?: number;
  readonly axis?: number;
}

/** ⟨p, t⟩/(‖p‖·‖t‖) over the last axis (optax.cosine_similarity; each norm clamped below by ε). */
export function cosineSimilarity(predictions: Array, targets: Array, opts: CosineOptions = {}): Array {
  const axis = opts.axis ?? -1;
  const eps = opts.epsilon ?? 0;
  const norm = (x: Array) => np.maximum(np.sqrt(np.square(x).sum(axis)), eps);
  return predictions
    .mul(targets)
    .sum(axis)
    .div(norm(predictions).mul(norm(targets)));
}

/** 1 − cosineSimilarity (optax.cosine_distance). */
export function cosineDistance(predictions: Array, targets: Array, opts: CosineOptions = {}): Array {
  return np.subtract(1, cosineSimilarity(predictions, targets, opts));
}
