import { type Backend, BackendError, type BackendProgram, type DType, type Executable, type Slot } from "@webjax/core";
import { type Kernel, type LoopStep, ProgramArenas, profiling, traceNow } from "@webjax/core/internal";
import { checkTuning, type Tuning, tuningFor } from "./codegen/matmul-tiles.js";
import { runDeviceCond } from "./device-cond.js";
import { runDeviceWhile } from "./device-loop.js";
import {
  bytesOf,
  type Compiled,
  type DataArray,
  describe,
  firstError,
  GpuCounters,
  type GpuExecutable,
  GpuRoutine,
  GpuSlot,
  useSerial,
  useSplit,
  workgroups,
} from "./executables.js";
import { type Gate, gatedCopy, type LoopHost } from "./gate.js";
import type { WebGPULimits } from "./limits.js";
import { type BackendParts, makeLoopHost } from "./loop-host.js";
import { endBatch, type SubmitErrors, SubmitOrder } from "./order.js";
import { type Batch, encodeRoutine, encodeSplit, type PassRecorder, splitPipelines } from "./passes.js";
import { compileKernel, kernelSource, Pipelines } from "./pipelines.js";
import { BufferPool, Usage } from "./pool.js";
import { runProgramSteps } from "./program-run.js";
import { type Bound, createBindGroup, padParams, planGpuArena, StepCaches } from "./program-state.js";
import { planRoutine } from "./routines/index.js";
import { type Chunk, flatChunks } from "./split.js";
import { beginTimed, endTimed } from "./timestamps.js";
import { copyBetweenPasses, copyRange, readSlot, readSlotAt, uploadWords } from "./transfers.js";
import { inPlaceVariant, specializedVariant } from "./variants.js";

export { GpuSlot } from "./executables.js";

export interface WebGPUBackendOptions {
  /** Dispatches recorded before a submit is forced (default 64). */
  flushEvery?: number;
  /** Submits in flight before forced submits wait for the next read or task end (default 8). */
  maxInFlight?: number;
  /**
   * The matmul tuning table's row (matmul-tiles.ts: "nvidia", "amd", "apple", "intel",
   * "qualcomm", "arm", "default"), or a tuning of one's own (tile shapes tried for a GPU);
   * default: the row of the adapter's vendor.
   */
  matmulTuning?: string | Tuning;
  /** Iterations of a device while loop between two reads of its flag (default 32). */
  whileChunk?: number;
}

/**
 * The WebGPU backend: WGSL generated from the kernel IR, one command encoder (one compute pass)
 * per flush, a pipeline cache keyed by source, pooled buffers, async readback, and errors
 * surfaced as BackendError on the reads of the outputs they poisoned.
 */
export class WebGPUBackend implements Backend {
  readonly name = "webgpu";
  readonly canReadSync = false;

  /** Convolutions run as im2col patches and the tiled matmul (eager, and jit's rule 5c). */
  readonly gemmDtypes: readonly DType[] = ["float32"];
  /** Patches that one binding cannot hold take the direct convolution kernel. */
  get maxBindingBytes(): number {
    return this.limits.maxStorageBufferBindingSize;
  }
  /** Fusion keeps a kernel's inputs and its output within the storage-buffer limit. */
  get maxKernelInputs(): number {
    return this.limits.maxStorageBuffersPerShaderStage - 1;
  }
  /** Work done (for tests and profiling). */
  readonly counters = new GpuCounters();
  private batch: Batch | null = null;
  private scheduled = false;
  /** Set while a program's steps are recorded: its dispatches go into one submit. */
  private inProgram = false;
  private inFlight = 0;
  /** Pipelines by WGSL source (pipelines.ts). */
  private readonly pipelines: Pipelines;
  private readonly storage: BufferPool;
  private readonly uniforms: BufferPool;
  /** Readback buffers (MAP_READ), reused once unmapped. */
  private readonly staging: BufferPool;
  /** Device loops' args pages (indirect dispatch counts). */
  private readonly args: BufferPool;
  /** Command buffers held behind device loops, in order (order.ts). */
  readonly order: SubmitOrder;
  /** The number of the command buffer (or device loop) being built; pool releases are tagged with it. */
  private epoch = 0;
  /** While a device loop's iterations are encoded: their dispatches are gated (device-loop.ts). */
  private gate: Gate | null = null;
  private readonly loopHost: LoopHost;
  private readonly parts: BackendParts;
  /** Program steps' param buffers and bind groups, kept between calls. */
  readonly steps: StepCaches;
  /** Programs' arenas of intermediates (program-state.ts); collected programs' buffers go back to the pool. */
  private readonly arenas = new ProgramArenas(
    (steps) => planGpuArena(steps, this.limits),
    ({ buffers }) => {
      if (this.lostReason === null) for (const b of buffers) if (b) this.storage.retire(b);
    },
  );
  private readonly flushEvery: number;
  /** Matmul tile shapes for this adapter's vendor (matmul-tiles.ts). */
  readonly tuning: Tuning;
  /** This backend as passes.ts sees it (routines, split reductions). */
  private readonly recorder: PassRecorder;
  private fault: string | null = null;
  /** While a `prepare` builds: its pipelines being made. */
  private preparing: Promise<Error | null>[] | null = null;
  private readonly maxInFlight: number;
  /** Why the device was lost, once it was. */
  lostReason: string | null = null;

  constructor(
    readonly device: GPUDevice,
    readonly limits: WebGPULimits,
    readonly adapterInfo: string,
    options: WebGPUBackendOptions = {},
  ) {
    this.flushEvery = options.flushEvery ?? 64;
    this.maxInFlight = options.maxInFlight ?? 8;
    const tuning = options.matmulTuning ?? adapterInfo.split(" ")[0] ?? "";
    this.tuning = typeof tuning === "string" ? tuningFor(tuning) : checkTuning(tuning);
    this.storage = new BufferPool(device, Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST, 256 * 1024 * 1024, "webjax");
    this.uniforms = new BufferPool(device, Usage.UNIFORM | Usage.COPY_DST, 4 * 1024 * 1024, "webjax-params");
    this.staging = new BufferPool(device, Usage.MAP_READ | Usage.COPY_DST, 64 * 1024 * 1024, "webjax-read");
    this.args = new BufferPool(
      device,
      Usage.STORAGE | Usage.INDIRECT | Usage.COPY_DST,
      4 * 1024 * 1024,
      "webjax-loop-args",
    );
    this.steps = new StepCaches(device);
    this.pipelines = new Pipelines(device, this.counters);
    this.order = new SubmitOrder(device);
    this.parts = this.backendParts();
    this.loopHost = makeLoopHost(this.parts, options.whileChunk ?? 32);
    this.recorder = {
      limits,
      storage: this.storage,
      counters: this.counters,
      pipeline: (label, source) => this.pipeline(label, source),
      record: (...args) => this.record(...args),
    };
  }

  /** GPU buffers created so far (storage, params and readback): flat over a steady loop after warm-up. */
  get buffersCreated(): number {
    return this.storage.created + this.uniforms.created + this.staging.created + this.args.created + this.steps.created;
  }

  private alive(): void {
    if (this.lostReason !== null) {
      throw new BackendError(`webgpu: the device was lost (${this.lostReason}); call await init() to create a new one`);
    }
  }

  alloc(dtype: DType, size: number): GpuSlot {
    this.alive();
    if (dtype === "float64") {
      throw new BackendError("webgpu: float64 arrays live on the cpu backend only (devicePut(x, 'cpu'))");
    }
    const bytes = bytesOf(dtype, size);
    if (bytes > this.limits.maxBufferSize) {
      throw new BackendError(
        `webgpu: an array of ${size} ${dtype} (${bytes} bytes) is past this device's maxBufferSize (${this.limits.maxBufferSize})`,
      );
    }
    const slot = new GpuSlot(dtype, size, bytes, null);
    this.counters.allocs++;
    slot.buffer = this.scoped(slot, "allocating", () => this.storage.acquire(Math.max(bytes, 4)));
    return slot;
  }

  /**
   * Runs host-side device calls (buffer creation, uploads) in error scopes, so a failure
   * reaches the slot's check (and every read of it) instead of only the uncaught-error log.
   */
  private scoped<T>(slot: GpuSlot, what: string, f: () => T): T {
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    const result = f();
    const errors = Promise.all([this.device.popErrorScope(), this.device.popErrorScope()]).then(([v, o]) => {
      const err = v ?? o;
      return err
        ? new BackendError(`webgpu: ${what} a ${slot.dtype}[${slot.size}] buffer failed: ${err.message}`)
        : null;
    });
    slot.check = slot.check ? firstError([slot.check, errors]) : errors;
    return result;
  }

  free(slot: Slot): void {
    const s = slot as GpuSlot;
    if (s.buffer && this.lostReason === null) this.storage.release(s.buffer);
    s.buffer = null;
  }

  write(slot: Slot, data: DataArray): void {
    this.alive();
    const s = slot as GpuSlot;
    const words = uploadWords(s, data);
    if (!s.buffer || !words) return;
    const buffer = s.buffer;
    this.scoped(s, "uploading", () =>
      this.device.queue.writeBuffer(buffer, s.offset, words.buffer, words.byteOffset, words.byteLength),
    );
  }

  compile(kernel: Kernel): GpuExecutable | GpuRoutine {
    this.alive();
    return compileKernel(kernel, this.limits, this.tuning, (label, source) => this.pipeline(label, source));
  }

  inPlace(exe: Executable, pairs: readonly (readonly [number, number])[]): Executable | null {
    return inPlaceVariant(exe, pairs, (label, source) => this.pipeline(label, source));
  }

  specialize(exe: Executable, params: Int32Array): Executable {
    return specializedVariant(exe, params, (label, source) => this.pipeline(label, source), this.tuning);
  }

  /** The WGSL of a kernel (routines are several passes: named only). */
  kernelSource(kernel: Kernel): string {
    return kernelSource(kernel, this.tuning);
  }

  /** A compute pipeline from the cache keyed by WGSL source (pipelines.ts). */
  private pipeline(label: string, source: string): Compiled {
    return this.pipelines.get(label, source, this.preparing);
  }

  /**
   * Runs `build` with pipelines made asynchronously and dispatches not recorded (each compiles
   * what it would run: a routine's passes, a split reduction's two); resolves when every
   * pipeline is ready (their errors reach the reads of what the kernels write, as always).
   */
  async prepare(build: () => void): Promise<void> {
    this.alive();
    const outer = this.preparing;
    const pending = outer ?? [];
    this.preparing = pending;
    try {
      build();
    } finally {
      this.preparing = outer;
    }
    if (!outer) await Promise.all(pending);
  }

  private open(): Batch {
    if (this.batch) return this.batch;
    this.device.pushErrorScope("validation");
    this.device.pushErrorScope("out-of-memory");
    const encoder = this.device.createCommandEncoder({ label: "webjax" });
    let settle: (e: Error | null) => void = () => {};
    const errors = new Promise<Error | null>((resolve) => {
      settle = resolve;
    });
    this.batch = { encoder, pass: encoder.beginComputePass(), labels: [], dispatches: 0, settle, errors };
    return this.batch;
  }

  /**
   * A jitted program's steps, in order, into the current batch's compute pass: one submit at
   * the next flush however many dispatches it holds (DESIGN decision 5: one call per program
   * run). Buffers it frees are held until that submit.
   */
  run(program: BackendProgram, slots: Slot[]): void {
    const outer = this.inProgram;
    this.inProgram = true;
    try {
      runProgramSteps(this, this.arenas.of(program), program, slots);
    } finally {
      this.inProgram = outer;
    }
    if (!outer && this.batch && this.batch.dispatches >= this.flushEvery && this.inFlight < this.maxInFlight)
      this.flush();
  }

  /** A buffer of exactly `bytes` for a program arena's block (program-run.ts). */
  arenaBuffer(slot: GpuSlot, bytes: number): GPUBuffer {
    return this.scoped(slot, "allocating the program arena for", () => this.storage.acquireExact(bytes));
  }

  /**
   * A buffer-to-buffer copy between compute passes (a loop step's rows and carries): the current
   * pass ends, the copy is encoded, a new pass begins, all in one command buffer.
   */
  copy(src: Slot, srcOffset: number, dst: Slot, dstOffset: number, size: number, dtype: DType): void {
    this.alive();
    const [a, b] = [src as GpuSlot, dst as GpuSlot];
    if (a.poison) {
      b.poison = a.poison;
      return;
    }
    const { from, to, bytes } = copyRange(a, srcOffset, b, dstOffset, size, dtype);
    if (this.preparing || bytes === 0) return;
    const batch = this.open();
    if (this.gate && this.gate.mode !== "off") {
      // Inside a device loop's iteration a copy must be skippable: a copy kernel, dispatched gated.
      const params: GPUBuffer[] = [];
      const [src, dst] = [
        { buffer: a.buffer as GPUBuffer, word: (a.offset + from) / 4 },
        { buffer: b.buffer as GPUBuffer, word: (b.offset + to) / 4 },
      ];
      gatedCopy(this.loopHost, this.gate, batch, src, dst, bytes / 4, params);
      for (const u of params) this.uniforms.release(u);
      return;
    }
    copyBetweenPasses(batch, a.buffer as GPUBuffer, a.offset + from, b.buffer as GPUBuffer, b.offset + to, bytes);
    this.counters.copies++;
    b.check = firstError([batch.errors, ...(a.check ? [a.check] : []), ...(b.check ? [b.check] : [])]);
    this.flushSoon();
  }

  /** Submits at the end of this task (unless something submits first). */
  private flushSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => this.flush(), 0);
  }

  dispatch(exe: Executable, inputs: readonly Slot[], outputs: readonly Slot[], params: Int32Array): void {
    this.alive();
    const ins = inputs as GpuSlot[];
    const outs = outputs as GpuSlot[];
    const poisoned = ins.find((s) => s.poison);
    if (poisoned) {
      for (const o of outs) o.poison = poisoned.poison;
      return;
    }
    for (const s of ins) {
      if (!s.buffer) throw new BackendError(`webgpu: kernel '${exe.kernel.label}' reads a freed buffer`);
    }
    if (this.preparing) {
      if (exe instanceof GpuRoutine) {
        for (const pass of planRoutine(exe.kernel.routine, params, exe.source).passes)
          this.pipeline(`${exe.kernel.label}: ${pass.label}`, pass.source);
      } else if (exe.kernel.kind === "fused" && useSplit(exe.kernel, params)) {
        splitPipelines(this.recorder, exe as GpuExecutable, exe.kernel);
      }
      return;
    }
    const batch = this.open();
    const t0 = profiling() ? traceNow() : -1;
    const timed = t0 >= 0 && beginTimed(this.device, batch, exe.kernel.label);
    const faulting = this.fault !== null;
    const compiled =
      exe instanceof GpuRoutine
        ? encodeRoutine(this.recorder, batch, exe, ins, outs, params)
        : this.encodeKernel(batch, exe as GpuExecutable, ins, outs, params);
    batch.labels.push(exe.kernel.label);
    batch.exes ??= [];
    batch.exes.push(exe);
    if (faulting && this.fault === null) batch.faulted ??= exe;
    if (t0 >= 0) endTimed(batch, timed, exe.kernel.label, t0);
    const upstream = ins.map((s) => s.check).filter((c): c is Promise<Error | null> => c !== null);
    for (const out of outs) {
      // A gated (loop) dispatch writes its outputs again every iteration: its errors reach the
      // loop's outputs through the loop's own batches, so the chain does not grow per iteration.
      const previous = out.check && !this.gate ? [out.check] : [];
      out.check = firstError([batch.errors, ...compiled, ...upstream, ...previous]);
    }
    if (!this.inProgram && batch.dispatches >= this.flushEvery && this.inFlight < this.maxInFlight) this.flush();
    else this.flushSoon();
  }

  /** A fused or matmul kernel: one dispatch, or one per chunk past the binding size. Returns its compile checks. */
  private encodeKernel(
    batch: Batch,
    e: GpuExecutable,
    ins: GpuSlot[],
    outs: GpuSlot[],
    params: Int32Array,
  ): Promise<Error | null>[] {
    const k = e.kernel;
    const big = [...ins, ...outs].some((s) => s.bytes > this.limits.maxStorageBufferBindingSize);
    if (!big && k.kind === "fused" && useSplit(k, params))
      return encodeSplit(this.recorder, batch, e, k, ins, outs, params);
    const chunks: Chunk[] = big ? flatChunks(k, ins, outs, params, this.limits) : [{ params, ranges: null }];
    for (const chunk of chunks) this.encode(batch, e, ins, outs, chunk);
    batch.dispatches += chunks.length;
    this.counters.dispatches += chunks.length;
    return [e.main.compiled, ...(e.serial ? [e.serial.compiled] : [])];
  }

  /** Records one dispatch: its `nParams` params into a pooled uniform buffer, its bind group, the workgroups. */
  private record(
    batch: Batch,
    pipeline: GPUComputePipeline,
    params: Int32Array,
    nParams: number,
    buffers: readonly (Bound | null)[],
    [x, y, z]: [number, number, number],
    label: string,
  ): void {
    if (this.gate?.mode === "count") {
      this.gate.dispatch(null, x, y, z);
      return;
    }
    const paramBytes = Math.max(16, Math.ceil(nParams / 4) * 16);
    // A program step's record keeps its param buffer and bind groups; eager dispatches pool them.
    const kept = this.fault === null ? this.steps.record(pipeline, params, paramBytes) : null;
    let ub: GPUBuffer;
    if (kept) ub = kept.ub;
    else {
      ub = this.uniforms.acquire(paramBytes);
      this.device.queue.writeBuffer(ub, 0, padParams(params, paramBytes));
      this.uniforms.release(ub);
    }
    let bindGroup = kept?.find(buffers) ?? null;
    if (!bindGroup) {
      // An injected fault is a real validation error (a bind group missing its entries), so it
      // travels the same asynchronous path as any other failure.
      const fault = this.fault;
      if (fault !== null) batch.labels.push(`${label} (injected fault: ${fault})`);
      this.fault = null;
      bindGroup = createBindGroup(this.device, pipeline, ub, paramBytes, fault === null ? buffers : null, label);
      this.counters.bindGroups++;
      kept?.keep(buffers, bindGroup);
    }
    batch.pass.setPipeline(pipeline);
    batch.pass.setBindGroup(0, bindGroup);
    if (this.gate?.mode === "on") this.gate.dispatch(batch.pass, x, y, z);
    else batch.pass.dispatchWorkgroups(x, y, z);
  }

  private encode(batch: Batch, e: GpuExecutable, ins: GpuSlot[], outs: GpuSlot[], chunk: Chunk): void {
    const k = e.kernel;
    const buffers = [...ins, ...outs].map((s, i) => {
      if (e.alias?.has(i)) return null;
      const range = chunk.ranges?.[i];
      return {
        buffer: s.buffer as GPUBuffer,
        offset: s.offset + (range?.offset ?? 0),
        size: range?.size ?? Math.max(s.bytes, 4),
      };
    });
    const serial = e.serial !== null && k.kind === "fused" && useSerial(k, chunk.params);
    const pipeline = serial ? (e.serial as Compiled).pipeline : e.main.pipeline;
    const [x, y, z] = workgroups(k, chunk.params, this.limits, serial, e.tiles);
    this.record(batch, pipeline, chunk.params, e.nParams, buffers, [x, y, z], k.label);
  }

  flush(): void {
    this.scheduled = false;
    const b = this.batch;
    if (b && this.lostReason !== null) {
      // Lost: reads waiting on this batch settle (their mapping fails and names the loss).
      this.batch = null;
      for (const done of b.afterSubmit ?? []) done();
      return;
    }
    if (!b) return;
    this.batch = null;
    this.submitBatch(b, this.nextEpoch(), false);
  }

  /** The epoch being built ends (returned); releases from now on belong to the next. */
  private nextEpoch(): number {
    const e = this.epoch++;
    this.setEpoch(this.epoch);
    return e;
  }

  /** Tags the pools' releases from now on with `epoch`. */
  private setEpoch(epoch: number): void {
    this.storage.epoch = this.uniforms.epoch = this.args.epoch = epoch;
  }

  /**
   * Ends a batch and submits it — at once, or held behind a device loop (`direct`: a loop's own
   * batch, submitted now) — then recycles what epoch `epoch` released.
   */
  private submitBatch(b: Batch, epoch: number, direct: boolean): void {
    const { commands, settle } = endBatch(this.device, b);
    const after = (submit: SubmitErrors) => {
      settle.submitted(submit);
      this.counters.submits++;
      for (const pool of [this.storage, this.uniforms, this.args]) pool.submitted(epoch);
      this.inFlight++;
      this.device.queue.onSubmittedWorkDone().then(
        () => this.inFlight--,
        () => this.inFlight--,
      );
    };
    if (direct) {
      this.device.queue.submit([commands]);
      after(null);
    } else this.order.submit(commands, after);
    settle.scopes();
  }

  /** A while loop step on the device (device-loop.ts). */
  runWhile(step: LoopStep, slots: readonly Slot[]): void {
    this.alive();
    runDeviceWhile(this.loopHost, step, slots);
  }

  /** A cond step on the device (device-cond.ts): the branches' dispatches gated by the index, no readback. */
  runCond(step: LoopStep, slots: readonly Slot[]): void {
    this.alive();
    runDeviceCond(this.loopHost, step, slots);
  }

  /** What device loops (loop-host.ts) and reads (transfers.ts) need of this backend. */
  private backendParts(): BackendParts {
    return {
      alive: () => this.alive(),
      flushSoon: () => this.flushSoon(),
      device: this.device,
      counters: this.counters,
      pools: { storage: this.storage, uniforms: this.uniforms, staging: this.staging, args: this.args },
      limits: this.limits,
      preparing: () => this.preparing !== null,
      lostReason: () => this.lostReason,
      alloc: (dtype, size) => this.alloc(dtype, size),
      free: (slot) => this.free(slot),
      run: (program, slots) => this.run(program, slots),
      kernel: (label, source) => this.pipeline(label, source),
      flush: () => this.flush(),
      nextEpoch: () => this.nextEpoch(),
      setEpoch: (epoch) => this.setEpoch(epoch ?? this.epoch),
      order: this.order,
      swap: (next) => {
        const was = { batch: this.batch, gate: this.gate, inProgram: this.inProgram };
        Object.assign(this, next);
        return was;
      },
      open: () => this.open(),
      submitNow: (b, epoch) => this.submitBatch(b, epoch, true),
    };
  }

  read(slot: Slot, dtype: DType, offset: number, size: number): Promise<DataArray> {
    return readSlot(this.parts, slot as GpuSlot, dtype, offset, size);
  }

  /** A read at this point of the queue without a submit of its own (transfers.ts's `readSlotAt`). */
  readAt(slot: Slot, dtype: DType, offset: number, size: number): Promise<DataArray> {
    return readSlotAt(this.parts, slot as GpuSlot, dtype, offset, size);
  }

  readSync(): never {
    throw new BackendError("dataSync: the webgpu backend cannot read on the calling thread; use `await x.data()`");
  }

  async ready(slot: Slot): Promise<void> {
    const s = slot as GpuSlot;
    if (s.poison) throw s.poison;
    await this.sync();
    const err = await s.check;
    if (err) throw err;
  }

  async sync(): Promise<void> {
    this.alive();
    this.flush();
    await this.order.idle();
    await this.device.queue.onSubmittedWorkDone();
    this.alive();
  }

  /** Test hook: the next kernel dispatched fails on the device; its outputs and their dependents are poisoned. */
  failNextKernel(message: string): void {
    this.fault = message;
  }

  /** Marks the device lost (called from `device.lost`). */
  markLost(reason: string): void {
    this.lostReason = reason;
    if (this.batch) {
      this.batch.settle(
        new BackendError(`webgpu: the device was lost (${reason}) before kernels ${describe(this.batch.labels)} ran`),
      );
      // Reads waiting on it settle: their mapping fails and names the loss.
      for (const done of this.batch.afterSubmit ?? []) done();
      this.batch = null;
    }
  }

  /** Releases the device and every pooled buffer. */
  destroy(): void {
    this.flush();
    this.storage.destroyAll();
    this.uniforms.destroyAll();
    this.staging.destroyAll();
    this.args.destroyAll();
    this.pipelines.clear();
    this.device.destroy();
  }

  /** Pool state, for tests. */
  get poolStats(): { held: number; pooledBytes: number } {
    return this.storage.stats;
  }
}
