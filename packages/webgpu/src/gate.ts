/**
 * Gating a device loop's (or cond's) dispatches (issue 24): indirect dispatches from args
 * pages whose workgroup counts the host writes and small kernels on the device clear or set,
 * the counting mode that learns them, and copy kernels (a skippable `copyBufferToBuffer`).
 * What the loops need of the backend (`LoopHost`) is here too.
 */
import { BackendError, type BackendProgram, type DType, type Slot } from "@webjax/core";
import type { Compiled, GpuCounters, GpuSlot } from "./executables.js";
import type { Batch } from "./passes.js";
import type { BufferPool } from "./pool.js";

/** Indirect-dispatch entries per args buffer (3 words each). */
export const PAGE = 128;

/** What the loop driver needs of the backend. */
export interface LoopHost {
  readonly device: GPUDevice;
  readonly counters: GpuCounters;
  readonly staging: BufferPool;
  readonly uniforms: BufferPool;
  /** Args pages (STORAGE | INDIRECT), PAGE entries each. */
  readonly args: BufferPool;
  readonly maxWorkgroups: number;
  readonly offsetAlignment: number;
  readonly maxBindingBytes: number;
  /** Iterations per chunk. */
  readonly whileChunk: number;
  readonly preparing: boolean;
  lostReason: string | null;
  alloc(dtype: DType, size: number): GpuSlot;
  free(slot: Slot): void;
  run(program: BackendProgram, slots: Slot[]): void;
  kernel(label: string, source: string): Compiled;
  /** Queues `drive` after all work so far; `drive` gets the loop's epoch (pool.ts). */
  enqueueLoop(drive: (epoch: number) => Promise<void>): void;
  /**
   * Runs `f` (the loop's releases, once its last command buffer is submitted) with releases
   * tagged `epoch`, then makes them reusable at once: nothing after the loop has run yet.
   */
  releaseAfter(epoch: number, f: () => void): void;
  /** Runs `f` with `gate` set: the dispatches (and copies) it encodes into the current batch are gated (and nothing flushes it). */
  gated(gate: Gate, f: () => void): void;
  /** The current batch (opened where none is). */
  batch(): Batch;
  /**
   * Encodes `encode` into a command buffer of its own with `gate` set, and submits it now
   * (the loop is the segment running); its releases are tagged `epoch`. Resolves with its errors.
   */
  loopSection(epoch: number, gate: Gate, encode: (batch: Batch) => void): Promise<Error | null>;
}

/** A loop's buffers kept between calls: its status, its args pages, their counts, the zero kernels' bind groups. */
export interface GateState {
  readonly pages: GPUBuffer[];
  templates: [number, number, number][] | null;
  /** The zero kernels' bind groups, made for `zeroPipeline` (a recompiled pipeline needs new ones). */
  zeroGroups: GPUBindGroup[];
  zeroPipeline?: GPUComputePipeline;
}

/**
 * Gates the dispatches of one iteration: "count" learns their workgroup counts (nothing is
 * encoded), "on" dispatches them indirectly from the args pages, "off" leaves them alone.
 */
export class Gate {
  mode: "off" | "count" | "on" = "off";
  private next = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly state: GateState,
    readonly label: string,
  ) {}

  /** The next iteration's dispatches take the entries from the first. */
  begin(): void {
    this.next = 0;
  }

  /** The entry the next dispatch takes. */
  get position(): number {
    return this.next;
  }

  /** Encodes (or counts) one dispatch of `[x, y, z]` workgroups. */
  dispatch(pass: GPUComputePassEncoder | null, x: number, y: number, z: number): void {
    const i = this.next++;
    const s = this.state;
    if (this.mode === "count") {
      s.templates ??= [];
      s.templates[i] = [x, y, z];
      return;
    }
    const t = s.templates?.[i];
    if (!t || t[0] !== x || t[1] !== y || t[2] !== z) {
      throw new BackendError(`${this.label}: the body's kernels changed between two iterations (dispatch ${i})`);
    }
    (pass as GPUComputePassEncoder).dispatchWorkgroupsIndirect(
      s.pages[Math.floor(i / PAGE)] as GPUBuffer,
      (i % PAGE) * 12,
    );
  }

  /** Takes the args pages the counted entries need (`acquire`: one page of PAGE entries), and writes the counts into them. */
  arm(acquire: () => GPUBuffer): void {
    const s = this.state;
    const t = s.templates ?? [];
    while (s.pages.length * PAGE < Math.max(t.length, 1)) {
      s.pages.push(acquire());
      s.zeroGroups = [];
    }
    s.pages.forEach((page, p) => {
      const words = new Uint32Array(PAGE * 3);
      t.slice(p * PAGE, (p + 1) * PAGE).forEach((e, j) => words.set(e, j * 3));
      this.device.queue.writeBuffer(page, 0, words);
    });
  }
}

/**
 * Runs `f` in the gate's counting mode: the counts become the state's templates once it has
 * run through (a throw leaves none); the counters it moved are put back.
 */
export function learn(host: LoopHost, gate: Gate, state: GateState, f: () => void): void {
  const c = host.counters;
  const saved = [c.dispatches, c.allocs, c.arenaSlots, c.arenaSlotBytes, c.copies, c.bindGroups] as const;
  state.templates = [];
  gate.mode = "count";
  try {
    f();
  } catch (e) {
    state.templates = null;
    throw e;
  } finally {
    gate.mode = "off";
    [c.dispatches, c.allocs, c.arenaSlots, c.arenaSlotBytes, c.copies, c.bindGroups] = saved;
  }
}

export const copySource = `
struct P { src: u32, dst: u32, n: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@compute @workgroup_size(256) fn main(@builtin(workgroup_id) w: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
    @builtin(local_invocation_index) l: u32) {
  let i = (w.y * nw.x + w.x) * 256u + l;
  if (i < p.n) { dst[p.dst + i] = src[p.src + i]; }
}`;

/** A copy kernel ready to dispatch: its pipeline, params and bind group over the two ranges. */
export interface PreparedCopy {
  readonly pipeline: GPUComputePipeline;
  readonly group: GPUBindGroup;
  readonly params: GPUBuffer;
  readonly workgroups: readonly [number, number];
}

/** The bound range of `words` words from word `word` of `buffer`: from the offset alignment below it. */
function range(host: LoopHost, buffer: GPUBuffer, word: number, words: number) {
  const align = host.offsetAlignment;
  const offset = Math.floor((word * 4) / align) * align;
  const size = Math.max(4, word * 4 + words * 4 - offset);
  if (size > host.maxBindingBytes) {
    throw new BackendError(
      `webgpu: a loop's copy of ${words * 4} bytes binds ${size} bytes, past this device's maxStorageBufferBindingSize (${host.maxBindingBytes})`,
    );
  }
  return { resource: { buffer, offset, size }, word: word - offset / 4 };
}

/** Makes a copy kernel of `words` u32 words (its params buffer from the uniforms pool: the caller releases it). */
export function prepareCopy(
  host: LoopHost,
  src: { buffer: GPUBuffer; word: number },
  dst: { buffer: GPUBuffer; word: number },
  words: number,
): PreparedCopy {
  const groups = Math.ceil(words / 256);
  const x = Math.max(1, Math.min(groups, host.maxWorkgroups));
  const y = Math.max(1, Math.ceil(groups / x));
  const pipeline = host.kernel("while loop: carry copy", copySource).pipeline;
  const [from, to] = [range(host, src.buffer, src.word, words), range(host, dst.buffer, dst.word, words)];
  const params = host.uniforms.acquire(16);
  host.device.queue.writeBuffer(params, 0, new Uint32Array([from.word, to.word, words, 0]));
  const group = host.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: params, size: 16 } },
      { binding: 1, resource: from.resource },
      { binding: 2, resource: to.resource },
    ],
  });
  return { pipeline, group, params, workgroups: [x, y] };
}

/** Dispatches (or counts) a prepared copy through `gate`. */
export function encodeCopy(host: LoopHost, gate: Gate, batch: Batch, copy: PreparedCopy): void {
  if (gate.mode === "on") {
    batch.pass.setPipeline(copy.pipeline);
    batch.pass.setBindGroup(0, copy.group);
  }
  host.counters.dispatches++;
  gate.dispatch(batch.pass, copy.workgroups[0], copy.workgroups[1], 1);
}

/** A gated copy of `words` u32 words (a copy kernel: it can be skipped, unlike copyBufferToBuffer); its params go to `release`. */
export function gatedCopy(
  host: LoopHost,
  gate: Gate,
  batch: Batch,
  src: { buffer: GPUBuffer; word: number },
  dst: { buffer: GPUBuffer; word: number },
  words: number,
  release: GPUBuffer[],
): void {
  if (gate.mode !== "on") {
    const groups = Math.ceil(words / 256);
    const x = Math.max(1, Math.min(groups, host.maxWorkgroups));
    host.counters.dispatches++;
    gate.dispatch(null, x, Math.max(1, Math.ceil(groups / x)), 1);
    return;
  }
  const copy = prepareCopy(host, src, dst, words);
  release.push(copy.params);
  encodeCopy(host, gate, batch, copy);
}
