import { Array } from "../array.js";
import type { DType } from "../dtype.js";
import { BackendError, TracerError } from "../errors.js";
import { registry } from "../primitives/registry.js";
import type { Params, Primitive } from "../primitives/types.js";
import type { Aval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { checkEager, checkingNans } from "./debug-nans.js";
import { evalPrimitive } from "./eager.js";
import { later } from "./effects.js";

/**
 * A trace interprets primitives (Autodidax's design). The EvalTrace at the bottom of the stack
 * runs them; transforms push their own traces above it.
 */
export abstract class Trace {
  /** False once the transform that pushed it returned: its tracers escaped if they show up again. */
  alive = true;
  constructor(
    readonly level: number,
    /** The transform's name, for errors. */
    readonly name: string,
  ) {}
  abstract processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[];

  /**
   * A customJvp function applied to operands of this trace. Abstract, so a new trace has to say
   * what custom rules mean to it (differentiate with the rule, batch it, record it, run it).
   */
  abstract processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[];

  /** A customVjp function applied to operands of this trace (abstract, as processCustomJvp). */
  abstract processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[];
}

/** A customJvp function on flat operands; `jvp` may return null tangents (symbolic zeros). */
export interface CustomJvpCall {
  readonly name: string;
  fn(args: readonly Array[]): Array[];
  jvp(primals: readonly Array[], tangents: readonly Array[]): [Array[], (Array | null)[]];
}

/** A customVjp function on flat operands; `fwd` returns the outputs and the residuals. */
export interface CustomVjpCall {
  readonly name: string;
  fn(args: readonly Array[]): Array[];
  fwd(args: readonly Array[]): [Array[], Array[]];
  bwd(residuals: readonly Array[], cts: readonly (Array | null)[]): (Array | null)[];
}

/** A value being traced. Concrete reads are errors that name the traced alternatives. */
export abstract class Tracer extends Array {
  abstract readonly trace: Trace;

  toPrimitiveError(): TracerError {
    return new TracerError(
      `A traced ${this.dtype}[${this.shape.join(",")}] was used as a JS number or boolean (a JS \`if\`, comparison or \`+x\`). ` +
        "Its value is unknown while tracing: use np.where (lax.select) for a data-dependent choice between values, " +
        "lax.cond or lax.switch to run one of several functions, " +
        "or pass the value as a static argument (jit's staticArgnums) when it decides the computation.",
    );
  }
  private concrete(what: string): never {
    throw new TracerError(`${what} was called on a traced value; values exist only outside the transform`);
  }
  data(): never {
    return this.concrete("data()");
  }
  dataSync(): never {
    return this.concrete("dataSync()");
  }
  toArray(): never {
    return this.concrete("toArray()");
  }
  override tolist(): never {
    return this.concrete("tolist()");
  }
  item(): never {
    return this.concrete("item()");
  }
  blockUntilReady(): never {
    return this.concrete("blockUntilReady()");
  }
  dispose(): void {}
  get disposed(): boolean {
    return false;
  }
  /** Node's console.log shows what the tracer stands for, not its trace's internals. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Runs primitives eagerly on concrete arrays. */
class EvalTrace extends Trace {
  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    const low = registry[prim].lowering;
    let outs: Array[];
    if (low.kind === "impl") outs = (low.impl as (xs: readonly Array[], p: Params[P]) => Array[])(inputs, params);
    else {
      const concrete = inputs.map((x) => {
        if (!(x instanceof ConcreteArray)) throw new TracerError(`${prim}: a tracer escaped its transform`);
        return x;
      });
      outs = evalPrimitive(prim, concrete, params);
    }
    // The NaN checker (core/debug-nans.ts): one flag test when off.
    if (checkingNans()) checkEager(prim, outs, later);
    return outs;
  }
  /** Outside every transform a custom function just runs. */
  processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[] {
    return call.fn(args);
  }
  processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[] {
    return call.fn(args);
  }
}

const traceStack: Trace[] = [new EvalTrace(0, "eval")];

/**
 * What a staging trace offers the creation functions: a JS value as a literal of the program
 * (no buffer) and a host-made array as a constant of it.
 */
export interface Stager {
  literal(value: number | boolean, dtype: DType, weakType: boolean): Array;
}

/**
 * The dynamic trace (JAX's omnistaging): while a staged function runs, every bind whose operands
 * no higher trace claims is recorded by it, even on values made inside the function.
 */
let dynamic: (Trace & Stager) | null = null;

/** The staging trace recording the current function, if any. */
export function currentStager(): Stager | null {
  return dynamic;
}

/** Runs `f` with `t` as the dynamic trace (the previous one comes back however `f` ends). */
export function withDynamic<R>(t: Trace & Stager, f: () => R): R {
  const prev = dynamic;
  dynamic = t;
  try {
    return f();
  } finally {
    dynamic = prev;
  }
}

/** Pushes a transform's trace (used by transforms). */
export function pushTrace<T extends Trace>(make: (level: number) => T): T {
  const t = make(traceStack.length);
  traceStack.push(t);
  return t;
}

export function popTrace(t: Trace): void {
  if (traceStack[traceStack.length - 1] !== t) throw new TracerError("trace stack out of order");
  traceStack.pop();
  t.alive = false;
}

/** Runs `f` with a fresh trace pushed, popping it however `f` ends. */
export function withTrace<T extends Trace, R>(make: (level: number) => T, f: (t: T) => R): R {
  const t = pushTrace(make);
  try {
    return f(t);
  } finally {
    popTrace(t);
  }
}

/**
 * The innermost trace among the operands' traces; the dynamic trace when it is higher (it lifts
 * the tracers of enclosing transforms to inputs), else the eval trace when none is traced.
 */
export function topTrace(op: string, inputs: readonly Array[]): Trace {
  let top: Trace = dynamic ?? (traceStack[0] as Trace);
  for (const x of inputs) {
    if (x instanceof Tracer && x.trace.level > top.level) top = x.trace;
  }
  if (!top.alive) {
    throw new TracerError(
      `${op}: got a value traced by a ${top.name} that has already returned (a leaked tracer). ` +
        "Values computed inside a transform exist only while it runs: return them from the function instead of " +
        "storing them in outer variables.",
    );
  }
  return top;
}

/** Binds a primitive: the innermost trace among the inputs' traces interprets it. */
export function bind<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
  return topTrace(prim, inputs).processPrimitive(prim, inputs, params);
}

export function bind1<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array {
  return bind(prim, inputs, params)[0] as Array;
}

/** Shapes and dtypes of a primitive's outputs, without running it. */
export function abstractEval<P extends Primitive>(prim: P, avals: readonly Aval[], params: Params[P]): Aval[] {
  return registry[prim].abstractEval(avals, params);
}

export function checkSameBackend(op: string, xs: readonly ConcreteArray[]): void {
  const names = new Set(xs.map((x) => x.backend.name));
  const instances = new Set(xs.map((x) => x.backend));
  if (names.size === 1 && instances.size > 1) {
    throw new BackendError(
      `${op}: an operand belongs to an earlier instance of the ${[...names][0]} backend (re-created by configureCpu or init); ` +
        "move it with devicePut(x, name) or compute it again",
    );
  }
  if (names.size > 1) {
    throw new BackendError(
      `${op}: operands live on different backends (${[...names].join(", ")}); move them with devicePut(x, backend)`,
    );
  }
}
