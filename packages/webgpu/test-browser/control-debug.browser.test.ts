/**
 * In headless Chromium, control flow and debugging on WebGPU: cond, scan, associativeScan,
 * checkpoint and whileLoop (on the device, and on the cpu backend beside it), debug.print in a jitted scan,
 * costAnalysis, a profile and the NaN checker — compared with hand-computed values (the full
 * suites run on Dawn in Node).
 */
import {
  checkpoint,
  configure,
  debug,
  getBackend,
  grad,
  type Array as JArray,
  jit,
  lax,
  np,
  profiler,
  setBackend,
  vmap,
} from "@webjax/core";
import { init, shutdown } from "@webjax/webgpu";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

beforeAll(async () => {
  expect(await init({ fallback: false, allowSoftware: true })).toBe("webgpu");
});
afterAll(() => shutdown());

describe("control flow and debugging in the browser", () => {
  test("lax.cond on the GPU: eager (every branch, selected), its gradient (the taken branch's), jit and vmap", async () => {
    const f = (x: JArray) =>
      lax.cond(
        x.sum().greater(0),
        (a: JArray) => np.sqrt(a).sum(),
        (a: JArray) => a.mul(a).sum(),
        x,
      );
    const pos = np.array([1, 4]);
    const neg = np.array([-1, -2]);
    expect(Array.from(await f(pos).data())).toEqual([3]);
    expect(Array.from(await f(neg).data())).toEqual([5]);
    // d/dx Σ√x = 1/(2√x); d/dx Σx² = 2x — no NaN from the sqrt branch at negative x.
    expect(Array.from(await grad(f)(pos).data())).toEqual([0.5, 0.25]);
    expect(Array.from(await grad(f)(neg).data())).toEqual([-2, -4]);
    const jf = jit(f);
    expect(Array.from(await jf(neg).data())).toEqual([5]);
    expect(Array.from(await jf(pos).data())).toEqual([3]);
    const batched = vmap(f)(
      np.array([
        [1, 4],
        [-1, -2],
      ]),
    );
    expect(Array.from(await batched.data())).toEqual([3, 5]);
  });
  test("lax.scan on the GPU: a jitted RNN over 20 steps equals its JS loop, and so does its gradient", async () => {
    const W = np.array([
      [0.5, -0.25],
      [0.1, 0.4],
    ]);
    const xs = np.linspace(-1, 1, 40).reshape([20, 2]);
    const viaScan = (w: JArray) =>
      lax.scan((h: JArray, x: JArray) => [np.tanh(h.matmul(w).add(x)), h.sum()] as const, np.zeros([2]), xs)[1].sum();
    const viaLoop = (w: JArray) => {
      let h = np.zeros([2]);
      let acc = np.zeros([]);
      for (let t = 0; t < 20; t++) {
        acc = acc.add(h.sum());
        h = np.tanh(h.matmul(w).add(lax.slice(xs, [t, 0], [t + 1, 2]).reshape([2])));
      }
      return acc;
    };
    const [a, b] = [await jit(viaScan)(W).data(), await viaLoop(W).data()];
    expect(Math.abs((a[0] as number) - (b[0] as number))).toBeLessThan(1e-5);
    const [ga, gb] = [await jit(grad(viaScan))(W).data(), await grad(viaLoop)(W).data()];
    for (let i = 0; i < 4; i++) expect(Math.abs((ga[i] as number) - (gb[i] as number))).toBeLessThan(1e-5);
  });
  test("lax.associativeScan on the GPU: prefix sums and a jitted suffix product", async () => {
    const x = np.array([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(await lax.associativeScan((a: JArray, b: JArray) => a.add(b), x).data())).toEqual([
      1, 3, 6, 10, 15, 21, 28,
    ]);
    const suffix = jit((v: JArray) => lax.associativeScan((a: JArray, b: JArray) => a.mul(b), v, { reverse: true }));
    expect(Array.from(await suffix(x).data())).toEqual([5040, 5040, 2520, 840, 210, 42, 7]);
  });
  test("debugging on the GPU: debug.print inside a jitted scan, costAnalysis, a profile, and the NaN checker", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...a: unknown[]) => lines.push(a.map(String).join(" "));
    try {
      const run = jit(
        (xs: JArray) =>
          lax.scan(
            (c: JArray, x: JArray) => {
              debug.print("c={}", c);
              return [c.add(x), null] as const;
            },
            np.array(0),
            xs,
          )[0],
      );
      await run(np.array([1, 2])).data();
      await run(np.array([1, 2])).data();
      await debug.barrier();
    } finally {
      console.log = log;
    }
    expect(lines).toEqual(["c=0.0", "c=1.0", "c=0.0", "c=1.0"]);
    const cost = jit((a: JArray, b: JArray) => a.matmul(b))
      .lower(np.ones([8, 4]), np.ones([4, 2]))
      .costAnalysis();
    expect([cost.flops, cost.bytesRead, cost.bytesWritten]).toEqual([128, 160, 64]);
    profiler.startTrace();
    await jit((v: JArray) => np.tanh(v).sum())(np.ones([64])).data();
    const trace = await profiler.stopTrace();
    const kernels = trace.traceEvents.filter((e) => e.cat === "kernel");
    expect(kernels.length).toBeGreaterThan(0);
    expect(kernels.every((e) => e.ph === "X" && typeof e.ts === "number" && typeof e.dur === "number")).toBe(true);
    const blob = profiler.traceBlob(trace);
    expect(blob.type).toBe("application/json");
    expect((JSON.parse(await blob.text()) as { traceEvents: unknown[] }).traceEvents).toHaveLength(
      trace.traceEvents.length,
    );
    const quiet = console.error;
    console.error = () => {};
    try {
      configure({ debugNans: true });
      jit((v: JArray) => np.log(v).sum())(np.array([1, -1]));
      await expect(debug.barrier()).rejects.toThrow(/the first NaN came from 'log'/);
    } finally {
      configure({ debugNans: false });
      console.error = quiet;
    }
  });
  test("checkpoint on the GPU: a rematerialised layer's gradient equals the plain one", async () => {
    const layer = (h: JArray, w: JArray) => np.tanh(h.matmul(w)).mul(np.cos(h.matmul(w)));
    const deep = (step: typeof layer) => (w: JArray) => [0, 1, 2].reduce((h) => step(h, w), np.ones([4, 2])).sum();
    const w = np.array([
      [0.5, 0.1],
      [0.2, -0.3],
    ]);
    const [a, b] = [await grad(deep(checkpoint(layer)))(w).data(), await grad(deep(layer))(w).data()];
    for (let i = 0; i < 4; i++) expect(Math.abs((a[i] as number) - (b[i] as number))).toBeLessThan(1e-6);
  });
  test("lax.whileLoop in the browser: on WebGPU's device (eager, jit, vmap; one flag read per chunk) and on the cpu backend", async () => {
    const steps = (n: JArray) =>
      lax.whileLoop(
        ([v]: [JArray, JArray]) => v.greater(1),
        ([v, k]: [JArray, JArray]) =>
          [np.where(np.remainder(v, 2).equal(0), np.floorDivide(v, 2), v.mul(3).add(1)), k.add(1)] as [JArray, JArray],
        [n, np.array(0, { dtype: "int32" })] as [JArray, JArray],
      )[1];
    const counters = (getBackend() as unknown as { counters: { loopReads: number } }).counters;
    const reads = counters.loopReads;
    // Collatz from 27 takes 111 steps: ⌈111 / 32⌉ = 4 reads of the flag.
    expect(Array.from(await steps(np.array(27, { dtype: "int32" })).data())).toEqual([111]);
    expect(counters.loopReads - reads).toBe(4);
    expect(Array.from(await jit(steps)(np.array(7, { dtype: "int32" })).data())).toEqual([16]);
    expect(Array.from(await vmap(steps)(np.array([6, 7, 1], { dtype: "int32" })).data())).toEqual([8, 16, 0]);
    setBackend("cpu");
    try {
      expect(Array.from(await steps(np.array(27, { dtype: "int32" })).data())).toEqual([111]);
      expect(Array.from(await jit(steps)(np.array(7, { dtype: "int32" })).data())).toEqual([16]);
    } finally {
      setBackend("webgpu");
    }
  });
});
