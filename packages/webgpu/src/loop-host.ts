/**
 * The backend as device loops see it (`LoopHost`, gate.ts), made from the few parts of the
 * WebGPU backend they use: its pools and epochs, its encoding state (the open batch, the gate,
 * whether a program is being recorded), and its submits. A loop's chunks are encoded into
 * command buffers of their own and submitted at once (the loop is the segment running), their
 * releases tagged with the loop's epoch.
 */
import { BackendError, type BackendProgram, type DType, type Slot } from "@webjax/core";
import type { Compiled, GpuCounters, GpuSlot } from "./executables.js";
import type { Gate, LoopHost } from "./gate.js";
import type { WebGPULimits } from "./limits.js";
import type { SubmitOrder } from "./order.js";
import type { Batch } from "./passes.js";
import type { BufferPool } from "./pool.js";

/** What the backend is encoding into: swapped out while a loop encodes its own. */
export interface EncodeState {
  batch: Batch | null;
  gate: Gate | null;
  inProgram: boolean;
}

/** The parts of the WebGPU backend that device loops and reads use. */
export interface BackendParts {
  /** Throws once the device is lost. */
  alive(): void;
  /** Submits at the end of this task (unless something submits first). */
  flushSoon(): void;
  readonly device: GPUDevice;
  readonly counters: GpuCounters;
  readonly pools: { storage: BufferPool; uniforms: BufferPool; staging: BufferPool; args: BufferPool };
  readonly limits: WebGPULimits;
  readonly order: SubmitOrder;
  preparing(): boolean;
  lostReason(): string | null;
  alloc(dtype: DType, size: number): GpuSlot;
  free(slot: Slot): void;
  run(program: BackendProgram, slots: Slot[]): void;
  kernel(label: string, source: string): Compiled;
  flush(): void;
  /** Ends the epoch being built (returned). */
  nextEpoch(): number;
  /** Tags releases with `epoch` (none: the epoch being built). */
  setEpoch(epoch?: number): void;
  /** Sets the given parts of the encoding state; returns what it was. */
  swap(next: Partial<EncodeState>): EncodeState;
  open(): Batch;
  /** Ends `b` and submits it now, recycling what epoch `epoch` released. */
  submitNow(b: Batch, epoch: number): void;
}

export function makeLoopHost(parts: BackendParts, whileChunk: number): LoopHost {
  if (!Number.isInteger(whileChunk) || whileChunk < 1) {
    throw new BackendError(`webgpu: whileChunk must be a positive integer, got ${whileChunk}`);
  }
  const { pools, limits } = parts;
  return {
    device: parts.device,
    counters: parts.counters,
    staging: pools.staging,
    uniforms: pools.uniforms,
    args: pools.args,
    maxWorkgroups: limits.maxComputeWorkgroupsPerDimension,
    offsetAlignment: limits.minStorageBufferOffsetAlignment,
    maxBindingBytes: limits.maxStorageBufferBindingSize,
    whileChunk,
    get preparing() {
      return parts.preparing();
    },
    get lostReason() {
      return parts.lostReason();
    },
    alloc: parts.alloc,
    free: parts.free,
    run: parts.run,
    kernel: parts.kernel,
    enqueueLoop: (drive) => {
      // What the program enqueued before the loop goes first; the loop's epoch follows.
      parts.flush();
      const epoch = parts.nextEpoch();
      parts.order.loop(() => drive(epoch));
    },
    gated: (gate, f) => {
      const was = parts.swap({ gate, inProgram: true });
      try {
        f();
      } finally {
        parts.swap({ gate: was.gate, inProgram: was.inProgram });
      }
    },
    batch: parts.open,
    releaseAfter: (epoch, f) => {
      parts.setEpoch(epoch);
      try {
        f();
      } finally {
        parts.setEpoch();
        for (const pool of [pools.storage, pools.uniforms, pools.args]) pool.submitted(epoch);
      }
    },
    loopSection: (epoch, gate, encode) => {
      const was = parts.swap({ batch: null, gate, inProgram: true });
      parts.setEpoch(epoch);
      const own = parts.open();
      try {
        encode(own);
      } finally {
        parts.swap(was);
        parts.setEpoch();
        parts.submitNow(own, epoch);
      }
      return own.errors;
    },
  };
}
