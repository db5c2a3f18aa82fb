/**
 * `lax.whileLoop` on the device (issue 24): a while loop step (core backend/loop.ts's
 * WhileBody) runs in chunks of iterations, each iteration's kernels gated by a device-side flag,
 * and the host reads the flag asynchronously once per chunk — never once per iteration.
 *
 * Every dispatch of an iteration (the body's kernels, the carry copies, the next cond's kernels)
 * is an indirect dispatch whose workgroup counts sit in an args buffer. They hold the real
 * counts (written by the host before the first chunk) until a tiny "gate" kernel, run after each
 * cond, finds the predicate false: it sets the status flag and clears the args (a "zero" kernel
 * clears each further page of them), so every later dispatch of the chunk runs no workgroups. The status also counts the
 * iterations run. A chunk is K iterations (`whileChunk`, default 32) plus the cond after them,
 * so a loop of n iterations reads its flag ⌈n / K⌉ times (once for n = 0).
 *
 * The carry lives in the loop's own slots: each iteration the body reads them and writes its
 * outputs into its own buffers, then gated copy kernels (never `copyBufferToBuffer`, which
 * cannot be skipped) move the outputs into the carry — a carry passed through the body goes
 * through a spare slot first, so a body that swaps carries stays right. At each chunk's end the
 * carry is copied into the step's outputs, so the last chunk leaves the result there.
 *
 * Work enqueued after the loop waits behind it (order.ts): the loop's outputs are allocated at
 * once, and everything after reads them only after the loop has ended.
 */
import { BackendError, type BackendProgram, type DType, type Slot } from "@webjax/core";
import {
  type BodyProgram,
  bindInputs,
  bindMade,
  type LoopOutput,
  type LoopStep,
  type WhileBody,
} from "@webjax/core/internal";
import { bytesOf, firstError, GpuSlot } from "./executables.js";
import {
  copySource,
  encodeCopy,
  Gate,
  type GateState,
  gatedCopy,
  type LoopHost,
  learn,
  PAGE,
  type PreparedCopy,
  prepareCopy,
} from "./gate.js";
import type { Batch } from "./passes.js";
import { copyBetweenPasses, mapStaging } from "./transfers.js";

interface LoopState extends GateState {
  readonly status: GPUBuffer;
}

/** Each loop's learned dispatch counts (the same at every call). */
const learned = new WeakMap<WhileBody, [number, number, number][]>();

/** The gate: reads the predicate, sets the status, and clears the first args page once it is set. */
const gateSource = (predWord: number) => `
@group(0) @binding(0) var<storage, read> pred: array<u32>;
@group(0) @binding(1) var<storage, read_write> status: array<u32>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;
var<workgroup> stop: u32;
@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) l: u32) {
  if (l == 0u) {
    if (status[0] == 0u && pred[${predWord}u] != 0u) { status[1] = status[1] + 1u; } else { status[0] = 1u; }
    stop = status[0];
  }
  workgroupBarrier();
  if (stop != 0u) { for (var i = l; i < arrayLength(&args); i = i + 64u) { args[i] = 0u; } }
}`;

/** Clears a further args page once the status is set. */
const zeroSource = `
@group(0) @binding(0) var<storage, read> status: array<u32>;
@group(0) @binding(1) var<storage, read_write> args: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (status[0] != 0u && g.x < arrayLength(&args)) { args[g.x] = 0u; }
}`;

/** Whether a body program can run gated: no host steps, no while loop inside (scan loops are searched). */
function unsupported(program: BackendProgram): string | null {
  for (const s of program.steps) {
    if (s.op === "host") return "a debug callback";
    if (s.op === "loop") {
      if (s.loop.kind === "while") return "a while loop";
      if (s.loop.kind === "cond") {
        // A cond step's own gate picks its branch; an iteration the loop skips may run it again
        // (it writes only the body's intermediates, which nothing reads then).
        for (const b of s.loop.branches) {
          const inner = unsupported(b.program);
          if (inner) return inner;
        }
        continue;
      }
      const inner = unsupported(s.loop.program);
      if (inner) return inner;
    }
  }
  return null;
}

/** Runs a while loop step on the device: queued now, its outputs written when it ends. */
export function runDeviceWhile(host: LoopHost, step: LoopStep, slots: readonly Slot[]): void {
  const w = step.loop as WhileBody;
  // The loop runs later: it holds its own slots over the buffers as they are now (the program
  // may free an output it does not return, or the caller an input, before the loop has run).
  const ins = step.ins.map((i) => snapshot(slots[i] as GpuSlot));
  const given = step.outs.map((i) => slots[i] as GpuSlot);
  const outs = given.map(snapshot);
  const why = unsupported(w.cond.program) ?? unsupported(w.body.program);
  if (why) {
    throw new BackendError(
      `webgpu: a whileLoop whose cond or body holds ${why} cannot run on the device yet; move it out of the loop, or run the loop on the cpu backend`,
    );
  }
  const poisoned = ins.find((s) => s.poison);
  if (poisoned) {
    for (const o of given) o.poison = poisoned.poison;
    return;
  }
  if (host.preparing) {
    prepare(host, w, ins);
    return;
  }
  let settle: (e: Error | null) => void = () => {};
  const done = new Promise<Error | null>((resolve) => {
    settle = resolve;
  });
  const upstream = ins.flatMap((s) => (s.check ? [s.check] : []));
  for (const o of given) o.check = firstError([done, ...upstream, ...(o.check ? [o.check] : [])]);
  // Bound now, while every const the bodies read is alive (its buffer then stays the loop's).
  const loop = new DeviceWhile(host, w, ins, outs);
  host.enqueueLoop((epoch) =>
    loop.drive(epoch).then(
      (errs) => settle(errs),
      (e: unknown) => settle(e instanceof Error ? e : new BackendError(String(e))),
    ),
  );
}

/** Under `prepare`: the cond's and body's pipelines (and the loop's own) are made, nothing runs. */
function prepare(host: LoopHost, w: WhileBody, ins: readonly GpuSlot[]): void {
  const carry = w.carry.map((c) => host.alloc(c.dtype, c.size));
  const made = [...w.cond.made, ...w.body.made].map((m) => host.alloc(m.dtype, m.size));
  const [cc, bc] = [w.numCondConsts, w.numBodyConsts];
  try {
    const condLocal = new globalThis.Array<Slot>(w.cond.nIds);
    bindInputs(w.cond, condLocal, [...ins.slice(0, cc), ...carry]);
    bindMade(w.cond, condLocal, made.slice(0, w.cond.made.length));
    host.run(w.cond.program, condLocal);
    const bodyLocal = new globalThis.Array<Slot>(w.body.nIds);
    bindInputs(w.body, bodyLocal, [...ins.slice(cc, cc + bc), ...carry]);
    bindMade(w.body, bodyLocal, made.slice(w.cond.made.length));
    host.run(w.body.program, bodyLocal);
    const p = w.cond.outs[0] as LoopOutput;
    host.kernel("while loop: gate", gateSource(predWord(condLocal[p.id] as GpuSlot, p.offset)));
    host.kernel("while loop: zero", zeroSource);
    host.kernel("while loop: carry copy", copySource);
  } finally {
    for (const s of [...carry, ...made]) host.free(s);
  }
}

export function snapshot(s: GpuSlot): GpuSlot {
  if (!s.buffer) throw new BackendError("webgpu: a while loop reads or writes a freed buffer");
  const c = new GpuSlot(s.dtype, s.size, s.bytes, s.buffer, s.offset);
  c.check = s.check;
  c.poison = s.poison;
  return c;
}

const predWord = (s: GpuSlot, offset: number) => s.offset / 4 + offset;

/** Where a carry leaf comes from after an iteration: a body output, staged through a spare where it is a carry slot. */
interface CarryMove {
  readonly src: GpuSlot;
  readonly word: number;
  readonly spare: GpuSlot | null;
}

class DeviceWhile {
  private readonly carry: GpuSlot[];
  private readonly condMade: GpuSlot[];
  private readonly bodyMade: GpuSlot[];
  private readonly condLocal: Slot[];
  private readonly bodyLocal: Slot[];
  private readonly moves: CarryMove[];
  private readonly state: LoopState;
  private readonly status: GpuSlot;
  private readonly gate: Gate;
  private gateGroup: GPUBindGroup | null = null;
  /** Uniform buffers of the copy kernels, released when the loop ends. */
  private readonly params: GPUBuffer[] = [];

  constructor(
    private readonly host: LoopHost,
    private readonly w: WhileBody,
    private readonly ins: readonly GpuSlot[],
    private readonly outs: readonly GpuSlot[],
  ) {
    const [cc, bc] = [w.numCondConsts, w.numBodyConsts];
    this.carry = w.carry.map((c) => host.alloc(c.dtype, c.size));
    this.condMade = w.cond.made.map((m) => host.alloc(m.dtype, m.size));
    this.bodyMade = w.body.made.map((m) => host.alloc(m.dtype, m.size));
    this.condLocal = bound(w.cond, [...ins.slice(0, cc), ...this.carry], this.condMade);
    this.bodyLocal = bound(w.body, [...ins.slice(cc, cc + bc), ...this.carry], this.bodyMade);
    this.moves = w.body.outs.map((o, k) => {
      const src = this.bodyLocal[o.id] as GpuSlot;
      const c = w.carry[k] as { dtype: DType; size: number };
      const spare = this.carry.includes(src) ? host.alloc(c.dtype, c.size) : null;
      return { src, word: src.offset / 4 + (o.offset * bytesOf(c.dtype, 1)) / 4, spare };
    });
    // The counts are learned once per loop; its status and args pages come from pools per call.
    this.status = host.alloc("int32", 4);
    this.state = {
      status: this.status.buffer as GPUBuffer,
      pages: [],
      templates: learned.get(w) ?? null,
      zeroGroups: [],
    };
    this.gate = new Gate(host.device, this.state, "webgpu whileLoop");
  }

  /** Runs the loop to its end; resolves with the first error of its command buffers. */
  async drive(epoch: number): Promise<Error | null> {
    try {
      for (let chunk = 0; ; chunk++) {
        const staging = this.host.staging.acquire(16);
        let failed: Promise<Error | null>;
        try {
          failed = this.host.loopSection(epoch, this.gate, (batch) => {
            if (chunk === 0) this.start(batch);
            for (let t = 0; t < this.host.whileChunk; t++) this.iteration(batch);
            copyBetweenPasses(batch, this.state.status, 0, staging, 0, 16);
            this.finish(batch);
          });
        } catch (e) {
          this.host.staging.recycle(staging);
          throw e;
        }
        this.host.counters.loopReads++;
        const [bytes, err] = await Promise.all([
          mapStaging(staging, 16, this.host.staging, () => this.host.lostReason),
          failed,
        ]);
        // A chunk that failed did not run: its flag says nothing, and the loop stops with its error.
        if (err) return err;
        if (new Uint32Array(bytes)[0] !== 0) return null;
      }
    } finally {
      // Everything the loop ran is submitted: its own buffers are reusable at once.
      this.host.releaseAfter(epoch, () => {
        const own = [this.status, ...this.carry, ...this.condMade, ...this.bodyMade, ...this.moves.map((m) => m.spare)];
        for (const s of own) if (s) this.host.free(s);
        for (const page of this.state.pages) this.host.args.release(page);
        for (const b of this.params) this.host.uniforms.release(b);
      });
    }
  }

  /** The first chunk's start: status cleared, args armed, the initial carry copied in, the first cond and its gate. */
  private start(batch: Batch): void {
    const { host, w, gate } = this;
    host.device.queue.writeBuffer(this.state.status, 0, new Uint32Array(4));
    if (!this.state.templates) {
      // The first call learns the iteration's dispatches (nothing is encoded, nothing counted);
      // kept only once the whole iteration has been counted.
      learn(host, gate, this.state, () => this.iterationKernels(batch));
      learned.set(w, this.state.templates ?? []);
    }
    gate.arm(() => host.args.acquire(PAGE * 12));
    const base = w.numCondConsts + w.numBodyConsts;
    this.carry.forEach((c, k) => {
      const from = this.ins[base + k] as GpuSlot;
      const at = (w.inOffsets[base + k] as number) * 4;
      copyBetweenPasses(batch, from.buffer as GPUBuffer, from.offset + at, c.buffer as GPUBuffer, c.offset, c.bytes);
    });
    host.run(w.cond.program, this.condLocal);
    this.gateKernels(batch);
  }

  /** One gated iteration: body, carry copies, cond; then the gate. */
  private iteration(batch: Batch): void {
    this.gate.mode = "on";
    this.iterationKernels(batch);
    this.gate.mode = "off";
    this.gateKernels(batch);
  }

  private iterationKernels(batch: Batch): void {
    const { host, w, gate } = this;
    gate.begin();
    this.nextCopy = 0;
    host.run(w.body.program, this.bodyLocal);
    const staged = this.moves.filter((m) => m.spare);
    for (const m of staged) {
      const sp = m.spare as GpuSlot;
      this.copy(batch, m.src, m.word, sp, sp.bytes / 4);
    }
    this.moves.forEach((m, k) => {
      const c = this.carry[k] as GpuSlot;
      if (m.spare) this.copy(batch, m.spare, m.spare.offset / 4, c, c.bytes / 4);
      else this.copy(batch, m.src, m.word, c, c.bytes / 4);
    });
    host.run(w.cond.program, this.condLocal);
  }

  /** The iteration's carry copies, made once per call (the same buffers every iteration). */
  private readonly copies: PreparedCopy[] = [];
  private nextCopy = 0;

  private copy(batch: Batch, src: GpuSlot, word: number, dst: GpuSlot, words: number): void {
    const { host, gate } = this;
    if (gate.mode !== "on") {
      gatedCopy(
        host,
        gate,
        batch,
        { buffer: src.buffer as GPUBuffer, word },
        { buffer: dst.buffer as GPUBuffer, word: dst.offset / 4 },
        words,
        this.params,
      );
      return;
    }
    let c = this.copies[this.nextCopy];
    if (!c) {
      c = prepareCopy(
        host,
        { buffer: src.buffer as GPUBuffer, word },
        { buffer: dst.buffer as GPUBuffer, word: dst.offset / 4 },
        words,
      );
      this.copies.push(c);
      this.params.push(c.params);
    }
    this.nextCopy++;
    encodeCopy(host, gate, batch, c);
  }

  /** The gate kernel (reads the predicate, sets the status) and the zero kernels (clear the args once it is set). */
  private gateKernels(batch: Batch): void {
    const { host, state } = this;
    const p = this.w.cond.outs[0] as LoopOutput;
    const pred = this.condLocal[p.id] as GpuSlot;
    const gate = host.kernel("while loop: gate", gateSource(predWord(pred, p.offset))).pipeline;
    this.gateGroup ??= host.device.createBindGroup({
      layout: gate.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: pred.buffer as GPUBuffer } },
        { binding: 1, resource: { buffer: state.status } },
        { binding: 2, resource: { buffer: state.pages[0] as GPUBuffer } },
      ],
    });
    batch.pass.setPipeline(gate);
    batch.pass.setBindGroup(0, this.gateGroup);
    batch.pass.dispatchWorkgroups(1);
    const zero = host.kernel("while loop: zero", zeroSource).pipeline;
    if (state.zeroPipeline !== zero) [state.zeroPipeline, state.zeroGroups] = [zero, []];
    state.pages.slice(1).forEach((page, i) => {
      state.zeroGroups[i] ??= host.device.createBindGroup({
        layout: zero.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: state.status } },
          { binding: 1, resource: { buffer: page } },
        ],
      });
      batch.pass.setPipeline(zero);
      batch.pass.setBindGroup(0, state.zeroGroups[i] as GPUBindGroup);
      batch.pass.dispatchWorkgroups(Math.ceil((PAGE * 3) / 64));
    });
    host.counters.dispatches += state.pages.length;
  }

  /** The carry as it is now into the step's outputs (the last chunk's is the result). */
  private finish(batch: Batch): void {
    this.carry.forEach((c, k) => {
      const o = this.outs[k] as GpuSlot;
      copyBetweenPasses(batch, c.buffer as GPUBuffer, c.offset, o.buffer as GPUBuffer, o.offset, c.bytes);
    });
  }
}

/** A body's local slots: its fixed slots and inputs, and its output buffers. */
export function bound(b: BodyProgram, inputs: readonly Slot[], made: readonly Slot[]): Slot[] {
  const local = new globalThis.Array<Slot>(b.nIds);
  bindInputs(b, local, inputs);
  for (const f of b.fixed) local[f.id] = snapshot(local[f.id] as GpuSlot);
  bindMade(b, local, made);
  return local;
}
