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

/** Bind groups a record keeps (the two sets of a donated loop, and some slack). */
const GROUPS = 4;

const sameInts = (a: Int32Array, b: Int32Array) => a.length === b.length && a.every((v, i) => v === b[i]);

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

  /** The bind group over `buffers`: a kept one, else `make()`'s (kept, the oldest dropped). */
  bindGroup(buffers: readonly Bound[], make: () => GPUBindGroup): GPUBindGroup {
    const i = this.groups.findIndex((g) => sameBuffers(g.buffers, buffers));
    if (i >= 0) return (this.groups[i] as { group: GPUBindGroup }).group;
    const group = make();
    this.groups.unshift({ buffers: buffers.map((b) => ({ ...b })), group });
    if (this.groups.length > GROUPS) this.groups.pop();
    return group;
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
   * The open step's next record, its param buffer holding `params` (padded to the uniform's
   * size): the kept one when pipeline and params match, else a new one (written now; an old
   * one may still be bound in the unsubmitted encoder, so it is never rewritten). Null outside
   * a program step.
   */
  record(pipeline: GPUComputePipeline, params: Int32Array): RecordCache | null {
    const open = this.open;
    if (!open) return null;
    const at = open.next++;
    const kept = open.list[at];
    if (kept && kept.pipeline === pipeline && sameInts(kept.params, params)) return kept;
    const ub = this.device.createBuffer({
      size: params.byteLength,
      usage: Usage.UNIFORM | Usage.COPY_DST,
      label: "webjax-step-params",
    });
    this.created++;
    this.device.queue.writeBuffer(ub, 0, params);
    const rc = new RecordCache(pipeline, params.slice(), ub);
    open.list[at] = rc;
    return rc;
  }
}
