/**
 * Statistical sanity of the samplers with fixed keys (deterministic, so no flakiness): sample
 * moments within 4 standard errors and Kolmogorov–Smirnov statistics below the 1% critical
 * value 1.63/√n. The normal CDF uses an erf written here (Abramowitz & Stegun 7.1.26,
 * |error| ≤ 1.5e-7, far below the KS threshold of ~5e-3), not webjax's.
 */
import { random } from "@webjax/core";
import { describe, expect, test } from "vitest";

const N = 100_000;
const read = async (x: { data(): Promise<ArrayLike<number>> }) => Array.from(await x.data());

function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return x < 0 ? -y : y;
}
const normalCdf = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));

function moments(xs: number[]): [number, number] {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return [mean, variance];
}

/** The KS statistic sup |F_n(x) − F(x)| of a sample against the CDF F. */
function ks(xs: number[], cdf: (x: number) => number): number {
  const s = Float64Array.from(xs).sort();
  let d = 0;
  s.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, f - i / s.length, (i + 1) / s.length - f);
  });
  return d;
}

describe("sample statistics with fixed keys", () => {
  test("100k uniforms: mean 1/2, variance 1/12, KS against U(0, 1)", async () => {
    using k = random.key(2024);
    using u = random.uniform(k, [N]);
    const xs = await read(u);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const [mean, variance] = moments(xs);
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / N));
    // Var of the sample variance for U(0, 1): (μ4 − σ⁴)/n with μ4 = 1/80, σ⁴ = 1/144.
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(4 * Math.sqrt((1 / 80 - 1 / 144) / N));
    expect(ks(xs, (x) => Math.min(1, Math.max(0, x)))).toBeLessThan(1.63 / Math.sqrt(N));
  });

  test("100k normals: mean 0, variance 1, KS against Φ", async () => {
    using k = random.key(2025);
    using n = random.normal(k, [N]);
    const xs = await read(n);
    expect(xs.every(Number.isFinite)).toBe(true);
    const [mean, variance] = moments(xs);
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(N));
    expect(Math.abs(variance - 1)).toBeLessThan(4 * Math.sqrt(2 / N));
    expect(ks(xs, normalCdf)).toBeLessThan(1.63 / Math.sqrt(N));
  });

  test("gumbel: mean γ (Euler's constant), variance π²/6", async () => {
    const n = 50_000;
    using k = random.key(2026);
    using g = random.gumbel(k, [n]);
    const [mean, variance] = moments(await read(g));
    expect(Math.abs(mean - 0.5772156649015329)).toBeLessThan(4 * Math.sqrt(Math.PI ** 2 / 6 / n));
    // The Gumbel's excess kurtosis is 12/5, so Var(s²) ≈ σ⁴(2 + 12/5)/n.
    expect(Math.abs(variance - Math.PI ** 2 / 6)).toBeLessThan(4 * (Math.PI ** 2 / 6) * Math.sqrt(4.4 / n));
  });

  test("keys from split and foldIn give uncorrelated streams", async () => {
    // (split(k)[i] is foldIn(k, i) in the partitionable scheme, so fold in another number.)
    const n = 20_000;
    using k = random.key(7);
    using ks = random.split(k);
    using a = random.keyAt(ks, 0);
    using b = random.keyAt(ks, 1);
    using c = random.foldIn(k, 1000);
    const streams = [];
    for (const key of [a, b, c]) {
      using x = random.normal(key, [n]);
      streams.push(await read(x));
    }
    const corr = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * (y[i] as number), 0) / n;
    const [x, y, z] = streams as [number[], number[], number[]];
    for (const r of [corr(x, y), corr(x, z), corr(y, z)]) expect(Math.abs(r)).toBeLessThan(4 / Math.sqrt(n));
  });
});
