/**
 * The order a plan's dispatches run in (issue 23's buffer planning). The recording runs them in
 * the jaxpr's order — a training step's whole backward pass, then every optimiser update — so
 * each gradient stays alive until the end. This pass reorders them by a greedy list schedule
 * that keeps every dependency (a dispatch after any earlier one writing what it reads or
 * writes, or reading what it writes; a donated input's last reader last, as it may write over
 * it in place) and, among the dispatches ready, runs first the one that
 * frees the most intermediate bytes net of what it allocates (ties: recorded order). Each
 * intermediate is then allocated just before its first writer and freed just after its last
 * reader; a donated input is released after its last reader. Kernels and their inputs are
 * unchanged, so values are bit for bit the recorded order's.
 */
import type { ProgramStep } from "../backend/backend.js";
import { type DType, itemSize } from "../dtype.js";

/** A plan step: a backend step, or the point where the recording released donated input `input`. */
export type PlanStep = ProgramStep | { readonly op: "donate"; readonly input: number };
/** A step that reads and writes slots: a kernel dispatch, or a loop (which runs as one). */
type Dispatch = Extract<ProgramStep, { op: "dispatch" | "loop" | "host" }>;
type Alloc = Extract<ProgramStep, { op: "alloc" }>;

/** `steps` reordered as described above; `canon[i]` is the id fixed array i's buffer goes by. */
export function schedule(steps: readonly PlanStep[], canon: readonly number[]): PlanStep[] {
  const dispatches: Dispatch[] = [];
  const allocs = new Map<number, Alloc>();
  const freed = new Set<number>();
  const donations: { input: number; step: PlanStep }[] = [];
  for (const s of steps) {
    if (s.op === "dispatch" || s.op === "loop" || s.op === "host") dispatches.push(s);
    else if (s.op === "alloc") allocs.set(s.id, s);
    else if (s.op === "free") freed.add(s.id);
    else donations.push({ input: s.input, step: s });
  }
  const n = dispatches.length;
  // Dependencies: per id, its last writer and the readers since, in recorded order.
  const preds: Set<number>[] = dispatches.map(() => new Set());
  const lastWriter = new Map<number, number>();
  const readersSince = new Map<number, number[]>();
  dispatches.forEach((d, i) => {
    for (const id of d.ins) {
      const w = lastWriter.get(id);
      if (w !== undefined) preds[i]?.add(w);
    }
    for (const id of d.outs) {
      const w = lastWriter.get(id);
      if (w !== undefined) preds[i]?.add(w);
      for (const r of readersSince.get(id) ?? []) if (r !== i) preds[i]?.add(r);
      lastWriter.set(id, i);
      readersSince.set(id, []);
    }
    for (const id of d.ins) {
      const rs = readersSince.get(id) ?? [];
      rs.push(i);
      readersSince.set(id, rs);
    }
  });
  // Per id, the dispatches reading it and writing it (each once, in recorded order).
  const readersOf = new Map<number, number[]>();
  const writersOf = new Map<number, number[]>();
  const addTo = (m: Map<number, number[]>, id: number, i: number) => {
    const l = m.get(id);
    if (!l) m.set(id, [i]);
    else if (l[l.length - 1] !== i) l.push(i);
  };
  dispatches.forEach((d, i) => {
    for (const id of d.ins) addTo(readersOf, id, i);
    for (const id of d.outs) addTo(writersOf, id, i);
  });
  // A donated input's recorded last reader stays its last (it may write over it in place).
  for (const { input } of donations) {
    const rs = readersOf.get(canon[input] ?? input) ?? [];
    const last = rs[rs.length - 1];
    if (last !== undefined) for (const r of rs) if (r !== last) preds[last]?.add(r);
  }
  // Intermediates: allocated here and freed here. Their bytes, and how many dispatches read them.
  const bytes = (id: number) => {
    const a = allocs.get(id);
    return a && freed.has(id) ? a.size * itemSize(a.dtype as DType) : 0;
  };
  const pendingReads = new Map<number, number>();
  for (const [id, rs] of readersOf) pendingReads.set(id, rs.length);
  const succs: number[][] = dispatches.map(() => []);
  const waiting = preds.map((p) => p.size);
  preds.forEach((p, i) => {
    for (const j of p) succs[j]?.push(i);
  });
  const born = new Set<number>();
  const gain = (i: number) => {
    const d = dispatches[i] as Dispatch;
    let g = 0;
    for (const id of new Set(d.ins)) if (pendingReads.get(id) === 1) g += bytes(id);
    for (const id of new Set(d.outs)) if (!born.has(id)) g -= bytes(id);
    return g;
  };
  // Ready dispatches in a heap by (gain, recorded order), entries made stale by a later gain
  // skipped when popped: a gain changes only when an input's last other reader runs or an
  // output is first written, so each dispatch is re-pushed a bounded number of times.
  const current = new Float64Array(n);
  const isReady = new Uint8Array(n);
  const heap = new GainHeap();
  const push = (i: number) => {
    current[i] = gain(i);
    heap.push(current[i] as number, i);
  };
  for (let i = 0; i < n; i++)
    if (waiting[i] === 0) {
      isReady[i] = 1;
      push(i);
    }
  const order: number[] = [];
  while (heap.size > 0) {
    const [g, best] = heap.pop();
    if (isReady[best] !== 1 || g !== current[best]) continue;
    isReady[best] = 2;
    order.push(best);
    const d = dispatches[best] as Dispatch;
    const touched = new Set<number>();
    for (const id of new Set(d.ins)) {
      const left = (pendingReads.get(id) ?? 0) - 1;
      pendingReads.set(id, left);
      if (left === 1) for (const r of readersOf.get(id) ?? []) touched.add(r);
    }
    for (const id of d.outs) {
      if (born.has(id)) continue;
      born.add(id);
      for (const w of writersOf.get(id) ?? []) touched.add(w);
    }
    for (const j of succs[best] ?? []) {
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) {
        isReady[j] = 1;
        touched.add(j);
      }
    }
    for (const j of touched) if (isReady[j] === 1) push(j);
  }
  if (order.length !== n) throw new Error("internal: a plan's dispatches have a dependency cycle");
  return place(
    order.map((i) => dispatches[i] as Dispatch),
    allocs,
    freed,
    donations,
    canon,
  );
}

/** Allocations before their first use, frees and donations after their last read, around `order`. */
function place(
  order: readonly Dispatch[],
  allocs: ReadonlyMap<number, Alloc>,
  freed: ReadonlySet<number>,
  donations: readonly { input: number; step: PlanStep }[],
  canon: readonly number[],
): PlanStep[] {
  const firstUse = new Map<number, number>();
  const lastUse = new Map<number, number>();
  order.forEach((d, i) => {
    for (const id of [...d.ins, ...d.outs]) {
      if (!firstUse.has(id)) firstUse.set(id, i);
      lastUse.set(id, i);
    }
  });
  const before: PlanStep[][] = order.map(() => []);
  const after: PlanStep[][] = order.map(() => []);
  const head: PlanStep[] = [];
  const tail: PlanStep[] = [];
  for (const [id, a] of allocs) {
    const f = firstUse.get(id);
    (f === undefined ? head : (before[f] as PlanStep[])).push(a);
    if (!freed.has(id)) continue;
    const l = lastUse.get(id);
    (l === undefined ? tail : (after[l] as PlanStep[])).push({ op: "free", id });
  }
  for (const { input, step } of donations) {
    const l = lastUse.get(canon[input] ?? input);
    (l === undefined ? head : (after[l] as PlanStep[])).push(step);
  }
  const out: PlanStep[] = [...head];
  order.forEach((d, i) => {
    out.push(...(before[i] as PlanStep[]), d, ...(after[i] as PlanStep[]));
  });
  out.push(...tail);
  return out;
}

/** A binary max-heap of (gain, index): the highest gain first, then the lowest index. */
class GainHeap {
  private readonly gains: number[] = [];
  private readonly ids: number[] = [];

  get size(): number {
    return this.ids.length;
  }

  private before(a: number, b: number): boolean {
    const ga = this.gains[a] as number;
    const gb = this.gains[b] as number;
    return ga > gb || (ga === gb && (this.ids[a] as number) < (this.ids[b] as number));
  }

  private swap(a: number, b: number): void {
    [this.gains[a], this.gains[b]] = [this.gains[b] as number, this.gains[a] as number];
    [this.ids[a], this.ids[b]] = [this.ids[b] as number, this.ids[a] as number];
  }

  push(gain: number, id: number): void {
    this.gains.push(gain);
    this.ids.push(id);
    let i = this.ids.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.before(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }

  pop(): [number, number] {
    const top: [number, number] = [this.gains[0] as number, this.ids[0] as number];
    const last = this.ids.length - 1;
    this.swap(0, last);
    this.gains.pop();
    this.ids.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.ids.length && this.before(l, m)) m = l;
      if (r < this.ids.length && this.before(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return top;
  }
}
