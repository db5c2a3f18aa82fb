import type { Backend, Slot } from "../backend/backend.js";
import type { HeapStats } from "../backend/cpu/heap.js";
import { existingBackend } from "../backend/registry.js";
import { type DType, itemSize } from "../dtype.js";
import { profiling, traceCounter } from "./profiler.js";
import { recorder } from "./recording.js";

/**
 * A reference-counted backend buffer. Every array (and every view of it) holds one reference,
 * and so does every queued kernel that reads it; the slot is freed when the count reaches zero.
 */
export class DeviceBuffer {
  private refs = 1;
  /** Set when a program frees the slot itself (a donated input): the last release then does not. */
  private handedOver = false;
  readonly bytes: number;

  constructor(
    readonly backend: Backend,
    readonly slot: Slot,
    readonly dtype: DType,
    readonly size: number,
    /** What made it (an op name), for leak reports. */
    readonly label: string,
  ) {
    this.bytes = size * itemSize(dtype);
    track(this);
    recorder()?.alloc(slot, dtype, size, label);
  }

  get alive(): boolean {
    return this.refs > 0;
  }

  /** How many holders it has (arrays, views, queued kernels). */
  get refCount(): number {
    return this.refs;
  }

  retain(): void {
    this.refs++;
  }

  /** The slot is now a running program's to free (a donated input its only holder gave up). */
  handOver(): void {
    this.handedOver = true;
  }

  release(): void {
    if (this.refs <= 0) return;
    if (--this.refs === 0) {
      if (!this.handedOver) {
        recorder()?.free(this.slot);
        this.backend.free(this.slot);
      }
      untrack(this);
    }
  }
}

/**
 * Live buffers and bytes of one backend, and the most bytes ever live at once; for the CPU
 * backend also its heap's allocator state (`heap`).
 */
export interface BackendMemory {
  liveBuffers: number;
  liveBytes: number;
  peakBytes: number;
  heap?: HeapStats;
}

const live = new Map<string, Set<DeviceBuffer>>();
const counters = new Map<string, BackendMemory>();
let warnBytes = 2 * 1024 ** 3;
let warned = false;

function countersOf(name: string): BackendMemory {
  let c = counters.get(name);
  if (!c) {
    c = { liveBuffers: 0, liveBytes: 0, peakBytes: 0 };
    counters.set(name, c);
  }
  return c;
}

function track(b: DeviceBuffer): void {
  const name = b.backend.name;
  let set = live.get(name);
  if (!set) {
    set = new Set();
    live.set(name, set);
  }
  set.add(b);
  const c = countersOf(name);
  c.liveBuffers++;
  c.liveBytes += b.bytes;
  c.peakBytes = Math.max(c.peakBytes, c.liveBytes);
  if (profiling()) traceCounter(`live bytes (${name})`, c.liveBytes);
  if (!warned && c.liveBytes > warnBytes) {
    warned = true;
    console.warn(
      `webjax: ${c.liveBytes} bytes live on ${name}, past the warning mark of ${warnBytes}. ` +
        "Arrays are freed by dispose(), `using`, or (late) by garbage collection; memoryStats() " +
        `says: ${JSON.stringify(memoryStats())}`,
    );
  }
}

function untrack(b: DeviceBuffer): void {
  const name = b.backend.name;
  live.get(name)?.delete(b);
  const c = countersOf(name);
  c.liveBuffers--;
  c.liveBytes -= b.bytes;
  if (profiling()) traceCounter(`live bytes (${name})`, c.liveBytes);
}

/** Live buffers and bytes per backend. */
export function memoryStats(): Record<string, BackendMemory> {
  const out: Record<string, BackendMemory> = {};
  for (const [name, c] of counters) {
    const heap = existingBackend(name)?.heapStats?.();
    out[name] = heap ? { ...c, heap } : { ...c };
  }
  return out;
}

/** Starts each backend's `peakBytes` again from its live bytes now (to measure one computation's peak). */
export function resetMemoryPeak(): void {
  for (const c of counters.values()) c.peakBytes = c.liveBytes;
}

/** Sets the live-bytes mark past which webjax warns once (default 2 GiB). */
export function setMemoryWarning(bytes: number): void {
  warnBytes = bytes;
  warned = false;
}

/** Every live buffer (all backends). */
export function liveBuffers(): DeviceBuffer[] {
  return [...live.values()].flatMap((s) => [...s]);
}
