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
import type { Linear } from "./ad.js";
import { fmtAval } from "./aval.js";
import { ConcreteArray } from "./concrete.js";
import { type Atom, type ClosedJaxpr, type Eqn, Literal, Var } from "./jaxpr.js";
import { bind, bind1, currentStager } from "./trace.js";

/**
 * Runs a linear program backwards (JAX's backward_pass): from the cotangents of its outputs to
 * those of its inputs, applying each equation's transpose rule in reverse order. Every variable
 * of a linear program is linear in the inputs; its consts and literals are the known operands.
 * Zero cotangents stay symbolic (null) and skip the equations that only they reach. `cts` has
 * one entry per output of the linearized function; the result one per primal.
 */
export function backwardPass(lin: Linear, cts: readonly Tangent[]): Tangent[] {
  const { closed } = lin;
  if (closed.disposed) throw new TracerError("this vjp function's residuals were disposed; it can no longer be called");
  const { jaxpr } = closed;
  const known = new Map<Var, Array>();
  jaxpr.constvars.forEach((v, i) => known.set(v, closed.consts[i] as Array));
  const outCts: Tangent[] = [];
  lin.outputs.forEach((nz, i) => {
    if (nz) outCts.push(cts[i] ?? null);
  });
  const inCts = transposeEqns(closed, known, outCts);
  let j = 0;
  return lin.inputs.map((has) => (has ? (inCts[j++] ?? null) : null));
}

/**
 * The cotangents of `closed`'s invars that `known` does not hold (in order), given one
 * cotangent per outvar: `closed` is linear in those invars, and its consts and the `known`
 * invars are the known operands. A higher-order primitive's transpose runs its body so.
 */
export function transposeJaxpr(
  closed: ClosedJaxpr,
  knownIns: readonly (Array | null)[],
  cts: readonly Tangent[],
): Tangent[] {
  const { jaxpr } = closed;
  const known = new Map<Var, Array>();
  jaxpr.constvars.forEach((v, i) => known.set(v, closed.consts[i] as Array));
  jaxpr.invars.forEach((v, i) => {
    const k = knownIns[i];
    if (k) known.set(v, k);
  });
  return transposeEqns(closed, known, cts);
}

/** backward_pass over `closed`'s equations: one cotangent per outvar in, one per unknown invar out. */
function transposeEqns(closed: ClosedJaxpr, known: Map<Var, Array>, outCts: readonly Tangent[]): Tangent[] {
  const { jaxpr } = closed;
  // Equations that read only known values run forwards first (a checkpointed body recomputes
  // its primal here); their outputs are known operands of the linear ones.
  const computed: Array[] = [];
  const given = new Set<Array>(known.values());
  for (const e of jaxpr.eqns) {
    if (!e.inputs.every((a) => a instanceof Literal || known.has(a))) continue;
    const outs = bind(
      e.prim,
      e.inputs.map((a) => (a instanceof Literal ? closed.literal(a) : (known.get(a) as Array))),
      e.params as never,
    );
    e.outputs.forEach((v, i) => known.set(v, outs[i] as Array));
    computed.push(...outs);
  }
  // Eagerly, a cotangent is released once no variable's accumulator holds it any more (counted:
  // a transpose rule may hand one array to several operands), unless the caller passed it in.
  const eager = !currentStager();
  const external = new Set<Array>(outCts.filter((c): c is Array => c !== null));
  const held = new Map<Array, number>();
  const hold = (x: Array) => held.set(x, (held.get(x) ?? 0) + 1);
  const drop = (x: Array) => {
    const n = (held.get(x) ?? 0) - 1;
    if (n > 0) {
      held.set(x, n);
      return;
    }
    held.delete(x);
    if (eager && x instanceof ConcreteArray && !external.has(x) && !given.has(x) && !x.disposed) x.dispose();
  };
  const acc = new Map<Var, Array>();
  const add = (v: Var, ct: Tangent) => {
    if (ct === null) return;
    if (!shapesEqual(ct.shape, v.aval.shape) || ct.dtype !== v.aval.dtype) {
      throw new TracerError(`internal: cotangent ${fmtAval(ct.aval)} for a value of type ${fmtAval(v.aval)}`);
    }
    const prev = acc.get(v);
    if (!prev) {
      acc.set(v, ct);
      hold(ct);
      return;
    }
    const sum = bind1("add", [prev, ct], {});
    acc.set(v, sum);
    hold(sum);
    drop(prev);
  };
  jaxpr.outvars.forEach((o, i) => {
    if (o instanceof Var && !known.has(o)) add(o, outCts[i] ?? null);
  });
  const input = (a: Atom): TransposeInput => {
    if (a instanceof Literal) return closed.literal(a);
    return known.get(a) ?? new UndefinedPrimal(a.aval);
  };
  for (let e = jaxpr.eqns.length - 1; e >= 0; e--) {
    const eqn = jaxpr.eqns[e] as Eqn;
    const outs = eqn.outputs.map((v) => acc.get(v) ?? null);
    for (const v of eqn.outputs) acc.delete(v);
    if (outs.every((c) => c === null)) continue;
    const def = registry[eqn.prim] as PrimitiveDef<typeof eqn.prim>;
    if (!def.transpose) {
      throw new TracerError(`internal: ${eqn.prim} is not linear but appeared in a linear program`);
    }
    const inCts = def.transpose(outs, eqn.inputs.map(input), eqn.params as Params[typeof eqn.prim]);
    eqn.inputs.forEach((a, i) => {
      if (a instanceof Var && !known.has(a)) add(a, inCts[i] ?? null);
    });
    // This equation's cotangents are consumed; its operands' that nothing kept are too.
    for (const c of outs) if (c !== null) drop(c);
    for (const c of inCts) if (c !== null && !held.has(c)) drop(c);
  }
  const result = jaxpr.invars.filter((v) => !known.has(v)).map((v) => acc.get(v) ?? null);
  // The recomputed values are done with (unless a cotangent is one); staged ones stay the program's.
  if (!currentStager()) {
    const keep = new Set<Array>([...given, ...result.filter((r): r is Array => r !== null)]);
    for (const c of computed) if (c instanceof ConcreteArray && !keep.has(c) && !c.disposed) c.dispose();
  }
  return result;
}
