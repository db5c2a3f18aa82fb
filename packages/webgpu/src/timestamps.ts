/**
 * Kernel times for the profiler from timestamp queries (issue 25), where the device has
 * `timestamp-query`: while a trace records, each kernel is encoded in a compute pass of its own
 * whose beginning and end write timestamps; at submit the batch's queries are resolved and read
 * back, and each kernel becomes a span placed on the host clock at the submit (the first
 * kernel's start) — the GPU's own durations. Without the feature, kernels show their encoding
 * and each submit its time to `onSubmittedWorkDone`.
 */
import { THREAD, traceAwait, traceNow, traceSpan, traceSpanAt } from "@webjax/core/internal";
import type { Batch } from "./passes.js";

/** Most kernels timed per submit; later ones show their encoding only. */
const CAPACITY = 2048;
const QUERY_RESOLVE = 0x200;
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;

export interface KernelTimes {
  readonly set: GPUQuerySet;
  readonly labels: string[];
}

/** A query set for one batch's kernels. */
export function newKernelTimes(device: GPUDevice): KernelTimes {
  return { set: device.createQuerySet({ type: "timestamp", count: 2 * CAPACITY }), labels: [] };
}

/** The timestamp writes of the next kernel's pass, or null once the set is full. */
export function nextPass(t: KernelTimes, label: string): GPUComputePassTimestampWrites | null {
  const i = t.labels.length;
  if (i >= CAPACITY) return null;
  t.labels.push(label);
  return { querySet: t.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
}

/** Encodes the resolve into `encoder` (before finish); after submit, `report` reads and traces the times. */
export function resolveTimes(device: GPUDevice, encoder: GPUCommandEncoder, t: KernelTimes): () => void {
  const n = t.labels.length;
  if (n === 0) {
    t.set.destroy();
    return () => {};
  }
  const bytes = 16 * n;
  const resolved = device.createBuffer({ size: bytes, usage: QUERY_RESOLVE | COPY_SRC });
  const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
  encoder.resolveQuerySet(t.set, 0, 2 * n, resolved, 0);
  encoder.copyBufferToBuffer(resolved, 0, staging, 0, bytes);
  return () => {
    const at = traceNow();
    traceAwait(
      staging
        .mapAsync(MAP_READ)
        .then(() => {
          const ns = new BigInt64Array(staging.getMappedRange().slice(0));
          staging.unmap();
          const first = ns[0] as bigint;
          for (let i = 0; i < n; i++) {
            const begin = Number((ns[2 * i] as bigint) - first) / 1000;
            const dur = Math.max(0, Number((ns[2 * i + 1] as bigint) - (ns[2 * i] as bigint)) / 1000);
            traceSpanAt(t.labels[i] as string, "kernel", THREAD.gpuKernels, at + begin, dur, {
              backend: "webgpu",
              timing: "timestamp-query",
            });
          }
        })
        .finally(() => {
          staging.destroy();
          resolved.destroy();
          t.set.destroy();
        }),
    );
  };
}

/**
 * While profiling with timestamp queries: ends the batch's pass and begins one for the next
 * kernel that writes them; false where the device lacks them (or the set is full).
 */
export function beginTimed(device: GPUDevice, batch: Batch, label: string): boolean {
  if (!device.features.has("timestamp-query")) return false;
  batch.times ??= newKernelTimes(device);
  const writes = nextPass(batch.times, label);
  if (!writes) return false;
  batch.pass.end();
  batch.pass = batch.encoder.beginComputePass({ timestampWrites: writes });
  return true;
}

/** After the kernel: a timed one's pass ends; an untimed one shows its encoding (the GPU's time is its submit's). */
export function endTimed(batch: Batch, timed: boolean, label: string, t0: number): void {
  if (timed) {
    batch.pass.end();
    batch.pass = batch.encoder.beginComputePass();
  } else traceSpan(label, "kernel", THREAD.gpuKernels, t0, { backend: "webgpu", timing: "encoded" });
}

/** A submit's span, from now to `onSubmittedWorkDone`. */
export function traceSubmit(device: GPUDevice, dispatches: number): void {
  const t = traceNow();
  traceAwait(
    device.queue
      .onSubmittedWorkDone()
      .then(() => traceSpan(`submit (${dispatches} dispatches)`, "submit", THREAD.gpuQueue, t, { dispatches })),
  );
}
