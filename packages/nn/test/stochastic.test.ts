/**
 * Dropout keeps the mean (inverted scaling); alpha dropout keeps SELU's mean 0 and variance 1
 * for standard-normal inputs (|mean| ≤ 0.02, |variance − 1| ≤ 0.02 over 1e5 samples, rate 0.1,
 * a fixed seed); both are the identity at inference and on under Monte Carlo dropout.
 */
import { type Array as JArray, np, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const key = random.key(3);
const none = { params: {}, state: {} };

async function stats(x: JArray): Promise<{ mean: number; variance: number; zeros: number }> {
  const v = Array.from(await x.data());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return {
    mean,
    variance: v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length,
    zeros: v.filter((a) => a === 0).length / v.length,
  };
}

describe("dropout", () => {
  test("zeroes about `rate` of the units and scales the rest by 1/(1 − rate): the mean is kept", async () => {
    const x = np.ones([100000]);
    const [y] = nn.dropout(0.3).apply(none, x, { train: true, key });
    const s = await stats(y);
    expect(Math.abs(s.zeros - 0.3)).toBeLessThan(0.01);
    expect(Math.abs(s.mean - 1)).toBeLessThan(0.02);
    const kept = Array.from(await y.data()).find((v) => v !== 0) as number;
    expect(kept).toBeCloseTo(1 / 0.7, 5);
  });

  test("is the identity at inference, on with mcDropout, and shares masks along broadcastDims", async () => {
    const x = np.ones([4, 50]);
    const [yi] = nn.dropout(0.5).apply(none, x);
    await expectClose(yi, Array(200).fill(1));
    const [a] = nn.dropout(0.5).apply(none, x, { mcDropout: true, key });
    const [b] = nn.dropout(0.5).apply(none, x, { mcDropout: true, key: random.foldIn(key, 1) });
    expect(Array.from(await a.data())).not.toEqual(Array.from(await b.data()));
    const [c] = nn.dropout(0.5, { broadcastDims: [0] }).apply(none, x, { train: true, key });
    const rows = (await c.toArray()) as number[][];
    for (const r of rows) expect(r).toEqual(rows[0]);
  });
});

describe("alphaDropout", () => {
  test("keeps mean 0 and variance 1 of standard-normal inputs (rate 0.1, 1e5 samples)", async () => {
    const x = random.normal(random.key(11), [100000]);
    const [y] = nn.alphaDropout(0.1).apply(none, x, { train: true, key });
    const s = await stats(y);
    expect(Math.abs(s.mean)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(s.variance - 1)).toBeLessThanOrEqual(0.02);
    const [yi] = nn.alphaDropout(0.1).apply(none, x);
    expect(Array.from(await yi.data())).toEqual(Array.from(await x.data()));
  });

  test("dropped units take a·α' + b with Keras' a and b", async () => {
    const alphaP = -nn.SELU_ALPHA * nn.SELU_SCALE;
    const p = 0.5;
    const a = ((1 - p) * (1 + p * alphaP ** 2)) ** -0.5;
    const b = -a * alphaP * p;
    const [y] = nn.alphaDropout(p).apply(none, np.zeros([1000]), { train: true, key });
    const values = new Set(Array.from(await y.data()).map((v) => v.toFixed(5)));
    expect([...values].sort()).toEqual([(a * alphaP + b).toFixed(5), b.toFixed(5)].sort());
  });
});
