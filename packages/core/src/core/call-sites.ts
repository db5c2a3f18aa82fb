/**
 * Call sites for failed kernels (issue 25): a kernel that fails poisons its outputs, and the
 * error a read of one raises names the user's line that called the op. Jitted programs know
 * theirs always — each equation's site is captured while tracing (a stack object per
 * equation, formatted only on failure) and given to the kernels its stage dispatches, plan
 * replays and specialised variants included. Eager ops capture one per dispatch only where
 * `configure({ callSites: true })` (or the NaN checker) asks, as it costs a stack per op.
 */
import type { Eqn } from "./jaxpr.js";

const byEqn = new WeakMap<Eqn, Error>();
const byKernel = new WeakMap<object, Error>();
let stageSite: Error | null = null;
let eager = false;

/** A stack object deep enough to reach the user's frame (formatted only when read). */
export function captureSite(): Error {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    return new Error("call site");
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Captures eager ops' sites (a stack per dispatch) or stops. */
export function captureEagerSites(on: boolean): void {
  eager = on;
}

export function eagerSitesOn(): boolean {
  return eager;
}

/** Notes the site staging `eqn` (while tracing). */
export function noteEqnSite(eqn: Eqn): void {
  byEqn.set(eqn, captureSite());
}

/** The user's frame that staged `eqn`, if known. */
export function eqnSite(eqn: Eqn): string | null {
  const e = byEqn.get(eqn);
  return e ? userFrame(e.stack) : null;
}

/** Runs `f` (a program's stage) with the kernels it dispatches attributed to `eqn`'s site. */
export function withEqnSite<T>(eqn: Eqn | undefined, f: () => T): T {
  const prev = stageSite;
  stageSite = (eqn && byEqn.get(eqn)) ?? prev;
  try {
    return f();
  } finally {
    stageSite = prev;
  }
}

const bySlot = new WeakMap<object, Error>();

/**
 * At a dispatch: inside a program's stage the kernel gets the stage's site (replays dispatch
 * the same kernel); an eager dispatch, where sites are captured, gives its output slot this
 * call's.
 */
export function noteDispatch(exe: object, outs: readonly object[], capture: () => boolean): void {
  if (stageSite) byKernel.set(exe, stageSite);
  else if (eager || capture()) {
    const site = captureSite();
    for (const o of outs) bySlot.set(o, site);
    // Where a failure names only its kernel (WebGPU): this kernel's latest eager call.
    byKernel.set(exe, site);
  }
}

/** A variant of a kernel (a plan's specialisation, an in-place form) has the kernel's site. */
export function copySite(from: object, to: object): void {
  const s = byKernel.get(from);
  if (s && from !== to) byKernel.set(to, s);
}

/** The first caller outside webjax's own packages in a stack, as "file:line:col". */
export function userFrame(stack: string | undefined): string | null {
  for (const line of (stack ?? "").split("\n").slice(1)) {
    const m = /\(?((?:file:\/\/|\/|[A-Za-z]:\\|https?:\/\/)[^()\s]+:\d+:\d+)\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const where = m[1] as string;
    if (/[\\/](packages[\\/][^\\/]+[\\/](src|dist)|node_modules)[\\/]/.test(where) || where.startsWith("node:"))
      continue;
    return where;
  }
  return null;
}

const sited = new WeakSet<object>();

/** `e` with the failed kernel's call site added to its message (a backend error naming its kernel). */
export function withCallSite(e: unknown): unknown {
  if (!(e instanceof Error) || sited.has(e)) return e;
  const { origin, originSlot, origins } = e as { origin?: object; originSlot?: object; origins?: object[] };
  const site = (originSlot && bySlot.get(originSlot)) ?? (origin && byKernel.get(origin));
  const where = site ? userFrame(site.stack) : null;
  if (where) e.message += ` (the op was called at ${where})`;
  else if (origins) {
    // A failure known only per submit (WebGPU): the call sites of the kernels it held.
    const all = [
      ...new Set(origins.map((k) => byKernel.get(k)).flatMap((s) => (s ? [userFrame(s.stack)] : []))),
    ].filter((w): w is string => w !== null);
    if (all.length > 0) {
      const shown = all.slice(0, 4).join(", ");
      e.message += ` (their ops were called at ${shown}${all.length > 4 ? `, and ${all.length - 4} more` : ""})`;
    }
  }
  sited.add(e);
  return e;
}
