/**
 * A jitted function's compiled form: the staged program with its variables numbered and each
 * value's last use precomputed. The first call per input layout runs the equations as eager
 * one-op kernels, releasing every intermediate (and donated input) right after its last use,
 * and records the backend calls that makes (core/plan.ts); later calls replay the recording:
 * no bind, no abstract evaluation, no kernel-cache lookup. (DESIGN decision 5's `Backend.run`
 * of a whole step list, with fused kernels, builds on these plans.)
 */
import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { patchLimit } from "../primitives/conv-dot.js";
import type { Params } from "../primitives/types.js";
import { withEqnSite } from "./call-sites.js";
import { ConcreteArray, nextArraySerial } from "./concrete.js";
import { withProgramBackend } from "./eager.js";
import { type Fusion, type FusionStage, fuse } from "./fusion.js";
import { runKernelStage } from "./fusion-kernel.js";
import { type Atom, type ClosedJaxpr, type Eqn, evalJaxpr, Literal, type Var } from "./jaxpr.js";
import { layoutKey, Plan } from "./plan.js";
import { rehearse, withRecorder } from "./recording.js";
import { bind } from "./trace.js";

let fusionEnabled = true;

/** Turns jit's fusion on (the default) or off (every equation its own eager kernel: for comparison). */
export function setFusion(on: boolean): void {
  fusionEnabled = on;
}

export function fusionOn(): boolean {
  return fusionEnabled;
}

/** A program as fused kernels: the partition and, per stage, the slots it reads and writes and those it releases. */
export interface FusedProgram {
  readonly fusion: Fusion;
  readonly producer: ReadonlyMap<Var, number>;
  readonly unused: readonly number[];
  readonly units: readonly {
    readonly stage: FusionStage;
    readonly reads: readonly number[];
    readonly outputs: readonly number[];
    readonly frees: readonly number[];
  }[];
}

/** Observes a fused run stage by stage (`jit(f).lower`). */
export interface FusionLog {
  begin(stage: FusionStage): void;
  end(): void;
}

/** A fused kernel's label: the primitives it covers, in order, distinct. */
function kernelLabel(eqns: readonly Eqn[], covers: readonly number[]): string {
  const prims: string[] = [];
  for (const i of covers) {
    const p = (eqns[i] as Eqn).prim;
    if (!prims.includes(p)) prims.push(p);
  }
  return `fused(${prims.length > 6 ? [...prims.slice(0, 6), "…"].join(",") : prims.join(",")})`;
}

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
  /**
   * Per output: computed into a buffer of its own by a copy, because it repeats an earlier
   * output or is a literal (a cached scalar). Every output then owns its buffer, as JAX's do, so
   * an output can be donated to the next call (a state leaf that is also an update: LARS' trace).
   */
  private readonly copyOut: boolean[];
  /** Inputs read by no equation and returned by no output: released at once where donated. */
  private readonly unusedInputs: number[];
  /** The literals the program reads (their cached eager scalars are fixed buffers of its plans). */
  private readonly literals: Literal[];
  /** Recorded plans by input layout (or the number of failed recordings). */
  private readonly plans = new Map<string, Plan | number>();
  private readonly keep: Set<number>;
  private readonly slotOf: Map<Var, number>;
  private readonly fusions = new Map<string, FusedProgram>();

  constructor(
    readonly closed: ClosedJaxpr,
    /** Per input: donated (its handle is released after its last use). */
    private readonly donated: readonly boolean[],
    /**
     * Whether an output that repeats an earlier one is computed into a buffer of its own (so
     * every output can be donated). A loop body's need not be: the loop copies each output
     * out of the body's buffers anyway (backend/loop.ts).
     */
    copyRepeats = true,
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
    const steps: Step[] = jaxpr.eqns.map((eqn) => ({
      eqn,
      inputs: eqn.inputs.map(ref),
      outputs: eqn.outputs.map(slotOf),
      frees: [],
    }));
    this.outRefs = jaxpr.outvars.map(ref);
    this.copyOut = this.outRefs.map((r, k) => r instanceof Literal || (copyRepeats && this.outRefs.indexOf(r) < k));
    const lits = new Set<Literal>();
    for (const st of steps) for (const r of st.inputs) if (r instanceof Literal) lits.add(r);
    for (const r of this.outRefs) if (r instanceof Literal) lits.add(r);
    this.literals = [...lits];
    this.nSlots = slot.size;
    this.keep = new Set<number>(this.constSlots);
    for (const r of this.outRefs) if (typeof r === "number") this.keep.add(r);
    const { frees, unused } = this.lifetimes(
      steps.map((s) => s.inputs.filter((r): r is number => typeof r === "number")),
    );
    this.unusedInputs = unused;
    this.steps = steps.map((s, i) => ({ ...s, frees: frees[i] as number[] }));
    this.slotOf = slot;
  }

  /**
   * Where each slot is released, given the slots each unit of work reads in order: after its
   * last read. Outputs and consts are kept; inputs are the caller's, released only when donated.
   */
  private lifetimes(reads: readonly (readonly number[])[]): { frees: number[][]; unused: number[] } {
    const last = new globalThis.Array<number>(this.nSlots).fill(-1);
    reads.forEach((rs, i) => {
      for (const r of rs) last[r] = i;
    });
    const inputIndex = new Map(this.inSlots.map((s, i) => [s, i]));
    const releasable = (s: number) =>
      !this.keep.has(s) && (!inputIndex.has(s) || this.donated[inputIndex.get(s) as number]);
    const frees: number[][] = reads.map(() => []);
    last.forEach((i, s) => {
      if (i >= 0 && releasable(s)) frees[i]?.push(s);
    });
    return { frees, unused: this.inSlots.filter((s) => last[s] === -1 && releasable(s)) };
  }

  /** The program as fused kernels (core/fusion.ts) for a backend reading at most `maxInputs` buffers a kernel. */
  fused(maxInputs: number, maxPatches = 0): FusedProgram {
    const fusionKey = `${maxInputs}|${maxPatches}`;
    let f = this.fusions.get(fusionKey);
    if (f) return f;
    const { jaxpr } = this.closed;
    const fusion = fuse(jaxpr, maxInputs, maxPatches);
    const producer = new Map<Var, number>();
    jaxpr.eqns.forEach((e, i) => {
      for (const o of e.outputs) producer.set(o, i);
    });
    const slot = (v: Var) => this.slotOf.get(v) as number;
    const units = fusion.stages.map((st) => {
      if (st.kind === "eqn") {
        const step = this.steps[st.index] as Step;
        return {
          stage: st,
          reads: step.inputs.filter((r): r is number => typeof r === "number"),
          outputs: step.outputs,
        };
      }
      return { stage: st, reads: st.reads.map(slot), outputs: st.writes.map(slot) };
    });
    // The slots each unit writes count as reads, so an unread result is released at once.
    const { frees, unused } = this.lifetimes(units.map((u) => [...u.reads, ...u.outputs]));
    f = {
      fusion,
      producer,
      unused,
      units: units.map((u, i) => ({ ...u, frees: frees[i] as number[] })),
    };
    this.fusions.set(fusionKey, f);
    return f;
  }

  /**
   * Runs the program on concrete inputs. `release(x, i)` is called for donated input i when the
   * program is done with it. Returns the outputs (an output that is an input or a const is
   * returned as that array: the caller makes its own handle).
   */
  run(inputs: readonly Array[], release: (x: ConcreteArray, i: number) => void): Array[] {
    const { fixed, backend } = this.fixedOf(inputs);
    if (!backend) return this.runEager(inputs, release);
    const key = this.planKey(fixed);
    const known = this.plans.get(key);
    const onDonate = (i: number) => release(inputs[i] as ConcreteArray, i);
    if (known instanceof Plan && known.backend === backend) return known.run(fixed as ConcreteArray[], onDonate);
    if (typeof known === "number" && known >= 2) return this.runEager(inputs, release);
    const { outs, plan } = Plan.record(
      backend,
      fixed as ConcreteArray[],
      (donated: (i: number) => void) =>
        this.runEager(inputs, (x, i) => {
          donated(i);
          release(x, i);
        }),
      withRecorder,
    );
    // A run that cannot be replayed (it uploaded, say, a sub-program's literal) is tried once more.
    this.plans.set(key, plan ?? (typeof known === "number" ? known + 1 : 1));
    return outs;
  }

  /** The plan recorded for a call over `inputs` (by `run`) and the arrays it reads, or null where none is. */
  planFor(inputs: readonly Array[]): { plan: Plan; fixed: ConcreteArray[] } | null {
    const { fixed, backend } = this.fixedOf(inputs);
    if (!backend) return null;
    const plan = this.plans.get(this.planKey(fixed));
    return plan instanceof Plan && plan.backend === backend ? { plan, fixed: fixed as ConcreteArray[] } : null;
  }

  /** The arrays a run reads (inputs, consts, literals), and their one backend (null: not all concrete on one). */
  private fixedOf(inputs: readonly Array[]): { fixed: Array[]; backend: Backend | null } {
    const fixed: Array[] = [...inputs, ...this.closed.consts, ...this.literals.map((l) => this.closed.literal(l))];
    const concrete = fixed.every((x) => x instanceof ConcreteArray);
    const backend = concrete ? ((fixed[0] as ConcreteArray | undefined)?.backend ?? getBackend()) : null;
    const one = backend !== null && fixed.every((x) => (x as ConcreteArray).backend === backend);
    return { fixed, backend: one ? backend : null };
  }

  private planKey(fixed: readonly Array[]): string {
    return `${layoutKey(fixed)}${fusionEnabled ? "F" : ""}`;
  }

  /**
   * Readies a call over `inputs` without running it where the backend can: records its plan
   * (one run whose kernels the backend compiles but does not execute, its outputs discarded;
   * nothing donated) and builds the backend programs a call runs, every kernel compiled
   * asynchronously on WebGPU. After it, the first call compiles nothing.
   */
  async prepare(inputs: readonly ConcreteArray[]): Promise<void> {
    const { fixed, backend } = this.fixedOf(inputs);
    const build = () => {
      const keep = new Set<Array>(fixed);
      for (const o of new Set(this.run(inputs, () => {}))) if (!keep.has(o)) (o as ConcreteArray).dispose();
      const plan = this.plans.get(this.planKey(fixed));
      if (plan instanceof Plan) plan.prepare(fixed as ConcreteArray[]);
    };
    // A rehearsal: host callbacks (debug.print) are recorded, not called.
    if (backend?.prepare) await backend.prepare(() => rehearse(build));
    else rehearse(build);
  }

  /** Runs the equations one by one as eager kernels (and records them, under a recorder). */
  runEager(
    inputs: readonly Array[],
    release: (x: ConcreteArray, i: number) => void,
    fusion: boolean = fusionEnabled,
    log?: FusionLog,
  ): Array[] {
    // Operand-free equations (iota) run beside the inputs, not on the default backend.
    const first = [...inputs, ...this.closed.consts].find((x) => x instanceof ConcreteArray) as
      | ConcreteArray
      | undefined;
    const backend = first?.backend ?? null;
    // Fused kernels need every value concrete and on one backend (else the eager ops name the mismatch).
    const oneBackend = [...inputs, ...this.closed.consts].every(
      (x) => x instanceof ConcreteArray && x.backend === backend,
    );
    return withProgramBackend(backend, () =>
      fusion && oneBackend && backend
        ? this.runSteps(inputs, release, {
            backend,
            program: this.fused(backend.maxKernelInputs ?? Infinity, patchLimit(backend)),
            log,
          })
        : this.runSteps(inputs, release),
    );
  }

  /** Binds one equation and stores its outputs in `env`. */
  private bindStep(step: Step, env: (Array | undefined)[], read: (r: Ref) => Array): void {
    const args = step.inputs.map(read);
    const mark = nextArraySerial();
    const outs = bind(step.eqn.prim, args, step.eqn.params as Params[typeof step.eqn.prim]);
    step.outputs.forEach((s, k) => {
      const o = outs[k] as Array;
      // A rule may hand back an array it did not make (an operand, a custom function's
      // closed-over const): the slot gets its own handle, so releasing it frees nothing else's.
      env[s] = o instanceof ConcreteArray && (o.serial < mark || o.detached || args.includes(o)) ? o.alias() : o;
    });
  }

  private runSteps(
    inputs: readonly Array[],
    release: (x: ConcreteArray, i: number) => void,
    fusedRun?: { backend: Backend; program: FusedProgram; log: FusionLog | undefined },
  ): Array[] {
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
    const read = (r: Ref): Array => (typeof r === "number" ? (env[r] as Array) : this.closed.literal(r));
    if (fusedRun) {
      const { backend, program: fused, log } = fusedRun;
      for (const s of fused.unused) free(s);
      const { eqns } = this.closed.jaxpr;
      const value = (a: Atom) =>
        (a instanceof Literal ? this.closed.literal(a) : env[this.slotOf.get(a) as number]) as ConcreteArray;
      for (const u of fused.units) {
        const st = u.stage;
        log?.begin(st);
        if (st.kind === "eqn") {
          const step = this.steps[st.index] as Step;
          withEqnSite(step.eqn, () => this.bindStep(step, env, read));
        } else {
          const label = kernelLabel(eqns, st.covers);
          // The kernel's call site: the last equation it covers (the one whose value it makes).
          const made = withEqnSite(eqns[st.covers[st.covers.length - 1] as number], () =>
            runKernelStage(st, eqns, fused.producer, value, backend, label),
          );
          u.outputs.forEach((s, k) => {
            env[s] = made[k];
          });
        }
        log?.end();
        for (const s of u.frees) free(s);
      }
    } else {
      for (const s of this.unusedInputs) free(s);
      for (const step of this.steps) {
        withEqnSite(step.eqn, () => this.bindStep(step, env, read));
        for (const s of step.frees) free(s);
      }
    }
    // An output over a const's or a literal's buffer (the const itself, or a view: a broadcast
    // literal) would share it with the program: it is copied too.
    const fixedArrays = [...inputs, ...consts, ...this.literals.map((l) => this.closed.literal(l))];
    const fixedBuffers = new Set(
      fixedArrays
        .slice(inputs.length)
        .filter((x): x is ConcreteArray => x instanceof ConcreteArray && !x.disposed)
        .map((x) => x.buffer),
    );
    const fixed = new Set<Array>(fixedArrays);
    const copied: Array[] = [];
    const outs = this.outRefs.map((r, k) => {
      const x = read(r);
      const shared = this.copyOut[k] || (x instanceof ConcreteArray && fixedBuffers.has(x.buffer));
      if (!shared) return x;
      copied.push(x);
      return bind("copy", [x], {})[0] as Array;
    });
    // A value the program made and returns only as a copy (a view of a literal) is released.
    for (const x of copied) if (!fixed.has(x) && !outs.includes(x) && x instanceof ConcreteArray) x.dispose();
    return outs;
  }
}

const subPrograms = new WeakMap<ClosedJaxpr, Program>();

/**
 * Evaluates a closed jaxpr eagerly, releasing each intermediate at its last use (a
 * higher-order primitive's body: a custom function inside a jitted program). Under a
 * transform it binds equation by equation instead (evalJaxpr).
 */
export function evalReleasing(closed: ClosedJaxpr, inputs: readonly Array[]): Array[] {
  if (!inputs.every((x) => x instanceof ConcreteArray)) return evalJaxpr(closed, inputs);
  return subProgram(closed).runEager(inputs, () => {});
}

/** A higher-order primitive's body as a program (nothing donated), one per closed jaxpr. */
export function subProgram(closed: ClosedJaxpr): Program {
  let p = subPrograms.get(closed);
  if (!p) {
    p = new Program(
      closed,
      closed.jaxpr.invars.map(() => false),
    );
    subPrograms.set(closed, p);
  }
  return p;
}

const loopBodies = new WeakMap<ClosedJaxpr, Program>();

/** A loop step's body as a program: a repeated output shares its buffer (the loop copies it out). */
export function loopBodyProgram(closed: ClosedJaxpr): Program {
  let p = loopBodies.get(closed);
  if (!p) {
    p = new Program(
      closed,
      closed.jaxpr.invars.map(() => false),
      false,
    );
    loopBodies.set(closed, p);
  }
  return p;
}
