/**
 * The NaN/Inf checker (issue 25; JAX's `jax_debug_nans` / `jax_debug_infs`). Off by default,
 * and then free: one flag test per eager op and per jitted call. On:
 * - every eager op's float outputs are checked, and the first NaN (or ±Inf) is a
 *   `FloatingPointError` naming the primitive, the output's type and the user's line that
 *   called it;
 * - a jitted call's outputs are checked, and where one holds a NaN the program is run again
 *   equation by equation (nothing fused, nothing donated), the first equation that produces one
 *   named with its text and the user's line it was traced from (core/call-sites.ts);
 * - on a backend that reads asynchronously (WebGPU) the same checks run on asynchronous reads,
 *   and the error is logged and thrown by `debug.barrier()`.
 */
import type { Array } from "../array.js";
import { isFloat } from "../dtype.js";
import { WebjaxError } from "../errors.js";
import type { Params, Primitive } from "../primitives/types.js";
import { fmtAval } from "./aval.js";
import { captureSite, eqnSite } from "./call-sites.js";
import { ConcreteArray } from "./concrete.js";
import type { ClosedJaxpr, Eqn } from "./jaxpr.js";
import { printEqns } from "./jaxpr-print.js";

/** A NaN or an infinity where the checker is on. */
export class FloatingPointError extends WebjaxError {
  override name = "FloatingPointError";
}

export interface DebugOptions {
  /** Check every eager op's and jitted call's float outputs for NaN (JAX's `jax_debug_nans`). */
  debugNans?: boolean;
  /** Check them for ±Inf too (JAX's `jax_debug_infs`). */
  debugInfs?: boolean;
}

const state = { nans: false, infs: false };
let quiet = 0;

/** Turns the checker on or off (see the module's comment). */
export function configureDebug(o: DebugOptions): void {
  if (o.debugNans !== undefined) state.nans = o.debugNans;
  if (o.debugInfs !== undefined) state.infs = o.debugInfs;
}

/** Runs `f` with the checker on (NaNs, and infinities with `{ infs: true }`), then restores it. */
export function withDebugNans<T>(f: () => T, opts: { infs?: boolean } = {}): T {
  const prev = { ...state };
  state.nans = true;
  state.infs = opts.infs ?? state.infs;
  try {
    return f();
  } finally {
    Object.assign(state, prev);
  }
}

/** Whether the checker is on (and not quieted inside a program that checks itself). */
export function checkingNans(): boolean {
  return (state.nans || state.infs) && quiet === 0;
}

/** Runs `f` with the eager checks off (a jitted program checks its outputs as a whole). */
export function quietly<T>(f: () => T): T {
  quiet++;
  try {
    return f();
  } finally {
    quiet--;
  }
}

/** What is wrong with `data`, or null: "NaN", "Inf" or "-Inf" where the checker looks for it. */
function badValue(data: ArrayLike<number>, flags: { nans: boolean; infs: boolean } = state): string | null {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (v !== v && flags.nans) return "NaN";
    if ((v === Infinity || v === -Infinity) && flags.infs) return v > 0 ? "Inf" : "-Inf";
  }
  return null;
}

const floats = (xs: readonly Array[]) =>
  xs.filter((x): x is ConcreteArray => x instanceof ConcreteArray && isFloat(x.dtype) && x.size > 0);

/** Checks an eager op's outputs: synchronously where the backend reads so, else through `later`. */
export function checkEager(prim: Primitive, outs: readonly Array[], later: (check: Promise<void>) => void): void {
  const site = captureSite();
  const fail = (x: ConcreteArray, bad: string) =>
    new FloatingPointError(
      `${bad === "NaN" ? "debugNans" : "debugInfs"}: ${prim} produced ${bad} (its output ${fmtAval(x.aval)})${site ? ` at ${site}` : ""}`,
    );
  const flags = { ...state };
  for (const x of floats(outs)) {
    if (x.backend.canReadSync) {
      const bad = badValue(x.dataSync());
      if (bad) throw fail(x, bad);
    } else {
      later(
        x.data().then((d) => {
          const bad = badValue(d, flags);
          if (bad) throw fail(x, bad);
        }),
      );
    }
  }
}

/**
 * Checks a jitted call's outputs; where one is bad, runs `closed` again on `inputs` equation by
 * equation (`bindEqn`) and throws (or reports) the first equation whose output is.
 */
export function checkJitted(
  name: string,
  closed: ClosedJaxpr,
  inputs: readonly Array[],
  outs: readonly Array[],
  bindEqn: (prim: Primitive, args: readonly Array[], params: Params[Primitive]) => Array[],
  later: (check: Promise<void>) => void,
): void {
  const sync = floats(outs).every((x) => x.backend.canReadSync);
  const flags = { ...state };
  const eqnText = printEqns(closed.jaxpr);
  const failAt = (eqn: Eqn, x: ConcreteArray, bad: string, inner?: { closed: ClosedJaxpr; where: string[] }) => {
    const site = eqnSite(eqn);
    const text = inner ? printEqns(inner.closed.jaxpr)(eqn) : eqnText(eqn);
    const where = inner && inner.where.length > 0 ? ` (in ${inner.where.join(", in ")})` : "";
    return new FloatingPointError(
      `${bad === "NaN" ? "debugNans" : "debugInfs"}: ${name} produced ${bad}; run again op by op, the first ${bad} came from '${eqn.prim}' ` +
        `(output ${fmtAval(x.aval)}) in the equation \`${text}\`${where}${site ? `, traced at ${site}` : ""}`,
    );
  };
  // The search may run later (asynchronous backends): it holds its own handles on the inputs.
  const held = sync ? inputs : inputs.map((x) => (x instanceof ConcreteArray ? x.alias() : x));
  const releaseHeld = () => {
    if (!sync) for (const x of held) if (x instanceof ConcreteArray && !x.disposed) x.dispose();
  };
  const locate = (): Promise<void> | undefined => {
    // Op by op: every equation bound eagerly on concrete values, its outputs checked.
    const env = new Map<unknown, Array>();
    closed.jaxpr.constvars.forEach((v, i) => env.set(v, closed.consts[i] as Array));
    closed.jaxpr.invars.forEach((v, i) => env.set(v, held[i] as Array));
    const made: Array[] = [];
    const read = (a: unknown) => env.get(a) ?? closed.literal(a as never);
    const steps = closed.jaxpr.eqns.map((eqn) => () => {
      const o = bindEqn(eqn.prim, eqn.inputs.map(read), eqn.params as Params[Primitive]);
      eqn.outputs.forEach((v, k) => env.set(v, o[k] as Array));
      made.push(...o);
      return { eqn, outs: floats(o) };
    });
    const release = () => {
      for (const x of made) if (x instanceof ConcreteArray && !x.disposed && !held.includes(x)) x.dispose();
    };
    if (sync) {
      try {
        for (const step of steps) {
          const { eqn, outs: o } = step();
          for (const x of o) {
            const bad = badValue(x.dataSync());
            if (!bad) continue;
            // A loop or a branch: its body run op by op too, to the equation inside it.
            const inner = descend(eqn, eqn.inputs.map(read), bindEqn, made, []);
            if (inner) throw failAt(inner.eqn, inner.x, inner.bad, inner);
            throw failAt(eqn, x, bad);
          }
        }
      } finally {
        release();
      }
      return undefined;
    }
    return (async () => {
      try {
        for (const step of steps) {
          const { eqn, outs: o } = step();
          for (const x of o) {
            const bad = badValue(await x.data(), flags);
            if (bad) throw failAt(eqn, x, bad);
          }
        }
      } finally {
        release();
      }
    })();
  };
  if (sync) {
    for (const x of floats(outs)) {
      const bad = badValue(x.dataSync());
      if (bad) {
        locate();
        throw new FloatingPointError(
          `debugNans: ${name} produced ${bad}, but run again op by op none of its equations did`,
        );
      }
    }
    return;
  }
  later(
    Promise.all(floats(outs).map((x) => x.data()))
      .then(async (ds) => {
        const bad = ds.map((d) => badValue(d, flags)).find((b) => b !== null);
        if (!bad) return;
        await locate();
        throw new FloatingPointError(
          `debugNans: ${name} produced ${bad}, but run again op by op none of its equations did`,
        );
      })
      .finally(releaseHeld),
  );
}

interface Finding {
  readonly eqn: Eqn;
  readonly x: ConcreteArray;
  readonly bad: string;
  readonly closed: ClosedJaxpr;
  readonly where: string[];
}

type Binder = (prim: Primitive, args: readonly Array[], params: Params[Primitive]) => Array[];

/** Runs `closed` op by op on `args` (synchronous reads), stopping at the first bad output (descending into bodies). */
function search(
  closed: ClosedJaxpr,
  args: readonly Array[],
  bindEqn: Binder,
  made: Array[],
  where: string[],
): { found: Finding | null; outs: Array[] } {
  const env = new Map<unknown, Array>();
  closed.jaxpr.constvars.forEach((v, i) => env.set(v, closed.consts[i] as Array));
  closed.jaxpr.invars.forEach((v, i) => env.set(v, args[i] as Array));
  const read = (a: unknown) => env.get(a) ?? closed.literal(a as never);
  for (const eqn of closed.jaxpr.eqns) {
    const ins = eqn.inputs.map(read);
    const o = bindEqn(eqn.prim, ins, eqn.params as Params[Primitive]);
    made.push(...o);
    eqn.outputs.forEach((v, k) => env.set(v, o[k] as Array));
    for (const x of floats(o)) {
      const bad = badValue(x.dataSync());
      if (!bad) continue;
      return { found: descend(eqn, ins, bindEqn, made, where) ?? { eqn, x, bad, closed, where }, outs: [] };
    }
  }
  return { found: null, outs: closed.jaxpr.outvars.map(read) };
}

/** Inside a higher-order equation whose output is bad: the first bad equation of the body it ran, or null. */
function descend(eqn: Eqn, ins: readonly Array[], bindEqn: Binder, made: Array[], where: string[]): Finding | null {
  if (eqn.prim === "scan") {
    const p = eqn.params as Params["scan"];
    const consts = ins.slice(0, p.numConsts);
    let carry = ins.slice(p.numConsts, p.numConsts + p.numCarry);
    const xs = ins.slice(p.numConsts + p.numCarry);
    for (let t = 0; t < p.length; t++) {
      const i = p.reverse ? p.length - 1 - t : t;
      const rows = xs.map((x) => {
        const row = bindEqn("slice", [x], {
          start: x.shape.map((_, d) => (d === 0 ? i : 0)),
          limit: x.shape.map((n, d) => (d === 0 ? i + 1 : n)),
          strides: x.shape.map(() => 1),
        })[0] as Array;
        const sq = bindEqn("squeeze", [row], { dimensions: [0] })[0] as Array;
        made.push(row, sq);
        return sq;
      });
      const r = search(p.body, [...consts, ...carry, ...rows], bindEqn, made, [...where, `step ${i} of ${p.name}`]);
      if (r.found) return r.found;
      carry = r.outs.slice(0, p.numCarry);
    }
    return null;
  }
  if (eqn.prim === "cond") {
    const p = eqn.params as Params["cond"];
    const k = Math.min(Math.max(Number((ins[0] as ConcreteArray).dataSync()[0]), 0), p.branches.length - 1);
    const branch = p.branches[k] as ClosedJaxpr;
    return search(branch, ins.slice(1), bindEqn, made, [...where, `branch ${k} of ${p.name}`]).found;
  }
  if (eqn.prim === "checkpoint") {
    const p = eqn.params as Params["checkpoint"];
    return search(p.body, ins, bindEqn, made, [...where, p.name]).found;
  }
  if (eqn.prim === "while") {
    const p = eqn.params as Params["while"];
    const cc = ins.slice(0, p.condConsts);
    const bc = ins.slice(p.condConsts, p.condConsts + p.bodyConsts);
    let carry = ins.slice(p.condConsts + p.bodyConsts);
    for (let t = 0; ; t++) {
      const c = search(p.cond, [...cc, ...carry], bindEqn, made, [...where, `step ${t} of ${p.name} (its cond)`]);
      if (c.found) return c.found;
      if (!(c.outs[0] as ConcreteArray).dataSync()[0]) return null;
      const r = search(p.body, [...bc, ...carry], bindEqn, made, [...where, `step ${t} of ${p.name}`]);
      if (r.found) return r.found;
      carry = r.outs;
    }
  }
  return null;
}
