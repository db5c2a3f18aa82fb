/**
 * nn.data: batches cover every example once per epoch and reshuffle each epoch; x and y stay
 * paired; prefetch yields the same batches; the scalers match scikit-learn's formulas computed
 * here in plain JS; splits are disjoint and complete.
 */
import { type Array as JArray, np, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const n = 103;
const x = np
  .arange(0, n * 2)
  .reshape([n, 2])
  .astype("float32");
const y = np.arange(0, n).astype("int32");

async function ints(a: JArray): Promise<number[]> {
  return Array.from(await a.data());
}

describe("batches", () => {
  test("without shuffle: in order, the last batch smaller, numBatches = ceil(n / batchSize)", async () => {
    const ds = nn.data.batches({ x, y }, { batchSize: 10 });
    expect(ds.numBatches).toBe(11);
    expect(ds.size).toBe(n);
    const seen: number[] = [];
    const sizes: number[] = [];
    for (const b of ds) {
      seen.push(...(await ints(b.y)));
      sizes.push(b.x.shape[0] as number);
      expect(b.x.shape[1]).toBe(2);
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(sizes.at(-1)).toBe(3);
  });

  test("dropRemainder drops the smaller last batch", () => {
    const ds = nn.data.batches({ x, y }, { batchSize: 10, dropRemainder: true });
    expect(ds.numBatches).toBe(10);
    expect([...ds].every((b) => b.y.shape[0] === 10)).toBe(true);
  });

  test("shuffled: each epoch is a permutation of all examples, x and y stay paired, epochs differ", async () => {
    const ds = nn.data.batches({ x, y }, { batchSize: 16, shuffle: true, key: random.key(7) });
    const orders: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const order: number[] = [];
      for (const b of ds) {
        const ys = await ints(b.y);
        const xs = await ints(b.x);
        ys.forEach((v, i) => {
          expect(xs[2 * i]).toBe(2 * v);
          expect(xs[2 * i + 1]).toBe(2 * v + 1);
        });
        order.push(...ys);
      }
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      orders.push(order);
    }
    expect(orders[0]).not.toEqual(orders[1]);
    expect(orders[1]).not.toEqual(orders[2]);
    // Epoch e is a function of (key, e): epoch(1) replays the second iteration.
    const replay: number[] = [];
    for (const b of ds.epoch(1)) replay.push(...(await ints(b.y)));
    expect(replay).toEqual(orders[1]);
  });

  test("bad inputs: leaves disagreeing on n, a scalar leaf, shuffle without a key", () => {
    expect(() => nn.data.batches({ x, y: y.slice([0, 5]) }, { batchSize: 4 })).toThrow(
      /batches: the leaves disagree on the number of examples \(x: \[103,2\], y: \[5\]\)/,
    );
    expect(() => nn.data.batches({ x: np.array(1) }, { batchSize: 4 })).toThrow(/x is a scalar/);
    expect(() => nn.data.batches({ x }, { batchSize: 4, shuffle: true })).toThrow(/needs a PRNG key/);
    expect(() => nn.data.batches({ x }, { batchSize: 0 })).toThrow(/batchSize must be a positive integer, got 0/);
  });

  test("prefetch yields the same batches in the same order", async () => {
    const ds = nn.data.batches({ x, y }, { batchSize: 8, shuffle: true, key: random.key(1) });
    const direct: number[] = [];
    for (const b of ds.epoch(0)) direct.push(...(await ints(b.y)));
    const fetched: number[] = [];
    for await (const b of nn.data.prefetch(ds.epoch(0), { size: 3, backend: "cpu" }))
      fetched.push(...(await ints(b.y)));
    expect(fetched).toEqual(direct);
  });
});

describe("scalers", () => {
  const rows = [
    [1, 10, 5],
    [2, 20, 5],
    [4, 40, 5],
    [9, 10, 5],
  ];
  const data = np.array(rows);
  const col = (j: number) => rows.map((r) => r[j] as number);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const std = (v: number[]) => Math.sqrt(mean(v.map((a) => (a - mean(v)) ** 2)));

  test("standardScaler: (x − mean) / std with the population std; a constant feature maps to 0", async () => {
    const s = nn.data.standardScaler();
    const [z, stats] = s.fitTransform(data);
    const want = rows.map((r) => r.map((v, j) => (std(col(j)) === 0 ? 0 : (v - mean(col(j))) / std(col(j)))));
    await expectClose(z, want, { rtol: 1e-6, atol: 1e-6 });
    await expectClose(stats.scale, [std(col(0)), std(col(1)), 1], { rtol: 1e-6 });
    // Applied to other data with the training statistics, and inverted.
    const other = np.array([[3, 30, 7]]);
    await expectClose(s.transform(stats, other), [[(3 - 4) / std(col(0)), (30 - 20) / std(col(1)), 2]], {
      rtol: 1e-6,
    });
    await expectClose(s.inverseTransform(stats, z), rows, { rtol: 1e-6, atol: 1e-5 });
  });

  test("minMaxScaler: into featureRange, constant features to a", async () => {
    const s = nn.data.minMaxScaler({ featureRange: [-1, 1] });
    const [t, stats] = s.fitTransform(data);
    const lo = [1, 10, 5];
    const range = [8, 30, 1];
    const want = rows.map((r) => r.map((v, j) => ((v - (lo[j] as number)) / (range[j] as number)) * 2 - 1));
    await expectClose(t, want, { rtol: 1e-6, atol: 1e-6 });
    await expectClose(s.inverseTransform(stats, t), rows, { rtol: 1e-6, atol: 1e-5 });
  });

  test("a scaler fitted on 3 features refuses 2", () => {
    const s = nn.data.standardScaler();
    const stats = s.fit(data);
    expect(() => s.transform(stats, np.ones([2, 2]))).toThrow(
      /standardScaler.transform: the scaler was fitted on features of shape \[3\], got examples of shape \[2\]/,
    );
  });

  test("checkStandardized names the features that are off", async () => {
    const r = await nn.data.checkStandardized(data);
    expect(r.ok).toBe(false);
    expect(r.offending).toBe(2);
    expect(r.offenders.map((o) => o.feature)).toEqual([0, 1]);
    expect(r.offenders[0]?.mean).toBeCloseTo(4, 5);
    const [z] = nn.data.standardScaler().fitTransform(data);
    expect((await nn.data.checkStandardized(z)).ok).toBe(true);
  });
});

describe("trainValidationSplit", () => {
  test("without a key the last fraction is held out (Keras' validation_split)", async () => {
    const [tr, va] = nn.data.trainValidationSplit({ x, y }, { validationFraction: 0.2 });
    expect(va.y.shape).toEqual([21]);
    expect(await ints(va.y)).toEqual(Array.from({ length: 21 }, (_, i) => 82 + i));
    expect(tr.x.shape).toEqual([82, 2]);
  });

  test("with a key: disjoint, complete, paired, and the same for the same key", async () => {
    const [tr, va] = nn.data.trainValidationSplit({ x, y }, { validationSize: 30, key: random.key(2) });
    const a = await ints(tr.y);
    const b = await ints(va.y);
    expect(b.length).toBe(30);
    expect([...a, ...b].sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect((await ints(tr.x)).filter((_, i) => i % 2 === 0)).toEqual(a.map((v) => 2 * v));
    const [, again] = nn.data.trainValidationSplit({ x, y }, { validationSize: 30, key: random.key(2) });
    expect(await ints(again.y)).toEqual(b);
    expect(b).not.toEqual(Array.from({ length: 30 }, (_, i) => 73 + i));
  });
});
