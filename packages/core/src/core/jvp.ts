import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { installCustomRules } from "../primitives/custom-call.js";
import { registry } from "../primitives/registry.js";
import type { Params, Primitive, Tangent } from "../primitives/types.js";
import type { Aval } from "./aval.js";
import { bind, type CustomJvpCall, type CustomVjpCall, Trace, Tracer } from "./trace.js";
import { zerosFor } from "./zeros.js";

/** A value carrying its tangent through forward-mode differentiation. */
export class JVPTracer extends Tracer {
  constructor(
    readonly trace: JVPTrace,
    readonly primal: Array,
    readonly tangent: Array,
  ) {
    super();
  }
  get aval(): Aval {
    return this.primal.aval;
  }
  override backendHint(): Backend | null {
    return this.trace.alive ? this.primal.backendHint() : null;
  }
  override toString(): string {
    return `JVPTracer(${this.dtype}[${this.shape.join(",")}])`;
  }
}

/** Forward mode (Autodidax's JVPTrace): every primitive runs its jvp rule on (primal, tangent) pairs. */
export class JVPTrace extends Trace {
  constructor(level: number, name = "jvp") {
    super(level, name);
  }

  /** A traced value for `primal` with `tangent` (a zero tangent, or a non-float value, stays untraced). */
  wrap(primal: Array, tangent: Tangent): Array {
    if (tangent === null || !isFloat(primal.dtype)) return primal;
    return new JVPTracer(this, primal, tangent);
  }

  /** The (primal, tangent) pair of a value as this trace sees it. */
  unwrap(x: Array): [Array, Tangent] {
    return x instanceof JVPTracer && x.trace === this ? [x.primal, x.tangent] : [x, null];
  }

  processPrimitive<P extends Primitive>(prim: P, inputs: readonly Array[], params: Params[P]): Array[] {
    const primals: Array[] = [];
    const tangents: Tangent[] = [];
    for (const x of inputs) {
      const [p, t] = this.unwrap(x);
      primals.push(p);
      tangents.push(t);
    }
    if (tangents.every((t) => t === null)) return bind(prim, primals, params);
    const [outs, outTangents] = registry[prim].jvp(primals, tangents, params);
    return outs.map((o, i) => this.wrap(o, outTangents[i] ?? null));
  }

  override processCustomJvp(call: CustomJvpCall, args: readonly Array[]): Array[] {
    const pairs = args.map((x) => this.unwrap(x));
    const primals = pairs.map(([p]) => p);
    if (pairs.every(([, t]) => t === null)) return call.fn(primals);
    const [outs, outTangents] = jvpOfCustomJvp(
      call,
      primals,
      pairs.map(([, t]) => t),
    );
    this.checkNotClosedOver(call.name, "jvp rule", [...outs, ...outTangents]);
    return outs.map((o, i) => this.wrap(o, outTangents[i] ?? null));
  }

  /**
   * A custom rule's results are computed from the primals, so none can be traced by this very
   * trace unless the function closed over a value that this transform differentiates (JAX's
   * closed-over value error for custom_jvp/custom_vjp).
   */
  private checkNotClosedOver(name: string, what: string, xs: readonly (Array | null)[]): void {
    if (xs.some((x) => x instanceof JVPTracer && x.trace === this)) {
      throw new TracerError(
        `${name}: its ${what} returned a value that depends on a value the function closes over and that ${this.name} ` +
          "differentiates. Custom rules only say how to differentiate with respect to the explicit arguments: pass that value as an argument",
      );
    }
  }

  override processCustomVjp(call: CustomVjpCall, args: readonly Array[]): Array[] {
    const pairs = args.map((x) => this.unwrap(x));
    const primals = pairs.map(([p]) => p);
    if (pairs.every(([, t]) => t === null)) return call.fn(primals);
    const [outs, outTangents] = jvpOfCustomVjp(
      call,
      primals,
      pairs.map(([, t]) => t),
      (xs) => this.checkNotClosedOver(call.name, "fwd", xs),
    );
    return outs.map((o, i) => this.wrap(o, outTangents[i] ?? null));
  }
}

/**
 * A customJvp function's outputs and tangents by its rule (tangents: null for zero; at least
 * one is not), with the rule's results checked against the outputs.
 */
export function jvpOfCustomJvp(
  call: CustomJvpCall,
  primals: readonly Array[],
  tangents: readonly Tangent[],
): [Array[], Tangent[]] {
  const [outs, outTangents] = call.jvp(
    primals,
    primals.map((p, i) => tangents[i] ?? zerosFor(p)),
  );
  if (outTangents.length !== outs.length) {
    throw new TracerError(
      `${call.name}: the custom jvp rule returned ${outs.length} primal output(s) but ${outTangents.length} tangent(s)`,
    );
  }
  outs.forEach((o, i) => {
    const t = outTangents[i] ?? null;
    if (t !== null && (t.dtype !== o.dtype || t.shape.join() !== o.shape.join())) {
      throw new TracerError(
        `${call.name}: the custom jvp rule's tangent ${i} is ${t.dtype}[${t.shape}], but its primal output is ${o.dtype}[${o.shape}]; they must match`,
      );
    }
  });
  return [outs, outTangents.map((t) => t ?? null)];
}

/**
 * A customVjp function's outputs (from fwd) and their tangents: a custom_lin of the residuals
 * and the input tangents, whose transpose is the user's bwd. `checkFwd` sees fwd's results.
 */
export function jvpOfCustomVjp(
  call: CustomVjpCall,
  primals: readonly Array[],
  tangents: readonly Tangent[],
  checkFwd: (xs: readonly Array[]) => void = () => {},
): [Array[], Tangent[]] {
  const [outs, residuals] = call.fwd(primals);
  checkFwd([...outs, ...residuals]);
  const linear = primals.map((p, i) => tangents[i] ?? zerosFor(p));
  const outTangents = bind("custom_lin", [...residuals, ...linear], {
    name: call.name,
    numResiduals: residuals.length,
    outAvals: outs.map((o) => ({ ...o.aval, weakType: false })),
    bwd: call.bwd,
  });
  return [outs, outTangents];
}

installCustomRules({ jvpOfCustomJvp, jvpOfCustomVjp });
