/**
 * The samplers against real JAX 0.10.2 (shared/golden/jax_random.json, copied here) and
 * against JS recomputations of JAX's formulas from `bits` (which threefry.test.ts pins to JAX).
 *
 * ULP bounds: uniform on [0, 1) is exact; with another range JAX's XLA CPU contracts
 * u·(max − min) + min into one fused multiply-add while webjax rounds the product first, so
 * ≤ 1 ulp; normal ≤ 4 ulp (erfinv: Giles' approximation in float32 on WebGPU and in XLA, a
 * correctly rounded erfinv on the CPU backend).
 */
import { DTypeError, np, random, ShapeError } from "@webjax/core";
import { describe, expect, test } from "vitest";

const read = async (x: { data(): Promise<ArrayLike<number>> }) => Array.from(await x.data());

/** Distance in float32 ulps (adjacent floats are 1 apart, across zero too). */
function ulps(a: number, b: number): number {
  const f = new Float32Array([a, b]);
  const [x, y] = Array.from(new Int32Array(f.buffer), (i) => (i < 0 ? -2147483648 - i : i));
  return Math.abs((x as number) - (y as number));
}

function expectUlps(got: number[], want: number[], bound: number): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const d = ulps(g, want[i] as number);
    if (d > bound) expect.fail(`element ${i}: got ${g}, JAX gave ${want[i]}: ${d} ulps apart (bound ${bound})`);
  });
}

/** JAX's uniform floats in [0, 1) from bits: the top 23 bits as the mantissa of [1, 2), minus 1. */
const unit = (b: number) => (b >>> 9) / 2 ** 23;

/** XLA's uint32 remainder: x % 0 = x. */
const rem = (a: number, s: number) => (s === 0 ? a : a % s);

describe("uniform and normal: JAX's values", () => {
  test("uniform(key(1), [6]) is exact", async () => {
    using k = random.key(1);
    using u = random.uniform(k, [6]);
    expect(u.dtype).toBe("float32");
    expectUlps(
      await read(u),
      [
        0.4386324882507324, 0.5337529182434082, 0.44591832160949707, 0.4383963346481323, 0.8973628282546997,
        0.5589460134506226,
      ],
      0,
    );
  });

  test("uniform(key(987654321), [2, 3], minval -2, maxval 5) within 1 ulp", async () => {
    using k = random.key(987654321);
    using u = random.uniform(k, [2, 3], { minval: -2, maxval: 5 });
    expect(u.shape).toEqual([2, 3]);
    expectUlps(
      await read(u),
      [
        3.7153728008270264, 2.6735424995422363, 3.1255946159362793, -1.7435647249221802, 3.3205113410949707,
        1.6416712999343872,
      ],
      1,
    );
  });

  test("normal(key(123), [6]) within 4 ulps", async () => {
    using k = random.key(123);
    using n = random.normal(k, [6]);
    expectUlps(
      await read(n),
      [
        1.6359468698501587, 0.8408094048500061, 0.022123929113149643, -0.5292768478393555, -0.6866449117660522,
        -1.0878772735595703,
      ],
      4,
    );
  });

  test("uniform with array bounds is max(lo, fl(fl(u·(hi − lo)) + lo)) per element", async () => {
    using k = random.key(5);
    using lo = np.array([-1, 0, 100]);
    using hi = np.array([1, 1e-3, 300]);
    using u = random.uniform(k, [4, 3], { minval: lo, maxval: hi });
    using b = random.bits(k, [4, 3]);
    const bits = await read(b);
    const los = [-1, 0, 100];
    const spans = [2, Math.fround(1e-3), 200];
    const want = bits.map((v, i) => {
      const l = los[i % 3] as number;
      return Math.max(l, Math.fround(Math.fround(unit(v) * (spans[i % 3] as number)) + l));
    });
    expect(await read(u)).toEqual(want);
  });

  test("float16 uniform is the top 10 of the low 16 bits over 1024 (JAX's 16-bit path)", async () => {
    using k = random.key(3);
    using u = random.uniform(k, [50], { dtype: "float16" });
    expect(u.dtype).toBe("float16");
    using b = random.bits(k, [50]);
    expect(await read(u)).toEqual((await read(b)).map((v) => ((v & 0xffff) >>> 6) / 1024));
    using n = random.normal(k, [200], { dtype: "float16" });
    expect(n.dtype).toBe("float16");
    expect((await read(n)).every((v) => Number.isFinite(v) && Math.abs(v) < 6)).toBe(true);
  });

  test("shape and dtype errors name the function", () => {
    using k = random.key(0);
    using lo = np.array([0, 1]);
    expect(() => random.uniform(k, [3], { minval: lo })).toThrow(ShapeError);
    expect(() => random.uniform(k, [2], { dtype: "int32" as "float32" })).toThrow(DTypeError);
    expect(() => random.normal(k, [2], { dtype: "float64" as "float32" })).toThrow(/normal: dtype must be float32/);
    expect(() => random.uniform(k, [-1])).toThrow(ShapeError);
  });

  test("a scalar draw has shape []", async () => {
    using k = random.key(1);
    using u = random.uniform(k);
    expect(u.shape).toEqual([]);
    expectUlps(await read(u), [0.4386324882507324], 0);
  });
});

describe("truncatedNormal", () => {
  test("stays inside (lower, upper) and its mean matches the truncated normal's", async () => {
    const [a, b] = [-1, 2];
    using k = random.key(11);
    using t = random.truncatedNormal(k, a, b, [20000]);
    expect(t.dtype).toBe("float32");
    const xs = await read(t);
    expect(xs.every((x) => x > a && x < b)).toBe(true);
    // E = (φ(a) − φ(b)) / (Φ(b) − Φ(a)), with Φ(2) − Φ(−1) = 0.8185946141203637.
    const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
    const z = 0.8185946141203637;
    const mean = (phi(a) - phi(b)) / z;
    const variance = 1 + (a * phi(a) - b * phi(b)) / z - mean * mean;
    const m = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(m - mean)).toBeLessThan(4 * Math.sqrt(variance / xs.length));
  });

  test("array bounds broadcast; a narrow interval clips into its open interior", async () => {
    using k = random.key(2);
    using lo = np.array([-3, 0, 1]);
    using hi = np.array([-2, 0.5, 1.000001]);
    using t = random.truncatedNormal(k, lo, hi, [100, 3]);
    const xs = await read(t);
    const los = [-3, 0, 1];
    const his = [-2, 0.5, Math.fround(1.000001)];
    xs.forEach((x, i) => {
      expect(x).toBeGreaterThan(los[i % 3] as number);
      expect(x).toBeLessThan(his[i % 3] as number);
    });
    using d = random.truncatedNormal(k, lo, hi);
    expect(d.shape).toEqual([3]);
  });
});

describe("bernoulli", () => {
  test("is uniform < p, with frequency p", async () => {
    using k = random.key(4);
    using x = random.bernoulli(k, 0.3, [20000]);
    expect(x.dtype).toBe("bool");
    using u = random.uniform(k, [20000]);
    const us = await read(u);
    const xs = await read(x);
    expect(xs).toEqual(us.map((v) => (v < Math.fround(0.3) ? 1 : 0)));
    const freq = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(freq - 0.3)).toBeLessThan(4 * Math.sqrt((0.3 * 0.7) / xs.length));
  });

  test("an array p broadcasts over the shape; by default the shape is p's", async () => {
    using k = random.key(8);
    using p = np.array([0, 0.5, 1]);
    using x = random.bernoulli(k, p, [2000, 3]);
    const xs = await read(x);
    const col = (c: number) => xs.filter((_, i) => i % 3 === c);
    expect(col(0).every((v) => v === 0)).toBe(true);
    expect(col(2).every((v) => v === 1)).toBe(true);
    const half = col(1).reduce((s, v) => s + v, 0) / 2000;
    expect(Math.abs(half - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / 2000));
    using d = random.bernoulli(k, p);
    expect(d.shape).toEqual([3]);
    expect(() => random.bernoulli(k, p, [2])).toThrow(ShapeError);
    expect(() => random.bernoulli(k, p, { shape: [2] } as never)).toThrow(
      /the shape is positional, as in JAX: bernoulli\(key, p, shape\)/,
    );
  });
});

describe("randint", () => {
  /** JAX's _randint from the two bit draws of split(key). */
  async function reference(seed: number, shape: number[], lo: number, hi: number, outOfRange = false) {
    using k = random.key(seed);
    using ks = random.split(k);
    using k1 = random.keyAt(ks, 0);
    using k2 = random.keyAt(ks, 1);
    using h = random.bits(k1, shape);
    using l = random.bits(k2, shape);
    const higher = await read(h);
    const lower = await read(l);
    let span = hi <= lo ? 1 : (hi - lo) >>> 0;
    if (outOfRange && hi > lo) span = (span + 1) >>> 0;
    let m = rem(65536, span);
    m = rem(Math.imul(m, m) >>> 0, span);
    return higher.map((x, i) => {
      const off = rem(((Math.imul(rem(x, span), m) >>> 0) + rem(lower[i] as number, span)) >>> 0, span);
      return (lo + off) | 0;
    });
  }

  const cases: [string, number, number, boolean][] = [
    ["[0, 10)", 0, 10, false],
    ["[-5, 7)", -5, 7, false],
    ["[-2^31, 2^31 - 1)", -(2 ** 31), 2 ** 31 - 1, false],
    ["[3, 3) gives minval", 3, 3, false],
    ["[0, 1000003)", 0, 1000003, false],
  ];
  test.each(cases)("%s follows JAX's algorithm exactly", async (_, lo, hi, oor) => {
    using k = random.key(77);
    using r = random.randint(k, [500], lo, hi);
    expect(r.dtype).toBe("int32");
    expect(await read(r)).toEqual(await reference(77, [500], lo, hi, oor));
  });

  test("maxval past int32's range widens the span by one (JAX's rule)", async () => {
    using k = random.key(78);
    using r = random.randint(k, [300], 0, 2 ** 31);
    expect(await read(r)).toEqual(await reference(78, [300], 0, 2 ** 31 - 1, true));
  });

  test("values lie in range and the histogram passes a chi-square test", async () => {
    const n = 20000;
    using k = random.key(9);
    using r = random.randint(k, [n], 0, 10);
    const counts = new Array(10).fill(0);
    for (const v of await read(r)) {
      expect(v >= 0 && v < 10).toBe(true);
      counts[v] += 1;
    }
    const chi2 = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
    expect(chi2).toBeLessThan(21.666); // χ²(9 dof) at the 1% level
  });

  test("array bounds broadcast; uint32 results", async () => {
    using k = random.key(10);
    using lo = np.array([0, 100, -50], { dtype: "int32" });
    using hi = np.array([2, 105, -40], { dtype: "int32" });
    using r = random.randint(k, [400, 3], lo, hi);
    const xs = await read(r);
    xs.forEach((v, i) => {
      expect(v).toBeGreaterThanOrEqual([0, 100, -50][i % 3] as number);
      expect(v).toBeLessThan([2, 105, -40][i % 3] as number);
    });
    using u = random.randint(k, [100], 0, 2 ** 32 - 1, { dtype: "uint32" });
    expect(u.dtype).toBe("uint32");
    expect((await read(u)).some((v) => v >= 2 ** 31)).toBe(true);
  });
});

describe("gumbel and categorical", () => {
  test("gumbel is −log(−log(u)), u uniform in [tiny, 1)", async () => {
    using k = random.key(12);
    using g = random.gumbel(k, [1000]);
    using u = random.uniform(k, [1000], { minval: 2 ** -126 });
    const us = await read(u);
    const gs = await read(g);
    gs.forEach((v, i) => {
      const want = -Math.log(-Math.log(us[i] as number));
      expect(Math.abs(v - want)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
    });
  });

  test("categorical draws with probabilities softmax(logits) (chi-square)", async () => {
    const p = [0.2, 0.5, 0.3];
    const n = 20000;
    using k = random.key(13);
    using logits = np.array(p.map(Math.log));
    using c = random.categorical(k, logits, { shape: [n] });
    expect(c.dtype).toBe("int32");
    expect(c.shape).toEqual([n]);
    const counts = [0, 0, 0];
    for (const v of await read(c)) counts[v] = (counts[v] as number) + 1;
    const chi2 = counts.reduce((s, cnt, i) => s + (cnt - n * (p[i] as number)) ** 2 / (n * (p[i] as number)), 0);
    expect(chi2).toBeLessThan(9.21); // χ²(2 dof) at the 1% level
  });

  test("categorical is argmax(gumbel + logits) along the axis, batch dims kept", async () => {
    using k = random.key(14);
    // Categories along axis 0: column j prefers category j (a logit of 0 against -1e9 elsewhere).
    using logits = np.array([
      [0, -1e9, -1e9, -1e9],
      [-1e9, 0, -1e9, -1e9],
      [-1e9, -1e9, 0, 0],
    ]);
    using c = random.categorical(k, logits, { axis: 0 });
    expect(c.shape).toEqual([4]);
    const cs = await read(c);
    expect(cs.slice(0, 3)).toEqual([0, 1, 2]);
    expect(cs[3]).toBe(2);
    using many = random.categorical(k, logits, { axis: 0, shape: [5, 4] });
    expect(many.shape).toEqual([5, 4]);
    const m = await read(many);
    m.forEach((v, i) => {
      if (i % 4 < 3) expect(v).toBe(i % 4);
    });
    using flat = np.array([1, 2, 3]);
    using one = random.categorical(k, flat);
    expect(one.shape).toEqual([]);
    expect(() => random.categorical(k, logits, { axis: 0, shape: [5, 3] })).toThrow(ShapeError);
  });
});
