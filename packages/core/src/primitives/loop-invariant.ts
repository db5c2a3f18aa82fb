/**
 * Loop-invariant residuals (issue 24): a scan's jvp splits its body into a known part, whose
 * residuals the tangent scan reads, stacked per step. A residual that depends only on the
 * body's consts (and literals) is the same at every step; JAX hoists it, and so does this:
 * computed once, outside the loop, and passed to the tangent scan as a const.
 */
import type { Array } from "../array.js";
import { type Atom, type ClosedJaxpr, type Eqn, Literal, Var } from "../core/jaxpr.js";
import { bind } from "../core/trace.js";
import type { Params } from "./types.js";

/**
 * Outputs `which` of `closed` that depend on none of its inputs from `n` on, evaluated on
 * `first` (its first `n` inputs): the equations they need run once, here. Keys: output indices.
 */
export function invariantOutputs(
  closed: ClosedJaxpr,
  n: number,
  which: readonly number[],
  first: readonly Array[],
): Map<number, Array> {
  const { jaxpr } = closed;
  const varying = new Set<Var>(jaxpr.invars.slice(n));
  for (const e of jaxpr.eqns) {
    if (e.inputs.some((a) => a instanceof Var && varying.has(a))) for (const o of e.outputs) varying.add(o);
  }
  const targets = which.filter((i) => {
    const v = jaxpr.outvars[i];
    return !(v instanceof Var && varying.has(v));
  });
  if (targets.length === 0) return new Map();
  const need = new Set<Atom>(targets.map((i) => jaxpr.outvars[i] as Atom));
  const eqns: Eqn[] = [];
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k] as Eqn;
    if (!e.outputs.some((o) => need.has(o))) continue;
    eqns.push(e);
    for (const a of e.inputs) need.add(a);
  }
  eqns.reverse();
  const env = new Map<Var, Array>();
  jaxpr.constvars.forEach((v, i) => env.set(v, closed.consts[i] as Array));
  jaxpr.invars.slice(0, n).forEach((v, i) => env.set(v, first[i] as Array));
  const read = (a: Atom): Array => (a instanceof Literal ? closed.literal(a) : (env.get(a) as Array));
  for (const e of eqns) {
    const outs = bind(e.prim, e.inputs.map(read), e.params as Params[typeof e.prim]);
    e.outputs.forEach((v, i) => env.set(v, outs[i] as Array));
  }
  return new Map(targets.map((i) => [i, read(jaxpr.outvars[i] as Atom)]));
}
