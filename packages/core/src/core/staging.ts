/**
 * Recording programs. A JaxprTrace records every primitive applied to its tracers into a
 * ClosedJaxpr. Two uses:
 * - linearize records only the tangents (the primal computation runs): operands it does not
 *   trace (residuals) become consts, whatever they are;
 * - staging (`stage`, JAX's omnistaging) makes it the dynamic trace, so every bind inside the
 *   function is recorded, even on values made inside it; concrete arrays it closes over become
 *   consts, and tracers of enclosing transforms are lifted to inputs (closure conversion), never
 *   baked in. JS numbers become literals in both.
 */
import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { TracerError } from "../errors.js";
import { hostValue } from "../host.js";
import type { Params, Primitive } from "../primitives/types.js";
import { type Aval, fmtAval } from "./aval.js";
import { noteEqnSite, noteSites } from "./call-sites.js";
import { ConcreteArray, nextArraySerial } from "./concrete.js";
import { checkingNans } from "./debug-nans.js";
import { type Atom, ClosedJaxpr, type Eqn, Literal, Var } from "./jaxpr.js";
import {
  abstractEval,
  type CustomJvpCall,
  type CustomVjpCall,
  type Stager,
  Trace,
  Tracer,
  withDynamic,
  withTrace,
} from "./trace.js";

/** A value being recorded into a jaxpr: a variable, or a literal. */
export class JaxprTracer extends Tracer {
  constructor(
    readonly trace: JaxprTrace,
    readonly atom: Atom,
  ) {
    super();
  }
  get aval(): Aval {
    return this.atom.aval;
  }
  override backendHint(): Backend | null {
    return this.trace.backend;
  }
  override toString(): string {
    return `Traced<${fmtAval(this.aval)}>`;
  }
}

export class JaxprTrace extends Trace implements Stager {
  private readonly eqns: Eqn[] = [];
  private readonly constvars = new Map<Array, Var>();
  private readonly consts: Array[] = [];
  private readonly owned: ConcreteArray[] = [];
  /** Where creation order stood when staging began: consts made after it were made by f. */
  private readonly mark = nextArraySerial();
  /** Arrays f made (host data: np.array inside f) that the program holds its own handles on. */
  readonly madeInside: ConcreteArray[] = [];
  /** Scalars made from JS values, recorded as literals (linearize reuses them when it runs). */
  private readonly literals = new Map<ConcreteArray, Literal>();
  /** Staging only: tracers of enclosing transforms, lifted to inputs. */
  private readonly lifted = new Map<Array, Var>();
  backend: Backend | null = null;

  constructor(
    level: number,
    name: string,
    /** True when this trace stages a whole function (the dynamic trace). */
    readonly staging: boolean,
  ) {
    super(level, name);
  }

  newArg(aval: Aval): JaxprTracer {
    return new JaxprTracer(this, new Var(aval));
  }

  literal(value: number | boolean, dtype: DType, weakType: boolean): Array {
    return new JaxprTracer(this, new Literal(hostValue(dtype, Number(value)), dtype, weakType));
  }

  /** The atom standing for `x` in the program. */
  atom(x: Array): Atom {
    if (x instanceof JaxprTracer && x.trace === this) return x.atom;
    if (x instanceof ConcreteArray && x.literal !== undefined && x.shape.length === 0) {
      let lit = this.literals.get(x);
      if (!lit) {
        lit = new Literal(x.literal, x.dtype, x.weakType);
        this.literals.set(x, lit);
      }
      return lit;
    }
    if (this.staging && x instanceof Tracer) {
      let v = this.lifted.get(x);
      if (!v) {
        v = new Var(x.aval);
        this.lifted.set(x, v);
      }
      return v;
    }
    let v = this.constvars.get(x);
    if (!v) {
      v = new Var(x.aval);
      this.constvars.set(x, v);
      if (x instanceof ConcreteArray) {
        const r = x.retained();
        this.owned.push(r);
        this.backend ??= r.backend;
        this.consts.push(r);
        if (this.staging && x.serial >= this.mark && !x.detached) this.madeInside.push(x);
      } else {
        this.consts.push(x);
      }
    }
    return v;
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    if (!this.staging && prim === "while") {
      throw new TracerError(
        `${(params as Params["while"]).name}: reverse-mode differentiation (grad, vjp) does not go through a while loop, ` +
          "whose trip count is known only when it runs (a lax.foriLoop with array bounds is one); use lax.foriLoop with static bounds or lax.scan (forward mode, jvp, works)",
      );
    }
    const outAvals = abstractEval(
      prim,
      inputs.map((x) => x.aval),
      params,
    );
    const atoms = inputs.map((x) => this.atom(x));
    const outs = outAvals.map((a) => this.newArg(a));
    const eqn = { prim, inputs: atoms, params, outputs: outs.map((o) => o.atom as Var) } as Eqn;
    // The user's line that staged it (a failed kernel's error and the NaN checker name it):
    // while jit traces, or with the checker on (eager control flow stages at every call).
    if (noteSites() || checkingNans()) noteEqnSite(eqn);
    this.eqns.push(eqn);
    return outs;
  }

  /**
   * Staging records a custom function as one equation that carries the function's own program
   * and its rule, so transforms of the program still use the rule. linearize's recording sees
   * custom functions only on tangents, which the JVP trace above has already differentiated
   * with the rule: there the function itself runs.
   */
  processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[] {
    if (!this.staging) return call.fn(args);
    const { closed, lifted } = stage(
      call.name,
      call.fn,
      args.map((a) => a.aval),
    );
    return this.processPrimitive("custom_jvp_call", [...lifted, ...args], {
      name: call.name,
      call: closed,
      numConsts: lifted.length,
      jvp: call.jvp,
    });
  }

  processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[] {
    if (!this.staging) return call.fn(args);
    const { closed, lifted } = stage(
      call.name,
      call.fn,
      args.map((a) => a.aval),
    );
    return this.processPrimitive("custom_vjp_call", [...lifted, ...args], {
      name: call.name,
      call: closed,
      numConsts: lifted.length,
      fwd: call.fwd,
      bwd: call.bwd,
    });
  }

  /** Releases the retained constants of a recording that will not become a program (it failed). */
  discard(): void {
    for (const c of this.owned) c.dispose();
    this.owned.length = 0;
  }

  /**
   * The recorded program from `inputs` to `outputs`. Staging puts the lifted values' variables
   * before the inputs and returns the values (the caller passes them in).
   */
  finish(inputs: readonly JaxprTracer[], outputs: readonly Array[]): { closed: ClosedJaxpr; lifted: Array[] } {
    const outvars = outputs.map((o) => this.atom(o));
    const invars = inputs.map((x) => x.atom as Var);
    const lifted = [...this.lifted.keys()];
    const jaxpr = {
      constvars: [...this.constvars.values()],
      invars: [...this.lifted.values(), ...invars],
      eqns: this.eqns.slice(),
      outvars,
    };
    const closed = new ClosedJaxpr(jaxpr, this.consts.slice(), this.owned.slice(), this.backend);
    // A program that runs eagerly (linearize's) reuses the scalars it saw instead of making them again.
    if (!this.staging) for (const [arr, lit] of this.literals) closed.keepLiteral(lit, arr.retained());
    return { closed, lifted };
  }
}

/**
 * Stages `f` on abstract inputs of types `avals`: every bind inside is recorded (this trace is
 * the dynamic one while f runs). Returns the program and the enclosing transforms' values that
 * it reads, which are its first inputs (pass them before the arguments).
 */
export function stage(
  name: string,
  f: (xs: Array[]) => Array[],
  avals: readonly Aval[],
  backend: Backend | null = null,
): { closed: ClosedJaxpr; lifted: Array[] } {
  return withTrace(
    (l) => new JaxprTrace(l, name, true),
    (t) => {
      t.backend = backend;
      const ins = avals.map((a) => t.newArg(a));
      try {
        const done = withDynamic(t, () => {
          const outs = f(ins);
          if (!globalThis.Array.isArray(outs)) throw new TracerError(`internal: ${name} returned no list`);
          return t.finish(ins, outs);
        });
        // f's own handles on what it made are released: the program keeps its own.
        for (const x of t.madeInside) x.dispose();
        return done;
      } catch (e) {
        t.discard();
        throw e;
      }
    },
  );
}
