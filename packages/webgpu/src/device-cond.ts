/**
 * `lax.cond`/`lax.switch` as one step on the device (issue 24): no readback. Every branch's
 * dispatches (its kernels, then copy kernels of its outputs into the step's) are indirect
 * dispatches from args pages, as in a device while loop (device-loop.ts); a "switch" kernel
 * run first reads the index and writes each entry's workgroup counts where the entry belongs
 * to the chosen branch (clamped, as JAX does) and zeros elsewhere, so only that branch runs.
 * The counts and owners sit in a table buffer, learned at the first call by encoding every
 * branch in the gate's counting mode.
 */
import type { Slot } from "@webjax/core";
import type { CondBody, LoopOutput, LoopStep } from "@webjax/core/internal";
import { bound, snapshot } from "./device-loop.js";
import { bytesOf, type GpuSlot } from "./executables.js";
import { Gate, type GateState, gatedCopy, type LoopHost, learn, PAGE } from "./gate.js";
import type { Batch } from "./passes.js";
import { Usage } from "./pool.js";

interface CondState extends GateState {
  /** Per entry: x, y, z and the branch it belongs to. */
  table: GPUBuffer | null;
  entries: number;
  /** The switch kernels' bind groups, per page and index buffer. */
  switches: Map<string, { index: GPUBuffer; pipeline: GPUComputePipeline; group: GPUBindGroup }>;
}

const states = new WeakMap<CondBody, CondState>();

const switchSource = (indexWord: number, branches: number, base: number, entries: number) => `
@group(0) @binding(0) var<storage, read> index: array<i32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> args: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let e = g.x;
  if (e >= ${PAGE}u) { return; }
  let entry = ${base}u + e;
  var on = false;
  if (entry < ${entries}u) { on = table[entry * 4u + 3u] == u32(clamp(index[${indexWord}u], 0, ${branches - 1})); }
  for (var j = 0u; j < 3u; j = j + 1u) { args[e * 3u + j] = select(0u, table[min(entry, ${Math.max(entries, 1) - 1}u) * 4u + j], on); }
}`;

/** Runs a cond step on the device, into the current batch. */
export function runDeviceCond(host: LoopHost, step: LoopStep, slots: readonly Slot[]): void {
  const c = step.loop as CondBody;
  const [index, ...ops] = step.ins.map((i) => slots[i] as GpuSlot) as [GpuSlot, ...GpuSlot[]];
  const outs = step.outs.map((i) => slots[i] as GpuSlot);
  const poisoned = [index, ...ops].find((s) => s.poison);
  if (poisoned) {
    for (const o of outs) o.poison = poisoned.poison;
    return;
  }
  let state = states.get(c);
  if (!state) {
    state = { pages: [], templates: null, zeroGroups: [], table: null, entries: 0, switches: new Map() };
    states.set(c, state);
  }
  const gate = new Gate(host.device, state, "webgpu cond");
  const made = c.branches.map((b) => b.made.map((m) => host.alloc(m.dtype, m.size)));
  const locals = c.branches.map((b, k) => bound(b, ops.map(snapshot), made[k] as GpuSlot[]));
  const params: GPUBuffer[] = [];
  const branches = (owners: number[] | null) => {
    gate.begin();
    c.branches.forEach((b, k) => {
      const from = gate.position;
      host.run(b.program, locals[k] as Slot[]);
      c.outs.forEach((o, j) => {
        const at = b.outs[j] as LoopOutput;
        const src = (locals[k] as Slot[])[at.id] as GpuSlot;
        const dst = outs[j] as GpuSlot;
        const word = src.offset / 4 + (at.offset * bytesOf(o.dtype, 1)) / 4;
        gatedCopy(
          host,
          gate,
          host.batch(),
          { buffer: src.buffer as GPUBuffer, word },
          { buffer: dst.buffer as GPUBuffer, word: dst.offset / 4 },
          bytesOf(o.dtype, o.size) / 4,
          params,
        );
      });
      if (owners) for (let e = from; e < gate.position; e++) owners[e] = k;
    });
  };
  try {
    if (host.preparing) {
      // The branches' pipelines are made (dispatches under prepare encode nothing).
      host.gated(gate, () => {
        gate.mode = "count";
        branches(null);
      });
      state.templates = null;
      return;
    }
    if (!state.table) {
      const owners: number[] = [];
      host.gated(gate, () => learn(host, gate, state, () => branches(owners)));
      arm(host, state, owners);
    }
    encodeSwitches(host, state, c, index, host.batch());
    host.gated(gate, () => {
      gate.mode = "on";
      branches(null);
    });
  } finally {
    gate.mode = "off";
    for (const s of made.flat()) host.free(s);
    for (const u of params) host.uniforms.release(u);
  }
}

/** The args pages and the table of counts and owners, made once per cond. */
function arm(host: LoopHost, state: CondState, owners: readonly number[]): void {
  const t = state.templates ?? [];
  state.entries = t.length;
  while (state.pages.length * PAGE < Math.max(t.length, 1)) {
    state.pages.push(
      host.device.createBuffer({ size: PAGE * 12, usage: Usage.STORAGE | Usage.INDIRECT, label: "webjax-cond-args" }),
    );
  }
  const words = new Uint32Array(Math.max(t.length, 1) * 4);
  t.forEach((e, i) => {
    words.set(e, i * 4);
    words[i * 4 + 3] = owners[i] as number;
  });
  state.table = host.device.createBuffer({
    size: words.byteLength,
    usage: Usage.STORAGE | Usage.COPY_DST,
    label: "webjax-cond-table",
  });
  host.device.queue.writeBuffer(state.table, 0, words);
}

/** One switch kernel per args page: the chosen branch's entries get their counts, the others zeros. */
function encodeSwitches(host: LoopHost, state: CondState, c: CondBody, index: GpuSlot, batch: Batch): void {
  const word = index.offset / 4 + c.indexOffset;
  state.pages.forEach((page, p) => {
    const pipeline = host.kernel(
      "cond: switch",
      switchSource(word, c.branches.length, p * PAGE, state.entries),
    ).pipeline;
    const key = `${p}:${word}`;
    const kept = state.switches.get(key);
    let group = kept?.index === index.buffer && kept.pipeline === pipeline ? kept.group : null;
    if (!group) {
      group = host.device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: index.buffer as GPUBuffer } },
          { binding: 1, resource: { buffer: state.table as GPUBuffer } },
          { binding: 2, resource: { buffer: page } },
        ],
      });
      state.switches.set(key, { index: index.buffer as GPUBuffer, pipeline, group });
    }
    batch.pass.setPipeline(pipeline);
    batch.pass.setBindGroup(0, group);
    batch.pass.dispatchWorkgroups(Math.ceil(PAGE / 64));
  });
  host.counters.dispatches += state.pages.length;
}
