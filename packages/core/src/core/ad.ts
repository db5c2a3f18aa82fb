import type { Array } from "../array.js";
import { isFloat } from "../dtype.js";
import type { Tangent } from "../primitives/types.js";
import { type Jaxpr, JaxprTrace, type JaxprTracer } from "./jaxpr.js";
import { JVPTrace } from "./jvp.js";
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
 * JAX's linearize: runs f forward with tangent inputs that are recorded rather than known, so
 * the primal outputs are computed now and the tangent outputs become a linear Jaxpr of the input
 * tangents (its constants are the residuals). Non-float inputs get no tangent input (null).
 */
export function linearizeFlat(name: string, f: (xs: Array[]) => Array[], primals: readonly Array[]): [Array[], Jaxpr] {
  return withTrace(
    (l) => new JaxprTrace(l, name),
    (pe) => {
      for (const p of primals) pe.backend ??= p.backendHint();
      const tangentIns: (JaxprTracer | null)[] = primals.map((p) =>
        isFloat(p.dtype) ? pe.newArg({ ...p.aval, weakType: false }) : null,
      );
      try {
        const [outs, outTangents] = jvpFlat(name, f, primals, tangentIns);
        return [outs, pe.finish(tangentIns, outTangents)];
      } catch (e) {
        pe.discard();
        throw e;
      }
    },
  );
}
