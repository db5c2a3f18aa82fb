/**
 * WebGPU program runs (issue 23): a jitted program's dispatches go into one submit however
 * many there are (past the eager queue's 64-dispatch flush), and a steady training loop —
 * jitted, donated, the loss read every step — creates no GPU buffers after warm-up (storage,
 * params and readback buffers all come from pools).
 */

import { getBackend, type Array as JArray, jit, np, random, tree, valueAndGrad } from "@webjax/core";
import type { WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend("webgpu") as unknown as WebGPUBackend;

describe("WebGPU program runs", () => {
  test("a jitted program of more than 64 dispatches is one submit", async () => {
    // Each centring is a reduction and an elementwise kernel that the next reduction cannot
    // absorb (the mean is read by the subtraction after it): two dispatches per round.
    const f = jit((x: JArray) => {
      let y = x;
      for (let i = 0; i < 40; i++) y = y.sub(y.mean()).mul(1.01);
      return y;
    });
    using x = np.arange(256).astype("float32");
    const warm = f(x);
    await warm.blockUntilReady();
    warm.dispose();
    const b = gpu();
    await b.sync();
    const before = { ...b.counters };
    using y = f(x);
    const values = await y.data();
    expect(b.counters.dispatches - before.dispatches).toBeGreaterThan(64);
    expect(b.counters.submits - before.submits).toBe(1);
    // Its ~80 intermediates (1 KiB each, each dead after the next kernel) share a few arena buffers.
    expect(b.counters.arenaSlots - before.arenaSlots).toBeGreaterThan(60);
    expect(b.counters.arenaBuffers - before.arenaBuffers).toBeLessThanOrEqual(4);
    // Centred once, the values stay centred: (i − 127.5) · 1.01^40.
    expect(values[0]).toBeCloseTo(-127.5 * 1.01 ** 40, 2);
    expect(values[255]).toBeCloseTo(127.5 * 1.01 ** 40, 2);
  });

  test("eager work past 64 dispatches still flushes in between (the queue's bound)", async () => {
    using x = np.ones([64]);
    await x.blockUntilReady();
    const b = gpu();
    await b.sync();
    const before = { ...b.counters };
    let acc = x.add(0);
    for (let i = 0; i < 99; i++) {
      const next = acc.mul(1.001);
      acc.dispose();
      acc = next;
    }
    const values = await acc.data();
    acc.dispose();
    expect(values[0]).toBeCloseTo(1.001 ** 99, 4);
    expect(b.counters.dispatches - before.dispatches).toBe(100);
    expect(b.counters.submits - before.submits).toBe(2);
  });

  test("a jitted, donated SGD loop reading its loss each step creates no GPU buffers after warm-up", async () => {
    const [kx, k1, k2] = random.split(random.key(1), 3) as Iterable<JArray> as [JArray, JArray, JArray];
    let params = {
      w1: random.normal(k1, [16, 32]).mul(0.25),
      b1: np.zeros([32]),
      w2: random.normal(k2, [32, 10]).mul(0.18),
      b2: np.zeros([10]),
    };
    const x = random.normal(kx, [8, 16]);
    const y = np.oneHot(np.mod(np.arange(8).mul(3), 10), 10);
    const loss = (p: typeof params) => {
      const h = np.maximum(x.matmul(p.w1).add(p.b1), 0);
      const logits = h.matmul(p.w2).add(p.b2);
      return logits
        .sub(np.logsumexp(logits, { axis: -1, keepdims: true }))
        .mul(y)
        .sum(-1)
        .mean()
        .neg();
    };
    const step = jit(
      (p: typeof params) => {
        const [l, g] = valueAndGrad(loss)(p);
        return [l, tree.map((a: JArray, d: JArray) => a.sub(d.mul(0.1)), p, g)] as const;
      },
      { donateArgnums: 0 },
    );
    const b = gpu();
    const losses: number[] = [];
    let created = 0;
    let submits = 0;
    let groups = 0;
    let dispatches = 0;
    for (let i = 0; i < 25; i++) {
      if (i === 5) {
        await b.sync();
        created = b.buffersCreated;
        submits = b.counters.submits;
        groups = b.counters.bindGroups;
        dispatches = b.counters.dispatches;
      }
      const [l, next] = step(params);
      params = next;
      losses.push(await l.item());
      l.dispose();
    }
    expect(b.buffersCreated - created).toBe(0);
    // Each step's param buffers were written once, and its bind groups are reused: the pooled
    // buffers come back in the same order each call (the donated params alternate).
    expect(b.counters.dispatches - dispatches).toBeGreaterThan(20 * 10);
    expect(b.counters.bindGroups - groups).toBe(0);
    // One submit per step: the program's (the loss read flushes it; its copy is not a program submit).
    expect(b.counters.submits - submits).toBe(20);
    expect(losses[24]).toBeLessThan(losses[0] as number);
    tree.map((a: JArray) => a.dispose(), params);
    x.dispose();
    y.dispose();
  });
});
