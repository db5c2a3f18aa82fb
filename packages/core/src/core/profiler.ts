/**
 * The profiler (issue 25): `profiler.startTrace()` … `profiler.stopTrace()` records a Chrome
 * trace (the JSON Perfetto and chrome://tracing open): compile events, jitted program calls,
 * one event per kernel — its run time on the CPU backend (and each worker thread's share of it
 * on that worker's track); on WebGPU the GPU's time from timestamp queries, or else its
 * encoding, with each submit's time from submission to `onSubmittedWorkDone` — buffer copies,
 * and a live-bytes counter per backend. Off, each hook is one test of a null. Times are microseconds from the
 * trace's start.
 */

export interface TraceEvent {
  readonly name: string;
  readonly cat: string;
  /** "X": a span (`dur`); "C": a counter (`args`); "M": metadata. */
  readonly ph: "X" | "C" | "M";
  readonly ts: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

export interface ProfileTrace {
  readonly traceEvents: readonly TraceEvent[];
  readonly displayTimeUnit: "ms";
}

/** The trace's threads: the JS thread, the CPU backend's kernels, WebGPU's submits and its kernels. */
export const THREAD = { host: 1, cpu: 2, gpuQueue: 3, gpuKernels: 4, cpuWorker0: 10 } as const;
const PID = 1;

let events: TraceEvent[] | null = null;
let origin = 0;
/** Work the trace waits for before it ends (WebGPU submits not yet done). */
const outstanding = new Set<Promise<unknown>>();

/** Whether a trace is being recorded. */
export function profiling(): boolean {
  return events !== null;
}

/** An absolute time (ms since the epoch: performance.timeOrigin + now, as workers read it) on the trace's clock. */
export function traceClock(epochMs: number): number {
  return (epochMs - performance.timeOrigin - origin) * 1000;
}

/** Microseconds since the trace began. */
export function traceNow(): number {
  return (performance.now() - origin) * 1000;
}

/** A span that began at `ts` (from traceNow) and ends now. */
export function traceSpan(name: string, cat: string, tid: number, ts: number, args?: Record<string, unknown>): void {
  events?.push({ name, cat, ph: "X", ts, dur: Math.max(0, traceNow() - ts), pid: PID, tid, ...(args ? { args } : {}) });
}

/** A span at `ts` lasting `dur` microseconds (a GPU's timestamps placed on the trace's clock). */
export function traceSpanAt(
  name: string,
  cat: string,
  tid: number,
  ts: number,
  dur: number,
  args?: Record<string, unknown>,
): void {
  events?.push({ name, cat, ph: "X", ts, dur, pid: PID, tid, ...(args ? { args } : {}) });
}

/** A counter's value now. */
export function traceCounter(name: string, value: number): void {
  events?.push({ name, cat: "memory", ph: "C", ts: traceNow(), pid: PID, tid: THREAD.host, args: { bytes: value } });
}

/** Keeps the trace open until `p` settles (an asynchronous span's end). */
export function traceAwait(p: Promise<unknown>): void {
  if (!events) return;
  outstanding.add(p);
  p.finally(() => outstanding.delete(p)).catch(() => {});
}

/**
 * Begins recording a trace (JAX's `jax.profiler.start_trace`). A jitted call's span is its
 * host time (tracing, or enqueueing a replay); its kernels run after it, on their own tracks.
 */
export function startTrace(): void {
  if (events) throw new Error("profiler.startTrace: a trace is already being recorded (stopTrace ends it)");
  events = [];
  origin = performance.now();
  const names: [number, string][] = [
    [THREAD.host, "host (JS)"],
    [THREAD.cpu, "cpu backend kernels"],
    [THREAD.gpuQueue, "webgpu submits"],
    [THREAD.gpuKernels, "webgpu kernels"],
    ...Array.from({ length: 16 }, (_, w): [number, string] => [THREAD.cpuWorker0 + w, `cpu worker ${w + 1}`]),
  ];
  events.push({ name: "process_name", cat: "__metadata", ph: "M", ts: 0, pid: PID, tid: 0, args: { name: "webjax" } });
  for (const [tid, name] of names) {
    events.push({ name: "thread_name", cat: "__metadata", ph: "M", ts: 0, pid: PID, tid, args: { name } });
  }
}

/**
 * Ends the trace once the work it recorded has finished (WebGPU submits), and returns it; with
 * `path` (Node) it is also written there as JSON.
 */
export async function stopTrace(opts: { path?: string } = {}): Promise<ProfileTrace> {
  if (!events) throw new Error("profiler.stopTrace: no trace is being recorded (startTrace begins one)");
  while (outstanding.size > 0) await Promise.allSettled([...outstanding]);
  // Thread names only for the tracks that have events.
  const used = new Set(events.filter((e) => e.ph !== "M").map((e) => e.tid));
  const kept = events.filter((e) => e.ph !== "M" || e.tid === 0 || used.has(e.tid));
  const trace: ProfileTrace = { traceEvents: kept, displayTimeUnit: "ms" };
  events = null;
  if (opts.path !== undefined) await saveTrace(trace, opts.path);
  return trace;
}

/** Writes a trace as JSON to `path` (Node only). */
export async function saveTrace(trace: ProfileTrace, path: string): Promise<void> {
  const g = globalThis as { process?: { versions?: { node?: string } } };
  if (!g.process?.versions?.node) throw new Error("profiler.saveTrace: writing a file needs Node; use traceBlob");
  const fs = "node:fs/promises";
  const { writeFile } = (await import(/* @vite-ignore */ fs)) as {
    writeFile(path: string, data: string): Promise<void>;
  };
  await writeFile(path, JSON.stringify(trace));
}

/** A trace as a JSON Blob (browsers: save it, or open it in Perfetto). */
export function traceBlob(trace: ProfileTrace): Blob {
  return new Blob([JSON.stringify(trace)], { type: "application/json" });
}
