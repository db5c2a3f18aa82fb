/**
 * Activations: jax.nn's names and definitions (plus the classic ones jax.nn lacks), each a
 * plain function of an array — differentiable, vmap/jit-safe, and stable for large |x|: a
 * branch `where` does not take never computes an infinity (elu's expm1 sees the clamped
 * negative part, softplus is logaddexp(x, 0), squareplus divides instead of cancelling), so
 * values and gradients stay finite at ±1e4. The functions over an axis (softmax, glu,
 * standardize) are in activations-axis.ts and re-exported here. `getActivation(name)` finds
 * any one-argument activation by name.
 */
import { Array, type ArrayLike, np, WebjaxError } from "@webjax/core";
import { glu, logSoftmax, softmax, standardize } from "./activations-axis.js";

export * from "./activations-axis.js";

/** The input as an array (numbers and nested lists become float32, as np.asarray). */
const arr = (x: ArrayLike): Array => (x instanceof Array ? x : np.asarray(x));

/** x, unchanged (jax.nn.identity; Keras' "linear"). */
export const identity = (x: ArrayLike): Array => arr(x);

/** The Heaviside step: 1 where x ≥ 0, else 0 (np.heaviside(x, 1)); its gradient is 0. */
export function binaryStep(x: ArrayLike): Array {
  const a = arr(x);
  return np.where(a.greaterEqual(0), 1, 0).astype(a.dtype);
}

/** The logistic sigmoid σ(x) = 1/(1 + e⁻ˣ) (jax.nn.sigmoid). */
export const sigmoid = (x: ArrayLike): Array => np.sigmoid(x);

/** relu6(x + 3)/6: 0 below −3, 1 above 3, linear between (jax.nn.hard_sigmoid). */
export const hardSigmoid = (x: ArrayLike): Array => relu6(arr(x).add(3)).div(6);

/** x · hardSigmoid(x) (jax.nn.hard_silu; Howard et al. 2019, "Searching for MobileNetV3"). */
export function hardSilu(x: ArrayLike): Array {
  const a = arr(x);
  return a.mul(hardSigmoid(a));
}

/** Alias of {@link hardSilu} (jax.nn.hard_swish). */
export const hardSwish = hardSilu;

/** ½·clip(x + 1, 0, 2): 0 below −1, 1 above 1, linear between (jax.nn.sparse_sigmoid). */
export const sparseSigmoid = (x: ArrayLike): Array => np.clip(arr(x).add(1), 0, 2).mul(0.5);

/** log σ(x) = −softplus(−x), finite for every finite x (jax.nn.log_sigmoid). */
export const logSigmoid = (x: ArrayLike): Array => softplus(arr(x).neg()).neg();

/** tanh(x). */
export const tanh = (x: ArrayLike): Array => np.tanh(x);

/** −1 below −1, 1 above 1, x between (jax.nn.hard_tanh; derivative 1 at ±1, as JAX's). */
export function hardTanh(x: ArrayLike): Array {
  const a = arr(x);
  return np.where(a.greater(1), 1, np.where(a.less(-1), -1, a));
}

/** arctan(x), a sigmoid-shaped activation with range (−π/2, π/2). */
export const arctan = (x: ArrayLike): Array => np.arctan(x);

/** x/(1 + |x|) (jax.nn.soft_sign). */
export function softsign(x: ArrayLike): Array {
  const a = arr(x);
  return a.div(np.abs(a).add(1));
}

/** Inverse square root unit x/√(1 + αx²), range (−1/√α, 1/√α) (Carlile et al. 2017). */
export function isru(x: ArrayLike, alpha: ArrayLike = 1): Array {
  const a = arr(x);
  return a.mul(np.rsqrt(np.square(a).mul(alpha).add(1)));
}

/**
 * max(x, 0) (jax.nn.relu). Its derivative at 0 is 0, as JAX's (Bertoin et al. 2021, "Numerical
 * influence of ReLU'(0) on backpropagation"); NaN stays NaN.
 */
export function relu(x: ArrayLike): Array {
  const a = arr(x);
  return np.where(a.lessEqual(0), 0, a);
}

/** min(max(x, 0), 6) (jax.nn.relu6; Krizhevsky 2010); its derivative is 0 at 0 and at 6, as JAX's. */
export function relu6(x: ArrayLike): Array {
  const a = arr(x);
  return np.where(a.lessEqual(0), 0, np.where(a.greaterEqual(6), 6, a));
}

/** x for x ≥ 0, negativeSlope·x below (jax.nn.leaky_relu; default slope 0.01). */
export function leakyRelu(x: ArrayLike, negativeSlope: ArrayLike = 0.01): Array {
  const a = arr(x);
  return np.where(a.greaterEqual(0), a, a.mul(negativeSlope));
}

/** min(x, 0) written with `where`, so its derivative at 0 is 1 (that of the negative branch). */
const negPart = (a: Array): Array => np.where(a.greater(0), 0, a);

/**
 * Exponential linear unit: x for x > 0, α(eˣ − 1) for x ≤ 0 (jax.nn.elu; Clevert et al. 2015).
 * expm1 sees only the clamped negative part, so a large x never makes an infinity.
 */
export function elu(x: ArrayLike, alpha: ArrayLike = 1): Array {
  const a = arr(x);
  return np.where(a.greater(0), a, np.expm1(negPart(a)).mul(alpha));
}

/** The SELU constants λ (scale) and α (Klambauer et al. 2017). */
/** SELU's λ and α (Klambauer et al. 2017), shared with alphaDropout. */
export const SELU_SCALE = 1.0507009873554805;
export const SELU_ALPHA = 1.6732632423543772;

/** Scaled ELU λ·elu(x, α), λ = 1.0507009873554805, α = 1.6732632423543772 (jax.nn.selu; Klambauer et al. 2017). */
export const selu = (x: ArrayLike): Array => elu(x, SELU_ALPHA).mul(SELU_SCALE);

/** Continuously differentiable ELU: max(x, 0) + α(e^(min(x, 0)/α) − 1) (jax.nn.celu; Barron 2017). */
export function celu(x: ArrayLike, alpha: ArrayLike = 1): Array {
  const a = arr(x);
  return np.where(a.greater(0), a, np.expm1(negPart(a).div(alpha)).mul(alpha));
}

/** Inverse square root linear unit: x for x ≥ 0, x/√(1 + αx²) below (Carlile et al. 2017). */
export function isrlu(x: ArrayLike, alpha: ArrayLike = 1): Array {
  const a = arr(x);
  const n = negPart(a);
  return np.where(a.greaterEqual(0), a, n.mul(np.rsqrt(np.square(n).mul(alpha).add(1))));
}

/** log(1 + eˣ), as logaddexp(x, 0), so it neither overflows nor loses the tail (jax.nn.softplus). */
export const softplus = (x: ArrayLike): Array => np.logaddexp(x, 0);

/** 0 for x ≤ −1, x for x ≥ 1, (x + 1)²/4 between: a smooth ReLU (jax.nn.sparse_plus). */
export function sparsePlus(x: ArrayLike): Array {
  const a = arr(x);
  return np.where(a.lessEqual(-1), 0, np.where(a.greaterEqual(1), a, np.square(a.add(1)).div(4)));
}

/**
 * Squareplus (x + √(x² + b))/2 (jax.nn.squareplus; So & Le 2021, default b = 4). For x < 0 it is
 * computed as b/(2(√(x² + b) − x)), the same number without the cancellation of x + √(x² + b)
 * (that branch sees only the clamped negative part, so it never divides by 0).
 */
export function squareplus(x: ArrayLike, b: ArrayLike = 4): Array {
  const a = arr(x);
  const n = negPart(a);
  const den = np.sqrt(np.square(n).add(b)).sub(n).mul(2);
  const below = np.divide(b, np.where(den.greater(0), den, 1));
  return np.where(a.greaterEqual(0), a.add(np.sqrt(np.square(a).add(b))).div(2), below);
}

/** Bent identity (√(x² + 1) − 1)/2 + x, computed as x²/(2(√(x² + 1) + 1)) + x (no cancellation near 0). */
export function bentIdentity(x: ArrayLike): Array {
  const a = arr(x);
  const sq = np.square(a);
  return sq.div(np.sqrt(sq.add(1)).add(1).mul(2)).add(a);
}

/** Sigmoid linear unit x·σ(x) (jax.nn.silu; Hendrycks & Gimpel 2016, Elfwing et al. 2017). */
export function silu(x: ArrayLike): Array {
  const a = arr(x);
  return a.mul(np.sigmoid(a));
}

/** Alias of {@link silu} (jax.nn.swish; Ramachandran et al. 2017). */
export const swish = silu;

/** Options of {@link gelu}. */
export interface GeluOptions {
  /** The tanh approximation (default true, as jax.nn.gelu); false is the exact x·Φ(x). */
  readonly approximate?: boolean;
}

/**
 * Gaussian error linear unit x·Φ(x) (jax.nn.gelu; Hendrycks & Gimpel 2016). With `approximate`
 * (the default, as JAX's): ½x(1 + tanh(√(2/π)(x + 0.044715x³))); exact: ½x·erfc(−x/√2), which
 * is ½x(1 + erf(x/√2)) keeping the tail's digits for negative x.
 */
export function gelu(x: ArrayLike, { approximate = true }: GeluOptions = {}): Array {
  const a = arr(x);
  if (approximate) {
    const inner = a.add(a.mul(a).mul(a).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return a.mul(np.tanh(inner).add(1)).mul(0.5);
  }
  return a.mul(np.erfc(a.mul(-Math.SQRT1_2))).mul(0.5);
}

/** x·tanh(softplus(x)) (jax.nn.mish; Misra 2019). */
export function mish(x: ArrayLike): Array {
  const a = arr(x);
  return a.mul(np.tanh(softplus(a)));
}

/**
 * Soft exponential (Godfrey & Gashler 2015), interpolating log, identity and exp:
 * −log(1 − α(x + α))/α for α < 0 (defined for x > 1/α − α; NaN below), x for α = 0,
 * (e^(αx) − 1)/α + α for α > 0. `alpha` is a number (its sign picks the branch).
 */
export function softExponential(x: ArrayLike, alpha: number): Array {
  const a = arr(x);
  if (alpha === 0) return a;
  if (alpha < 0) return np.log1p(a.add(alpha).mul(-alpha)).div(-alpha);
  return np.expm1(a.mul(alpha)).div(alpha).add(alpha);
}

/** sin(x), the sinusoid activation (Sitzmann et al. 2020's SIREN uses it). */
export const sinusoid = (x: ArrayLike): Array => np.sin(x);

/**
 * The normalised sinc, sin(πx)/(πx) with sinc(0) = 1 (numpy's np.sinc). Near 0 (|πx| < 0.05)
 * it is the Taylor series 1 − t²/6 + t⁴/120 − t⁶/5040, so value and gradient are smooth there.
 */
export function sinc(x: ArrayLike): Array {
  const t = arr(x).mul(Math.PI);
  const small = np.abs(t).less(0.05);
  const safe = np.where(small, 1, t);
  const t2 = np.square(t);
  const series = np.subtract(1, t2.mul(np.subtract(1 / 6, t2.mul(np.subtract(1 / 120, t2.div(5040))))));
  return np.where(small, series, np.sin(safe).div(safe));
}

/**
 * Every one-argument activation by name, with its default parameters: jax.nn's names in
 * camelCase, plus `linear` (Keras' identity). What `getActivation`, `activation("elu")` and
 * `dense(n, { activation })` look up.
 */
export const activations: Readonly<Record<string, (x: Array) => Array>> = {
  identity,
  linear: identity,
  binaryStep,
  sigmoid,
  hardSigmoid,
  hardSilu,
  hardSwish,
  sparseSigmoid,
  logSigmoid,
  tanh,
  hardTanh,
  arctan,
  softsign,
  isru: (x) => isru(x),
  relu,
  relu6,
  leakyRelu: (x) => leakyRelu(x),
  elu: (x) => elu(x),
  selu,
  celu: (x) => celu(x),
  isrlu: (x) => isrlu(x),
  softplus,
  sparsePlus,
  squareplus: (x) => squareplus(x),
  bentIdentity,
  silu,
  swish,
  gelu: (x) => gelu(x),
  mish,
  sinusoid,
  sinc,
  glu: (x) => glu(x),
  softmax: (x) => softmax(x),
  logSoftmax: (x) => logSoftmax(x),
  standardize: (x) => standardize(x),
};

/** A name's lookup key: case and underscores ignored, so "leaky_relu", "LeakyReLU" and "leakyRelu" meet. */
const keyOf = (name: string): string => name.replace(/_/g, "").toLowerCase();
const byKey = new Map(Object.entries(activations).map(([name, f]) => [keyOf(name), f]));

/** The Levenshtein distance of two short strings (for the "did you mean" hint). */
function distance(a: string, b: string): number {
  let prev = globalThis.Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(sub, (prev[j] as number) + 1, (cur[j - 1] as number) + 1));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

/**
 * The activation named `name`, in camelCase or jax.nn's snake_case (`"elu"`, `"leaky_relu"`,
 * `"log_softmax"`; case and underscores are ignored). An unknown name throws a WebjaxError
 * listing the valid names (and the nearest one).
 *
 * ```ts
 * const act = nn.getActivation("gelu"); // nn.gelu with approximate: true
 * ```
 */
export function getActivation(name: string): (x: Array) => Array {
  const f = byKey.get(keyOf(name));
  if (f !== undefined) return f;
  const names = Object.keys(activations);
  const near = names
    .map((n) => [n, distance(keyOf(name), keyOf(n))] as const)
    .filter(([, d]) => d <= 2)
    .sort((p, q) => p[1] - q[1])[0];
  const hint = near ? ` (did you mean ${JSON.stringify(near[0])}?)` : "";
  throw new WebjaxError(
    `getActivation: unknown activation ${JSON.stringify(name)}${hint}; valid names: ${names.join(", ")}`,
  );
}
