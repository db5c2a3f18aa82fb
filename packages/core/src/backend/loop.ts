/**
 * A loop step of a backend program (issue 24: a jitted `scan` runs as one step, not unrolled):
 * a body program, recorded once, run `length` times over the loop's own slots. Each iteration
 * copies the x rows into the slice slots, runs the body (through `Backend.run` where the
 * backend has it, so its intermediates live in the body's arena), copies each y into its row of
 * the stacked output, and makes the body's carry outputs the next carry. Copies are
 * buffer-to-buffer (`Backend.copy`: a heap copy on the CPU, `copyBufferToBuffer` on WebGPU),
 * never kernels, and nothing returns to the host between iterations.
 */
import type { DType } from "../dtype.js";
import type { Backend, BackendProgram, Slot } from "./backend.js";
import { runSteps } from "./run-steps.js";

/** Where a body output is: a body slot (its element offset) — owned where the body made it whole. */
export interface LoopOutput {
  readonly id: number;
  readonly offset: number;
  /** The body allocated this slot for this output alone (it may become the next carry as is). */
  readonly owned: boolean;
}

/** A recorded body: its program over its own ids, how its inputs and outputs bind, its own fixed slots. */
export interface BodyProgram {
  /** The body over its own ids; `nIds` of them. */
  readonly program: BackendProgram;
  readonly nIds: number;
  /** The body id of each body input. */
  readonly inIds: readonly number[];
  /** The body's own fixed slots (its consts and literals): id, and a holder keeping them alive. */
  readonly fixed: readonly { readonly id: number; readonly slot: () => Slot }[];
  /** Per body output. */
  readonly outs: readonly LoopOutput[];
  /**
   * The buffers of the body's outputs (ids, dtypes, sizes). The body program does not allocate
   * them: the loop binds one of two sets, alternating, so iteration t + 1 writes its carry while
   * reading iteration t's, and no iteration allocates anything.
   */
  readonly made: readonly { readonly id: number; readonly dtype: DType; readonly size: number }[];
}

/** A scan's loop (lax.scan, foriLoop, map). */
export interface LoopBody extends BodyProgram {
  readonly kind?: "scan";
  readonly length: number;
  readonly reverse: boolean;
  readonly numConsts: number;
  /** Per carry leaf: its dtype and element count. */
  readonly carry: readonly { readonly dtype: DType; readonly size: number }[];
  /** Per xs leaf and per ys leaf: the dtype and the elements of one row. */
  readonly xs: readonly { readonly dtype: DType; readonly rowSize: number }[];
  readonly ys: readonly { readonly dtype: DType; readonly rowSize: number }[];
  /**
   * Element offsets of the loop step's inputs (consts are bound as they are; the initial carry
   * and the xs are read densely from these offsets).
   */
  readonly inOffsets: readonly number[];
}

/**
 * A while loop (lax.whileLoop) on a backend that reads synchronously: the cond runs, its
 * predicate is read, and the body runs, until the predicate is false.
 */
export interface WhileBody {
  readonly kind: "while";
  readonly cond: BodyProgram;
  readonly body: BodyProgram;
  readonly numCondConsts: number;
  readonly numBodyConsts: number;
  readonly carry: readonly { readonly dtype: DType; readonly size: number }[];
  /** Element offsets of the loop step's inputs (the carry's are read densely from them). */
  readonly inOffsets: readonly number[];
}

/**
 * A cond (lax.cond, lax.switch) as one step: the index is read where the backend reads
 * synchronously and only the chosen branch runs (WebGPU gates the branches' dispatches on the
 * device instead). Each branch is a body over the operands; its outputs are copied into the step's.
 */
export interface CondBody {
  readonly kind: "cond";
  readonly branches: readonly BodyProgram[];
  /** Per output: its dtype and element count. */
  readonly outs: readonly { readonly dtype: DType; readonly size: number }[];
  /** The index's element offset in its slot. */
  readonly indexOffset: number;
}

/** What a loop step runs. */
export type StepLoop = LoopBody | WhileBody | CondBody;

/**
 * A loop step: a scan's reads `ins` (consts, initial carry, xs) and writes `outs` (final carry,
 * stacked ys); a while loop's reads (cond consts, body consts, initial carry) and writes the
 * final carry; a cond's reads (index, operands) and writes the chosen branch's outputs. Its
 * outputs are allocated before it.
 */
export interface LoopStep {
  readonly op: "loop";
  readonly loop: StepLoop;
  readonly ins: readonly number[];
  readonly outs: readonly number[];
}

type Copy = NonNullable<Backend["copy"]>;

/**
 * A loop's carry: dense copies of the initial carry, then each iteration's body outputs — a
 * buffer the body made for one output is taken as it is; any other (an input passed through, a
 * repeated output) is copied into a spare slot, freed once the next iteration has read it.
 */
class LoopCarry {
  slots: Slot[];
  private readonly init: Slot[];
  private readonly spare: Slot[] = [];

  constructor(
    private readonly backend: Backend,
    private readonly copy: Copy,
    private readonly leaves: readonly { readonly dtype: DType; readonly size: number }[],
    from: readonly Slot[],
    offsets: readonly number[],
  ) {
    this.init = leaves.map((c, k) => {
      const s = backend.alloc(c.dtype, c.size);
      copy(from[k] as Slot, offsets[k] as number, s, 0, c.size, c.dtype);
      return s;
    });
    this.slots = this.init;
  }

  /** The body's carry outputs (`outs`, read from `local`) become the carry. */
  advance(outs: readonly LoopOutput[], local: readonly Slot[]): void {
    const taken = new Set<number>();
    const next = this.leaves.map((c, k) => {
      const o = outs[k] as LoopOutput;
      if (o.owned && !taken.has(o.id)) {
        taken.add(o.id);
        return local[o.id] as Slot;
      }
      const s = this.backend.alloc(c.dtype, c.size);
      this.spare.push(s);
      this.copy(local[o.id] as Slot, o.offset, s, 0, c.size, c.dtype);
      return s;
    });
    // The spare copies of the carry before are read no more.
    for (const s of this.slots) {
      const at = this.spare.indexOf(s);
      if (at >= 0) {
        this.spare.splice(at, 1);
        this.backend.free(s);
      }
    }
    this.slots = next;
  }

  /** Copies the final carry into the loop step's outputs. */
  finish(outs: readonly Slot[]): void {
    this.slots.forEach((s, k) => {
      const c = this.leaves[k] as { dtype: DType; size: number };
      this.copy(s, 0, outs[k] as Slot, 0, c.size, c.dtype);
    });
  }

  release(): void {
    for (const s of [...this.init, ...this.spare]) this.backend.free(s);
  }
}

/** Binds set `set` of a body's output buffers into `local`. */
export function bindMade(b: BodyProgram, local: Slot[], set: readonly Slot[]): void {
  b.made.forEach((m, i) => {
    local[m.id] = set[i] as Slot;
  });
}

/** Binds a body's own fixed slots and `inputs` at its input ids, into `local`. */
export function bindInputs(b: BodyProgram, local: Slot[], inputs: readonly Slot[]): void {
  for (const f of b.fixed) local[f.id] = f.slot();
  inputs.forEach((s, i) => {
    local[b.inIds[i] as number] = s;
  });
}

/** What a loop step needs of the backend: its copy, and running a body program. */
function loopOps(backend: Backend): { copy: Copy; run: (p: BackendProgram, s: Slot[]) => void } {
  const copy = backend.copy?.bind(backend);
  if (!copy) throw new Error(`${backend.name}: a loop step needs Backend.copy`);
  return { copy, run: (p, s) => (backend.run ? backend.run(p, s) : runSteps(backend, p, s)) };
}

/** Runs a loop step over `slots` (the enclosing program's), through the backend's alloc, copy, run and free. */
export function runLoop(backend: Backend, step: LoopStep, slots: readonly Slot[]): void {
  if (step.loop.kind === "while") {
    if (backend.runWhile) backend.runWhile(step, slots);
    else runWhile(backend, step.loop, step, slots);
    return;
  }
  if (step.loop.kind === "cond") {
    if (backend.runCond) backend.runCond(step, slots);
    else runCond(backend, step.loop, step, slots);
    return;
  }
  const b = step.loop;
  const { copy, run } = loopOps(backend);
  const ins = step.ins.map((i) => slots[i] as Slot);
  const outs = step.outs.map((i) => slots[i] as Slot);
  const nc = b.numConsts;
  const nk = b.carry.length;
  const local = new globalThis.Array<Slot>(b.nIds);
  bindInputs(b, local, ins.slice(0, nc));
  const carry = new LoopCarry(backend, copy, b.carry, ins.slice(nc, nc + nk), b.inOffsets.slice(nc, nc + nk));
  const slices = b.xs.map((x) => backend.alloc(x.dtype, x.rowSize));
  const sets = [0, 1].map(() => b.made.map((m) => backend.alloc(m.dtype, m.size)));
  // Whatever happens, the loop's own slots go back (an error mid-loop poisons nothing else).
  try {
    for (let t = 0; t < b.length; t++) {
      const row = b.reverse ? b.length - 1 - t : t;
      b.xs.forEach((x, j) => {
        const at = nc + nk + j;
        copy(ins[at] as Slot, (b.inOffsets[at] as number) + row * x.rowSize, slices[j] as Slot, 0, x.rowSize, x.dtype);
        local[b.inIds[at] as number] = slices[j] as Slot;
      });
      carry.slots.forEach((s, k) => {
        local[b.inIds[nc + k] as number] = s;
      });
      bindMade(b, local, sets[t % 2] as Slot[]);
      run(b.program, local);
      b.ys.forEach((y, j) => {
        const o = b.outs[nk + j] as LoopOutput;
        copy(local[o.id] as Slot, o.offset, outs[nk + j] as Slot, row * y.rowSize, y.rowSize, y.dtype);
      });
      carry.advance(b.outs, local);
    }
    carry.finish(outs);
  } finally {
    carry.release();
    for (const s of [...slices, ...sets.flat()]) backend.free(s);
  }
}

function runWhile(backend: Backend, w: WhileBody, step: LoopStep, slots: readonly Slot[]): void {
  const { copy, run } = loopOps(backend);
  const ins = step.ins.map((i) => slots[i] as Slot);
  const outs = step.outs.map((i) => slots[i] as Slot);
  const [cc, bc] = [w.numCondConsts, w.numBodyConsts];
  const carry = new LoopCarry(backend, copy, w.carry, ins.slice(cc + bc), w.inOffsets.slice(cc + bc));
  const condLocal = new globalThis.Array<Slot>(w.cond.nIds);
  const bodyLocal = new globalThis.Array<Slot>(w.body.nIds);
  const condMade = w.cond.made.map((m) => backend.alloc(m.dtype, m.size));
  const sets = [0, 1].map(() => w.body.made.map((m) => backend.alloc(m.dtype, m.size)));
  try {
    for (let t = 0; ; t++) {
      bindInputs(w.cond, condLocal, [...ins.slice(0, cc), ...carry.slots]);
      bindMade(w.cond, condLocal, condMade);
      run(w.cond.program, condLocal);
      const p = w.cond.outs[0] as LoopOutput;
      if (!backend.readSync(condLocal[p.id] as Slot, "bool", p.offset, 1)[0]) break;
      bindInputs(w.body, bodyLocal, [...ins.slice(cc, cc + bc), ...carry.slots]);
      bindMade(w.body, bodyLocal, sets[t % 2] as Slot[]);
      run(w.body.program, bodyLocal);
      carry.advance(w.body.outs, bodyLocal);
    }
    carry.finish(outs);
  } finally {
    carry.release();
    for (const s of [...condMade, ...sets.flat()]) backend.free(s);
  }
}

/** A cond step where the index is read synchronously: the chosen branch (clamped) runs, its outputs copied out. */
function runCond(backend: Backend, c: CondBody, step: LoopStep, slots: readonly Slot[]): void {
  const { copy, run } = loopOps(backend);
  const [index, ...ops] = step.ins.map((i) => slots[i] as Slot);
  const outs = step.outs.map((i) => slots[i] as Slot);
  const n = c.branches.length;
  const k = Math.min(Math.max(Number(backend.readSync(index as Slot, "int32", c.indexOffset, 1)[0]), 0), n - 1);
  const b = c.branches[k] as BodyProgram;
  const local = new globalThis.Array<Slot>(b.nIds);
  bindInputs(b, local, ops);
  const made = b.made.map((m) => backend.alloc(m.dtype, m.size));
  bindMade(b, local, made);
  try {
    run(b.program, local);
    c.outs.forEach((o, j) => {
      const at = b.outs[j] as LoopOutput;
      copy(local[at.id] as Slot, at.offset, outs[j] as Slot, 0, o.size, o.dtype);
    });
  } finally {
    for (const s of made) backend.free(s);
  }
}
