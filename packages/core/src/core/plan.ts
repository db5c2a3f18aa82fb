/**
 * A program's backend calls, recorded from one eager run and replayed: allocations, dispatches
 * of the already-compiled kernels with their params, frees, and the release of donated inputs.
 * A replay does no binding, no abstract evaluation and no kernel-cache lookup. It is valid for
 * the backend instance, the input layouts (views) and the input aliasing it was recorded with;
 * the Program keys plans by those.
 */
import type { Array } from "../array.js";
import {
  type Backend,
  type BackendProgram,
  EFFECT_ID,
  type Executable,
  type ProgramStep,
  type Slot,
} from "../backend/backend.js";
import type { LoopOutput, StepLoop } from "../backend/loop.js";
import { runSteps } from "../backend/run-steps.js";
import type { DType } from "../dtype.js";
import { inputDepths, pointwiseInputs } from "../ir/kernel.js";
import { isContiguous, type View } from "../ir/view.js";
import { contiguousStrides, sizeOf } from "../shape.js";
import type { Aval } from "./aval.js";
import { DeviceBuffer } from "./buffer.js";
import { copySite } from "./call-sites.js";
import { ConcreteArray } from "./concrete.js";
import type { Recorder } from "./recording.js";
import { type PlanStep, schedule } from "./schedule.js";

type Dispatch = Extract<ProgramStep, { op: "dispatch" }>;

/**
 * A program output: a fixed array (an input, const or literal) itself, a new view of one's
 * buffer, or a view of a buffer the plan made.
 */
type PlanOutput =
  | { readonly kind: "fixed"; readonly index: number }
  | { readonly kind: "fixedView"; readonly index: number; readonly aval: Aval; readonly view: View }
  | {
      readonly kind: "made";
      readonly id: number;
      readonly aval: Aval;
      readonly view: View;
      readonly label: string;
    };

/** The key of the input layouts a plan is valid for: each input's view, and which inputs share a buffer. */
export function layoutKey(fixed: readonly Array[]): string {
  let key = "";
  const seen = new Map<unknown, number>();
  for (let i = 0; i < fixed.length; i++) {
    const x = fixed[i];
    if (!(x instanceof ConcreteArray)) return "";
    const v = x.view;
    key += v.offset === 0 && isContiguous(v) ? "c" : `${v.offset}/${v.strides.join(",")}`;
    const b = x.buffer;
    const first = seen.get(b);
    if (first === undefined) seen.set(b, i);
    else key += `=${first}`;
    key += ";";
  }
  return key;
}

export class Plan {
  /** The donated inputs, in the order the program gives them up. */
  private readonly donations: number[];
  /** The backend program per ownership of the donated inputs ("1": this call's only holder). */
  private readonly programs = new Map<string, { program: BackendProgram; aliases: readonly [number, number][] }>();

  private constructor(
    readonly backend: Backend,
    private readonly nIds: number,
    private readonly steps: readonly PlanStep[],
    private readonly outputs: readonly PlanOutput[],
    private readonly sizes: ReadonlyMap<number, { dtype: DType; size: number }>,
    /** Per fixed array, the id its buffer goes by (the first fixed array holding it). */
    private readonly canon: readonly number[],
    /** Per fixed array, its dtype and element count (a donated buffer's, where it is exactly its array). */
    private readonly fixedSizes: readonly { dtype: DType; size: number }[],
  ) {
    this.donations = steps.flatMap((st) => (st.op === "donate" ? [st.input] : []));
  }

  /**
   * The steps as one backend program. A donated input that this call owns alone ("1" in the
   * mask) is the program's: a later allocation of its exact dtype and size ("2": its buffer is
   * exactly its array; an output first) takes its slot instead — the donated buffer holds that
   * value, and the step allocates nothing — or else the program frees it where the recording
   * released it. One that another array still holds ("0") is released afterwards, by its handle only.
   */
  private programFor(mask: string): { program: BackendProgram; aliases: readonly [number, number][] } {
    let p = this.programs.get(mask);
    if (p) return p;
    const all = this.steps;
    // Which allocation takes each whole donated buffer ("2"): the output its last reader writes
    // in place, else the first later output of its dtype and size, else the first later
    // intermediate (an output would allocate; an intermediate's storage is the program's
    // arena's from its second run).
    const freed = new Set(all.flatMap((st) => (st.op === "free" ? [st.id] : [])));
    const { takerOf, variants } = this.inPlaceTakers(mask, freed);
    const taken = new Set<number>(takerOf.keys());
    const placed = new Set(takerOf.values());
    let k = 0;
    all.forEach((st, i) => {
      if (st.op !== "donate" || mask[k++] !== "2" || placed.has(this.canon[st.input] as number)) return;
      const { dtype, size } = this.fixedSizes[st.input] as { dtype: DType; size: number };
      const fits = (t: number, output: boolean) => {
        const a = all[t] as PlanStep;
        return (
          a.op === "alloc" && a.dtype === dtype && a.size === size && !taken.has(t) && (!output || !freed.has(a.id))
        );
      };
      let j = -1;
      for (let t = i + 1; t < all.length && j < 0; t++) if (fits(t, true)) j = t;
      for (let t = i + 1; t < all.length && j < 0; t++) if (fits(t, false)) j = t;
      if (j >= 0) {
        taken.add(j);
        takerOf.set(j, this.canon[st.input] as number);
      }
    });
    const donatedTaken = new Set(takerOf.values());
    const steps: ProgramStep[] = [];
    const remap = new Map<number, number>();
    const id = (i: number) => remap.get(i) ?? i;
    k = 0;
    all.forEach((st, i) => {
      if (st.op === "donate") {
        const m = mask[k++];
        const input = this.canon[st.input] as number;
        // Donated buffers no allocation takes are freed where they were released.
        if (m === "1" || (m === "2" && !donatedTaken.has(input))) steps.push({ op: "free", id: input });
      } else if (st.op === "alloc") {
        const input = takerOf.get(i);
        if (input === undefined) steps.push(st);
        else remap.set(st.id, input);
      } else if (st.op === "loop") {
        steps.push(remap.size === 0 ? st : { ...st, ins: st.ins.map(id), outs: st.outs.map(id) });
      } else if (st.op === "host") {
        steps.push(remap.size === 0 ? st : { ...st, ins: st.ins.map(id) });
      } else if (st.op === "dispatch") {
        const variant = variants.get(i) ?? st.exe;
        const exe = this.backend.specialize?.(variant, st.params) ?? variant;
        copySite(st.exe, exe);
        steps.push(
          remap.size === 0 && exe === st.exe ? st : { ...st, exe, ins: st.ins.map(id), outs: st.outs.map(id) },
        );
      } else steps.push({ op: "free", id: id(st.id) });
    });
    p = { program: { steps }, aliases: [...remap] };
    this.programs.set(mask, p);
    return p;
  }

  /**
   * In-place updates: a whole donated buffer ("2" in the mask) whose last reader is an
   * elementwise dispatch reading it only at the element it writes (`pointwiseInputs`) is that
   * dispatch's output of its dtype and size — an output first, else an intermediate — where
   * the backend has a variant of the kernel that may write over it (WebGPU: one reading the
   * input through that output's binding). The output nearest the input in the kernel's
   * expressions goes first (`inputDepths`: a new parameter over the old one). Returns the
   * allocation steps so taken (step index → donated id) and the variant kernel per dispatch step.
   */
  private inPlaceTakers(
    mask: string,
    freed: ReadonlySet<number>,
  ): { takerOf: Map<number, number>; variants: Map<number, Executable> } {
    const takerOf = new Map<number, number>();
    const variants = new Map<number, Executable>();
    const inPlace = this.backend.inPlace?.bind(this.backend);
    if (!inPlace) return { takerOf, variants };
    const all = this.steps;
    const allocAt = new Map<number, number>();
    all.forEach((st, i) => {
      if (st.op === "alloc") allocAt.set(st.id, i);
    });
    // Per dispatch step: its [input, output] pairs and the allocations they take.
    const wanted = new Map<number, { pairs: [number, number][]; takes: [number, number][] }>();
    let k = 0;
    all.forEach((st, i) => {
      if (st.op !== "donate" || mask[k++] !== "2") return;
      const x = this.canon[st.input] as number;
      const { dtype, size } = this.fixedSizes[st.input] as { dtype: DType; size: number };
      let d = i - 1;
      const reads = (o: PlanStep) => (o.op === "dispatch" || o.op === "loop" || o.op === "host") && o.ins.includes(x);
      while (d >= 0 && !reads(all[d] as PlanStep)) d--;
      // A loop's or a host callback's reads are not a kernel's: nothing writes over their input.
      if (d < 0 || (all[d] as PlanStep).op !== "dispatch") return;
      const disp = all[d] as Dispatch;
      const kernel = disp.exe.kernel;
      const pointwise = pointwiseInputs(kernel, disp.params);
      const at = disp.ins.flatMap((id, p) => (id === x ? [p] : []));
      if (!at.every((p) => pointwise[p] && kernel.inputs[p] === dtype)) return;
      const w = wanted.get(d) ?? { pairs: [], takes: [] };
      const fits = (j: number, output: boolean) => {
        const y = disp.outs[j] as number;
        const a = allocAt.get(y);
        if (a === undefined || kernel.outputs[j] !== dtype || w.takes.some(([t]) => t === a)) return false;
        const st = all[a] as PlanStep;
        if (st.op !== "alloc" || st.size !== size || (output && freed.has(y))) return false;
        // Nothing else writes or reads it before this dispatch.
        for (let t = a + 1; t < d; t++) {
          const o = all[t] as PlanStep;
          if (o.op !== "alloc" && o.op !== "free" && o.op !== "donate" && (o.outs.includes(y) || o.ins.includes(y)))
            return false;
        }
        return true;
      };
      // The output nearest the input in the kernel's expressions (the new value of that leaf).
      const depth = inputDepths(kernel, at[0] as number);
      const nearest = (output: boolean) =>
        disp.outs
          .map((_, j) => j)
          .filter((j) => fits(j, output))
          .sort((a, b) => (depth[a] as number) - (depth[b] as number) || a - b)[0] ?? -1;
      let j = nearest(true);
      if (j < 0) j = nearest(false);
      if (j < 0) return;
      for (const p of at) w.pairs.push([p, j]);
      w.takes.push([allocAt.get(disp.outs[j] as number) as number, x]);
      wanted.set(d, w);
    });
    for (const [d, w] of wanted) {
      const exe = inPlace((all[d] as Dispatch).exe, w.pairs);
      if (!exe) continue;
      variants.set(d, exe);
      for (const [a, x] of w.takes) takerOf.set(a, x);
    }
    return { takerOf, variants };
  }

  /**
   * Records `run` (one eager run of the program over `fixed`: the inputs, then its consts and
   * literals). Returns the run's outputs, and the plan (null, with the reason, where the run did
   * something a replay cannot repeat).
   */
  static record(
    backend: Backend,
    fixed: readonly ConcreteArray[],
    run: (onDonate: (input: number) => void) => Array[],
    withRecorder: <T>(r: Recorder, f: () => T) => T,
  ): { outs: Array[]; plan: Plan | null; why?: string } {
    const ids = new Map<Slot, number>();
    fixed.forEach((x, i) => {
      if (!ids.has(x.buffer.slot)) ids.set(x.buffer.slot, i);
    });
    // Inputs sharing a buffer are one id (the first): dispatches name that one.
    const canon = fixed.map((x) => ids.get(x.buffer.slot) as number);
    const nFixed = fixed.length;
    let next = nFixed;
    const steps: PlanStep[] = [];
    const sizes = new Map<number, { dtype: DType; size: number; label: string }>();
    let broken: string | undefined;
    const idOf = (s: Slot): number => {
      const id = ids.get(s);
      if (id === undefined) {
        broken ??= "a kernel used a buffer the program does not know";
        return -1;
      }
      return id;
    };
    const rec: Recorder = {
      alloc(slot, dtype, size, label) {
        const id = next++;
        ids.set(slot, id);
        sizes.set(id, { dtype, size, label });
        steps.push({ op: "alloc", id, dtype, size });
      },
      dispatch(exe, ins, outs, params) {
        steps.push({ op: "dispatch", exe, ins: ins.map(idOf), outs: outs.map(idOf), params: params.slice() });
      },
      free(slot) {
        const id = ids.get(slot);
        // Buffers from outside the program (collected elsewhere) and the inputs' own buffers
        // (released through their handles: donation) are not the plan's.
        if (id === undefined || id < nFixed) return;
        ids.delete(slot);
        steps.push({ op: "free", id });
      },
      write() {
        broken ??= "it uploads host data while running";
      },
      loop(loop, ins, outs) {
        // A loop whose body calls back keeps its place among the program's callbacks.
        const effect = loopHasHost(loop) ? [EFFECT_ID] : [];
        steps.push({ op: "loop", loop, ins: ins.map(idOf), outs: [...outs.map(idOf), ...effect] });
      },
      host(ins, run) {
        steps.push({ op: "host", ins: ins.map(idOf), outs: [EFFECT_ID], run });
      },
    };
    const outs = withRecorder(rec, () => run((input) => steps.push({ op: "donate", input })));
    const outputs: PlanOutput[] = outs.map((o) => {
      const k = fixed.indexOf(o as ConcreteArray);
      if (k >= 0) return { kind: "fixed", index: k };
      if (!(o instanceof ConcreteArray)) {
        broken ??= "an output is not a concrete array";
        return { kind: "fixed", index: -1 };
      }
      const id = ids.get(o.buffer.slot);
      if (id === undefined) {
        broken ??= "an output's buffer was made outside the program";
        return { kind: "fixed", index: -1 };
      }
      if (id < nFixed) return { kind: "fixedView", index: id, aval: o.aval, view: o.view };
      const s = sizes.get(id) as { label: string };
      return { kind: "made", id, aval: o.aval, view: o.view, label: s.label };
    });
    if (broken) return { outs, plan: null, why: broken };
    return {
      outs,
      plan: new Plan(
        backend,
        next,
        schedule(steps, canon),
        outputs,
        sizes,
        canon,
        fixed.map((x) => ({ dtype: x.dtype, size: x.size })),
      ),
    };
  }

  /**
   * The plan as a loop body (backend/loop.ts), for `fixed` as recorded: its program (nothing
   * donated; the buffers of its outputs not allocated but bound by the loop), the ids of the
   * fixed arrays, per output its slot id and element offset — owned where the plan made a
   * buffer for it alone — and the buffers made for outputs. Null where an output is a strided
   * view (the loop copies outputs densely).
   */
  asLoopBody(fixed: readonly ConcreteArray[]): {
    program: BackendProgram;
    nIds: number;
    ids: readonly number[];
    outs: LoopOutput[];
    made: { id: number; dtype: DType; size: number }[];
  } | null {
    if (this.donations.length > 0) return null;
    const { program, aliases } = this.programFor("");
    if (aliases.length > 0) return null;
    const outs: LoopOutput[] = [];
    const made = new Set<number>();
    for (const o of this.outputs) {
      const view = o.kind === "fixed" ? (fixed[o.index] as ConcreteArray).view : o.view;
      const offset = denseOffset(view);
      if (offset === null) return null;
      if (o.kind !== "made") {
        outs.push({ id: this.canon[o.index] as number, offset, owned: false });
        continue;
      }
      const whole = offset === 0 && (this.sizes.get(o.id) as { size: number }).size === sizeOf(o.aval.shape);
      outs.push({ id: o.id, offset, owned: whole && !made.has(o.id) });
      made.add(o.id);
    }
    // The outputs' buffers are the loop's to provide (it alternates two sets): the body does not allocate them.
    const steps = program.steps.filter((st) => !(st.op === "alloc" && made.has(st.id)));
    const sizes = [...made].map((id) => ({ id, ...(this.sizes.get(id) as { dtype: DType; size: number }) }));
    return { program: { steps }, nIds: this.nIds, ids: this.canon, outs, made: sizes };
  }

  /**
   * Builds the backend programs a call over `fixed` runs (compiling their kernel variants),
   * without running them: donated inputs held elsewhere too, and donated inputs the call owns.
   */
  prepare(fixed: readonly ConcreteArray[]): void {
    const owned = this.donations.map((i) => {
      const x = fixed[i] as ConcreteArray;
      return x.buffer.size === x.size && x.buffer.dtype === x.dtype ? "2" : "1";
    });
    this.programFor("0".repeat(owned.length));
    this.programFor(owned.join(""));
  }

  /** Replays the plan over `fixed` (same layouts as recorded); `donate(i)` releases input i. */
  run(fixed: readonly ConcreteArray[], donate: (input: number) => void): Array[] {
    const backend = this.backend;
    const slots = new globalThis.Array<Slot>(this.nIds);
    for (let i = 0; i < fixed.length; i++) slots[i] = (fixed[i] as ConcreteArray).buffer.slot;
    // Views of inputs take their handles first: a donated input may be released on the way.
    const early = this.outputs.map((o) => {
      if (o.kind !== "fixedView") return null;
      const b = (fixed[o.index] as ConcreteArray).buffer;
      b.retain();
      return new ConcreteArray(o.aval, b, o.view);
    });
    let mask = "";
    for (const i of this.donations) {
      const x = fixed[i] as ConcreteArray;
      const b = x.buffer;
      mask += b.refCount !== 1 ? "0" : b.size === x.size && b.dtype === x.dtype ? "2" : "1";
    }
    const { program, aliases } = this.programFor(mask);
    this.donations.forEach((i, k) => {
      if (mask[k] !== "0") (fixed[i] as ConcreteArray).buffer.handOver();
    });
    if (backend.run) backend.run(program, slots);
    else runSteps(backend, program, slots);
    for (const [made, input] of aliases) slots[made] = slots[input] as Slot;
    // The donated handles go now (a handed-over buffer's slot was freed by the program).
    for (const i of this.donations) donate(i);
    const buffers = new Map<number, DeviceBuffer>();
    return this.outputs.map((o, k) => {
      if (o.kind === "fixed") return fixed[o.index] as ConcreteArray;
      if (o.kind === "fixedView") return early[k] as ConcreteArray;
      let b = buffers.get(o.id);
      if (b) b.retain();
      else {
        const { dtype, size } = this.sizes.get(o.id) as { dtype: DType; size: number };
        b = new DeviceBuffer(backend, slots[o.id] as Slot, dtype, size, o.label);
        buffers.set(o.id, b);
      }
      return new ConcreteArray(o.aval, b, o.view);
    });
  }
}

/** The element offset a view's elements start at where they are dense from it (row-major, size-1 dims aside), else null. */
export function denseOffset(v: View): number | null {
  const c = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === c[i]) ? v.offset : null;
}

/** Whether a loop's programs (nested loops included) hold host steps. */
function loopHasHost(loop: StepLoop): boolean {
  const programs =
    loop.kind === "while"
      ? [loop.cond.program, loop.body.program]
      : loop.kind === "cond"
        ? loop.branches.map((b) => b.program)
        : [loop.program];
  return programs.some((p) => p.steps.some((s) => s.op === "host" || (s.op === "loop" && loopHasHost(s.loop))));
}
