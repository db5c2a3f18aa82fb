/**
 * What a jitted program's dispatch steps keep between calls (issue 23): each record (one
 * dispatch of a step; routines and split reductions record several) owns a param buffer
 * written once — a program step's params do not change between calls — and its last few bind
 * groups, reused when a call binds the same buffers (a steady loop's pooled buffers come back
 * in the same order, donated ones alternating between two sets).
 */
import type { ProgramStep } from "@webjax/core";
import { packArena } from "@webjax/core/internal";
import { bytesOf } from "./executables.js";
import type { WebGPULimits } from "./limits.js";
import { Usage } from "./pool.js";

/**
 * A program's arena: its intermediates packed by lifetime into sub-ranges of a few pooled
 * buffers (blocks), made at its first run and kept.
 */
export interface GpuArena {
  /** Per alloc step of an intermediate: its block and byte offset there. */
  readonly placeOf: ReadonlyMap<object, { readonly block: number; readonly offset: number }>;
  /** Each block's bytes. */
  readonly bytes: readonly number[];
  /** The ids of intermediates (their free steps release nothing). */
  readonly ids: ReadonlySet<number>;
  /** Each block's buffer, once made. */
  readonly buffers: (GPUBuffer | null)[];
}

const noArena = (): GpuArena => ({ placeOf: new Map(), bytes: [], ids: new Set(), buffers: [] });

/**
 * Plans a program's arena. WebGPU tracks usage per buffer, not per range: a dispatch may not
 * bind one buffer both read-only and writable. So an intermediate never shares a block with
 * one that a kernel reads while writing it (or writes while reading it). Largest first, each
 * goes to the allowed block whose peak grows least (the most bytes live there over its
 * lifetime, plus its own, against the block's peak so far), and each block packs its
 * intermediates by lifetime at the storage offset alignment (backend/arena.ts). None where a
 * block would pass maxBufferSize: they then allocate.
 */
export function planGpuArena(steps: readonly ProgramStep[], limits: WebGPULimits): GpuArena {
  const start = new Map<number, number>();
  const end = new Map<number, number>();
  const size = new Map<number, number>();
  steps.forEach((s, i) => {
    if (s.op === "alloc") {
      start.set(s.id, i);
      size.set(s.id, Math.max(bytesOf(s.dtype, s.size), 4));
    } else if (s.op === "free" && start.has(s.id)) end.set(s.id, i);
  });
  const items = [...end.keys()];
  const conflicts = new Map<number, Set<number>>(items.map((id) => [id, new Set()]));
  for (const s of steps) {
    // A loop step copies between its ins and outs: copyBufferToBuffer needs distinct buffers.
    if (s.op !== "dispatch" && s.op !== "loop") continue;
    for (const o of s.outs)
      for (const i of s.ins) {
        if (o === i || !conflicts.has(o) || !conflicts.has(i)) continue;
        conflicts.get(o)?.add(i);
        conflicts.get(i)?.add(o);
      }
  }
  items.sort(
    (x, y) => (size.get(y) as number) - (size.get(x) as number) || (start.get(x) as number) - (start.get(y) as number),
  );
  const block = new Map<number, number>();
  const members: number[][] = [];
  const peak: number[] = [];
  /** The most bytes block b's members hold at once over [s, e]. */
  const liveOver = (b: number, s: number, e: number) => {
    const events: [number, number][] = [];
    for (const m of members[b] ?? []) {
      const ms = start.get(m) as number;
      const me = end.get(m) as number;
      if (ms > e || me < s) continue;
      events.push([Math.max(ms, s), size.get(m) as number], [me + 0.5, -(size.get(m) as number)]);
    }
    events.sort((p, q) => p[0] - q[0] || q[1] - p[1]);
    let live = 0;
    let most = 0;
    for (const [, d] of events) {
      live += d;
      most = Math.max(most, live);
    }
    return most;
  };
  for (const id of items) {
    const taken = new Set(
      [...(conflicts.get(id) ?? [])].flatMap((c) => (block.has(c) ? [block.get(c) as number] : [])),
    );
    const [s, e, n] = [start.get(id) as number, end.get(id) as number, size.get(id) as number];
    let best = members.length;
    let bestGrowth = n;
    for (let b = 0; b < members.length; b++) {
      if (taken.has(b)) continue;
      const growth = Math.max(0, liveOver(b, s, e) + n - (peak[b] as number));
      if (growth < bestGrowth) [best, bestGrowth] = [b, growth];
    }
    if (best === members.length) {
      members.push([]);
      peak.push(0);
    }
    (members[best] as number[]).push(id);
    peak[best] = (peak[best] as number) + bestGrowth;
    block.set(id, best);
  }
  const placeOf = new Map<object, { block: number; offset: number }>();
  const bytes: number[] = [];
  for (let b = 0; b < members.length; b++) {
    const mine = steps.filter((s) => (s.op === "alloc" || s.op === "free") && block.get(s.id) === b);
    const packed = packArena(mine, (d, k) => Math.max(bytesOf(d, k), 4), limits.minStorageBufferOffsetAlignment);
    if (packed.bytes > limits.maxBufferSize) return noArena();
    for (const [step, offset] of packed.offsetOf) placeOf.set(step, { block: b, offset });
    bytes.push(packed.bytes);
  }
  return { placeOf, bytes, ids: new Set(items), buffers: bytes.map(() => null) };
}

/** A buffer as bound: the whole buffer or a sub-range. */
export interface Bound {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly size: number;
}

/**
 * A dispatch's bind group: its params, then its buffers (none: an invalid one, for injected
 * faults). A null buffer is a binding the kernel does not declare (an input an in-place
 * variant reads through the output written over it).
 */
export function createBindGroup(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  ub: GPUBuffer,
  paramBytes: number,
  buffers: readonly (Bound | null)[] | null,
  label: string,
): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = buffers ? [{ binding: 0, resource: { buffer: ub, size: paramBytes } }] : [];
  buffers?.forEach((b, i) => {
    if (b) entries.push({ binding: i + 1, resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size } });
  });
  return device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
}

/** Bind groups a record keeps (the two sets of a donated loop, and some slack). */
const GROUPS = 4;

/** Params as a uniform buffer of `bytes` holds them: cut or zero-padded to its size. */
export function padParams(params: Int32Array, bytes: number): Int32Array {
  const padded = new Int32Array(bytes / 4);
  padded.set(params.subarray(0, Math.min(params.length, padded.length)));
  return padded;
}

/** Whether `kept` (a record's padded params) is what `padParams(params, …)` would give. */
function sameParams(kept: Int32Array, params: Int32Array): boolean {
  for (let i = 0; i < kept.length; i++) if (kept[i] !== (i < params.length ? params[i] : 0)) return false;
  return true;
}

const sameBuffers = (a: readonly (Bound | null)[], b: readonly (Bound | null)[]) =>
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i] as Bound | null;
    if (!x || !y) return x === y;
    return x.buffer === y.buffer && (x.offset ?? 0) === (y.offset ?? 0) && x.size === y.size;
  });

class RecordCache {
  private readonly groups: { buffers: readonly (Bound | null)[]; group: GPUBindGroup }[] = [];

  constructor(
    readonly pipeline: GPUComputePipeline,
    readonly params: Int32Array,
    readonly ub: GPUBuffer,
  ) {}

  /** A kept bind group over exactly `buffers`, or null. */
  find(buffers: readonly (Bound | null)[]): GPUBindGroup | null {
    for (const g of this.groups) if (sameBuffers(g.buffers, buffers)) return g.group;
    return null;
  }

  /** Keeps `group` (made over `buffers`), dropping the oldest past GROUPS. */
  keep(buffers: readonly (Bound | null)[], group: GPUBindGroup): void {
    this.groups.unshift({ buffers: buffers.map((b) => b && { ...b }), group });
    if (this.groups.length > GROUPS) this.groups.pop();
  }
}

export class StepCaches {
  private readonly steps = new WeakMap<object, RecordCache[]>();
  private open: { list: RecordCache[]; next: number } | null = null;
  /** Param buffers made for program records. */
  created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Records until `leave()` belong to program step `step`, in order. */
  enter(step: object): void {
    let list = this.steps.get(step);
    if (!list) {
      list = [];
      this.steps.set(step, list);
    }
    this.open = { list, next: 0 };
  }

  leave(): void {
    this.open = null;
  }

  /**
   * The open step's next record, its param buffer holding `params` padded to `bytes`: the kept one when pipeline and params match, else a new one (written now; an old
   * one may still be bound in the unsubmitted encoder, so it is never rewritten). Null outside
   * a program step.
   */
  record(pipeline: GPUComputePipeline, params: Int32Array, bytes: number): RecordCache | null {
    const open = this.open;
    if (!open) return null;
    const at = open.next++;
    const kept = open.list[at];
    if (kept && kept.pipeline === pipeline && sameParams(kept.params, params)) return kept;
    const padded = padParams(params, bytes);
    const ub = this.device.createBuffer({
      size: bytes,
      usage: Usage.UNIFORM | Usage.COPY_DST,
      label: "webjax-step-params",
    });
    this.created++;
    this.device.queue.writeBuffer(ub, 0, padded);
    const rc = new RecordCache(pipeline, padded, ub);
    open.list[at] = rc;
    return rc;
  }
}
