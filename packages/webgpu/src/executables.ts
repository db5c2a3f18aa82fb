/** What the WebGPU backend holds per buffer and per compiled kernel, and when a reduction changes form. */
import { BackendError, type DType, type Executable, type Slot } from "@webjax/core";
import { type FusedKernel, type Kernel, LruCache, type RoutineKernel, resolveInt } from "@webjax/core/internal";
import { FUSED_WG, splittable } from "./codegen/fused.js";
import { type MatmulTiles, TILE_32, tileM, tileN } from "./codegen/matmul-tiles.js";
import { grid, type WebGPULimits } from "./limits.js";

/** What a read returns, by dtype. */
export type DataArray = Float32Array | Int32Array | Uint32Array | Uint8Array | Float64Array | Uint16Array;

/** A GPU buffer slot. `check` settles with the error of the kernel that made it (or of its inputs), if any. */
export class GpuSlot implements Slot {
  poison: Error | null = null;
  check: Promise<Error | null> | null = null;
  constructor(
    readonly dtype: DType,
    readonly size: number,
    readonly bytes: number,
    public buffer: GPUBuffer | null,
    /** Where it starts in `buffer` (a program arena's sub-range; 256-byte aligned), in bytes. */
    readonly offset = 0,
  ) {}
}

/** Work the WebGPU backend has done (for tests and profiling). */
export class GpuCounters {
  dispatches = 0;
  /** Buffer-to-buffer copies encoded (a loop step's rows and carries). */
  copies = 0;
  submits = 0;
  /** Pipelines compiled. */
  compiles = 0;
  bindGroups = 0;
  /** Buffers taken for arrays (from the pool or new); a program's intermediates take none after its first run. */
  allocs = 0;
  /** Program intermediates placed in their arenas (count, bytes). */
  arenaSlots = 0;
  arenaSlotBytes = 0;
  /** Buffers made for programs' arenas (count, bytes). */
  arenaBuffers = 0;
  arenaBytes = 0;
  /** Pipelines made with createComputePipelineAsync (under `prepare`). */
  asyncPipelines = 0;
  /** Device while loops' flag readbacks (one per chunk of iterations). */
  loopReads = 0;
}

/**
 * A compute pipeline: made at once (`createComputePipeline`), or being made asynchronously
 * (`createComputePipelineAsync`, under `prepare`) — a dispatch that comes before it is ready
 * makes it at once instead.
 */
export class Compiled {
  /** Settles with the shader's compile error, if any. */
  compiled: Promise<Error | null> = Promise.resolve(null);
  constructor(
    private readonly device: GPUDevice,
    private readonly descriptor: GPUComputePipelineDescriptor,
    private made: GPUComputePipeline | null,
  ) {}
  get pipeline(): GPUComputePipeline {
    this.made ??= this.device.createComputePipeline(this.descriptor);
    return this.made;
  }
  /** Makes the pipeline asynchronously; resolves with its error, if any. */
  async makeAsync(): Promise<Error | null> {
    try {
      const p = await this.device.createComputePipelineAsync(this.descriptor);
      this.made ??= p;
      return null;
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }
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
    /** An in-place variant's aliased inputs: each read through the output (index) written over it, and not bound. */
    readonly alias: ReadonlyMap<number, number> | null = null,
    /** Matmuls only: the tile shape its WGSL was generated for (matmul-tiles.ts). */
    readonly tiles: MatmulTiles = TILE_32,
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

/** Whether reduction `k` runs split: long reductions into few outputs (see SPLIT_REDUCE_MIN). */
export function useSplit(k: FusedKernel, p: Int32Array): boolean {
  if (!k.reduce || !splittable(k)) return false;
  return reducedSize(k, p) >= SPLIT_REDUCE_MIN && outSize(k, p) <= SPLIT_MAX_OUTPUTS;
}

/** A thread per output when the reductions are short and the outputs many enough to fill the GPU. */
export function useSerial(k: FusedKernel, p: Int32Array): boolean {
  return reducedSize(k, p) <= SERIAL_REDUCE_MAX && outSize(k, p) >= 256;
}

/** A kernel's workgroup grid for params p (a matmul's tiles, a reduction's outputs, else threads). */
export function workgroups(
  k: Exclude<Kernel, RoutineKernel>,
  p: Int32Array,
  limits: WebGPULimits,
  serial = false,
  tiles: MatmulTiles = TILE_32,
): [number, number, number] {
  if (k.kind === "matmul") {
    const batch = k.batch.reduce((a: number, b) => a * resolveInt(b, p), 1);
    const max = limits.maxComputeWorkgroupsPerDimension;
    const x = Math.ceil(resolveInt(k.n, p) / tileN(tiles));
    const y = Math.ceil(resolveInt(k.m, p) / tileM(tiles));
    if (x > max || y > max || batch > max) {
      throw new BackendError(
        `webgpu: matmul '${k.label}' grid ${x}×${y}×${batch} is past maxComputeWorkgroupsPerDimension (${max})`,
      );
    }
    return [Math.max(x, 1), Math.max(y, 1), Math.max(batch, 1)];
  }
  const outTotal = outSize(k, p);
  const count = k.reduce && !serial ? outTotal : Math.ceil(outTotal / FUSED_WG);
  const [x, y] = grid(count, limits, k.label);
  return [x, y, 1];
}

/** Elements each output of a fused kernel reduces, for params p. */
function reducedSize(k: FusedKernel, p: Int32Array): number {
  let n = 1;
  for (let d = k.outRank; d < k.loops.length; d++) n *= resolveInt(k.loops[d] as number, p);
  return n;
}

/** Outputs of a fused kernel for params p. */
export function outSize(k: FusedKernel, p: Int32Array): number {
  let n = 1;
  for (let d = 0; d < k.outRank; d++) n *= resolveInt(k.loops[d] as number, p);
  return n;
}

/** A readback's bytes as the dtype's typed array (float16: `skip` elements past an aligned start). */
export function fromBytes(raw: ArrayBuffer, dtype: DType, skip: number, size: number): DataArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(raw);
    case "int32":
      return new Int32Array(raw);
    case "uint32":
      return new Uint32Array(raw);
    case "bool":
      return Uint8Array.from(new Uint32Array(raw));
    case "float16":
      return new Uint16Array(raw, skip * 2, size);
    case "float64":
      throw new BackendError("webgpu: float64 is not stored on WebGPU");
  }
}

/** A buffer's bytes on WebGPU (float16 packed two to a u32; at least whole u32s). */
export const bytesOf = (d: DType, n: number): number =>
  d === "float16" ? Math.ceil(n / 2) * 4 : n * (d === "float64" ? 8 : 4);

/** Up to five distinct kernel labels, quoted, for an error message. */
export function describe(labels: string[]): string {
  const uniq = [...new Set(labels)];
  return uniq.length <= 5
    ? uniq.map((l) => `'${l}'`).join(", ")
    : `${uniq.slice(0, 5).join(", ")} and ${uniq.length - 5} more`;
}

/** The first error of several checks, or null. */
export function firstError(ps: Promise<Error | null>[]): Promise<Error | null> {
  return Promise.all(ps).then((errs) => errs.find((e) => e !== null) ?? null);
}
