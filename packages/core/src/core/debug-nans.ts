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
  const failAt = (eqn: Eqn, x: ConcreteArray, bad: string) => {
    const site = eqnSite(eqn);
    return new FloatingPointError(
      `${bad === "NaN" ? "debugNans" : "debugInfs"}: ${name} produced ${bad}; run again op by op, the first ${bad} came from '${eqn.prim}' ` +
        `(output ${fmtAval(x.aval)}) in the equation \`${eqnText(eqn)}\`${site ? `, traced at ${site}` : ""}`,
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
            if (bad) throw failAt(eqn, x, bad);
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
