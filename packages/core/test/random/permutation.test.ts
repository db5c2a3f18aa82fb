/**
 * permutation / shuffle / choice against JAX's `_shuffle` recomputed in JS: split the key, draw
 * `bits` over the array's shape with the subkey (pinned to JAX in threefry.test.ts) and stably
 * sort by them, once per round (⌈3·ln n / ln(2^32 − 1)⌉ rounds: one up to ~1,600 elements).
 */
import { np, random, ShapeError } from "@webjax/core";
import { describe, expect, test } from "vitest";

const read = async (x: { data(): Promise<ArrayLike<number>> }) => Array.from(await x.data());

/** Indices that sort `keys` ascending, ties by index (a stable argsort). */
const stableArgsort = (keys: number[]) =>
  keys.map((_, i) => i).sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);

/** JAX's _shuffle of the values `x` (1-D) with the key `k`, round by round, using webjax's split/bits. */
async function shuffleRef(k: ReturnType<typeof random.key>, x: number[]): Promise<number[]> {
  const rounds = Math.ceil((3 * Math.log(Math.max(1, x.length))) / Math.log(2 ** 32 - 1));
  let key = random.keyData(k);
  let out = x;
  for (let r = 0; r < rounds; r++) {
    using ks = random.split(key);
    using sub = random.keyAt(ks, 1);
    using b = random.bits(sub, [x.length]);
    const order = stableArgsort(await read(b));
    out = order.map((i) => out[i] as number);
    key.dispose();
    key = random.keyAt(ks, 0);
  }
  key.dispose();
  return out;
}

describe("permutation", () => {
  test("permutation(key, n) is JAX's one-round shuffle of arange(n)", async () => {
    using k = random.key(0);
    using p = random.permutation(k, 50);
    expect(p.dtype).toBe("int32");
    const got = await read(p);
    expect(got).toEqual(await shuffleRef(k, [...Array(50).keys()]));
    expect([...got].sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  test("1,700 elements take two rounds, as JAX", async () => {
    using k = random.key(1);
    using p = random.permutation(k, 1700);
    expect(await read(p)).toEqual(await shuffleRef(k, [...Array(1700).keys()]));
  });

  test("an array is permuted along an axis as whole slices", async () => {
    using k = random.key(2);
    using x = np.arange(12).reshape([3, 4]);
    using rows = random.permutation(k, x);
    using cols = random.permutation(k, x, { axis: 1 });
    const order3 = await shuffleRef(k, [0, 1, 2]);
    const order4 = await shuffleRef(k, [0, 1, 2, 3]);
    const xs = [...Array(12).keys()];
    expect(await read(rows)).toEqual(order3.flatMap((r) => xs.slice(4 * r, 4 * r + 4)));
    expect(await read(cols)).toEqual([0, 1, 2].flatMap((r) => order4.map((c) => 4 * r + c)));
    // A 1-D array is shuffled directly: the same order as permuting its indices.
    using v = np.array([10, 20, 30, 40]);
    using pv = random.permutation(k, v);
    expect(await read(pv)).toEqual(order4.map((i) => 10 * (i + 1)));
  });

  test("independent: each slice along the axis by its own keys (shuffle)", async () => {
    using k = random.key(3);
    using x = np.arange(15).reshape([3, 5]);
    using s = random.shuffle(k, x, { axis: 1 });
    using same = random.permutation(k, x, { axis: 1, independent: true });
    // One round (15 elements): sort keys are bits(subkey, [3, 5]), each row sorted by its own.
    using ks = random.split(k);
    using sub = random.keyAt(ks, 1);
    using b = random.bits(sub, [3, 5]);
    const bits = await read(b);
    const want = [0, 1, 2].flatMap((r) => stableArgsort(bits.slice(5 * r, 5 * r + 5)).map((c) => 5 * r + c));
    expect(await read(s)).toEqual(want);
    expect(await read(same)).toEqual(want);
  });

  test("edge cases and errors", async () => {
    using k = random.key(4);
    using one = random.permutation(k, 1);
    expect(await read(one)).toEqual([0]);
    using none = random.permutation(k, 0);
    expect(none.shape).toEqual([0]);
    expect(() => random.permutation(k, -1)).toThrow(ShapeError);
    using s = np.array(3);
    expect(() => random.permutation(k, s)).toThrow(/permutation: x must be an integer or an array of rank >= 1/);
  });
});

describe("choice", () => {
  test("with replacement and no p: randint indices", async () => {
    using k = random.key(5);
    using c = random.choice(k, 10, { shape: [4, 5] });
    using r = random.randint(k, [4, 5], 0, 10);
    expect(c.shape).toEqual([4, 5]);
    expect(await read(c)).toEqual(await read(r));
    using a = np.array([1.5, 2.5, 3.5]);
    using ca = random.choice(k, a, { shape: [6] });
    using ri = random.randint(k, [6], 0, 3);
    expect(await read(ca)).toEqual((await read(ri)).map((i) => [1.5, 2.5, 3.5][i] as number));
  });

  test("without replacement: the first draws of a permutation, all distinct", async () => {
    using k = random.key(6);
    using c = random.choice(k, 20, { shape: [2, 4], replace: false });
    using p = random.permutation(k, 20);
    expect(c.shape).toEqual([2, 4]);
    expect(await read(c)).toEqual((await read(p)).slice(0, 8));
    using x = np.arange(10).reshape([5, 2]);
    using rows = random.choice(k, x, { shape: [3], replace: false });
    expect(rows.shape).toEqual([3, 2]);
    using p5 = random.permutation(k, 5);
    const order = (await read(p5)).slice(0, 3);
    expect(await read(rows)).toEqual(order.flatMap((r) => [2 * r, 2 * r + 1]));
    expect(() => random.choice(k, 3, { shape: [4], replace: false })).toThrow(/cannot take a larger sample/);
  });

  test("with p and replacement: frequencies follow p (chi-square); zero-probability entries never drawn", async () => {
    const p = [0.1, 0, 0.6, 0.3];
    const n = 20000;
    using k = random.key(7);
    using pa = np.array(p);
    using c = random.choice(k, 4, { shape: [n], p: pa });
    const counts = [0, 0, 0, 0];
    for (const v of await read(c)) counts[v] = (counts[v] as number) + 1;
    expect(counts[1]).toBe(0);
    const chi2 = [0, 2, 3].reduce(
      (s, i) => s + ((counts[i] as number) - n * (p[i] as number)) ** 2 / (n * (p[i] as number)),
      0,
    );
    expect(chi2).toBeLessThan(9.21); // χ²(2 dof) at the 1% level
  });

  test("with p and without replacement (Gumbel top-k): distinct, never a zero-probability entry", async () => {
    using k = random.key(8);
    using pa = np.array([0.25, 0, 0.25, 0.25, 0, 0.25]);
    for (let s = 0; s < 5; s++) {
      using ks = random.foldIn(k, s);
      using c = random.choice(ks, 6, { shape: [4], p: pa, replace: false });
      const got = await read(c);
      expect([...got].sort((a, b) => a - b)).toEqual([0, 2, 3, 5]);
    }
  });
});
