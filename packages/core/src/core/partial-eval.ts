/**
 * Partial evaluation of a closed jaxpr (JAX's partial_eval_jaxpr_nounits): with some inputs
 * unknown, the equations that read only known values form the known program, the rest the
 * unknown one, and the known values the unknown program reads are residuals — outputs of the
 * known program, inputs of the unknown one. Higher-order primitives split their bodies so
 * (DESIGN decision 12): the known part runs now, the unknown part is staged and, being linear
 * in the tangents, transposes.
 */
import type { Array } from "../array.js";
import { TracerError } from "../errors.js";
import type { Aval } from "./aval.js";
import { type Atom, type ClosedJaxpr, type Eqn, Literal, Var } from "./jaxpr.js";
import { stage } from "./staging.js";
import { bind } from "./trace.js";

export interface PartialEval {
  /** Known inputs → [the outputs routed to it…, residuals…]. */
  readonly known: ClosedJaxpr;
  /** [residuals…, unknown inputs…] → the outputs routed to it. */
  readonly unknown: ClosedJaxpr;
  readonly residuals: readonly Aval[];
  /** Per residual: the index of the invar it is, or null when the known program computes it. */
  readonly residualInvars: readonly (number | null)[];
}

/**
 * Splits `closed` by `unknownIns` (one per invar). Outputs with `toUnknown[i]` come from the
 * unknown program (a known value there is passed as a residual); the others must be known and
 * come from the known program.
 */
export function partialEvalJaxpr(
  name: string,
  closed: ClosedJaxpr,
  unknownIns: readonly boolean[],
  toUnknown: readonly boolean[],
): PartialEval {
  const { jaxpr } = closed;
  const unknown = new Set<Var>(jaxpr.invars.filter((_, i) => unknownIns[i]));
  const knownEqns: Eqn[] = [];
  const unknownEqns: Eqn[] = [];
  for (const e of jaxpr.eqns) {
    if (e.inputs.some((a) => a instanceof Var && unknown.has(a))) {
      unknownEqns.push(e);
      for (const o of e.outputs) unknown.add(o);
    } else knownEqns.push(e);
  }
  // Residuals: the known variables the unknown side reads, in first-use order.
  const residuals: Var[] = [];
  const seen = new Set<Var>();
  const use = (a: Atom) => {
    if (a instanceof Var && !unknown.has(a) && !seen.has(a)) {
      seen.add(a);
      residuals.push(a);
    }
  };
  for (const e of unknownEqns) e.inputs.forEach(use);
  jaxpr.outvars.forEach((o, i) => {
    if (toUnknown[i]) use(o);
    else if (o instanceof Var && unknown.has(o))
      throw new TracerError(
        `internal: ${name}: output ${i} depends on an unknown input but is routed to the known part`,
      );
  });
  const value = (env: Map<Var, Array>, a: Atom): Array =>
    a instanceof Literal ? closed.literal(a) : (env.get(a) as Array);
  const run = (env: Map<Var, Array>, eqns: readonly Eqn[]) => {
    for (const e of eqns) {
      const outs = bind(
        e.prim,
        e.inputs.map((a) => value(env, a)),
        e.params as never,
      );
      e.outputs.forEach((v, i) => env.set(v, outs[i] as Array));
    }
  };
  const constEnv = () => new Map<Var, Array>(jaxpr.constvars.map((v, i) => [v, closed.consts[i] as Array]));
  const knownIns = jaxpr.invars.filter((_, i) => !unknownIns[i]);
  const unknownInvars = jaxpr.invars.filter((_, i) => unknownIns[i]);
  const known = stage(
    `${name} (known)`,
    (xs) => {
      const env = constEnv();
      knownIns.forEach((v, i) => env.set(v, xs[i] as Array));
      run(env, knownEqns);
      return [
        ...jaxpr.outvars.filter((_, i) => !toUnknown[i]).map((o) => value(env, o)),
        ...residuals.map((r) => value(env, r)),
      ];
    },
    knownIns.map((v) => v.aval),
    closed.backend,
  );
  const rest = stage(
    `${name} (unknown)`,
    (xs) => {
      const env = new Map<Var, Array>();
      residuals.forEach((v, i) => env.set(v, xs[i] as Array));
      unknownInvars.forEach((v, i) => env.set(v, xs[residuals.length + i] as Array));
      run(env, unknownEqns);
      return jaxpr.outvars.filter((_, i) => toUnknown[i]).map((o) => value(env, o));
    },
    [...residuals.map((v) => v.aval), ...unknownInvars.map((v) => v.aval)],
    closed.backend,
  );
  if (known.lifted.length > 0 || rest.lifted.length > 0)
    throw new TracerError(`internal: ${name}: a split program read a value of an enclosing transform`);
  return {
    known: known.closed,
    unknown: rest.closed,
    residuals: residuals.map((v) => v.aval),
    residualInvars: residuals.map((v) => {
      const i = jaxpr.invars.indexOf(v);
      return i >= 0 ? i : null;
    }),
  };
}
