import { GILES_ERFINV } from "../../ir/math.js";

/**
 * Special functions in float64 for the CPU backend (JS has no erf): the Maclaurin series where
 * it converges fast, the continued fraction of erfc beyond, and erfinv as Giles' approximation
 * (the one XLA uses) refined by Newton steps to full double precision.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(a) for 0 ≤ a < 2.5: Σ (−1)ⁿ a²ⁿ⁺¹ / (n! (2n+1)), times 2/√π. */
function erfSeries(a: number): number {
  const a2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 100; n++) {
    term *= -a2 / n;
    const t = term / (2 * n + 1);
    sum += t;
    if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
  }
  return sum * TWO_OVER_SQRT_PI;
}

/** erfc(a) for a ≥ 1.5: e^(−a²)/√π · 1/(a + ½/(a + 1/(a + 3⁄2/(a + …)))), evaluated backwards. */
function erfcFraction(a: number): number {
  let t = a;
  for (let k = 80; k >= 1; k--) t = a + k / 2 / t;
  return Math.exp(-a * a) / (Math.sqrt(Math.PI) * t);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a < 2.5) return x < 0 ? -erfSeries(a) : erfSeries(a);
  const r = 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x < 0) return 2 - erfc(-x);
  return x < 1.5 ? 1 - erfSeries(x) : erfcFraction(x);
}

/**
 * Giles (2010), "Approximating the erfinv function", single-precision branch (XLA uses it too):
 * w = −log((1−x)(1+x)); p(w − 2.5) for w < 5, else p(√w − 3); erfinv(x) ≈ p·x. Coefficients
 * from the highest degree down, shared with the WGSL lowering.
 */

export function erfinvGiles(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  const center = w < 5;
  w = center ? w - 2.5 : Math.sqrt(w) - 3;
  let p = 0;
  for (const c of center ? GILES_ERFINV.center : GILES_ERFINV.tail) p = c + p * w;
  return p * x;
}

export function erfinv(x: number): number {
  if (Number.isNaN(x) || x < -1 || x > 1) return Number.NaN;
  if (x === 1) return Number.POSITIVE_INFINITY;
  if (x === -1) return Number.NEGATIVE_INFINITY;
  let y = erfinvGiles(x);
  for (let i = 0; i < 2; i++) y -= (erf(y) - x) / (TWO_OVER_SQRT_PI * Math.exp(-y * y));
  return y;
}
