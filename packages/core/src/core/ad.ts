import type { Array } from "../array.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { installControlFlowRules } from "../primitives/higher-order.js";
import type { Tangent } from "../primitives/types.js";
import { type ClosedJaxpr, evalJaxpr } from "./jaxpr.js";
import { checkIfEnabled, dce } from "./jaxpr-check.js";
import { JVPTrace } from "./jvp.js";
import { partialEvalJaxpr } from "./partial-eval.js";
import { JaxprTrace, type JaxprTracer, stage } from "./staging.js";
import { withTrace } from "./trace.js";

/** Forward mode on flat lists: f's outputs and their tangents (null = zero). */
export function jvpFlat(
  name: string,
  f: (xs: Array[]) => Array[],
  primals: readonly Array[],
  tangents: readonly Tangent[],
): [Array[], Tangent[]] {
  return withTrace(
    (l) => new JVPTrace(l, name),
    (t) => {
      const outs = f(primals.map((p, i) => t.wrap(p, tangents[i] ?? null)));
      const pairs = outs.map((o) => t.unwrap(o));
      return [pairs.map(([p]) => p), pairs.map(([, tan]) => tan)];
    },
  );
}

/**
 * linearize's linear map: a closed jaxpr from the tangents of the float primals to the nonzero
 * output tangents (its consts are the residuals). Symbolic zeros stay out of the program: the
 * masks say which primals have a tangent input and which outputs a nonzero tangent.
 */
export interface Linear {
  readonly closed: ClosedJaxpr;
  readonly inputs: readonly boolean[];
  readonly outputs: readonly boolean[];
}

/**
 * JAX's linearize: runs f forward with tangent inputs that are recorded rather than known, so
 * the primal outputs are computed now and the tangent outputs become a linear program of the
 * input tangents. Non-float inputs get no tangent input.
 */
export function linearizeFlat(name: string, f: (xs: Array[]) => Array[], primals: readonly Array[]): [Array[], Linear] {
  return withTrace(
    (l) => new JaxprTrace(l, name, false),
    (pe) => {
      for (const p of primals) pe.backend ??= p.backendHint();
      const tangentIns: (JaxprTracer | null)[] = primals.map((p) =>
        isFloat(p.dtype) ? pe.newArg({ ...p.aval, weakType: false }) : null,
      );
      try {
        const [outs, outTangents] = jvpFlat(name, f, primals, tangentIns);
        const nonzero = outTangents.filter((t): t is Array => t !== null);
        const { closed } = pe.finish(
          tangentIns.filter((t): t is JaxprTracer => t !== null),
          nonzero,
        );
        checkIfEnabled(closed, `${name}'s linear program`);
        return [
          outs,
          { closed, inputs: tangentIns.map((t) => t !== null), outputs: outTangents.map((t) => t !== null) },
        ];
      } catch (e) {
        pe.discard();
        throw e;
      }
    },
  );
}

/** Evaluates the linear map on one tangent per primal (those of non-float primals are ignored). */
export function evalLinear(lin: Linear, tangents: readonly Tangent[]): Tangent[] {
  const args = tangents.filter((_, i) => lin.inputs[i]);
  if (args.some((a) => a === null)) throw new TracerError("internal: a null tangent for a linear program's input");
  const outs = evalJaxpr(lin.closed, args as Array[]);
  let k = 0;
  return lin.outputs.map((nz) => (nz ? (outs[k++] as Array) : null));
}

/**
 * The linear map restricted to the first `n` outputs (the others' tangents become zero), with
 * dead code eliminated; `lin`'s program is released.
 */
export function keepOutputs(lin: Linear, n: number): Linear {
  const keepVar = lin.outputs.flatMap((nz, i) => (nz ? [i < n] : []));
  const closed = dce(lin.closed, keepVar, { consume: true });
  return { closed, inputs: lin.inputs, outputs: lin.outputs.map((nz, i) => nz && i < n) };
}

installControlFlowRules({ jvpFlat, stage: (name, f, avals) => stage(name, f, avals), partialEvalJaxpr });
