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
type Dispatch = Extract<ProgramStep, { op: "dispatch" }>;
type Alloc = Extract<ProgramStep, { op: "alloc" }>;

/** `steps` reordered as described above; `canon[i]` is the id fixed array i's buffer goes by. */
export function schedule(steps: readonly PlanStep[], canon: readonly number[]): PlanStep[] {
  const dispatches: Dispatch[] = [];
  const allocs = new Map<number, Alloc>();
  const freed = new Set<number>();
  const donations: { input: number; step: PlanStep }[] = [];
  for (const s of steps) {
    if (s.op === "dispatch") dispatches.push(s);
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
  // A donated input's recorded last reader stays its last (it may write over it in place).
  for (const { input } of donations) {
    const x = canon[input] ?? input;
    let last = -1;
    dispatches.forEach((d, i) => {
      if (d.ins.includes(x)) last = i;
    });
    dispatches.forEach((d, i) => {
      if (i !== last && last >= 0 && d.ins.includes(x)) preds[last]?.add(i);
    });
  }
  // Intermediates: allocated here and freed here. Their bytes, and how many dispatches read them.
  const bytes = (id: number) => {
    const a = allocs.get(id);
    return a && freed.has(id) ? a.size * itemSize(a.dtype as DType) : 0;
  };
  const pendingReads = new Map<number, number>();
  for (const d of dispatches) for (const id of new Set(d.ins)) pendingReads.set(id, (pendingReads.get(id) ?? 0) + 1);
  const succs: number[][] = dispatches.map(() => []);
  const waiting = preds.map((p) => p.size);
  preds.forEach((p, i) => {
    for (const j of p) succs[j]?.push(i);
  });
  const ready = new Set<number>();
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.add(i);
  const born = new Set<number>();
  const gain = (i: number) => {
    const d = dispatches[i] as Dispatch;
    let g = 0;
    for (const id of new Set(d.ins)) if (pendingReads.get(id) === 1) g += bytes(id);
    for (const id of new Set(d.outs)) if (!born.has(id)) g -= bytes(id);
    return g;
  };
  const order: number[] = [];
  while (ready.size > 0) {
    let best = -1;
    let bestGain = Number.NEGATIVE_INFINITY;
    for (const i of ready) {
      const g = gain(i);
      if (g > bestGain || (g === bestGain && i < best)) {
        best = i;
        bestGain = g;
      }
    }
    ready.delete(best);
    order.push(best);
    const d = dispatches[best] as Dispatch;
    for (const id of new Set(d.ins)) pendingReads.set(id, (pendingReads.get(id) ?? 0) - 1);
    for (const id of d.outs) born.add(id);
    for (const j of succs[best] ?? []) {
      waiting[j] = (waiting[j] as number) - 1;
      if (waiting[j] === 0) ready.add(j);
    }
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
