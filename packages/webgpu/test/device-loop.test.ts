/**
 * `lax.whileLoop` on the device (issue 24, src/device-loop.ts): the flag is read once per chunk
 * of iterations (counted), work enqueued after a loop waits behind it (reads, uploads, frees of
 * its inputs, a second loop), carries that the body swaps or passes through stay right, a scan
 * inside the body runs gated too, and what cannot run there yet is a named error. And a
 * jitted cond as one step, its branches gated by the index on the device (src/device-cond.ts).
 * Values against JS loops.
 */
import {
  currentBackend,
  debug,
  getBackend,
  type Array as JArray,
  jit,
  lax,
  np,
  registerBackend,
  setBackend,
} from "@webjax/core";
import { activeBackend, WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend() as unknown as WebGPUBackend;
const i32 = (v: number | number[]) => np.array(v, { dtype: "int32" });
const values = async (x: JArray) => Array.from(await x.data());

/** Counts up to n (n iterations, data-dependent: n is an input). */
const countTo = (n: JArray) =>
  lax.whileLoop(
    ([i]: [JArray, JArray]) => i.less(n),
    ([i, s]: [JArray, JArray]) => [i.add(1), s.add(i.astype("float32").mul(0.5))] as [JArray, JArray],
    [i32(0), np.array(0)] as [JArray, JArray],
  );
const halfSum = (n: number) => 0.25 * n * (n - 1);

/** Runs `f` on a WebGPU backend with `whileChunk: chunk`, then restores the current one. */
async function withChunk<T>(chunk: number, f: (b: WebGPUBackend) => Promise<T>): Promise<T> {
  const a = activeBackend() as WebGPUBackend;
  const b = new WebGPUBackend(a.device, a.limits, a.adapterInfo, { whileChunk: chunk });
  const name = `webgpu-chunk-${chunk}`;
  registerBackend(name, () => b as never);
  const before = currentBackend();
  setBackend(name);
  try {
    return await f(b);
  } finally {
    setBackend(before);
  }
}

describe("whileLoop on the WebGPU device", () => {
  test("reads its flag ⌈n / chunk⌉ times (eager and jitted), values equal a JS loop", async () => {
    for (const chunk of [32, 4]) {
      await withChunk(chunk, async (b) => {
        const f = jit(countTo);
        for (const n of [0, 1, chunk - 1, chunk, chunk + 1, 45, 100]) {
          for (const run of [countTo, f]) {
            const before = b.counters.loopReads;
            const [i, s] = run(i32(n));
            expect(await values(i)).toEqual([n]);
            expect((await values(s))[0]).toBeCloseTo(halfSum(n), 3);
            expect(b.counters.loopReads - before).toBe(Math.max(1, Math.ceil(n / chunk)));
          }
        }
        expect(f.traceCount).toBe(1);
      });
    }
  });

  test("a long loop makes no GPU buffers per iteration (its copies' params and bind groups are made once a call)", async () => {
    const b = gpu();
    const f = jit(countTo);
    await values(f(i32(64))[0] as JArray);
    const created = b.buffersCreated;
    const [i, s] = f(i32(960));
    expect(await values(i)).toEqual([960]);
    expect((await values(s))[0]).toBeCloseTo(halfSum(960), -2);
    // (Two carries, 960 iterations: one params buffer per copy per iteration would be 1,920.)
    expect(b.buffersCreated - created).toBeLessThanOrEqual(4);
  });

  test("work after a loop waits for it: reads, uploads, freed inputs, a second loop that reads the first", async () => {
    const k = np.array([3]);
    // The body reads k; k is freed at once, and new arrays are uploaded while the loop runs.
    const [x] = lax.whileLoop(
      ([v]: [JArray]) => v.sum().less(1000),
      ([v]: [JArray]) => [v.mul(k)] as [JArray],
      [np.array([1, 2])] as [JArray],
    );
    k.dispose();
    const others = Array.from({ length: 20 }, (_, j) => np.full([64], j));
    const y = x.add(1);
    // A second loop over the first's result, and an unrelated read in between.
    const [z] = lax.whileLoop(
      ([v]: [JArray]) => v.sum().greater(10),
      ([v]: [JArray]) => [v.div(2)] as [JArray],
      [y] as [JArray],
    );
    const unrelated = await values(others[7] as JArray);
    expect(unrelated.every((v) => v === 7)).toBe(true);
    // 1, 2 → ·3 until the sum passes 1000: 243, 486 (sum 729) → 729, 1458.
    expect(await values(x)).toEqual([729, 1458]);
    expect(await values(y)).toEqual([730, 1459]);
    let v = [730, 1459];
    while (v.reduce((a, e) => a + e) > 10) v = v.map((e) => e / 2);
    expect(await values(z)).toEqual(v);
    for (const o of others) expect((await values(o))[0]).toBe(others.indexOf(o));
    await gpu().sync();
  });

  test("carries the body swaps or passes through (Fibonacci, a swap with a counter)", async () => {
    const fib = (n: JArray) =>
      lax.whileLoop(
        ([, , i]: [JArray, JArray, JArray]) => i.less(n),
        ([a, c, i]: [JArray, JArray, JArray]) => [c, a.add(c), i.add(1)] as [JArray, JArray, JArray],
        [i32(0), i32(1), i32(0)] as [JArray, JArray, JArray],
      )[0];
    const fibJs = (n: number) => {
      let [a, c] = [0, 1];
      for (let i = 0; i < n; i++) [a, c] = [c, a + c];
      return a;
    };
    const swap = (n: JArray) =>
      lax.whileLoop(
        ([, , i]: [JArray, JArray, JArray]) => i.less(n),
        ([a, c, i]: [JArray, JArray, JArray]) => [c, a, i.add(1)] as [JArray, JArray, JArray],
        [np.array([1, 2]), np.array([3, 4]), i32(0)] as [JArray, JArray, JArray],
      );
    for (const run of [fib, jit(fib)])
      for (const n of [0, 1, 7, 30]) expect(await values(run(i32(n)))).toEqual([fibJs(n)]);
    for (const run of [swap, jit(swap)]) {
      for (const n of [0, 3, 40]) {
        const [a, c] = run(i32(n));
        expect(await values(a)).toEqual(n % 2 === 0 ? [1, 2] : [3, 4]);
        expect(await values(c)).toEqual(n % 2 === 0 ? [3, 4] : [1, 2]);
      }
    }
  });

  test("a scan inside the body runs gated too (its copies are kernels)", async () => {
    // Each step adds the running sums of [1, 2, 3] to v until v[2] passes 50.
    const f = jit((v0: JArray) =>
      lax.whileLoop(
        ([v]: [JArray]) => v.max().less(50),
        ([v]: [JArray]) => {
          const [, ys] = lax.scan(
            (c: JArray, x: JArray) => [c.add(x), c.add(x)] as [JArray, JArray],
            np.array(0),
            np.array([1, 2, 3]),
          );
          return [v.add(ys)] as [JArray];
        },
        [v0] as [JArray],
      ),
    );
    let v = [0, 0, 0];
    while (Math.max(...v) < 50) v = v.map((e, j) => e + ((j + 1) * (j + 2)) / 2);
    expect(await values(f(np.zeros([3]))[0] as JArray)).toEqual(v);
  });

  test("a kernel that fails inside the loop stops it: the read rejects with the kernel's error, nothing hangs", async () => {
    const f = jit(countTo);
    await values(f(i32(5))[0] as JArray);
    gpu().failNextKernel("injected in a while loop");
    const [i] = f(i32(1000));
    await expect(i.data()).rejects.toThrow(/webgpu: kernel\(s\) .* failed/);
    // The backend goes on: the next call is right.
    expect(await values(f(i32(40))[0] as JArray)).toEqual([40]);
  });

  test("jit(f).compile builds the loop's pipelines (its own included) and runs nothing; the call compiles nothing", async () => {
    const b = gpu();
    // A body of its own (a cube root), so none of its kernels is cached yet.
    const cbrt = jit(
      (a: JArray) =>
        lax.whileLoop(
          ([x]: [JArray]) => x.mul(x).mul(x).sub(a).abs().greater(a.mul(1e-5)).any(),
          ([x]: [JArray]) =>
            [
              x
                .mul(2)
                .add(a.div(x.mul(x)))
                .div(3),
            ] as [JArray],
          [a] as [JArray],
        )[0],
    );
    await b.sync();
    const [dispatches, reads] = [b.counters.dispatches, b.counters.loopReads];
    await cbrt.compile(np.array([8, 27]));
    expect(b.counters.dispatches).toBe(dispatches);
    expect(b.counters.loopReads).toBe(reads);
    const compiles = b.counters.compiles;
    const x = await values(cbrt(np.array([8, 27])));
    expect(b.counters.compiles).toBe(compiles);
    expect(x[0]).toBeCloseTo(2, 4);
    expect(x[1]).toBeCloseTo(3, 4);
  });

  test("a jitted switch runs only the chosen branch on the device (clamped index), in a scan's body and a while's", async () => {
    const b = gpu();
    const branches = [(a: JArray) => a.add(1), (a: JArray) => a.mul(a), (a: JArray) => np.sin(a).mul(10)];
    const f = jit((i: JArray, x: JArray) => lax.switch(i, branches, x));
    const x = np.array([0.5, 2]);
    const want = (i: number) =>
      [0.5, 2].map((v) => [v + 1, v * v, Math.sin(v) * 10][Math.min(Math.max(i, 0), 2)] as number);
    for (const i of [0, 2, 1, 5, -3, 0]) {
      const reads = b.counters.loopReads;
      const got = await values(f(i32(i), x));
      want(i).forEach((v, j) => expect(got[j]).toBeCloseTo(v, 5));
      expect(b.counters.loopReads).toBe(reads);
    }
    expect(f.traceCount).toBe(1);
    // Inside a jitted scan: the branch changes with each step's x.
    const g = jit((xs: JArray) =>
      lax.scan(
        (c: JArray, v: JArray) => {
          const y = lax.cond(
            v.greater(0),
            (a: JArray) => a.mul(2),
            (a: JArray) => a.neg(),
            v,
          );
          return [c.add(y), y] as [JArray, JArray];
        },
        np.array(0),
        xs,
      ),
    );
    const [total, ys] = g(np.array([1, -2, 3, -4]));
    expect(await values(ys)).toEqual([2, 2, 6, 4]);
    expect(await values(total)).toEqual([14]);
    // Inside a device while loop's body a cond selects (both branches run, gated by the loop).
    const h = jit(
      (v0: JArray) =>
        lax.whileLoop(
          ([v]: [JArray]) => v.less(100),
          ([v]: [JArray]) =>
            [
              lax.cond(
                v.greater(10),
                (a: JArray) => a.mul(3),
                (a: JArray) => a.add(4),
                v,
              ),
            ] as [JArray],
          [v0] as [JArray],
        )[0],
    );
    let v = 1;
    while (v < 100) v = v > 10 ? v * 3 : v + 4;
    expect(await values(h(np.array(1)))).toEqual([v]);
  });

  test("a debug callback inside the body is a named error", () => {
    expect(() =>
      jit((n: JArray) =>
        lax.whileLoop(
          ([i]: [JArray]) => i.less(n),
          ([i]: [JArray]) => {
            debug.print("i = {}", i);
            return [i.add(1)] as [JArray];
          },
          [i32(0)] as [JArray],
        ),
      )(i32(3)),
    ).toThrow(/webgpu: a whileLoop whose cond or body holds a debug callback cannot run on the device yet/);
  });
});
