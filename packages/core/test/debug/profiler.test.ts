/**
 * The profiler (issue 25): a traced, jitted training step is Chrome-trace JSON that a schema
 * check accepts (traceEvents with name, ph, ts, dur, pid, tid), with one event per kernel the
 * backend ran, a span for the program call and for tracing, a live-bytes counter track, and
 * on WebGPU each kernel's GPU time from timestamp queries where the device has them.
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBackend, grad, type Array as JArray, jit, np, profiler, random, tree } from "@webjax/core";
import { describe, expect, test } from "vitest";

type Counters = { kernels?: number; dispatches?: number };
const kernelsRun = () => {
  const c = (getBackend() as unknown as { counters: Counters }).counters;
  return c.kernels ?? c.dispatches ?? 0;
};

const params = () => ({
  w1: random.normal(random.key(0), [16, 32]).mul(0.1),
  w2: random.normal(random.key(1), [32, 4]).mul(0.1),
});
type P = ReturnType<typeof params>;
const x = random.normal(random.key(2), [8, 16]);
const loss = (q: P) => np.tanh(x.matmul(q.w1)).matmul(q.w2).square().mean();

/** Checks the Chrome trace event format's required fields. */
function checkSchema(trace: profiler.ProfileTrace): void {
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  for (const e of trace.traceEvents) {
    expect(typeof e.name).toBe("string");
    expect(["X", "C", "M"]).toContain(e.ph);
    expect(Number.isFinite(e.ts) && e.ts >= 0).toBe(true);
    expect(Number.isInteger(e.pid) && Number.isInteger(e.tid)).toBe(true);
    if (e.ph === "X") expect(Number.isFinite(e.dur) && (e.dur as number) >= 0).toBe(true);
    if (e.ph === "C") expect(Object.values(e.args ?? {}).every((v) => typeof v === "number")).toBe(true);
  }
}

describe("profiler", () => {
  test("a jitted training step: valid trace JSON, one event per kernel, the call, tracing, live bytes", async () => {
    const step = jit((q: P) => tree.map((a: JArray, g: JArray) => a.sub(g.mul(0.1)), q, grad(loss)(q)));
    let q = step(params());
    await q.w1.data();
    profiler.startTrace();
    const before = kernelsRun();
    q = step(q);
    await q.w1.data();
    const ran = kernelsRun() - before;
    // A new function inside the trace: its tracing is a compile event.
    await jit((v: JArray) => v.add(1))(np.ones([3])).data();
    const path = join(tmpdir(), `webjax-trace-${process.pid}.json`);
    const trace = await profiler.stopTrace({ path });
    checkSchema(trace);
    const kernels = trace.traceEvents.filter((e) => e.cat === "kernel");
    // The step's kernels and the add's one.
    expect(kernels.length).toBe(ran + 1);
    expect(trace.traceEvents.some((e) => e.cat === "program" && /^jit\(/.test(e.name))).toBe(true);
    expect(trace.traceEvents.some((e) => e.cat === "compile" && e.name.startsWith("trace jit("))).toBe(true);
    expect(trace.traceEvents.some((e) => e.ph === "C" && e.name.startsWith("live bytes"))).toBe(true);
    if (getBackend().name === "webgpu") {
      const timing = (getBackend() as unknown as { device: GPUDevice }).device.features.has("timestamp-query")
        ? "timestamp-query"
        : "encoded";
      expect(kernels.every((e) => e.args?.timing === timing)).toBe(true);
      expect(trace.traceEvents.some((e) => e.cat === "submit")).toBe(true);
    }
    // Saved as the same JSON.
    const saved = JSON.parse(readFileSync(path, "utf8")) as profiler.ProfileTrace;
    rmSync(path);
    expect(saved.traceEvents.length).toBe(trace.traceEvents.length);
    // Off again: nothing more is recorded.
    await step(q).w1.data();
    expect(trace.traceEvents.filter((e) => e.cat === "kernel").length).toBe(ran + 1);
  });

  test("the CPU backend's worker threads show their share of a split kernel on their own tracks", async () => {
    const cpu = getBackend("cpu") as unknown as {
      wasm: { pool: { active: number; whenReady(): Promise<number> } | null } | null;
    };
    const threads = (await cpu.wasm?.pool?.whenReady()) ?? 1;
    const a = np.ones([256, 256], { backend: "cpu" });
    const f = jit((m: JArray) => m.matmul(m));
    await f(a).data();
    profiler.startTrace();
    await f(a).data();
    const trace = await profiler.stopTrace();
    checkSchema(trace);
    const kernel = trace.traceEvents.find((e) => e.cat === "kernel" && e.args?.backend === "cpu");
    const shares = trace.traceEvents.filter((e) => e.cat === "worker");
    expect(kernel).toBeDefined();
    if (threads > 1) {
      // A 256³ GEMM is split over every thread: each worker's share lies within the kernel's span.
      expect(new Set(shares.map((e) => e.tid)).size).toBe(threads - 1);
      const k = kernel as profiler.TraceEvent;
      for (const e of shares) {
        expect(e.name).toBe(k.name);
        expect(e.ts).toBeGreaterThanOrEqual(k.ts - 1000);
        expect(e.ts + (e.dur as number)).toBeLessThanOrEqual(k.ts + (k.dur as number) + 1000);
      }
    } else expect(shares).toHaveLength(0);
  });

  test("misuse is a clear error", async () => {
    await expect(profiler.stopTrace()).rejects.toThrow(/profiler\.stopTrace: no trace is being recorded/);
    profiler.startTrace();
    expect(() => profiler.startTrace()).toThrow(/profiler\.startTrace: a trace is already being recorded/);
    await profiler.stopTrace();
  });
});
