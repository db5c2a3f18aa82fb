import { Array } from "../array.js";
import { BackendError, TracerError } from "../errors.js";
import { registry } from "../primitives/registry.js";
import type { Params, Primitive } from "../primitives/types.js";
import type { Aval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { evalPrimitive } from "./eager.js";

/**
 * A trace interprets primitives (Autodidax's design). The EvalTrace at the bottom of the stack
 * runs them; transforms push their own traces above it.
 */
export abstract class Trace {
  constructor(readonly level: number) {}
  abstract processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[];
}

/** A value being traced. Concrete reads are errors that name the traced alternatives. */
export abstract class Tracer extends Array {
  abstract readonly trace: Trace;

  toPrimitiveError(): TracerError {
    return new TracerError(
      `A traced ${this.dtype}[${this.shape.join(",")}] was used as a JS number or boolean (a JS \`if\`, comparison or \`+x\`). ` +
        "Its value is unknown while tracing: use lax.cond or lax.select (np.where) for data-dependent choices, " +
        "or mark the argument static with staticArgnums.",
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
}

/** Runs primitives eagerly on concrete arrays. */
class EvalTrace extends Trace {
  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    const concrete = inputs.map((x) => {
      if (!(x instanceof ConcreteArray)) throw new TracerError(`${prim}: a tracer escaped its transform`);
      return x;
    });
    return evalPrimitive(prim, concrete, params);
  }
}

const traceStack: Trace[] = [new EvalTrace(0)];

/** Pushes a transform's trace (used by transforms). */
export function pushTrace<T extends Trace>(make: (level: number) => T): T {
  const t = make(traceStack.length);
  traceStack.push(t);
  return t;
}

export function popTrace(t: Trace): void {
  if (traceStack[traceStack.length - 1] !== t) throw new TracerError("trace stack out of order");
  traceStack.pop();
}

/** Binds a primitive: the innermost trace among the inputs' traces interprets it. */
export function bind<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
  let top: Trace = traceStack[0] as Trace;
  for (const x of inputs) {
    if (x instanceof Tracer && x.trace.level > top.level) top = x.trace;
  }
  return top.processPrimitive(prim, inputs, params);
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
