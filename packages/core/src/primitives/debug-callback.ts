/**
 * `debug_callback` (issue 25): a host callback on its operands' values, with no outputs —
 * `debug.callback` and `debug.print` bind it. Eagerly it reads its operands (synchronously where
 * the backend can, else asynchronously) and calls back; inside a jitted program's recording it
 * is also a host step of the program (backend/backend.ts), so every replay calls back at that
 * point — once per iteration inside a scan's loop step. Callbacks run in program order: on a
 * backend that reads asynchronously each waits for the one before (`debug.barrier()` awaits
 * them all: core/effects.ts). jvp calls back on the primals only (grad prints primal values); vmap calls back
 * once per batch member, in order, as JAX does.
 */
import type { Array } from "../array.js";
import type { Backend, Slot } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { currentGuards, taken } from "../core/branch-guard.js";
import { withCallSite } from "../core/call-sites.js";
import type { ConcreteArray } from "../core/concrete.js";
import { chain, noteFailure, pendingEffects } from "../core/effects.js";
import { denseOffset } from "../core/plan.js";
import { recorder, rehearsing } from "../core/recording.js";
import { bind, bind1 } from "../core/trace.js";
import type { DataArray } from "../dtype.js";
import { releaseMade } from "./higher-order.js";
import type { BDim, HostLeaf, Params, PrimitiveTable } from "./types.js";

type CallbackParams = Params["debug_callback"];

function call(p: CallbackParams, leaves: readonly HostLeaf[]): void {
  try {
    p.callback(leaves);
  } catch (e) {
    // A callback's error must not break the program around it; it is reported now and at the barrier.
    noteFailure(`${p.name}: the callback threw`, e);
  }
}

/** Reads `slots` (each `meta` densely from its offset) and calls back, in order with every other callback. */
function deliver(
  backend: Backend,
  slots: readonly Slot[],
  metas: readonly { dtype: HostLeaf["dtype"]; shape: readonly number[]; offset: number; size: number }[],
  p: CallbackParams,
): void {
  const leaf = (data: DataArray, i: number): HostLeaf => {
    const m = metas[i] as (typeof metas)[number];
    return { data, shape: m.shape, dtype: m.dtype };
  };
  if (backend.canReadSync) {
    let data: DataArray[];
    try {
      data = slots.map((s, i) => {
        const m = metas[i] as (typeof metas)[number];
        return backend.readSync(s, m.dtype, m.offset, m.size);
      });
    } catch (e) {
      // A failed kernel upstream: the program goes on; the error (with its call site) goes to the barrier.
      noteFailure(`${p.name}: reading its values failed`, withCallSite(e));
      return;
    }
    const run = () => call(p, data.map(leaf));
    // Behind any asynchronous callback still waiting, else now.
    if (pendingEffects() === 0) run();
    else chain(Promise.resolve(), run);
    return;
  }
  // Encoded where the program is (WebGPU: into its command buffer, no submit per callback).
  const read = backend.readAt?.bind(backend) ?? backend.read.bind(backend);
  const reads = slots.map((s, i) => {
    const m = metas[i] as (typeof metas)[number];
    return read(s, m.dtype, m.offset, m.size);
  });
  chain(Promise.all(reads), (data) => call(p, data.map(leaf)), `${p.name}: reading its values failed`);
}

function impl(inputs: readonly Array[], p: CallbackParams): Array[] {
  const arrays = inputs as readonly ConcreteArray[];
  // A strided operand (a broadcast, a transpose) is copied, so each is one dense range to read.
  const copies: ConcreteArray[] = [];
  const dense = arrays.map((x) => {
    if (denseOffset(x.view) !== null) return x;
    const c = bind1("copy", [x], {}) as ConcreteArray;
    copies.push(c);
    return c;
  });
  const backend = dense[0]?.backend ?? getBackend();
  const metas = dense.map((x) => ({
    dtype: x.dtype,
    shape: x.shape,
    offset: denseOffset(x.view) as number,
    size: x.size,
  }));
  // Inside cond branches that all run (then selected): the indices, to call back only in the branch taken.
  const guards = currentGuards();
  const guardMetas = guards.map((g) => ({
    dtype: g.index.dtype,
    shape: [],
    offset: denseOffset(g.index.view) ?? 0,
    size: 1,
  }));
  // Silent in rehearsals (a loop body's recording, compile, lower), replays included.
  const run = (slots: readonly Slot[]) =>
    rehearsing() ||
    deliver(backend, slots, [...metas, ...guardMetas], {
      ...p,
      callback: (leaves) => {
        const values = leaves.slice(0, metas.length);
        if (guards.every((g, i) => taken(g, Number(leaves[metas.length + i]?.data[0])))) p.callback(values);
      },
    });
  const slots = [...dense.map((x) => x.buffer.slot), ...guards.map((g) => g.index.buffer.slot)];
  recorder()?.host?.(slots, run);
  run(slots);
  for (const c of copies) c.dispose();
  return [];
}

function batch(args: readonly Array[], dims: readonly BDim[], p: CallbackParams, size: number): [Array[], BDim[]] {
  for (let b = 0; b < size; b++) {
    const member = args.map((a, i) => {
      const d = dims[i];
      if (d === null || d === undefined) return a;
      const start = a.shape.map((_, k) => (k === d ? b : 0));
      const limit = a.shape.map((n, k) => (k === d ? b + 1 : n));
      const row = bind1("slice", [a], { start, limit, strides: a.shape.map(() => 1) });
      return bind1("squeeze", [row], { dimensions: [d] });
    });
    bind("debug_callback", member, p);
    releaseMade(member.filter((m) => !args.includes(m)));
  }
  return [[], []];
}

export const debugPrimitives: PrimitiveTable<"debug_callback"> = {
  debug_callback: {
    abstractEval: () => [],
    lowering: { kind: "impl", impl },
    jvp: (primals, _tangents, p) => {
      bind("debug_callback", primals, p);
      return [[], []];
    },
    batch,
  },
};
