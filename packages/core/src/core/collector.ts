/**
 * Reclaiming arrays a program dropped without `dispose()` (DESIGN, memory rule 5).
 *
 * Every concrete array is registered with a FinalizationRegistry, which releases its buffer when
 * the array is collected. But V8 collects by JS-heap pressure and cannot see device memory (an
 * array's wrapper is a few dozen bytes), and finalizers run only between tasks, so an eager loop
 * that drops arrays (`params = tree.map(update, params, grads)`) could grow without bound. So at
 * a read (`data()`, `item()`, `toArray()`, `blockUntilReady()`), when live device memory has
 * grown past its level after the last collection by a margin, the read first runs a collection:
 *
 * 1. a macrotask turn (pending finalizers run);
 * 2. a garbage collection: in Node, V8's own (obtained as jest's leak detector does, with
 *    `v8.setFlagsFromString("--expose-gc")` and `vm.runInNewContext("gc")`; no command-line
 *    flag); in browsers, where no script can ask for one, a transient 64 MiB external allocation
 *    that makes V8 collect soon (best effort);
 * 3. macrotask turns until a sentinel collected by the same GC has been finalized (at most 16),
 *    then until live buffers stop falling (the finalizers of what it found release their
 *    buffers); when some fell late, a second GC round.
 *
 * Costs: nothing per op (the registry entry exists anyway), one comparison per read below the
 * margin, and per collection two macrotask turns and one full GC (a few ms for a small heap),
 * kept under half of the time (a read right after a collection does not start another) unless
 * live memory passes 1.5× its level + 64 KiB (a fast loop that drops much between reads).
 * A loop that never awaits a read is only reclaimed by `dispose`/`using`.
 */
import { getBackend } from "../backend/registry.js";
import { memoryStats } from "./buffer.js";

export interface CollectionOptions {
  /** "auto" (default): collect at reads past the margin; "off": only dispose/using and the finalizer. */
  mode: "auto" | "off";
  /** Collect when live bytes pass (1 + growth) × the level after the last collections (the lowest of 8) + minBytes… */
  growth: number;
  minBytes: number;
  /** …or live buffers pass (1 + growth) × the last level + minBuffers… */
  minBuffers: number;
  /**
   * …and at most this fraction of the time goes to collections (a read soon after a costly one
   * waits), unless live bytes pass (1 + 2·growth) × the level + hardBytes: so at a read live
   * memory is at most 1.5× its level + 64 KiB by default, however fast the program allocates.
   */
  maxTimeShare: number;
  hardBytes: number;
}

let options: CollectionOptions = {
  mode: "auto",
  growth: 0.25,
  minBytes: 64 << 10,
  minBuffers: 256,
  maxTimeShare: 0.5,
  hardBytes: 64 << 10,
};
let enabled = true;
let baseBytes = 0;
let baseBuffers = 0;
let lastEnd = 0;
let lastCost = 0;
let collecting: Promise<void> | null = null;
const LEVELS = 8;
const levels: { bytes: number; buffers: number }[] = [];

/** Collections run and buffers they reclaimed (for tests and the bench). */
export const collectionStats = { collections: 0, reclaimed: 0, lastMs: 0 };

/** Sets how dropped arrays are reclaimed (see the module comment). */
export function configureCollection(o: Partial<CollectionOptions>): void {
  options = { ...options, ...o };
  enabled = options.mode === "auto";
}

function totals(): { bytes: number; buffers: number } {
  let bytes = 0;
  let buffers = 0;
  for (const m of Object.values(memoryStats())) {
    bytes += m.liveBytes;
    buffers += m.liveBuffers;
  }
  return { bytes, buffers };
}

/** Whether live memory grew past the margin since the last collection. */
function due(): boolean {
  if (!enabled) return false;
  const { bytes, buffers } = totals();
  const grown =
    bytes > baseBytes * (1 + options.growth) + options.minBytes ||
    buffers > baseBuffers * (1 + options.growth) + options.minBuffers;
  if (!grown) return false;
  if (bytes > baseBytes * (1 + 2 * options.growth) + options.hardBytes) return true;
  return now() - lastEnd >= lastCost / options.maxTimeShare;
}

/** Called by reads before they read: runs a collection when one is due. */
export function beforeRead(): Promise<void> | null {
  if (collecting) return collecting;
  if (!due()) return null;
  collecting = collect().finally(() => {
    collecting = null;
  });
  return collecting;
}

/** Runs a collection now (awaitable; `memoryStats()` afterwards shows what survived). */
export async function collect(): Promise<void> {
  const start = now();
  const before = totals().buffers;
  await macrotask();
  // Finalizers run as later tasks, in an order V8 does not promise, and a busy machine delays
  // them: so wait for a sentinel collected by the same GC, then until live buffers stop falling;
  // if some fell late, one more GC catches what those releases left unreachable.
  for (let round = 0; round < 2; round++) {
    let swept = false;
    sentinel.register({}, () => {
      swept = true;
    });
    await requestGc();
    for (let turn = 0; turn < 16 && !swept; turn++) await macrotask();
    flushAll();
    let late = false;
    for (let turn = 0; turn < 8; turn++) {
      const was = totals().buffers;
      await macrotask();
      flushAll();
      if (totals().buffers >= was) break;
      late = true;
    }
    if (!late) break;
  }
  const t = totals();
  // The margin counts from the lowest level of the last few collections, so one that happened
  // to find a straggler still alive does not raise the bar for the next (a legitimately
  // bigger working set raises it after LEVELS collections).
  levels.push(t);
  if (levels.length > LEVELS) levels.shift();
  baseBytes = Math.min(...levels.map((l) => l.bytes));
  baseBuffers = Math.min(...levels.map((l) => l.buffers));
  collectionStats.collections++;
  collectionStats.reclaimed += Math.max(0, before - t.buffers);
  lastEnd = now();
  lastCost = lastEnd - start;
  collectionStats.lastMs = lastCost;
}

/** Frees queued by finalizers run at a backend's next flush; make them visible now. */
function flushAll(): void {
  for (const name of Object.keys(memoryStats())) {
    try {
      getBackend(name).flush();
    } catch {
      // a backend that is gone has nothing to flush
    }
  }
}

const sentinel = new FinalizationRegistry<() => void>((done) => done());

const now = (): number => (globalThis.performance ? performance.now() : Date.now());

function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  return new Promise((resolve) => (g.setImmediate ? g.setImmediate(resolve) : setTimeout(resolve, 0)));
}

let gcFn: (() => void) | null | undefined;

async function findGc(): Promise<(() => void) | null> {
  const g = globalThis as { gc?: () => void; process?: { versions?: { node?: string } } };
  if (typeof g.gc === "function") return g.gc;
  if (!g.process?.versions?.node) return null;
  try {
    const v8Name = "node:v8";
    const vmName = "node:vm";
    const v8 = (await import(/* @vite-ignore */ v8Name)) as { setFlagsFromString(f: string): void };
    const vm = (await import(/* @vite-ignore */ vmName)) as { runInNewContext(code: string): unknown };
    v8.setFlagsFromString("--expose-gc");
    const fn = vm.runInNewContext("gc");
    return typeof fn === "function" ? (fn as () => void) : null;
  } catch {
    return null;
  }
}

async function requestGc(): Promise<void> {
  if (gcFn === undefined) gcFn = await findGc();
  if (gcFn) {
    gcFn();
    return;
  }
  // Browsers: external memory makes V8 schedule a collection; give it a turn to run.
  let pressure: ArrayBuffer | null = new ArrayBuffer(64 << 20);
  void pressure.byteLength;
  pressure = null;
  await macrotask();
}
