/**
 * The activations that work along an axis (jax.nn's names and definitions): softmax and
 * logSoftmax in the logsumexp form (stable for any finite logits), the gated linear unit,
 * standardize; and jax.nn's logsumexp and oneHot, re-exported from np. Re-exported by
 * activations.ts, so they are `nn.softmax`, `nn.glu`, ….
 */
import { Array, type ArrayLike, type Axis, np, ShapeError, stopGradient } from "@webjax/core";

const arr = (x: ArrayLike): Array => (x instanceof Array ? x : np.asarray(x));

/** `[2,3]`, for messages. */
const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** Options of {@link softmax} and {@link logSoftmax}. */
export interface SoftmaxOptions {
  /** The axis or axes normalised over (default −1, the last; null for all). */
  readonly axis?: Axis;
  /** Only the elements where this mask is true (nonzero) take part; the others give 0 (softmax) or −∞ (logSoftmax). */
  readonly where?: ArrayLike;
}

/**
 * x − m and Σ exp(x − m) over `axis` (kept), with m the slice's maximum held constant for
 * differentiation (JAX's stop_gradient; the gradient is the same for any m) and 0 where that
 * maximum is not finite. With a mask, masked elements are −∞ and a slice with nothing left
 * sums to 1 instead of 0, so its (masked) outputs and their gradients are not NaN.
 */
function shiftedExp(x: Array, opts: SoftmaxOptions) {
  const axis = opts.axis === undefined ? -1 : opts.axis;
  const mask = opts.where === undefined ? undefined : arr(opts.where);
  const masked = mask === undefined ? x : np.where(mask, x, -Infinity);
  const m = stopGradient(masked.max(axis, { keepdims: true }));
  const shifted = masked.sub(np.where(np.isfinite(m), m, 0));
  const total = np.exp(shifted).sum(axis, { keepdims: true });
  return { shifted, total: mask === undefined ? total : np.where(total.greater(0), total, 1), mask };
}

/**
 * softmax(x)ᵢ = e^(xᵢ − m) / Σⱼ e^(xⱼ − m) over `axis` (jax.nn.softmax), with m the maximum, so
 * logits of any size give no overflow. `where` leaves elements out (their output is 0).
 *
 * ```ts
 * nn.softmax(np.array([1e4, 1e4 + Math.log(3)])); // [0.25, 0.75]
 * ```
 */
export function softmax(x: ArrayLike, opts: SoftmaxOptions = {}): Array {
  const { shifted, total, mask } = shiftedExp(arr(x), opts);
  const out = np.exp(shifted).div(total);
  return mask === undefined ? out : np.where(mask, out, 0);
}

/**
 * log softmax(x) = x − logsumexp(x) over `axis`, as (x − m) − log Σ e^(x − m) (jax.nn.log_softmax):
 * finite for any finite logits. `where` leaves elements out (their output is −∞).
 */
export function logSoftmax(x: ArrayLike, opts: SoftmaxOptions = {}): Array {
  const { shifted, total, mask } = shiftedExp(arr(x), opts);
  const out = shifted.sub(np.log(total));
  return mask === undefined ? out : np.where(mask, out, -Infinity);
}

/** Options of {@link glu}. */
export interface GluOptions {
  /** The axis split in halves (default −1). */
  readonly axis?: number;
}

/**
 * Gated linear unit (jax.nn.glu; Dauphin et al. 2017): x split in halves a, b along `axis`,
 * then a·σ(b). The axis must have an even size.
 */
export function glu(x: ArrayLike, { axis = -1 }: GluOptions = {}): Array {
  const a = arr(x);
  const ax = axis < 0 ? axis + a.ndim : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= a.ndim) {
    throw new ShapeError(`glu: axis ${axis} is out of range for an input of shape ${fmt(a.shape)}`);
  }
  if ((a.shape[ax] as number) % 2 !== 0) {
    throw new ShapeError(
      `glu: axis ${axis} of ${fmt(a.shape)} has odd size ${a.shape[ax]}; glu splits it in two equal halves`,
    );
  }
  const [p, q] = np.split(a, 2, ax) as [Array, Array];
  return p.mul(np.sigmoid(q));
}

/** Options of {@link standardize}. */
export interface StandardizeOptions {
  /** The axis or axes of the statistics (default −1; null for all). */
  readonly axis?: Axis;
  /** Added to the variance before the square root (default 1e-5). */
  readonly epsilon?: number;
  /** A given mean (broadcast against x) instead of x's over `axis`. */
  readonly mean?: ArrayLike;
  /** A given variance instead of x's over `axis` (about `mean`). */
  readonly variance?: ArrayLike;
}

/**
 * (x − mean)/√(variance + ε) with the mean and variance of x over `axis` unless given
 * (jax.nn.standardize; default axis −1, ε = 1e-5). The variance is the two-pass
 * mean((x − mean)²), JAX's `algorithm="stable"`; JAX's default "fast" E[x²] − mean² differs only
 * by rounding.
 */
export function standardize(x: ArrayLike, opts: StandardizeOptions = {}): Array {
  const a = arr(x);
  const axis = opts.axis === undefined ? -1 : opts.axis;
  const mean = opts.mean === undefined ? a.mean(axis, { keepdims: true }) : arr(opts.mean);
  const centered = a.sub(mean);
  const variance =
    opts.variance === undefined ? np.square(centered).mean(axis, { keepdims: true }) : arr(opts.variance);
  return centered.mul(np.rsqrt(np.add(variance, opts.epsilon ?? 1e-5)));
}

/** log Σ exp(x) over an axis, stable (jax.nn.logsumexp; np.logsumexp re-exported). */
export const logsumexp = np.logsumexp;

/**
 * One-hot encoding (jax.nn.one_hot; np.oneHot re-exported): `oneHot(labels, numClasses,
 * { dtype = "float32", axis = -1 })`; labels outside [0, numClasses) give a row of zeros.
 */
export const oneHot = np.oneHot;
