/** What the WebGPU backend holds per buffer and per compiled kernel, and when a reduction changes form. */
import type { DType, Executable, Slot } from "@webjax/core";
import { type Kernel, LruCache, type RoutineKernel } from "@webjax/core/internal";

/** A GPU buffer slot. `check` settles with the error of the kernel that made it (or of its inputs), if any. */
export class GpuSlot implements Slot {
  poison: Error | null = null;
  check: Promise<Error | null> | null = null;
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly bytes: number,
    public buffer: GPUBuffer | null,
  ) {}
}

export interface Compiled {
  pipeline: GPUComputePipeline;
  /** Settles with the shader's compile error, if any. */
  compiled: Promise<Error | null>;
}

/** A routine: its passes are planned at each dispatch; their WGSL variants are memoised here. */
export class GpuRoutine implements Executable {
  private readonly variants = new LruCache<string, string>(256);
  constructor(readonly kernel: RoutineKernel) {}
  readonly source = (variant: string, build: () => string): string => {
    let s = this.variants.get(variant);
    if (s === undefined) {
      s = build();
      this.variants.set(variant, s);
    }
    return s;
  };
}

export class GpuExecutable implements Executable {
  constructor(
    readonly kernel: Exclude<Kernel, RoutineKernel>,
    readonly main: Compiled,
    readonly nParams: number,
    /** Reductions only: the thread-per-output form, picked at dispatch for many short reductions. */
    readonly serial: Compiled | null,
  ) {}
  /** Reductions only: the two passes of the split form, built at its first use. */
  split: { readonly first: Compiled; readonly second: Compiled } | null = null;
}

/** Reductions of at most this many elements run a thread per output (when there are enough outputs). */
export const SERIAL_REDUCE_MAX = 4096;
/**
 * Reductions of at least this many elements into at most SPLIT_MAX_OUTPUTS outputs run split
 * across SPLIT_PARTS workgroups per output, then a second pass over the partials (a full sum of
 * 1e6 elements is not one workgroup's work).
 */
export const SPLIT_REDUCE_MIN = 16384;
export const SPLIT_MAX_OUTPUTS = 64;
