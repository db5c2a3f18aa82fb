/**
 * `await jit(f).compile(...args)` on WebGPU (issue 23): the program's kernels — its fused
 * kernels, their matmul variants with the sizes compiled in, a donated in-place update's
 * variant, a split reduction's two passes and a routine's passes — are built with
 * createComputePipelineAsync and nothing runs; the first call then compiles nothing and
 * equals eager.
 */
import { getBackend, grad, type Array as JArray, jit, np, random } from "@webjax/core";
import type { WebGPUBackend } from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";

const gpu = () => getBackend("webgpu") as unknown as WebGPUBackend;

/** A step of w ← w − 0.1·xᵀ(relu(x·w) − y), its loss a full sum (split: 16,384 elements), and a sort (a routine). */
const step = (w: JArray, x: JArray, y: JArray) => {
  const h = np.maximum(x.matmul(w), 0).sub(y);
  const loss = h.mul(h).sum();
  const sorted = np.sort(h.sum(0));
  return [w.sub(x.T.matmul(h).mul(0.1)), loss, sorted] as const;
};

describe("jit(f).compile on WebGPU", () => {
  test("builds every pipeline asynchronously and runs nothing; the first call compiles nothing", async () => {
    const b = gpu();
    const [k1, k2, k3] = random.split(random.key(3), 3);
    using x = random.normal(k1 as JArray, [128, 128]);
    using y = random.normal(k2 as JArray, [128, 128]);
    const wData = await random.normal(k3 as JArray, [128, 128]).data();
    const f = jit(step, { donateArgnums: 0 });
    const fresh = () => np.array(Float32Array.from(wData), { shape: [128, 128] });
    await b.sync();
    const before = { ...b.counters };
    using w0 = fresh();
    await f.compile(w0, x, y);
    expect(f.traceCount).toBe(1);
    expect(b.counters.dispatches).toBe(before.dispatches);
    expect(b.counters.asyncPipelines - before.asyncPipelines).toBeGreaterThan(0);
    expect(b.counters.asyncPipelines - before.asyncPipelines).toBe(b.counters.compiles - before.compiles);
    // The compiled call reuses every pipeline: donated, in place.
    const compiles = b.counters.compiles;
    const w = fresh();
    const [w1, loss, sorted] = f(w, x, y);
    const got = { w: await w1.data(), loss: await loss.data(), sorted: await sorted.data() };
    expect(b.counters.compiles).toBe(compiles);
    expect(f.traceCount).toBe(1);
    expect(w.disposed).toBe(true);
    // Equal to eager, within float32 reassociation of the sums.
    const [ew, eloss, esorted] = step(w0, x, y);
    const want = { w: await ew.data(), loss: await eloss.data(), sorted: await esorted.data() };
    for (let i = 0; i < want.w.length; i++) expect(got.w[i]).toBeCloseTo(want.w[i] as number, 3);
    expect(got.loss[0]).toBeCloseTo(want.loss[0] as number, 0);
    expect(Math.abs((got.loss[0] as number) / (want.loss[0] as number) - 1)).toBeLessThan(1e-5);
    for (let i = 0; i < want.sorted.length; i++) expect(got.sorted[i]).toBeCloseTo(want.sorted[i] as number, 4);
    for (const a of [w1, loss, sorted, ew, eloss, esorted]) a.dispose();
  });

  test("compile takes concrete arguments only (not a transform's tracers)", async () => {
    const f = jit((x: JArray) => x.mul(2));
    let pending: Promise<void> | null = null;
    grad((x: JArray) => {
      pending = f.compile(x);
      return x.sum();
    })(np.ones([2]));
    await expect(pending).rejects.toThrow(/jit\(.*\)\.compile: takes concrete arguments/);
  });
});
