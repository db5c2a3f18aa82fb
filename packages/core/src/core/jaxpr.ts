import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { TracerError } from "../errors.js";
import type { Params, Primitive } from "../primitives/types.js";
import { type Aval, fmtAval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { abstractEval, bind, type CustomJvpCall, type CustomVjpCall, Trace, Tracer } from "./trace.js";

/** A variable of a Jaxpr: one value, known by its abstract value. */
export class Var {
  constructor(
    readonly aval: Aval,
    readonly id: number,
  ) {}
}

/** A known value used by a Jaxpr (a constant, or a value of an enclosing transform). */
export class Const {
  constructor(readonly value: Array) {}
}

export type Atom = Var | Const;

/** One primitive application. */
export interface Eqn {
  readonly prim: Primitive;
  readonly inputs: readonly Atom[];
  readonly params: unknown;
  readonly outputs: readonly Var[];
}

/**
 * A traced program (JAX's jaxpr): inputs, equations in order, outputs. An output is null where it
 * is a symbolic zero. It owns its concrete constants: `dispose()` releases them.
 */
export class Jaxpr {
  #disposed = false;
  constructor(
    readonly invars: readonly (Var | null)[],
    readonly eqns: readonly Eqn[],
    readonly outvars: readonly (Atom | null)[],
    private readonly owned: readonly ConcreteArray[],
  ) {}

  get disposed(): boolean {
    return this.#disposed;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const c of this.owned) c.dispose();
  }
}

/** A value being recorded into a Jaxpr. */
export class JaxprTracer extends Tracer {
  constructor(
    readonly trace: JaxprTrace,
    readonly v: Var,
  ) {
    super();
  }
  get aval(): Aval {
    return this.v.aval;
  }
  override backendHint(): Backend | null {
    return this.trace.backend;
  }
  override toString(): string {
    return `Traced<${fmtAval(this.aval)}>`;
  }
}

/**
 * Records every primitive applied to its tracers (Autodidax's JaxprTrace). Operands that are not
 * its tracers are constants of the program; concrete ones are retained, so the program keeps them
 * alive however long it lives.
 */
export class JaxprTrace extends Trace {
  private nextId = 0;
  private readonly eqns: Eqn[] = [];
  private readonly consts = new Map<Array, Const>();
  private readonly owned: ConcreteArray[] = [];
  backend: Backend | null = null;

  newArg(aval: Aval): JaxprTracer {
    return new JaxprTracer(this, new Var(aval, this.nextId++));
  }

  atom(x: Array): Atom {
    if (x instanceof JaxprTracer && x.trace === this) return x.v;
    let c = this.consts.get(x);
    if (!c) {
      if (x instanceof ConcreteArray) {
        const r = x.retained();
        this.owned.push(r);
        this.backend ??= r.backend;
        c = new Const(r);
      } else {
        c = new Const(x);
      }
      this.consts.set(x, c);
    }
    return c;
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    const outAvals = abstractEval(
      prim,
      inputs.map((x) => x.aval),
      params,
    );
    const atoms = inputs.map((x) => this.atom(x));
    const outs = outAvals.map((a) => this.newArg(a));
    this.eqns.push({ prim, inputs: atoms, params, outputs: outs.map((o) => o.v) });
    return outs;
  }

  /**
   * linearize's recording sees custom functions only on values it records (tangents), which
   * the JVP trace above has already differentiated with the rule: the function itself runs.
   */
  processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[] {
    return call.fn(args);
  }
  processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[] {
    return call.fn(args);
  }

  /** Releases the retained constants of a recording that will not become a Jaxpr (it failed). */
  discard(): void {
    for (const c of this.owned) c.dispose();
    this.owned.length = 0;
  }

  /** The recorded program from `inputs` (null: an input that is not traced) to `outputs` (null: zero). */
  finish(inputs: readonly (JaxprTracer | null)[], outputs: readonly (Array | null)[]): Jaxpr {
    const outvars = outputs.map((o) => (o === null ? null : this.atom(o)));
    return new Jaxpr(
      inputs.map((x) => x?.v ?? null),
      this.eqns.slice(),
      outvars,
      this.owned.slice(),
    );
  }
}

/** Runs a Jaxpr on `args` (null: a zero input, allowed only where the input is unused or absent). */
export function evalJaxpr(jaxpr: Jaxpr, args: readonly (Array | null)[]): (Array | null)[] {
  if (jaxpr.disposed) throw new TracerError("this function's saved values were disposed; it can no longer be called");
  const env = new Map<Var, Array>();
  jaxpr.invars.forEach((v, i) => {
    const a = args[i];
    if (v && a) env.set(v, a);
  });
  const read = (a: Atom): Array => {
    if (a instanceof Const) return a.value;
    const x = env.get(a);
    if (!x) throw new TracerError(`internal: jaxpr variable v${a.id} (${fmtAval(a.aval)}) has no value`);
    return x;
  };
  for (const e of jaxpr.eqns) {
    const outs = bind(e.prim, e.inputs.map(read), e.params as Params[typeof e.prim]);
    e.outputs.forEach((v, i) => env.set(v, outs[i] as Array));
  }
  return jaxpr.outvars.map((o) => (o === null ? null : read(o)));
}
