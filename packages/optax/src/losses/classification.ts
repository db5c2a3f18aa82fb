/**
 * optax's classification losses, one value per example (no reduction), stable for extreme
 * logits: every log of a probability is computed from logits with logsumexp or log-sigmoid.
 */
import { type Array, DTypeError, np, ShapeError, stopGradient } from "@webjax/core";

const logSigmoid = (x: Array): Array => np.logaddexp(x.neg(), 0).neg();

/** Options of the softmax cross-entropies. */
export interface CrossEntropyOptions {
  /** The class axis (default −1). */
  readonly axis?: number;
  /** Only these classes take part (optax's `where`); the others are masked out of the softmax. */
  readonly where?: Array;
}

/** log softmax over `axis`, stable (the max is held constant for differentiation). */
function logSoftmax(logits: Array, axis: number, where?: Array): Array {
  const x = where ? np.where(where, logits, -Infinity) : logits;
  const m = stopGradient(x.max(axis, { keepdims: true }));
  const shifted = x.sub(np.where(np.isfinite(m), m, 0));
  return shifted.sub(np.log(np.exp(shifted).sum(axis, { keepdims: true })));
}

/** −Σ labels · log softmax(logits) over the class axis (optax.softmax_cross_entropy; one-hot or soft labels). */
export function softmaxCrossEntropy(logits: Array, labels: Array, opts: CrossEntropyOptions = {}): Array {
  if (logits.shape.join() !== labels.shape.join()) {
    throw new ShapeError(
      `softmaxCrossEntropy: logits [${logits.shape}] and labels [${labels.shape}] must have one shape (one-hot or soft labels; integer labels: softmaxCrossEntropyWithIntegerLabels)`,
    );
  }
  const axis = opts.axis ?? -1;
  const lp = logSoftmax(logits, axis, opts.where);
  const terms = labels.mul(opts.where ? np.where(opts.where, lp, 0) : lp);
  return terms.sum(axis).neg();
}

/** −log softmax(logits)[label] (optax.softmax_cross_entropy_with_integer_labels). */
export function softmaxCrossEntropyWithIntegerLabels(
  logits: Array,
  labels: Array,
  opts: CrossEntropyOptions = {},
): Array {
  if (labels.dtype !== "int32" && labels.dtype !== "uint32") {
    throw new DTypeError(`softmaxCrossEntropyWithIntegerLabels: labels must be integers (int32), got ${labels.dtype}`);
  }
  const axis = opts.axis ?? -1;
  const a = axis < 0 ? axis + logits.ndim : axis;
  const want = logits.shape.filter((_, i) => i !== a);
  if (labels.shape.join() !== want.join()) {
    throw new ShapeError(
      `softmaxCrossEntropyWithIntegerLabels: labels [${labels.shape}] must have the logits' shape [${logits.shape}] without the class axis: [${want}]`,
    );
  }
  const lp = logSoftmax(logits, a, opts.where);
  return np.takeAlongAxis(lp, np.expandDims(labels, a), a).squeeze(a).neg();
}

/** −[t·log σ(x) + (1 − t)·log σ(−x)] (optax.sigmoid_binary_cross_entropy), from logits. */
export function sigmoidBinaryCrossEntropy(logits: Array, labels: Array): Array {
  const t = labels.astype(logits.dtype);
  return t
    .mul(logSigmoid(logits))
    .add(np.subtract(1, t).mul(logSigmoid(logits.neg())))
    .neg();
}

/**
 * Binary cross-entropy from probabilities (Keras' `binary_crossentropy`; optax has only the
 * logits form): p is clipped to [ε, 1 − ε], ε = 1e-7, then −[t·log p + (1 − t)·log(1 − p)].
 */
export function binaryCrossEntropy(probabilities: Array, labels: Array, { epsilon = 1e-7 } = {}): Array {
  const p = np.clip(probabilities, epsilon, 1 - epsilon);
  const t = labels.astype(p.dtype);
  return t
    .mul(np.log(p))
    .add(np.subtract(1, t).mul(np.log1p(p.neg())))
    .neg();
}

/**
 * Sigmoid focal loss (Lin et al. 2017; optax.sigmoid_focal_loss): the binary cross-entropy
 * scaled by (1 − p_t)^γ, and by α_t when `alpha` is given. Default γ = 2.
 */
export function sigmoidFocalLoss(
  logits: Array,
  labels: Array,
  { alpha, gamma = 2 }: { alpha?: number; gamma?: number } = {},
): Array {
  const t = labels.astype(logits.dtype);
  const ce = sigmoidBinaryCrossEntropy(logits, t);
  const p = np.sigmoid(logits);
  const pt = p.mul(t).add(np.subtract(1, p).mul(np.subtract(1, t)));
  let loss = ce.mul(np.power(np.subtract(1, pt), gamma));
  if (alpha !== undefined) loss = loss.mul(t.mul(alpha).add(np.subtract(1, t).mul(1 - alpha)));
  return loss;
}

/**
 * KL(targets ‖ predictions) = Σ t·(log t − log p) over the last axis (optax.kl_divergence:
 * `logPredictions` are log-probabilities, `targets` probabilities; 0·log 0 = 0).
 */
export function klDivergence(logPredictions: Array, targets: Array, { axis = -1 }: { axis?: number } = {}): Array {
  const logT = np.log(np.where(targets.greater(0), targets, 1));
  const terms = np.where(targets.greater(0), targets.mul(logT.sub(logPredictions)), 0);
  return terms.sum(axis);
}

/** Hinge loss max(0, 1 − y·s) with labels y in {−1, 1} (optax.hinge_loss). */
export function hingeLoss(scores: Array, labels: Array): Array {
  return np.maximum(np.subtract(1, scores.mul(labels.astype(scores.dtype))), 0);
}

/** Label smoothing (optax.smooth_labels): (1 − α)·labels + α/K over the K classes of the last axis. */
export function smoothLabels(labels: Array, alpha: number): Array {
  const k = labels.shape[labels.ndim - 1] as number;
  return labels.mul(1 - alpha).add(alpha / k);
}

/** Poisson negative log-likelihood from log rates (optax.poisson_nll_loss without the constant): e^x − t·x. */
export function poissonNll(logRates: Array, targets: Array): Array {
  return np.exp(logRates).sub(targets.mul(logRates));
}
