import { getBackend } from "./backend/registry.js";
import { liveBuffers } from "./core/buffer.js";

export type { HeapStats } from "./backend/cpu/heap.js";
export { type BackendMemory, memoryStats, resetMemoryPeak, setMemoryWarning } from "./core/buffer.js";
export { type CollectionOptions, collect, collectionStats, configureCollection } from "./core/collector.js";

/** What `checkLeaks` found: buffers created by the function and still alive after it. */
export interface LeakReport {
  buffers: number;
  bytes: number;
  /** One line per leaked buffer: dtype, size, backend and the op that made it. */
  details: string[];
}

/**
 * Runs `fn` (sync or async), waits for its queued work, and reports the buffers it created
 * that are still alive. A function that disposes what it makes reports zero; an array it
 * returns counts as left alive.
 */
export async function checkLeaks(fn: () => unknown): Promise<LeakReport> {
  const before = new Set(liveBuffers());
  await fn();
  const backends = new Set([...before, ...liveBuffers()].map((b) => b.backend));
  backends.add(getBackend());
  for (const b of backends) await b.sync();
  const leaked = liveBuffers().filter((b) => !before.has(b));
  return {
    buffers: leaked.length,
    bytes: leaked.reduce((n, b) => n + b.bytes, 0),
    details: leaked.map((b) => `${b.dtype}[${b.size}] (${b.bytes} bytes) on ${b.backend.name}, made by ${b.label}`),
  };
}
