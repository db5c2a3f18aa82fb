/**
 * What a jitted program's dispatch steps keep between calls (issue 23): each record (one
 * dispatch of a step; routines and split reductions record several) owns a param buffer
 * written once — a program step's params do not change between calls — and its last few bind
 * groups, reused when a call binds the same buffers (a steady loop's pooled buffers come back
 * in the same order, donated ones alternating between two sets).
 */
import { Usage } from "./pool.js";

/** A buffer as bound: the whole buffer or a sub-range. */
export interface Bound {
  readonly buffer: GPUBuffer;
  readonly offset?: number;
  readonly size: number;
}

/** A dispatch's bind group: its params, then its buffers (none: an invalid one, for injected faults). */
export function createBindGroup(
  device: GPUDevice,
  pipeline: GPUComputePipeline,
  ub: GPUBuffer,
  paramBytes: number,
  buffers: readonly Bound[] | null,
  label: string,
): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = buffers
    ? [
        { binding: 0, resource: { buffer: ub, size: paramBytes } },
        ...buffers.map((b, i) => ({
          binding: i + 1,
          resource: { buffer: b.buffer, offset: b.offset ?? 0, size: b.size },
        })),
      ]
    : [];
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

const sameBuffers = (a: readonly Bound[], b: readonly Bound[]) =>
  a.length === b.length &&
  a.every((x, i) => {
    const y = b[i] as Bound;
    return x.buffer === y.buffer && (x.offset ?? 0) === (y.offset ?? 0) && x.size === y.size;
  });

class RecordCache {
  private readonly groups: { buffers: readonly Bound[]; group: GPUBindGroup }[] = [];

  constructor(
    readonly pipeline: GPUComputePipeline,
    readonly params: Int32Array,
    readonly ub: GPUBuffer,
  ) {}

  /** A kept bind group over exactly `buffers`, or null. */
  find(buffers: readonly Bound[]): GPUBindGroup | null {
    for (const g of this.groups) if (sameBuffers(g.buffers, buffers)) return g.group;
    return null;
  }

  /** Keeps `group` (made over `buffers`), dropping the oldest past GROUPS. */
  keep(buffers: readonly Bound[], group: GPUBindGroup): void {
    this.groups.unshift({ buffers: buffers.map((b) => ({ ...b })), group });
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
