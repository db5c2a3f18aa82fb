/**
 * A jitted function's compiled form, as far as it goes today: the staged program with its
 * variables numbered and each value's last use precomputed, so a call runs the equations in
 * order and releases every intermediate (and every donated input) right after its last use.
 * Each equation still runs as its eager one-op kernel; the step list with planned kernels that
 * `Backend.run` executes (DESIGN decision 5) replaces this loop in the program-model work.
 */
import type { Array } from "../array.js";
import type { Params } from "../primitives/types.js";
import { ConcreteArray } from "./concrete.js";
import { type Atom, type ClosedJaxpr, type Eqn, Literal, type Var } from "./jaxpr.js";
import { bind } from "./trace.js";

/** Where an atom's value comes from: an environment slot, or a literal. */
type Ref = number | Literal;

interface Step {
  readonly eqn: Eqn;
  readonly inputs: readonly Ref[];
  readonly outputs: readonly number[];
  /** Slots whose value is not read after this step (released now). */
  readonly frees: readonly number[];
}

export class Program {
  private readonly steps: Step[] = [];
  private readonly nSlots: number;
  private readonly constSlots: number[];
  private readonly inSlots: number[];
  private readonly outRefs: Ref[];
  /** Inputs read by no equation and returned by no output: released at once where donated. */
  private readonly unusedInputs: number[];

  constructor(
    readonly closed: ClosedJaxpr,
    /** Per input: donated (its handle is released after its last use). */
    private readonly donated: readonly boolean[],
  ) {
    const { jaxpr } = closed;
    const slot = new Map<Var, number>();
    const slotOf = (v: Var) => {
      let s = slot.get(v);
      if (s === undefined) {
        s = slot.size;
        slot.set(v, s);
      }
      return s;
    };
    const ref = (a: Atom): Ref => (a instanceof Literal ? a : slotOf(a as Var));
    this.constSlots = jaxpr.constvars.map(slotOf);
    this.inSlots = jaxpr.invars.map(slotOf);
    const steps = jaxpr.eqns.map((eqn) => ({ eqn, inputs: eqn.inputs.map(ref), outputs: eqn.outputs.map(slotOf) }));
    this.outRefs = jaxpr.outvars.map(ref);
    this.nSlots = slot.size;
    // Last use of each slot; outputs live past the end, consts belong to the program.
    const last = new globalThis.Array<number>(this.nSlots).fill(-1);
    steps.forEach((s, i) => {
      for (const r of s.inputs) if (typeof r === "number") last[r] = i;
      for (const o of s.outputs) if ((last[o] as number) < i) last[o] = i;
    });
    const keep = new Set<number>(this.constSlots);
    for (const r of this.outRefs) if (typeof r === "number") keep.add(r);
    const inputIndex = new Map(this.inSlots.map((s, i) => [s, i]));
    // Inputs are the caller's: only donated ones are released.
    const releasable = (s: number) => !keep.has(s) && (!inputIndex.has(s) || donated[inputIndex.get(s) as number]);
    const frees: number[][] = steps.map(() => []);
    last.forEach((i, s) => {
      if (i >= 0 && releasable(s)) frees[i]?.push(s);
    });
    this.unusedInputs = this.inSlots.filter((s) => last[s] === -1 && releasable(s));
    this.steps = steps.map((s, i) => ({ ...s, frees: frees[i] as number[] }));
  }

  /**
   * Runs the program on concrete inputs. `release(x, i)` is called for donated input i when the
   * program is done with it. Returns the outputs (an output that is an input or a const is
   * returned as that array: the caller makes its own handle).
   */
  run(inputs: readonly Array[], release: (x: ConcreteArray, i: number) => void): Array[] {
    const env = new globalThis.Array<Array | undefined>(this.nSlots);
    const { consts } = this.closed;
    this.constSlots.forEach((s, i) => {
      env[s] = consts[i];
    });
    this.inSlots.forEach((s, i) => {
      env[s] = inputs[i];
    });
    const free = (s: number) => {
      const x = env[s];
      env[s] = undefined;
      if (!(x instanceof ConcreteArray)) return;
      const i = this.inSlots.indexOf(s);
      if (i >= 0 && this.donated[i]) release(x, i);
      else x.dispose();
    };
    for (const s of this.unusedInputs) free(s);
    const read = (r: Ref): Array => (typeof r === "number" ? (env[r] as Array) : this.closed.literal(r));
    for (const step of this.steps) {
      const args = step.inputs.map(read);
      const outs = bind(step.eqn.prim, args, step.eqn.params as Params[typeof step.eqn.prim]);
      step.outputs.forEach((s, k) => {
        const o = outs[k] as Array;
        // A rule may hand an operand back as is (an identity custom function): the slot gets its
        // own handle, so releasing one slot never frees another's value.
        env[s] = o instanceof ConcreteArray && args.includes(o) ? o.alias() : o;
      });
      for (const s of step.frees) free(s);
    }
    return this.outRefs.map(read);
  }
}
