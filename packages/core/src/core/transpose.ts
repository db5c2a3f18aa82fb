import type { Array } from "../array.js";
import { TracerError } from "../errors.js";
import { registry } from "../primitives/registry.js";
import {
  type Params,
  type PrimitiveDef,
  type Tangent,
  type TransposeInput,
  UndefinedPrimal,
} from "../primitives/types.js";
import { shapesEqual } from "../shape.js";
import { fmtAval } from "./aval.js";
import { Const, type Jaxpr, Var } from "./jaxpr.js";
import { bind1 } from "./trace.js";

/**
 * Runs a linear Jaxpr backwards (JAX's backward_pass): from the cotangents of its outputs to
 * those of its inputs, applying each equation's transpose rule in reverse order. Every variable
 * of a linear Jaxpr is linear in the inputs; its constants are the known operands. Zero
 * cotangents stay symbolic (null) and skip the equations that only they reach.
 */
export function backwardPass(jaxpr: Jaxpr, cts: readonly Tangent[]): Tangent[] {
  if (jaxpr.disposed) throw new TracerError("this vjp function's residuals were disposed; it can no longer be called");
  const acc = new Map<Var, Array>();
  const add = (v: Var, ct: Tangent) => {
    if (ct === null) return;
    if (!shapesEqual(ct.shape, v.aval.shape) || ct.dtype !== v.aval.dtype) {
      throw new TracerError(`internal: cotangent ${fmtAval(ct.aval)} for a value of type ${fmtAval(v.aval)}`);
    }
    const prev = acc.get(v);
    acc.set(v, prev ? bind1("add", [prev, ct], {}) : ct);
  };
  jaxpr.outvars.forEach((o, i) => {
    if (o instanceof Var) add(o, cts[i] ?? null);
  });
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k];
    if (!e) continue;
    const outCts = e.outputs.map((v) => acc.get(v) ?? null);
    for (const v of e.outputs) acc.delete(v);
    if (outCts.every((c) => c === null)) continue;
    const def = registry[e.prim] as PrimitiveDef<typeof e.prim>;
    if (!def.transpose) {
      throw new TracerError(`internal: ${e.prim} is not linear but appeared in a linear program`);
    }
    const inputs: TransposeInput[] = e.inputs.map((a) => (a instanceof Const ? a.value : new UndefinedPrimal(a.aval)));
    const inCts = def.transpose(outCts, inputs, e.params as Params[typeof e.prim]);
    e.inputs.forEach((a, i) => {
      if (a instanceof Var) add(a, inCts[i] ?? null);
    });
  }
  return jaxpr.invars.map((v) => (v ? (acc.get(v) ?? null) : null));
}
