/**
 * The one program representation (DESIGN, decisions 2 and 3): a jaxpr is constvars, invars, a
 * list of equations and outvars; atoms are variables or literals (JS numbers, compiled into
 * kernels as constants); a ClosedJaxpr pairs a jaxpr with the values of its constvars. There
 * are no nullable variables: symbolic zeros live in the jvp and transpose interpreters.
 */
import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import type { DType } from "../dtype.js";
import { TracerError } from "../errors.js";
import { scalar } from "../numpy/convert.js";
import type { Params, Primitive } from "../primitives/types.js";
import { type Aval, aval, fmtAval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { bind, currentStager } from "./trace.js";

/** A variable of a jaxpr: one value, known by its abstract value. */
export class Var {
  constructor(readonly aval: Aval) {}
}

/** A JS number (or boolean) in a program: a scalar whose value (as `dtype` stores it) is known when traced. */
export class Literal {
  readonly aval: Aval;
  constructor(
    readonly value: number,
    readonly dtype: DType,
    readonly weakType: boolean,
  ) {
    this.aval = aval([], dtype, weakType);
  }
}

export type Atom = Var | Literal;

/** One application of primitive P, its params typed by P. */
export interface EqnOf<P extends Primitive> {
  readonly prim: P;
  readonly inputs: readonly Atom[];
  readonly params: Params[P];
  readonly outputs: readonly Var[];
}

/** An equation: a union discriminated by `prim`, so `e.prim === "reduce_sum"` types `e.params`. */
export type Eqn = { [P in Primitive]: EqnOf<P> }[Primitive];

/** A program: constvars (bound by a ClosedJaxpr's consts), invars, equations in order, outvars. */
export interface Jaxpr {
  readonly constvars: readonly Var[];
  readonly invars: readonly Var[];
  readonly eqns: readonly Eqn[];
  readonly outvars: readonly Atom[];
}

/**
 * A jaxpr with the values of its constvars (concrete arrays it keeps alive, or — for a program
 * that lives only inside one transform, such as linearize's — values of enclosing transforms).
 * `dispose()` releases the concrete ones; otherwise the GC does.
 */
export class ClosedJaxpr {
  #disposed = false;
  /** Eager arrays for the literals, made on first use and kept with the program. */
  private readonly literalArrays = new Map<Literal, ConcreteArray>();

  constructor(
    readonly jaxpr: Jaxpr,
    readonly consts: readonly Array[],
    /** The consts this program holds a handle on (released by dispose). */
    private owned: readonly ConcreteArray[] = [],
    /** Where its literals are made when it runs eagerly (the backend its values came from). */
    readonly backend: Backend | null = null,
  ) {
    if (consts.length !== jaxpr.constvars.length) {
      throw new TracerError(`internal: ${jaxpr.constvars.length} constvars but ${consts.length} consts`);
    }
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Input and output types, in order. */
  get inAvals(): Aval[] {
    return this.jaxpr.invars.map((v) => v.aval);
  }
  get outAvals(): Aval[] {
    return this.jaxpr.outvars.map((v) => v.aval);
  }

  /**
   * Another program over the consts selected by `keep`. It holds its own handles on the
   * concrete ones; with `consume`, this program's handles (and literal scalars) move to it
   * instead and this one is disposed (no new handles: the cheap path of transforms).
   */
  derive(jaxpr: Jaxpr, keep: readonly boolean[], consume = false): ClosedJaxpr {
    const consts = this.consts.filter((_, i) => keep[i]);
    if (!consume) {
      const owned: ConcreteArray[] = [];
      const kept = consts.map((c) => {
        if (!(c instanceof ConcreteArray)) return c;
        const r = c.retained();
        owned.push(r);
        return r;
      });
      return new ClosedJaxpr(jaxpr, kept, owned, this.backend);
    }
    const keptSet = new Set<Array>(consts);
    const owned = this.owned.filter((c) => keptSet.has(c));
    for (const c of this.owned) if (!keptSet.has(c)) c.dispose();
    const out = new ClosedJaxpr(jaxpr, consts, owned, this.backend);
    for (const [lit, arr] of this.literalArrays) out.literalArrays.set(lit, arr);
    this.literalArrays.clear();
    this.owned = [];
    this.#disposed = true;
    return out;
  }

  /** Takes a handle on `arr` as the eager value of `lit` (linearize keeps the scalar it recorded). */
  keepLiteral(lit: Literal, arr: ConcreteArray): void {
    this.literalArrays.set(lit, arr);
  }

  /** The value of a literal as an array: a literal again under staging, else a cached eager scalar. */
  literal(lit: Literal): Array {
    if (currentStager()) return scalar(lit.value, lit.dtype, lit.weakType);
    const cached = this.literalArrays.get(lit);
    if (cached && !cached.disposed && (!this.backend || cached.backend === this.backend)) return cached;
    const made = scalar(lit.value, lit.dtype, lit.weakType, this.backend ?? undefined);
    const kept = (made as ConcreteArray).retained();
    kept.literal = (made as ConcreteArray).literal;
    kept.inlinable = true;
    made.dispose();
    this.literalArrays.set(lit, kept);
    return kept;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const c of this.owned) c.dispose();
    for (const c of this.literalArrays.values()) c.dispose();
    this.literalArrays.clear();
  }

  toString(): string {
    return printer(this);
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

let printer: (c: ClosedJaxpr) => string = () => "ClosedJaxpr";
/** Installed by jaxpr-print.ts (kept apart so this file stays the data model). */
export function setPrinter(p: (c: ClosedJaxpr) => string): void {
  printer = p;
}

/**
 * Runs a closed jaxpr on `args` by binding each equation in order, so it runs eagerly, or under
 * whatever transforms are tracing its inputs (a jaxpr evaluated under grad is differentiated).
 */
export function evalJaxpr(closed: ClosedJaxpr, args: readonly Array[]): Array[] {
  if (closed.disposed) throw new TracerError("this function's saved values were disposed; it can no longer be called");
  const { jaxpr } = closed;
  if (args.length !== jaxpr.invars.length) {
    throw new TracerError(`internal: a jaxpr of ${jaxpr.invars.length} inputs called with ${args.length}`);
  }
  const env = new Map<Var, Array>();
  jaxpr.constvars.forEach((v, i) => env.set(v, closed.consts[i] as Array));
  jaxpr.invars.forEach((v, i) => env.set(v, args[i] as Array));
  const read = (a: Atom): Array => {
    if (a instanceof Literal) return closed.literal(a);
    const x = env.get(a);
    if (!x) throw new TracerError(`internal: jaxpr variable of type ${fmtAval(a.aval)} has no value`);
    return x;
  };
  for (const e of jaxpr.eqns) {
    const outs = bind(e.prim, e.inputs.map(read), e.params as Params[typeof e.prim]);
    e.outputs.forEach((v, i) => env.set(v, outs[i] as Array));
  }
  return jaxpr.outvars.map(read);
}
