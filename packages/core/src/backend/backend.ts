import type { DataArray, DType } from "../dtype.js";
import type { Kernel } from "../ir/kernel.js";
import type { HeapStats } from "./cpu/heap.js";
import type { LoopStep } from "./loop.js";

/** An opaque storage slot of a backend. */
export interface Slot {
  readonly bytes: number;
}

/** A compiled kernel, opaque outside its backend. */
export interface Executable {
  readonly kernel: Kernel;
}

/** One step of a planned program over slot ids: `alloc` stores a new slot at its id, `free` releases one. */
export type ProgramStep =
  | { readonly op: "alloc"; readonly id: number; readonly dtype: DType; readonly size: number }
  | {
      readonly op: "dispatch";
      readonly exe: Executable;
      readonly ins: readonly number[];
      readonly outs: readonly number[];
      readonly params: Int32Array;
    }
  | { readonly op: "free"; readonly id: number }
  | LoopStep
  | HostStep;

/**
 * A host callback at this point of the program (debug.callback, debug.print): `run` gets the
 * slots of `ins` and reads them (synchronously where the backend can, else asynchronously,
 * callbacks kept in program order). `outs` holds only the effect id (−1), which orders host
 * steps among themselves when a plan is scheduled; backends ignore it.
 */
export interface HostStep {
  readonly op: "host";
  readonly ins: readonly number[];
  readonly outs: readonly number[];
  readonly run: (slots: readonly Slot[]) => void;
}

/** The id a host step "writes": host steps keep their order. */
export const EFFECT_ID = -1;

/** A whole compiled program, as `Backend.run` executes it (DESIGN decision 5). */
export interface BackendProgram {
  readonly steps: readonly ProgramStep[];
}

/**
 * What a backend provides: an ordered queue over opaque buffer slots. It sees kernels, never
 * primitives. `dispatch`, `write` and `free` never block and run in queue order; `read` is async
 * and rejects with a `BackendError` when the kernel that produced the slot failed (a poisoned
 * slot, whose error also poisons every kernel that reads it).
 */
export interface Backend {
  readonly name: string;
  /** Whether `readSync` can drain the queue on the calling thread. */
  readonly canReadSync: boolean;
  /**
   * Dtypes whose matmul is a fast GEMM: a primitive with a matmul plan (conv as im2col) uses
   * it for these. Absent: none.
   */
  readonly gemmDtypes?: readonly DType[];
  /** The most bytes one kernel may bind as one buffer (WebGPU's storage-binding limit); unbounded when absent. */
  readonly maxBindingBytes?: number;
  /** The code this backend generates for a kernel (for `jit(f).lower(...).text({ code: true })`). */
  kernelSource?(kernel: Kernel): string;
  /** The most buffers one kernel may read (WebGPU's storage-buffer limit less the output); unbounded when absent. */
  readonly maxKernelInputs?: number;
  alloc(dtype: DType, size: number): Slot;
  /** Releases the slot once the queued work that uses it has run. */
  free(slot: Slot): void;
  /** Fills a freshly allocated slot from host memory, copying it: the caller may reuse `data` afterwards. */
  write(slot: Slot, data: DataArray): void;
  compile(kernel: Kernel): Executable;
  /**
   * Runs `build` (a jitted program's recorded first run and its planning) with every kernel it
   * compiles built asynchronously and none executed — its outputs hold nothing and are thrown
   * away — and resolves once all are ready (WebGPU: `createComputePipelineAsync`). Absent:
   * kernels compile as they are first run.
   */
  prepare?(build: () => void): Promise<void>;
  /**
   * Enqueues a kernel writing one slot per declared output (`outputs` in kernel order);
   * `params` are its integer arguments (`{param: i}` in the IR). A kernel that fails poisons
   * every one of its outputs.
   */
  dispatch(exe: Executable, inputs: readonly Slot[], outputs: readonly Slot[], params: Int32Array): void;
  /**
   * Runs a whole program: `slots` holds the inputs' (and consts') slots at their ids, and each
   * alloc stores its new slot there. A jitted call after the first is one `run`. Absent, the
   * core runs the steps through alloc, dispatch and free (`runSteps`).
   */
  run?(program: BackendProgram, slots: Slot[]): void;
  /**
   * A variant of `exe` that may write output j over input p's slot for each [p, j] of `pairs`
   * (inputs `pointwiseInputs` allows, of output j's dtype and size): every output of an element
   * is computed before any is stored. Null where it cannot; absent: never (no in-place updates).
   */
  inPlace?(exe: Executable, pairs: readonly (readonly [number, number])[]): Executable | null;
  /**
   * A variant of `exe` for a program step that always dispatches it with `params` (its params
   * compiled in as constants). Absent: the kernel itself.
   */
  specialize?(exe: Executable, params: Int32Array): Executable;
  /**
   * Enqueues a copy of `size` elements of `dtype` from `src` at `srcOffset` to `dst` at
   * `dstOffset` (offsets in elements; float16 offsets and sizes even), in queue order; a
   * poisoned source poisons `dst`. Absent: programs have no loop steps (`lax.scan` under jit
   * replays its steps unrolled).
   */
  copy?(src: Slot, srcOffset: number, dst: Slot, dstOffset: number, size: number, dtype: DType): void;
  /**
   * Runs a while loop step (backend/loop.ts's WhileBody) on the device, without reading its
   * predicate on the calling thread: its outputs are written once the loop ends, and work
   * enqueued after it runs after it (WebGPU: chunks of iterations gated by a device-side flag).
   * Absent: the loop reads its predicate with `readSync` after every step.
   */
  runWhile?(step: LoopStep, slots: readonly Slot[]): void;
  /**
   * Runs a cond step (backend/loop.ts's CondBody) without reading its index on the calling
   * thread (WebGPU: every branch's dispatches gated on the device by the index). Absent: the
   * index is read with `readSync` and the chosen branch runs.
   */
  runCond?(step: LoopStep, slots: readonly Slot[]): void;
  /** Reads `size` elements from `offset` (in elements), after the queued work. */
  read(slot: Slot, dtype: DType, offset: number, size: number): Promise<DataArray>;
  readSync(slot: Slot, dtype: DType, offset: number, size: number): DataArray;
  /**
   * A read at this point of the queue that needs no submit or flush of its own (WebGPU: the copy
   * goes into the current command buffer, so the reads of a program's host steps share its
   * submit). Absent: `read`.
   */
  readAt?(slot: Slot, dtype: DType, offset: number, size: number): Promise<DataArray>;
  /** Resolves when the slot's value is computed; rejects like `read` when its kernel failed. */
  ready(slot: Slot): Promise<void>;
  /** Resolves when everything enqueued so far has run (or failed). */
  sync(): Promise<void>;
  /** Submits the queued work now. */
  flush(): void;
  /** The allocator's state, for backends that manage one heap (the CPU backend). */
  heapStats?(): HeapStats;
}
