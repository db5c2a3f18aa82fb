import { profiling, THREAD, traceClock, traceNow, traceSpan, traceSpanAt } from "../../core/profiler.js";
import type { DataArray, DType } from "../../dtype.js";
import { itemSize } from "../../dtype.js";
import { BackendError } from "../../errors.js";
import type { FusedKernel, Kernel } from "../../ir/kernel.js";
import { ProgramArenas, packArena } from "../arena.js";
import type { Backend, BackendProgram, Executable, Slot } from "../backend.js";
import { runLoop } from "../loop.js";
import { type CpuRun, canGenerateCode, generateFused } from "./codegen.js";
import { Heap, type HeapStats, MAX_PAGES } from "./heap.js";
import { interpretFused } from "./interpret.js";
import { matmulRunner, type WasmKernels } from "./matmul.js";
import { routineRunner } from "./routines/index.js";
import { wasmFusedRunner, wasmFusedUnsupported } from "./wasm/fused.js";
import { compileWasmKernels } from "./wasm/kernels.js";
import { poolUnavailable } from "./wasm/pool.js";

/**
 * How the CPU backend runs. `deferred` makes it behave like a remote device: queued work runs
 * on a later task, reads resolve on a later task and `dataSync` throws, so the test suite
 * proves nothing relies on synchronous execution. `codegen: "interpreter"` never calls
 * `new Function` (what a strict-CSP page gets automatically).
 */
export interface CpuOptions {
  deferred: boolean;
  codegen: "auto" | "js" | "interpreter";
  /** Queued kernels that force a flush. */
  flushEvery: number;
  /** Kernels in Wasm SIMD where the engine compiles Wasm ("off": the JS kernels, for comparison). */
  wasm: "auto" | "off";
  /** Fused multiply-add in the matmul microkernel: "auto" uses relaxed SIMD where the engine validates it. */
  relaxedSimd: "auto" | "off";
  /**
   * Threads for large kernels ("auto": the machine's parallelism, at most 8). More than one
   * needs a shared heap and workers: Node 20.16+ always, a browser page when it is cross-origin
   * isolated; elsewhere one thread (see `threadsReason`, also logged once with console.debug).
   */
  threads: number | "auto";
}

/** Whether a backend has said (once per process) why it runs on one thread. */
let loggedOneThread = false;

/** A block of the backend's heap (or nothing, for an empty array). */
class CpuSlot implements Slot {
  freed = false;
  poison: Error | null = null;
  constructor(
    private readonly heap: Heap,
    readonly dtype: DType,
    readonly size: number,
    readonly bytes: number,
    /** Byte offset in the heap; 0 when the slot holds no bytes. */
    readonly ptr: number,
  ) {}

  /** A typed view of the slot's elements (made fresh: a grow invalidates older views). */
  get data(): DataArray {
    return this.heap.view(this.dtype, this.ptr, this.size);
  }
}

class CpuExecutable implements Executable {
  constructor(
    readonly kernel: Kernel,
    readonly run: CpuRun,
    /** The generated JS, or null when interpreted. */
    readonly source: string | null,
  ) {}
}

type Op =
  | { kind: "dispatch"; exe: CpuExecutable; inputs: CpuSlot[]; outputs: CpuSlot[]; params: Int32Array }
  /** `size` elements from `src` at `srcOffset` to `dst` at `dstOffset` (a loop step's rows and carries). */
  | { kind: "copy"; src: CpuSlot; srcOffset: number; dst: CpuSlot; dstOffset: number; size: number }
  /** `keep`: the block is a program arena's — the slot is marked freed, the block stays. */
  | { kind: "free"; slot: CpuSlot; keep?: boolean }
  /** A collected program's arena block goes back to the heap (after the work queued before it). */
  | { kind: "release"; ptr: number }
  /** A read, ordered with the rest: copies out (or fails) when the queue reaches it. */
  | {
      kind: "read";
      slot: CpuSlot;
      offset: number;
      size: number;
      resolve: (d: DataArray) => void;
      reject: (e: unknown) => void;
    };

/** The embedded CPU backend: one heap (a WebAssembly.Memory), kernels as generated JS or interpreted closures. */
export class CpuBackend implements Backend {
  private queue: Op[] = [];
  private scheduled = false;
  private flushing = false;
  private fault: string | null = null;
  /** Every slot's bytes: one WebAssembly.Memory (kernels write their whole outputs, so blocks are not cleared). */
  readonly heap: Heap;
  /** Threads the Wasm kernels use, and why not more when that is fewer than requested. */
  readonly threads: number;
  readonly threadsReason: string | null;
  /** Kernels compiled to Wasm against the heap (null where the engine compiles no Wasm, e.g. a strict CSP). */
  private wasmKernels: WasmKernels | null | undefined;
  /** Kernels run (and of those, run in Wasm) and flushes made since creation (for tests and profiling). */
  readonly counters = {
    kernels: 0,
    /** Buffer-to-buffer copies run (a loop step's rows and carries). */
    copies: 0,
    flushes: 0,
    compiles: 0,
    wasmKernels: 0,
    wasmFallbacks: 0,
    /** Blocks taken from the heap allocator for arrays (a program's intermediates take none after its first run). */
    allocs: 0,
    /** Program intermediates placed in their arenas (count, bytes), and the arenas' heap blocks (one per program: count, bytes). */
    arenaSlots: 0,
    arenaSlotBytes: 0,
    arenaBlocks: 0,
    arenaBytes: 0,
  };
  /** Programs' arenas of intermediates: one heap block each, made at the first run (backend/arena.ts). */
  private readonly arenas = new ProgramArenas(
    (steps) => ({ plan: packArena(steps, (d, n) => n * itemSize(d)), base: null as number | null }),
    ({ base }) => base !== null && this.enqueue({ kind: "release", ptr: base }),
  );
  /**
   * Why fused kernels compiled to JS where Wasm runs (reason → kernels): float64 and float16
   * storage, float `rem` and integer `pow` today. Routines and non-float32 matmuls are JS
   * kernels by design for now and are not counted.
   */
  readonly wasmFallbackReasons = new Map<string, number>();

  constructor(
    readonly options: CpuOptions,
    readonly name = "cpu",
  ) {
    const want = options.threads === "auto" ? Math.min(8, machineThreads()) : Math.max(1, Math.floor(options.threads));
    const why = options.wasm === "off" ? "wasm is off" : poolUnavailable(want);
    this.threads = why === null ? want : 1;
    this.threadsReason = why === null || why === "one thread requested" ? null : why;
    if (this.threadsReason && why !== "wasm is off" && !loggedOneThread) {
      loggedOneThread = true;
      console.debug(`webjax cpu: one thread instead of ${want}: ${this.threadsReason}`);
    }
    this.heap = new Heap(1 << 20, { shared: this.threads > 1 });
  }

  /** Conv runs as im2col + the packed GEMM (Wasm SIMD, or the JS kernel's register tiles). */
  readonly gemmDtypes: readonly DType[] = ["float32"];
  get canReadSync(): boolean {
    return !this.options.deferred;
  }

  /** The Wasm kernels, compiled on first use. */
  get wasm(): WasmKernels | null {
    if (this.wasmKernels === undefined)
      this.wasmKernels = compileWasmKernels(this, this.heap, { ...this.options, threads: this.threads });
    return this.wasmKernels;
  }

  get usesCodegen(): boolean {
    return this.options.codegen === "js" || (this.options.codegen === "auto" && canGenerateCode());
  }

  alloc(dtype: DType, size: number): CpuSlot {
    const bytes = size * itemSize(dtype);
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new BackendError(`cpu: cannot allocate ${size} elements of ${dtype}`);
    }
    this.counters.allocs++;
    return new CpuSlot(this.heap, dtype, size, bytes, bytes === 0 ? 0 : this.heap.alloc(bytes));
  }

  /** The heap's allocator state (memoryStats() reports it). */
  heapStats(): HeapStats {
    return this.heap.stats();
  }

  free(slot: Slot): void {
    this.enqueue({ kind: "free", slot: slot as CpuSlot });
  }

  write(slot: Slot, data: DataArray): void {
    const s = slot as CpuSlot;
    if (s.freed) throw new BackendError("cpu: write to a freed buffer");
    s.data.set(data);
  }

  compile(kernel: Kernel): CpuExecutable {
    if (!profiling()) return this.compileKernel(kernel);
    const t0 = traceNow();
    const exe = this.compileKernel(kernel);
    traceSpan(`compile ${kernel.label}`, "compile", THREAD.host, t0, { backend: "cpu", kind: kernel.kind });
    return exe;
  }

  private compileKernel(kernel: Kernel): CpuExecutable {
    this.counters.compiles++;
    if (kernel.kind === "matmul") {
      const fallback = (why: string) => this.fellBack(`${why} (in a matmul epilogue)`);
      const prologue = (f: FusedKernel) => this.fusedRunner(f).run;
      return new CpuExecutable(kernel, matmulRunner(kernel, this.wasm, fallback, prologue), null);
    }
    if (kernel.kind === "routine") return new CpuExecutable(kernel, routineRunner(kernel.routine), null);
    const { run, source } = this.fusedRunner(kernel);
    return new CpuExecutable(kernel, run, source);
  }

  /**
   * In place is the kernel itself: every fused runner (Wasm, JS, interpreted) computes all of an
   * element's outputs before it stores any, threads split the elements, and a matmul with an
   * epilogue accumulates into its own block, which the epilogue then maps into the output.
   */
  inPlace(exe: Executable): Executable | null {
    return exe.kernel.kind === "fused" || (exe.kernel.kind === "matmul" && exe.kernel.epilogue) ? exe : null;
  }

  /** A fused kernel's runner: Wasm where it takes the kernel, else generated JS, else interpreted. */
  private fusedRunner(kernel: FusedKernel): { run: CpuRun; source: string | null } {
    const wasm = this.wasm;
    if (wasm) {
      const why = wasmFusedUnsupported(kernel);
      if (why === null) {
        const memory = { shared: this.heap.shared, maxPages: MAX_PAGES };
        const run = wasmFusedRunner(kernel, this.heap.memory, memory, wasm.pool);
        return { run: run as unknown as CpuRun, source: null };
      }
      this.fellBack(why);
    }
    if (this.usesCodegen) return generateFused(kernel);
    return { run: interpretFused(kernel), source: null };
  }

  /**
   * A kernel's code as this backend runs it: for a fused kernel its generated JS (the Wasm
   * module, where it runs, is built from the same IR op for op); matmuls and routines name their
   * hand-written implementation.
   */
  kernelSource(kernel: Kernel): string {
    if (kernel.kind === "matmul") {
      const pro =
        kernel.lhs.prologue || kernel.rhs.prologue
          ? ", its prologues compiled as fused elementwise passes into contiguous operand blocks"
          : "";
      const epi = `${pro}${kernel.epilogue ? ", its epilogue compiled as a fused elementwise pass over each block" : ""}`;
      return `${kernel.dtype === "float32" && this.wasm ? "Wasm SIMD GEMM (packed BLIS-style 4×8 microkernel)" : "JS matmul"}${epi}`;
    }
    if (kernel.kind === "routine") return `routine '${kernel.routine.name}' (JS over typed arrays)`;
    const wasm = this.wasm && wasmFusedUnsupported(kernel) === null ? "runs as WebAssembly; its JS form:\n" : "";
    return `${wasm}${generateFused(kernel).source}`;
  }

  /** Counts a fused kernel that Wasm could not take, with the reason. */
  private fellBack(why: string): void {
    this.counters.wasmFallbacks++;
    this.wasmFallbackReasons.set(why, (this.wasmFallbackReasons.get(why) ?? 0) + 1);
  }

  /**
   * A jitted program's steps, in order (DESIGN decision 5: one call per program run). Its
   * intermediates live in the program's arena (backend/arena.ts): heap blocks made at its first
   * run and kept, so a call takes no block from the allocator but for its outputs.
   */
  run(program: BackendProgram, slots: Slot[]): void {
    const arena = this.arenas.of(program);
    const { plan } = arena;
    if (arena.base === null && plan.bytes > 0) {
      arena.base = this.heap.alloc(plan.bytes);
      this.counters.arenaBlocks++;
      this.counters.arenaBytes += plan.bytes;
    }
    for (const s of program.steps) {
      if (s.op === "alloc") {
        const offset = plan.offsetOf.get(s);
        if (offset === undefined) {
          slots[s.id] = this.alloc(s.dtype, s.size);
          continue;
        }
        const bytes = s.size * itemSize(s.dtype);
        this.counters.arenaSlots++;
        this.counters.arenaSlotBytes += bytes;
        slots[s.id] = new CpuSlot(this.heap, s.dtype, s.size, bytes, bytes === 0 ? 0 : (arena.base as number) + offset);
      } else if (s.op === "free") {
        this.enqueue({ kind: "free", slot: slots[s.id] as CpuSlot, keep: plan.ids.has(s.id) });
      } else if (s.op === "loop") {
        runLoop(this, s, slots);
      } else if (s.op === "host") {
        s.run(s.ins.map((i) => slots[i] as Slot));
      } else {
        this.dispatch(
          s.exe,
          s.ins.map((i) => slots[i] as Slot),
          s.outs.map((i) => slots[i] as Slot),
          s.params,
        );
      }
    }
  }

  copy(src: Slot, srcOffset: number, dst: Slot, dstOffset: number, size: number): void {
    const [a, b] = [src as CpuSlot, dst as CpuSlot];
    if (a.freed || b.freed) throw new BackendError("cpu: a copy reads or writes a freed buffer");
    if (srcOffset < 0 || dstOffset < 0 || srcOffset + size > a.size || dstOffset + size > b.size) {
      throw new BackendError(
        `cpu: a copy of ${size} elements from ${srcOffset} of ${a.size} to ${dstOffset} of ${b.size} is out of range`,
      );
    }
    this.enqueue({ kind: "copy", src: a, srcOffset, dst: b, dstOffset, size });
  }

  dispatch(exe: Executable, inputs: readonly Slot[], outputs: readonly Slot[], params: Int32Array): void {
    for (const s of inputs) {
      if ((s as CpuSlot).freed) throw new BackendError(`cpu: kernel '${exe.kernel.label}' reads a freed buffer`);
    }
    this.enqueue({
      kind: "dispatch",
      exe: exe as CpuExecutable,
      inputs: inputs as CpuSlot[],
      outputs: outputs as CpuSlot[],
      params,
    });
  }

  /** Test hook: the next kernel to run fails with this message (its outputs become poisoned). */
  failNextKernel(message: string): void {
    this.fault = message;
  }

  private enqueue(op: Op): void {
    this.queue.push(op);
    if (this.queue.length >= this.options.flushEvery) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (this.options.deferred) laterTask(() => this.flush());
      else queueMicrotask(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const ops = this.queue;
        this.queue = [];
        this.counters.flushes++;
        for (const op of ops) this.runOp(op);
      }
    } finally {
      this.flushing = false;
    }
  }

  private runOp(op: Op): void {
    if (op.kind === "free") {
      const slot = op.slot;
      if (!slot.freed) {
        slot.freed = true;
        if (slot.bytes > 0 && !op.keep) this.heap.free(slot.ptr);
      }
      return;
    }
    if (op.kind === "release") {
      this.heap.free(op.ptr);
      return;
    }
    if (op.kind === "copy") {
      if (op.src.poison) op.dst.poison = op.src.poison;
      else if (op.size > 0) {
        this.counters.copies++;
        const t0 = profiling() ? traceNow() : -1;
        op.dst.data.set(op.src.data.subarray(op.srcOffset, op.srcOffset + op.size) as never, op.dstOffset);
        if (t0 >= 0) traceSpan("copy", "copy", THREAD.cpu, t0, { elements: op.size });
      }
      return;
    }
    if (op.kind === "read") {
      try {
        op.resolve(this.copyOut(op.slot, op.offset, op.size));
      } catch (e) {
        op.reject(e);
      }
      return;
    }
    const { exe, inputs, outputs } = op;
    const poisoned = inputs.find((s) => s.poison);
    if (poisoned) {
      for (const o of outputs) o.poison = poisoned.poison;
      return;
    }
    try {
      if (this.fault !== null) {
        const message = this.fault;
        this.fault = null;
        throw new Error(message);
      }
      this.counters.kernels++;
      const wasm = (exe.run as { wasm?: boolean }).wasm === true;
      if (wasm) this.counters.wasmKernels++;
      const t0 = profiling() ? traceNow() : -1;
      const pool = t0 >= 0 ? this.wasm?.pool : undefined;
      if (pool) pool.shares = [];
      try {
        exe.run(
          inputs.map((s) => s.data),
          outputs.map((s) => s.data),
          op.params,
        );
      } catch (e) {
        if (pool) pool.shares = null;
        throw e;
      }
      if (t0 >= 0) {
        traceSpan(exe.kernel.label, "kernel", THREAD.cpu, t0, { backend: "cpu", kind: exe.kernel.kind, wasm });
        // The workers' shares of it, on their own tracks.
        for (const [w, start, end] of pool?.shares ?? []) {
          traceSpanAt(exe.kernel.label, "worker", THREAD.cpuWorker0 + w, traceClock(start), (end - start) * 1000, {
            worker: w + 1,
          });
        }
        if (pool) pool.shares = null;
      }
    } catch (e) {
      const error = Object.assign(
        new BackendError(`cpu: kernel '${exe.kernel.label}' failed: ${(e as Error).message}`, { cause: e }),
        // Which kernel and output failed: the core names the op's call site (core/call-sites.ts).
        { origin: exe, originSlot: outputs[0] },
      );
      for (const o of outputs) o.poison = error;
    }
  }

  /** Enqueues a read; it resolves when the queue reaches it (now in normal mode, on a later task when deferred). */
  private enqueueRead(slot: CpuSlot, offset: number, size: number): Promise<DataArray> {
    const p = new Promise<DataArray>((resolve, reject) => {
      this.queue.push({ kind: "read", slot, offset, size, resolve, reject });
    });
    if (this.options.deferred) {
      if (!this.scheduled) {
        this.scheduled = true;
        laterTask(() => this.flush());
      }
    } else this.flush();
    return p;
  }

  private copyOut(slot: CpuSlot, offset: number, size: number): DataArray {
    if (slot.poison) throw slot.poison;
    if (slot.freed) throw new BackendError("cpu: read of a freed buffer");
    return slot.data.slice(offset, offset + size);
  }

  read(slot: Slot, _dtype: DType, offset: number, size: number): Promise<DataArray> {
    return this.enqueueRead(slot as CpuSlot, offset, size);
  }

  readSync(slot: Slot, _dtype: DType, offset: number, size: number): DataArray {
    if (this.options.deferred) {
      throw new BackendError(
        "dataSync: the cpu backend runs deferred here, so values are not ready synchronously; use `await x.data()`",
      );
    }
    this.flush();
    return this.copyOut(slot as CpuSlot, offset, size);
  }

  async ready(slot: Slot): Promise<void> {
    await this.enqueueRead(slot as CpuSlot, 0, 0);
  }

  async sync(): Promise<void> {
    const s = new CpuSlot(this.heap, "bool", 0, 0, 0);
    await this.enqueueRead(s, 0, 0);
  }
}

/** Runs `f` on a later task (a macrotask, not a microtask). */
function laterTask(f: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (g.setImmediate) g.setImmediate(f);
  else setTimeout(f, 0);
}

const defaults: CpuOptions = {
  deferred: false,
  codegen: "auto",
  flushEvery: 256,
  wasm: "auto",
  relaxedSimd: "auto",
  threads: "auto",
};

/** The machine's parallelism (Node's availableParallelism, a browser's hardwareConcurrency). */
function machineThreads(): number {
  const g = globalThis as {
    navigator?: { hardwareConcurrency?: number };
    process?: { getBuiltinModule?: (m: string) => { availableParallelism?: () => number } | undefined };
  };
  const os = g.process?.getBuiltinModule?.("node:os");
  return os?.availableParallelism?.() ?? g.navigator?.hardwareConcurrency ?? 1;
}
let configured: CpuOptions = { ...defaults };

/** Options of the CPU backend created next (see `configureCpu`). */
export function cpuOptions(): CpuOptions {
  return configured;
}

/** Sets CPU backend options; takes effect for the backend instance created after this call. */
export function setCpuOptions(options: Partial<CpuOptions>): void {
  configured = { ...configured, ...options };
}
