/**
 * The threefry2x32 primitive and the key functions. The hash is checked against Random123's
 * known-answer vectors (the ones JAX's tests use) and against a plain-JS Threefry-2x32-20
 * written here from the paper; key/split/foldIn/bits against values printed by real JAX 0.10.2
 * (`jax_threefry_partitionable=True`, shared/golden/jax_random.py), which must match exactly.
 */
import { checkLeaks, DTypeError, np, random, ShapeError } from "@webjax/core";
import { describe, expect, test } from "vitest";

const read = async (x: { data(): Promise<ArrayLike<number>> }) => Array.from(await x.data());
const u32 = (...v: number[]) => np.array(Uint32Array.from(v));

/** Threefry-2x32 with 20 rounds in plain JS (Salmon et al. 2011; Random123's threefry.h). */
function threefryRef(k0: number, k1: number, x0: number, x1: number): [number, number] {
  const R = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k0 >>> 0, k1 >>> 0, (k0 ^ k1 ^ 0x1bd11bda) >>> 0];
  let a = (x0 + (ks[0] as number)) >>> 0;
  let b = (x1 + (ks[1] as number)) >>> 0;
  for (let r = 0; r < 20; r++) {
    a = (a + b) >>> 0;
    const s = R[r % 8] as number;
    b = (((b << s) | (b >>> (32 - s))) ^ a) >>> 0;
    if (r % 4 === 3) {
      const i = (r + 1) / 4;
      a = (a + (ks[i % 3] as number)) >>> 0;
      b = (b + (ks[(i + 1) % 3] as number) + i) >>> 0;
    }
  }
  return [a, b];
}

describe("threefry2x32", () => {
  // Random123 known-answer tests for threefry2x32_20 (kat_vectors), as in JAX's random_test.py.
  const kat: [number[], number[], number[]][] = [
    [
      [0x13198a2e, 0x03707344],
      [0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
    [
      [0, 0],
      [0, 0],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
  ];

  test.each(kat)("Random123 known answer: key %j, counter %j", async (k, x, want) => {
    using y = random.threefry2x32(u32(k[0] as number), u32(k[1] as number), u32(x[0] as number), u32(x[1] as number));
    expect(y.shape).toEqual([1, 2]);
    expect(await read(y)).toEqual(want);
  });

  test("the JS reference reproduces the known answers", () => {
    for (const [k, x, want] of kat) {
      expect(threefryRef(k[0] as number, k[1] as number, x[0] as number, x[1] as number)).toEqual(want);
    }
  });

  test("matches the JS reference on 2-D operands, broadcasting the key and reading strided views", async () => {
    // Counters that exercise carries and the sign bit; the key broadcast from scalars.
    const hi = [0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 12345, 0xdeadbeef, 42];
    const lo = [0, 0xffffffff, 7, 0x80000001, 99, 0x13579bdf, 3, 0xcafebabe];
    using k0 = np.array(Uint32Array.of(0xa5a5a5a5), { shape: [] });
    using k1 = np.array(Uint32Array.of(0x0badf00d), { shape: [] });
    using xs = np.array(Uint32Array.from([...hi, ...lo]), { shape: [2, 2, 4] });
    // x0 and x1 are the two [2, 4] halves, then transposed: strided views.
    using x0 = xs.slice(0).transpose();
    using x1 = xs.slice(1).transpose();
    using y = random.threefry2x32(k0, k1, x0, x1);
    expect(y.shape).toEqual([4, 2, 2]);
    const got = await read(y);
    const h = await read(x0);
    const l = await read(x1);
    const want = h.flatMap((v, i) => threefryRef(0xa5a5a5a5, 0x0badf00d, v, l[i] as number));
    expect(got).toEqual(want);
  });

  test("rejects non-uint32 operands and mismatched shapes, naming the op", () => {
    using a = np.array([1, 2], { dtype: "int32" });
    using b = u32(1, 2);
    using c = u32(1, 2, 3);
    expect(() => random.threefry2x32(a, b, b, b)).toThrow(DTypeError);
    expect(() => random.threefry2x32(a, b, b, b)).toThrow(/threefry2x32: operands must be uint32/);
    expect(() => random.threefry2x32(b, b, b, c)).toThrow(ShapeError);
  });

  test("empty counters give an empty result", async () => {
    using k = random.key(0);
    using s = random.split(k, 0);
    expect(s.shape).toEqual([0, 2]);
    expect(await read(s)).toEqual([]);
  });
});

describe("keys: exactly JAX's", () => {
  test("key(seed) is [high word, low word]", async () => {
    for (const seed of [1, 123, 987654321]) {
      using k = random.key(seed);
      expect(k.dtype).toBe("uint32");
      expect(k.shape).toEqual([2]);
      expect(await read(k)).toEqual([0, seed]);
    }
    using neg = random.key(-1);
    expect(await read(neg)).toEqual([0xffffffff, 0xffffffff]);
    using big = random.key(2 ** 40 + 5);
    expect(await read(big)).toEqual([256, 5]);
    expect(() => random.key(1.5)).toThrow(/key: the seed must be a safe integer/);
  });

  test("split(key(1), 4) and split(key(123), 2)", async () => {
    using k1 = random.key(1);
    using s4 = random.split(k1, 4);
    expect(s4.shape).toEqual([4, 2]);
    expect(await read(s4)).toEqual([
      507451445, 1853169794, 1948878966, 4237131848, 2441914641, 3819641963, 3568232559, 2761185182,
    ]);
    using k123 = random.key(123);
    using s2 = random.split(k123);
    expect(await read(s2)).toEqual([969380169, 3408994049, 2095235069, 2959038751]);
  });

  test("split into a shape gives keys in row-major counter order", async () => {
    using k = random.key(1);
    using s = random.split(k, [2, 2]);
    expect(s.shape).toEqual([2, 2, 2]);
    expect(await read(s)).toEqual([
      507451445, 1853169794, 1948878966, 4237131848, 2441914641, 3819641963, 3568232559, 2761185182,
    ]);
  });

  test("foldIn(key(123), 3) and foldIn(key(1), 1000)", async () => {
    using k123 = random.key(123);
    using f3 = random.foldIn(k123, 3);
    expect(f3.shape).toEqual([2]);
    expect(await read(f3)).toEqual([1653257682, 785867247]);
    using k1 = random.key(1);
    using f1000 = random.foldIn(k1, 1000);
    expect(await read(f1000)).toEqual([1260481763, 3492864707]);
    // An int32 scalar array folds in the same as the number.
    using d = np.array(1000, { dtype: "int32" });
    using fa = random.foldIn(k1, d);
    expect(await read(fa)).toEqual([1260481763, 3492864707]);
  });

  test("split key i is foldIn(key, i): JAX's fold-like partitionable split", async () => {
    using k = random.key(42);
    using ks = random.split(k, 3);
    const all = await read(ks);
    for (let i = 0; i < 3; i++) {
      using f = random.foldIn(k, i);
      expect(await read(f)).toEqual(all.slice(2 * i, 2 * i + 2));
    }
  });

  test("bits(key(1), [10]) and bits(key(123), [3, 4])", async () => {
    using k1 = random.key(1);
    using b10 = random.bits(k1, [10]);
    expect(b10.dtype).toBe("uint32");
    expect(await read(b10)).toEqual([
      1883912375, 2292451390, 1915204986, 1882898417, 3854144420, 2400655036, 4225756532, 3616323604, 1656910982,
      2748596072,
    ]);
    using k123 = random.key(123);
    using b34 = random.bits(k123, [3, 4]);
    expect(b34.shape).toEqual([3, 4]);
    expect(await read(b34)).toEqual([
      4076244552, 3434997474, 2185388702, 1281217597, 1057220581, 594100064, 446086210, 4061330441, 730666490,
      1470753140, 1782561036, 194572352,
    ]);
  });

  test("bits are the xor of the hash of the 64-bit counters (JS reference, 1,000 values)", async () => {
    using k = random.key(20240601);
    using b = random.bits(k, [10, 100]);
    const got = await read(b);
    const want = got.map((_, i) => {
      const [y0, y1] = threefryRef(0, 20240601, 0, i);
      return (y0 ^ y1) >>> 0;
    });
    expect(got).toEqual(want);
  });

  test("keyData returns the words; functions that take one key reject batches", async () => {
    using k = random.key(7);
    using d = random.keyData(k);
    expect(await read(d)).toEqual([0, 7]);
    using ks = random.split(k, 3);
    using kd = random.keyData(ks);
    expect(kd.shape).toEqual([3, 2]);
    expect(() => random.bits(ks, [2])).toThrow(ShapeError);
    expect(() => random.bits(ks, [2])).toThrow(/bits: expected a single key/);
    using f = np.array([0, 7]);
    expect(() => random.split(f)).toThrow(/split: expected a single key \(uint32\[2\]/);
  });

  test("keyAt reads one key of a split; composite functions leave no temporaries behind", async () => {
    using k = random.key(1);
    using ks = random.split(k, 4);
    using third = random.keyAt(ks, 2);
    expect(await read(third)).toEqual([2441914641, 3819641963]);
    const report = await checkLeaks(async () => {
      using s = random.split(k, 3);
      using k2 = random.keyAt(s, 1);
      using b = random.bits(k2, [5]);
      using u = random.normal(k, [4]);
      await b.data();
      await u.data();
    });
    expect(report.buffers, report.details.join("; ")).toBe(0);
  });
});
