/**
 * The IR math library (ir/math.ts), through the backend under test, in float32 ulps against
 * float64 references: JS's Math functions, and for erf/erfc/erfinv the references below (erf's
 * Maclaurin series in float64 for |x| < 3, the continued fraction of erfc beyond, erfinv by
 * bisection on that erf). Inputs sweep each function's domain log-spaced over both signs plus
 * the range-reduction boundaries; bounds are the measured maxima, rounded up.
 */
import { getBackend, type Array as JArray, np, registerBackend } from "@webjax/core";
import { CpuBackend } from "@webjax/core/internal";
import { flushesSubnormals, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

function ulps(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  const f = new Float32Array([a, b]);
  const [x, y] = Array.from(new Int32Array(f.buffer), (i) => (i < 0 ? -2147483648 - i : i));
  return Math.abs((x as number) - (y as number));
}

function refErf(x: number): number {
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = (sum * 2) / Math.sqrt(Math.PI);
  } else r = 1 - refErfcLarge(a);
  return x < 0 ? -r : r;
}

function refErfcLarge(a: number): number {
  let t = a;
  for (let k = 200; k >= 1; k--) t = a + k / 2 / t;
  return Math.exp(-a * a) / (Math.sqrt(Math.PI) * t);
}

const refErfc = (x: number) => (x >= 3 ? refErfcLarge(x) : 1 - refErf(x));

function refErfinv(y: number): number {
  if (y <= -1) return y === -1 ? -Infinity : Number.NaN;
  if (y >= 1) return y === 1 ? Infinity : Number.NaN;
  let lo = -6;
  let hi = 6;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (refErf(mid) < y) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** n points log-spaced on [lo, hi], both signs, plus zero. */
function sweep(lo: number, hi: number, n = 600): number[] {
  const out = [0];
  for (let i = 0; i < n; i++) {
    const v = Math.fround(lo * (hi / lo) ** (i / (n - 1)));
    out.push(v, -v);
  }
  return out;
}

/**
 * WebGPU (SwiftShader here) flushes subnormals and its compiler may contract a·b + c into one
 * fused multiply-add, so its bound is the CPU's plus 2 ulps, on normal inputs and results.
 */
const slack = testBackend === "webgpu" ? 2 : 0;
const normal = (v: number) => !flushesSubnormals || v === 0 || Math.abs(v) >= 2 ** -126;

type Case = [name: string, f: (x: JArray) => JArray, ref: (x: number) => number, xs: number[], bound: number];

const unit = sweep(1e-6, 1).filter((v) => Math.abs(v) <= 1);
const cases: Case[] = [
  ["exp", np.exp, Math.exp, sweep(1e-6, 103), 1],
  ["log", np.log, Math.log, sweep(1e-38, 3e38).map(Math.abs), 1],
  ["expm1", np.expm1, Math.expm1, sweep(1e-6, 88), 1],
  ["log1p", np.log1p, Math.log1p, sweep(1e-6, 1e30).filter((v) => v > -1), 2],
  ["tanh", np.tanh, Math.tanh, sweep(1e-6, 20), 2],
  ["sin", np.sin, Math.sin, sweep(1e-6, 1000), 1],
  ["cos", np.cos, Math.cos, sweep(1e-6, 1000), 1],
  ["tan", np.tan, Math.tan, sweep(1e-6, 1.5), 2],
  ["arctan", np.arctan, Math.atan, sweep(1e-6, 1e8), 1],
  ["arcsin", np.arcsin, Math.asin, unit, 1],
  ["arccos", np.arccos, Math.acos, unit, 1],
  ["sinh", np.sinh, Math.sinh, sweep(1e-6, 88), 2],
  ["cosh", np.cosh, Math.cosh, sweep(1e-6, 88), 1],
  ["arcsinh", np.arcsinh, Math.asinh, sweep(1e-6, 1e30), 2],
  ["arctanh", np.arctanh, Math.atanh, unit.filter((v) => Math.abs(v) < 1), 2],
  ["cbrt", np.cbrt, Math.cbrt, sweep(1e-30, 1e30), 1],
  ["exp2", np.exp2, (x) => 2 ** x, sweep(1e-6, 127), 1],
  ["erf", np.erf, refErf, sweep(1e-6, 5), 2],
  ["erfc", np.erfc, refErfc, sweep(1e-6, 9), 7],
  ["erfinv", np.erfinv, refErfinv, unit, 3],
];

describe("the IR math library in float32 ulps", () => {
  test.each(cases)("%s", async (_, f, ref, all, bound) => {
    const xs = all.filter((v) => normal(v) && normal(ref(v)));
    using x = np.array(Float32Array.from(xs));
    using y = f(x);
    const got = Array.from(await y.data()) as number[];
    let worst = 0;
    let at = 0;
    got.forEach((g, i) => {
      const d = ulps(g, Math.fround(ref(xs[i] as number)));
      if (d > worst) {
        worst = d;
        at = xs[i] as number;
      }
    });
    expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(bound + slack);
  });

  /**
   * pow keeps b·e exact (|a| = 2^e·m) but b·log2(m) carries log's float32 error, so the bound
   * grows with |b·log2 m|: 2 ulps + one per 3 units of it (1.5^65: 27 units, 8 ulps measured).
   * Integer exponents up to 16 square: ≤ 8 ulps (the error doubles per squaring), and exact
   * where the result is representable.
   */
  test("power: exact where representable, within its error model elsewhere, IEEE cases", async () => {
    const bases = [0.5, 1.5, 2, 3, 10, 0.1, 7.25, 1e-3, 123.5, -2, -0.75, -3, 1.0001];
    const exps = [0, 1, 2, 3, 5, 7, 10, 16, 17, 64, 1000, -1, -2, -7, 0.5, 1.5, -0.25, 2.75, 12.5, -3.3, 37.9];
    const a: number[] = [];
    const b: number[] = [];
    for (const x of bases)
      for (const e of exps)
        if (x > 0 || Number.isInteger(e)) {
          a.push(x);
          b.push(e);
        }
    using pa = np.array(Float32Array.from(a));
    using pb = np.array(Float32Array.from(b));
    using p = np.power(pa, pb);
    const got = Array.from(await p.data()) as number[];
    got.forEach((g, i) => {
      const want = Math.fround(Math.fround(a[i] as number) ** Math.fround(b[i] as number));
      if (!normal(want)) return;
      const exact =
        Number.isInteger(a[i]) && Number.isInteger(b[i]) && (b[i] as number) >= 0 && Math.abs(want) < 2 ** 24;
      const bi = Math.fround(b[i] as number);
      const m = Math.abs(Math.fround(a[i] as number)) / 2 ** Math.round(Math.log2(Math.abs(a[i] as number)));
      const model = 2 + Math.ceil(Math.abs(bi * Math.log2(m)) / 3);
      const bound = exact ? 0 : Number.isInteger(bi) && Math.abs(bi) <= 16 ? 8 : model;
      expect(ulps(g, want), `${a[i]} ** ${b[i]}`).toBeLessThanOrEqual(bound + slack);
    });
    const specials: [number, number, number][] = [
      [1, Number.NaN, 1],
      [Number.NaN, 0, 1],
      [-1, Infinity, 1],
      [0.5, Infinity, 0],
      [2, Infinity, Infinity],
      [2, -Infinity, 0],
      [0, -1, Infinity],
      [-0, -1, -Infinity],
      [0, 2, 0],
      [-8, 1 / 3, Number.NaN],
      [-2, 3, -8],
      [Number.NaN, 2, Number.NaN],
    ];
    using sa = np.array(Float32Array.from(specials.map((t) => t[0])));
    using sb = np.array(Float32Array.from(specials.map((t) => t[1])));
    using sp = np.power(sa, sb);
    expect(Array.from(await sp.data())).toEqual(specials.map((t) => t[2]));
  });

  test("arctan2 within 2 ulps over a grid, IEEE values at zeros and infinities", async () => {
    const vs = [-1e3, -7, -1, -0.3, -1e-3, 1e-3, 0.3, 1, 7, 1e3];
    const y: number[] = [];
    const x: number[] = [];
    for (const a of vs)
      for (const b of vs) {
        y.push(a);
        x.push(b);
      }
    const zeros: [number, number][] = [
      [0, 1],
      [0, -1],
      [-0, -1],
      [1, 0],
      [-1, 0],
      [0, -0],
      [-0, -0],
      [Infinity, Infinity],
      [-Infinity, -Infinity],
      [1, -Infinity],
      [Infinity, 3],
    ];
    for (const [a, b] of zeros) {
      y.push(a);
      x.push(b);
    }
    using ay = np.array(Float32Array.from(y));
    using ax = np.array(Float32Array.from(x));
    using t = np.arctan2(ay, ax);
    const got = Array.from(await t.data()) as number[];
    got.forEach((g, i) => {
      const want = Math.fround(Math.atan2(Math.fround(y[i] as number), Math.fround(x[i] as number)));
      expect(ulps(g, want), `atan2(${y[i]}, ${x[i]})`).toBeLessThanOrEqual(2 + slack);
    });
  });
});

describe.runIf(testBackend === "cpu")("one library: the CPU paths agree bit for bit", () => {
  test("generated JS and the interpreter give the same bits for every expanded function", async () => {
    const cpu = getBackend("cpu") as CpuBackend;
    registerBackend("cpu-interp", () => new CpuBackend({ ...cpu.options, codegen: "interpreter" }, "cpu-interp"));
    registerBackend("cpu-gen", () => new CpuBackend({ ...cpu.options, codegen: "js" }, "cpu-gen"));
    const xs = Float32Array.from(sweep(1e-4, 50, 200));
    const fns = [...cases.map((c) => c[1]), (v: JArray) => np.power(np.abs(v), v)];
    for (const f of fns) {
      const bitsOn = async (backend: string) => {
        using x = np.array(xs, { backend });
        using y = f(x);
        return new Uint32Array(((await y.data()) as Float32Array).slice().buffer);
      };
      expect(await bitsOn("cpu-interp")).toEqual(await bitsOn("cpu-gen"));
    }
  });
});
