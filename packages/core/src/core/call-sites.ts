/**
 * Call sites for failed kernels (issue 25): a kernel that fails poisons its outputs, and the
 * error a read of one raises names the user's line that called the op. Jitted programs know
 * theirs always — each equation's site is taken while jit traces (~20 µs an equation) and
 * given to the kernels its stage dispatches, plan replays and specialised variants included. Eager ops capture one per dispatch only where
 * `configure({ callSites: true })` (or the NaN checker) asks, as it costs a stack per op.
 */
import type { Eqn } from "./jaxpr.js";

const byEqn = new WeakMap<Eqn, string>();
const byKernel = new WeakMap<object, string>();
const bySlot = new WeakMap<object, string>();
let stageSite: string | null = null;
let eager = false;
let tracing = 0;

/** A frame of webjax's own packages (or of the engine), not the user's. */
const internal = (where: string) =>
  /[\\/](packages[\\/][^\\/]+[\\/](src|dist)|node_modules)[\\/]/.test(where) || where.startsWith("node:");

/**
 * The user's frame calling now, as "file:line:col" (null where none is found), taken as a
 * string at once: a captured stack keeps its frames' functions alive. Read through `stack`, so
 * source maps (Node's, a bundler's) apply; about 20 µs.
 */
export function captureSite(): string | null {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 200;
  try {
    return userFrame(new Error().stack);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Captures eager ops' sites (a stack per dispatch) or stops. */
export function captureEagerSites(on: boolean): void {
  eager = on;
}

/** Runs `f` (a jit's tracing) with every staged equation noting its site. */
export function tracingSites<T>(f: () => T): T {
  tracing++;
  try {
    return f();
  } finally {
    tracing--;
  }
}

/** Whether staged equations note their sites now (inside a jit's tracing). */
export function noteSites(): boolean {
  return tracing > 0;
}

/** Notes the site staging `eqn`. */
export function noteEqnSite(eqn: Eqn): void {
  const where = captureSite();
  if (where) byEqn.set(eqn, where);
}

/** The user's frame that staged `eqn`, if known. */
export function eqnSite(eqn: Eqn): string | null {
  return byEqn.get(eqn) ?? null;
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

/**
 * At a dispatch: inside a program's stage the kernel gets the stage's site (replays dispatch
 * the same kernel); an eager dispatch, where sites are captured, gives its output slot this
 * call's.
 */
export function noteDispatch(exe: object, outs: readonly object[], capture: () => boolean): void {
  if (stageSite) byKernel.set(exe, stageSite);
  else if (eager || capture()) {
    const site = captureSite();
    if (!site) return;
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
    if (!internal(where)) return where;
  }
  return null;
}

const sited = new WeakSet<object>();

/** `e` with the failed kernel's call site added to its message (a backend error naming its kernel). */
export function withCallSite(e: unknown): unknown {
  if (!(e instanceof Error) || sited.has(e)) return e;
  const { origin, originSlot, origins } = e as { origin?: object; originSlot?: object; origins?: object[] };
  const where = (originSlot && bySlot.get(originSlot)) ?? (origin && byKernel.get(origin)) ?? null;
  if (where) e.message += ` (the op was called at ${where})`;
  else if (origins) {
    // A failure known only per submit (WebGPU): the call sites of the kernels it held.
    const all = [...new Set(origins.flatMap((k) => byKernel.get(k) ?? []))];
    if (all.length > 0) {
      const shown = all.slice(0, 4).join(", ");
      e.message += ` (their ops were called at ${shown}${all.length > 4 ? `, and ${all.length - 4} more` : ""})`;
    }
  }
  sited.add(e);
  return e;
}
