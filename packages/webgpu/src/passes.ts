import { BackendError } from "@webjax/core";
import type { FusedKernel } from "@webjax/core/internal";
import { SPLIT_PARTS, splitSources } from "./codegen/fused.js";
import {
  type Compiled,
  type GpuCounters,
  type GpuExecutable,
  type GpuRoutine,
  type GpuSlot,
  outSize,
} from "./executables.js";
import { grid, type WebGPULimits } from "./limits.js";
import type { BufferPool } from "./pool.js";
import type { Bound } from "./program-state.js";
import { type BufRef, planRoutine } from "./routines/index.js";
import type { KernelTimes } from "./timestamps.js";

/** The work recorded into one command encoder; its error promise settles after the submit. */
export interface Batch {
  encoder: GPUCommandEncoder;
  pass: GPUComputePassEncoder;
  /** Kernel timestamp queries while the profiler records (timestamps.ts). */
  times?: KernelTimes;
  /** The kernels encoded, and the one an injected fault hit: a failed submit's error names their call sites. */
  exes?: object[];
  faulted?: object;
  /** Reads encoded into this batch (`readAt`), released to map their staging once it is submitted. */
  afterSubmit?: (() => void)[];
  labels: string[];
  dispatches: number;
  settle: (e: Error | null) => void;
  errors: Promise<Error | null>;
}

/** What a multi-pass dispatch needs from the backend: its limits, pools, pipeline cache and recorder. */
export interface PassRecorder {
  readonly limits: WebGPULimits;
  readonly storage: BufferPool;
  readonly counters: GpuCounters;
  pipeline(label: string, source: string): Compiled;
  record(
    batch: Batch,
    pipeline: GPUComputePipeline,
    params: Int32Array,
    nParams: number,
    buffers: readonly (Bound | null)[],
    workgroups: [number, number, number],
    label: string,
  ): void;
}

/**
 * A routine: its passes in order, over its slots and temporary buffers from the pool (held
 * until the submit, like any freed buffer). Returns the passes' compile checks.
 */
export function encodeRoutine(
  r: PassRecorder,
  batch: Batch,
  e: GpuRoutine,
  ins: GpuSlot[],
  outs: GpuSlot[],
  params: Int32Array,
): Promise<Error | null>[] {
  const label = e.kernel.label;
  const plan = planRoutine(e.kernel.routine, params, e.source);
  const limit = r.limits.maxStorageBufferBindingSize;
  const tooBig = [...ins, ...outs]
    .map((s) => s.bytes)
    .concat(plan.temps)
    .find((b) => b > limit);
  if (tooBig !== undefined) {
    throw new BackendError(
      `webgpu: routine '${label}' binds a buffer of ${tooBig} bytes, past this device's maxStorageBufferBindingSize (${limit}); make the array smaller or use the cpu backend`,
    );
  }
  const temps = plan.temps.map((bytes) => {
    const size = Math.max(bytes, 4);
    return { buffer: r.storage.acquire(size), size };
  });
  const resolve = (ref: BufRef): Bound => {
    if ("tmp" in ref) {
      const t = temps[ref.tmp];
      if (!t) throw new Error(`internal: routine '${label}' has no temp ${ref.tmp}`);
      return t;
    }
    const s = "in" in ref ? ins[ref.in] : outs[ref.out];
    if (!s?.buffer) throw new Error(`internal: routine '${label}' binds a missing slot`);
    return { buffer: s.buffer, offset: s.offset, size: Math.max(s.bytes, 4) };
  };
  const checks: Promise<Error | null>[] = [];
  for (const pass of plan.passes) {
    const compiled = r.pipeline(`${label}: ${pass.label}`, pass.source);
    checks.push(compiled.compiled);
    const [x, y] = grid(pass.workgroups, r.limits, label);
    const p = Int32Array.from(pass.params);
    r.record(batch, compiled.pipeline, p, p.length, pass.bind.map(resolve), [x, y, 1], label);
  }
  for (const t of temps) r.storage.release(t.buffer);
  batch.dispatches += plan.passes.length;
  r.counters.dispatches += plan.passes.length;
  return checks;
}

/** A split reduction's two pipelines, made at its first use. */
export function splitPipelines(
  r: PassRecorder,
  e: GpuExecutable,
  k: FusedKernel,
): { readonly first: Compiled; readonly second: Compiled } {
  if (!e.split) {
    const { first, second } = splitSources(k, e.nParams);
    e.split = {
      first: r.pipeline(`${k.label} (split)`, first),
      second: r.pipeline(`${k.label} (partials)`, second),
    };
  }
  return e.split;
}

/**
 * A split reduction: the first pass writes SPLIT_PARTS partials per output into a pooled
 * temporary (held until the submit), the second reduces them and applies the post. Two
 * dispatches; returns their compile checks.
 */
export function encodeSplit(
  r: PassRecorder,
  batch: Batch,
  e: GpuExecutable,
  k: FusedKernel,
  ins: GpuSlot[],
  outs: GpuSlot[],
  params: Int32Array,
): Promise<Error | null>[] {
  const split = splitPipelines(r, e, k);
  const outputs = outSize(k, params);
  const bytes = outputs * SPLIT_PARTS * 4;
  const tmp = { buffer: r.storage.acquire(bytes), size: bytes };
  const bound = (s: GpuSlot) => ({ buffer: s.buffer as GPUBuffer, offset: s.offset, size: Math.max(s.bytes, 4) });
  const [x1, y1] = grid(outputs * SPLIT_PARTS, r.limits, k.label);
  r.record(batch, split.first.pipeline, params, e.nParams, [...ins.map(bound), tmp], [x1, y1, 1], k.label);
  const p2 = new Int32Array(e.nParams + 1);
  p2.set(params.subarray(0, e.nParams));
  p2[e.nParams] = outputs;
  const [x2, y2] = grid(outputs, r.limits, k.label);
  r.record(batch, split.second.pipeline, p2, e.nParams + 1, [tmp, ...outs.map(bound)], [x2, y2, 1], k.label);
  r.storage.release(tmp.buffer);
  batch.dispatches += 2;
  r.counters.dispatches += 2;
  return [split.first.compiled, split.second.compiled];
}
