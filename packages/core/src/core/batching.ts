/**
 * vmap's trace (Autodidax's BatchTrace): every value carries the position of its batch
 * dimension, or `null` when it is not batched (a symbolic "not mapped": nothing is broadcast
 * for it). Each primitive runs its registry `batch` rule, which moves the batch dim as little
 * as its primitive allows and reports where the result's batch dim is.
 */
import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { batchAt } from "../primitives/batch-util.js";
import { installCustomRules } from "../primitives/custom-call.js";
import { installControlFlowRules } from "../primitives/higher-order.js";
import { registry } from "../primitives/registry.js";
import type { BDim, Params, Primitive } from "../primitives/types.js";
import { type Aval, aval } from "./aval.js";
import { evalJaxpr } from "./jaxpr.js";
import { bind, bind1, type CustomJvpCall, type CustomVjpCall, Trace, Tracer, topTrace, withTrace } from "./trace.js";

/** A value with a batch dimension at `bdim` of `val` (the tracer's own aval leaves it out). */
export class BatchTracer extends Tracer {
  constructor(
    readonly trace: BatchTrace,
    readonly val: Array,
    readonly bdim: number,
  ) {
    super();
  }
  get aval(): Aval {
    const a = this.val.aval;
    return aval(
      a.shape.filter((_, i) => i !== this.bdim),
      a.dtype,
      a.weakType,
    );
  }
  override backendHint(): Backend | null {
    return this.trace.alive ? this.val.backendHint() : null;
  }
  override toString(): string {
    return `BatchTracer(${this.dtype}[${this.shape.join(",")}], batched at ${this.bdim} of ${this.trace.axisSize})`;
  }
}

export class BatchTrace extends Trace {
  constructor(
    level: number,
    readonly axisSize: number,
    name = "vmap",
  ) {
    super(level, name);
  }

  wrap(val: Array, bdim: BDim): Array {
    return bdim === null ? val : new BatchTracer(this, val, bdim);
  }

  unwrap(x: Array): [Array, BDim] {
    return x instanceof BatchTracer && x.trace === this ? [x.val, x.bdim] : [x, null];
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    const vals: Array[] = [];
    const dims: BDim[] = [];
    for (const x of inputs) {
      const [v, d] = this.unwrap(x);
      vals.push(v);
      dims.push(d);
    }
    if (dims.every((d) => d === null)) return bind(prim, vals, params);
    // Checked on the per-example operands first, so a bad shape is named as the user wrote it.
    registry[prim].abstractEval(
      inputs.map((x) => x.aval),
      params,
    );
    const [outs, outDims] = registry[prim].batch(vals, dims, params, this.axisSize);
    return outs.map((o, i) => this.wrap(o, outDims[i] ?? null));
  }

  override processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[] {
    const pairs = args.map((x) => this.unwrap(x));
    const vals = pairs.map(([v]) => v);
    const dims = pairs.map(([, d]) => d);
    const below = topTrace(call.name, vals);
    if (dims.every((d) => d === null)) return below.processCustomJvp(call, vals);
    return below
      .processCustomJvp(batchedCustomJvp(call, dims, this.axisSize, this.name), vals)
      .map((o) => this.wrap(o, 0));
  }

  override processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[] {
    const pairs = args.map((x) => this.unwrap(x));
    const vals = pairs.map(([v]) => v);
    const dims = pairs.map(([, d]) => d);
    const below = topTrace(call.name, vals);
    if (dims.every((d) => d === null)) return below.processCustomVjp(call, vals);
    return below
      .processCustomVjp(batchedCustomVjp(call, dims, this.axisSize, this.name), vals)
      .map((o) => this.wrap(o, 0));
  }
}

/**
 * Runs flat `f` on `xs` batched at `dims` in a fresh BatchTrace of `size` (above every current
 * trace); each output comes back with its batch dim (null: unbatched; null outputs, zero
 * tangents or cotangents, stay null).
 */
function runBatched(
  size: number,
  name: string,
  f: (xs: readonly Array[]) => readonly (Array | null)[],
  xs: readonly Array[],
  dims: readonly BDim[],
): [(Array | null)[], BDim[]] {
  return withTrace(
    (l) => new BatchTrace(l, size, name),
    (t) => {
      const outs = f(xs.map((x, i) => t.wrap(x, dims[i] ?? null)));
      const pairs = outs.map((o) => (o === null ? ([null, null] as const) : t.unwrap(o)));
      return [pairs.map(([v]) => v), pairs.map(([, d]) => d)];
    },
  );
}

/** Every output batched at 0 (broadcast in where unbatched); nulls stay null. */
function atZero(size: number, [outs, dims]: [(Array | null)[], BDim[]]): (Array | null)[] {
  return outs.map((o, i) => (o === null ? null : batchAt(o, dims[i] ?? null, 0, size)));
}

/** A rule returning two lists (outputs and tangents, or residuals), run batched, both at 0. */
function pairAtZero(
  size: number,
  name: string,
  f: (xs: readonly Array[]) => readonly [readonly (Array | null)[], readonly (Array | null)[]],
  xs: readonly Array[],
  dims: readonly BDim[],
): [(Array | null)[], (Array | null)[]] {
  let split = 0;
  const both = atZero(
    size,
    runBatched(
      size,
      name,
      (ys) => {
        const [a, b] = f(ys);
        split = a.length;
        return [...a, ...b];
      },
      xs,
      dims,
    ),
  );
  return [both.slice(0, split), both.slice(split)];
}

/**
 * A customJvp function of operands batched at `dims` as a custom function of the unbatched
 * operands below (JAX hands a batched custom call down): every output batched at 0.
 */
export function batchedCustomJvp(
  call: CustomJvpCall,
  dims: readonly BDim[],
  size: number,
  name: string,
): CustomJvpCall {
  const n = dims.length;
  return {
    name: call.name,
    fn: (xs) => atZero(size, runBatched(size, name, call.fn, xs, dims)) as Array[],
    // Tangents share their primals' layout (the trace below made them from these values).
    jvp: (primals, tangents) => {
      const [o, t] = pairAtZero(
        size,
        name,
        (xs) => call.jvp(xs.slice(0, n), xs.slice(n)),
        [...primals, ...tangents],
        [...dims, ...dims],
      );
      return [o as Array[], t];
    },
  };
}

/** The customVjp counterpart of batchedCustomJvp. */
export function batchedCustomVjp(
  call: CustomVjpCall,
  dims: readonly BDim[],
  size: number,
  name: string,
): CustomVjpCall {
  return {
    name: call.name,
    fn: (xs) => atZero(size, runBatched(size, name, call.fn, xs, dims)) as Array[],
    fwd: (xs) => {
      const [o, r] = pairAtZero(size, name, call.fwd, xs, dims);
      return [o as Array[], r as Array[]];
    },
    // Residuals and output cotangents are batched at 0. Each input's cotangent goes back to
    // its input's layout: moved to its batch dim, or summed over the batch where the input
    // was shared by every member (JAX's match-and-sum).
    bwd: (residuals, cts) => {
      const given = cts.filter((c): c is Array => c !== null);
      const [outs, outDims] = runBatched(
        size,
        name,
        (ys) => {
          let k = residuals.length;
          return call.bwd(
            ys.slice(0, k),
            cts.map((c) => (c === null ? null : (ys[k++] as Array))),
          );
        },
        [...residuals, ...given],
        [...residuals.map(() => 0), ...given.map(() => 0)],
      );
      return outs.map((o, i) => {
        if (o === null) return null;
        const from = outDims[i] ?? null;
        const want = dims[i] ?? null;
        if (want !== null) return batchAt(o, from, want, size);
        return from === null ? o : bind1("reduce_sum", [o], { axes: [from] });
      });
    },
  };
}

installCustomRules({ batchedCustomJvp, batchedCustomVjp });
installControlFlowRules({
  batchedEval: (b, xs, dims, size) =>
    atZero(
      size,
      runBatched(size, "vmap", (ys) => evalJaxpr(b, ys), xs, dims),
    ) as Array[],
});
