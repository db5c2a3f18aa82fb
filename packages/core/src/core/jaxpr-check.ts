/**
 * The jaxpr type checker (abstract evaluation re-run over every equation, literals and consts
 * included) and dead-code elimination. The test suites turn the checker on for every program
 * that linearize, staging and DCE produce (`setJaxprChecks`).
 */
import { TracerError } from "../errors.js";
import { registry } from "../primitives/registry.js";
import type { Params, PrimitiveDef } from "../primitives/types.js";
import { shapesEqual } from "../shape.js";
import { type Aval, fmtAval } from "./aval.js";
import { type Atom, ClosedJaxpr, type Eqn, type Jaxpr, Literal, Var } from "./jaxpr.js";
import { printEqn } from "./jaxpr-print.js";

let checks = false;

/** Turns the checker on for every program the transforms make (the tests do; off by default). */
export function setJaxprChecks(on: boolean): void {
  checks = on;
}

export function checkIfEnabled(closed: ClosedJaxpr, what: string): void {
  if (checks) checkJaxpr(closed, what);
}

const sameType = (a: Aval, b: Aval) => a.dtype === b.dtype && shapesEqual(a.shape, b.shape);

/** Sub-programs an equation carries in its params (higher-order primitives). */
export function subJaxprs(e: Eqn): ClosedJaxpr[] {
  const out: ClosedJaxpr[] = [];
  for (const v of Object.values(e.params as object)) {
    if (v instanceof ClosedJaxpr) out.push(v);
    else if (globalThis.Array.isArray(v)) for (const b of v) if (b instanceof ClosedJaxpr) out.push(b);
  }
  return out;
}

/**
 * Checks that `closed` is well typed: each const matches its constvar, every variable is bound
 * once before it is read, every equation's outputs are what abstract evaluation of its inputs
 * and params gives, and sub-programs check too. Throws naming `what` and the equation.
 */
export function checkJaxpr(closed: ClosedJaxpr, what = "jaxpr"): void {
  const { jaxpr } = closed;
  const fail = (where: string, msg: string): never => {
    throw new TracerError(`${what} is ill-typed at ${where}: ${msg}`);
  };
  const bound = new Set<Var>();
  const bindVar = (v: Var, where: string) => {
    if (!(v instanceof Var)) fail(where, "a binder is not a variable");
    if (bound.has(v)) fail(where, `a variable of type ${fmtAval(v.aval)} is bound twice`);
    bound.add(v);
  };
  jaxpr.constvars.forEach((v, i) => {
    bindVar(v, `constvar ${i}`);
    const c = closed.consts[i];
    if (!c || !sameType(c.aval, v.aval)) {
      fail(`constvar ${i}`, `declared ${fmtAval(v.aval)} but its const is ${c ? fmtAval(c.aval) : "missing"}`);
    }
  });
  jaxpr.invars.forEach((v, i) => bindVar(v, `invar ${i}`));
  const read = (a: Atom, where: string): Aval => {
    if (a instanceof Literal) {
      if (a.aval.shape.length !== 0) fail(where, "a literal that is not a scalar");
      return a.aval;
    }
    if (!(a instanceof Var)) fail(where, "an operand is neither a variable nor a literal");
    if (!bound.has(a)) fail(where, `reads a variable of type ${fmtAval(a.aval)} that is not bound before it`);
    return a.aval;
  };
  jaxpr.eqns.forEach((e, k) => {
    const where = `equation ${k} (${printEqn(jaxpr, e)})`;
    if (!(e.prim in registry)) fail(where, `unknown primitive ${e.prim}`);
    const ins = e.inputs.map((a) => read(a, where));
    let outs: Aval[];
    try {
      const def = registry[e.prim] as PrimitiveDef<typeof e.prim>;
      outs = def.abstractEval(ins, e.params as Params[typeof e.prim]);
    } catch (err) {
      return fail(where, `abstract evaluation rejects it: ${(err as Error).message}`);
    }
    if (outs.length !== e.outputs.length)
      fail(where, `${e.outputs.length} outputs, abstract evaluation gives ${outs.length}`);
    e.outputs.forEach((v, i) => {
      const want = outs[i] as Aval;
      if (!sameType(v.aval, want))
        fail(where, `output ${i} is declared ${fmtAval(v.aval)}; its inputs give ${fmtAval(want)}`);
      bindVar(v, where);
    });
    for (const sub of subJaxprs(e)) checkJaxpr(sub, `${what}, in ${e.prim}'s program`);
  });
  jaxpr.outvars.forEach((o, i) => read(o, `outvar ${i}`));
}

/**
 * Dead-code elimination: drops equations whose outputs nothing reads (every primitive is pure),
 * and constvars nothing reads; keeps the inputs (and their order). `keep` selects outputs to
 * keep (default all). With `consume`, `closed` hands its handles over and is disposed.
 */
export function dce(closed: ClosedJaxpr, keep?: readonly boolean[], opts: { consume?: boolean } = {}): ClosedJaxpr {
  const { jaxpr } = closed;
  const outvars = keep ? jaxpr.outvars.filter((_, i) => keep[i]) : jaxpr.outvars;
  const live = new Set<Var>();
  for (const o of outvars) if (o instanceof Var) live.add(o);
  const eqns: Eqn[] = [];
  for (let k = jaxpr.eqns.length - 1; k >= 0; k--) {
    const e = jaxpr.eqns[k] as Eqn;
    if (!e.outputs.some((v) => live.has(v))) continue;
    eqns.push(e);
    for (const a of e.inputs) if (a instanceof Var) live.add(a);
  }
  eqns.reverse();
  const kept = jaxpr.constvars.map((v) => live.has(v));
  const pruned: Jaxpr = {
    constvars: jaxpr.constvars.filter((_, i) => kept[i]),
    invars: jaxpr.invars,
    eqns,
    outvars,
  };
  const out = closed.derive(pruned, kept, opts.consume ?? false);
  checkIfEnabled(out, "a program after dead-code elimination");
  return out;
}
