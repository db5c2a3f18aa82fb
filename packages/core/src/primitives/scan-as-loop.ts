/**
 * A scan inside a jitted program's recording as one loop step (backend/loop.ts), so the
 * program does not grow with the length and a replay runs the loop in one `Backend.run`. The
 * body is recorded once as a plan of its own (its kernels fused as in any jitted program) over
 * dense copies of the initial carry and of the xs' first rows — the layouts the loop binds at
 * every iteration — and the loop step, recorded in the enclosing program, runs it `length`
 * times, the recording run included. Where that cannot be (a backend without `copy`, float16
 * rows, strided carries or xs, a body whose plan cannot be replayed, a recorder that shows
 * kernels: `jit(f).lower`), the scan runs its steps as before and they are recorded unrolled.
 */
import type { Array } from "../array.js";
import { type BodyProgram, type LoopBody, runLoop } from "../backend/loop.js";
import { type Aval, strong } from "../core/aval.js";
import { DeviceBuffer } from "../core/buffer.js";
import { ConcreteArray } from "../core/concrete.js";
import type { ClosedJaxpr } from "../core/jaxpr.js";
import { denseOffset } from "../core/plan.js";
import { loopBodyProgram } from "../core/program.js";
import { recorder, rehearse, withoutRecorder } from "../core/recording.js";
import { bind1 } from "../core/trace.js";
import { BackendError } from "../errors.js";
import { sizeOf } from "../shape.js";
import type { Params } from "./types.js";

type ScanParams = Params["scan"];

const rowAval = (a: Aval): Aval => ({ ...a, shape: a.shape.slice(1), weakType: false });

/** The scan as a recorded loop step, run now; null where it cannot be one (the caller unrolls). */
export function scanAsLoop(inputs: readonly Array[], p: ScanParams): Array[] | null {
  const rec = recorder();
  if (!rec?.loop || p.length === 0 || inputs.length === 0) return null;
  if (!inputs.every((x) => x instanceof ConcreteArray)) return null;
  const backend = (inputs[0] as ConcreteArray).backend;
  if (!backend.copy || !inputs.every((x) => (x as ConcreteArray).backend === backend)) return null;
  const { numConsts: nc, numCarry: nk, length } = p;
  const yAvals = p.body.outAvals.slice(nk);
  if ([...inputs.slice(nc), ...yAvals].some((a) => a.dtype === "float16")) return null;
  // The loop reads the initial carry and the xs densely: a strided one (a broadcast zeros) is copied first.
  const copies: ConcreteArray[] = [];
  const arrays = (inputs as readonly ConcreteArray[]).map((x, i) => {
    if (i < nc || denseOffset(x.view) !== null) return x;
    const c = bind1("copy", [x], {}) as ConcreteArray;
    copies.push(c);
    return c;
  });
  const offsets = arrays.map((x) => denseOffset(x.view) ?? 0);
  const body = withoutRecorder(() => rehearse(() => recordBody(arrays, p)));
  if (!body) {
    for (const c of copies) c.dispose();
    return null;
  }
  const outAvals = [
    ...p.body.outAvals.slice(0, nk).map(strong),
    ...yAvals.map((a) => ({ ...a, shape: [length, ...a.shape], weakType: false })),
  ];
  const outs = outAvals.map((a) => {
    const size = sizeOf(a.shape);
    return new ConcreteArray(a, new DeviceBuffer(backend, backend.alloc(a.dtype, size), a.dtype, size, p.name));
  });
  const loop: LoopBody = {
    ...body,
    length,
    reverse: p.reverse,
    numConsts: nc,
    carry: arrays.slice(nc, nc + nk).map((c) => ({ dtype: c.dtype, size: c.size })),
    xs: arrays.slice(nc + nk).map((x) => ({ dtype: x.dtype, rowSize: sizeOf(x.shape.slice(1)) })),
    ys: yAvals.map((a) => ({ dtype: a.dtype, rowSize: sizeOf(a.shape) })),
    inOffsets: offsets,
  };
  const ins = arrays.map((x) => x.buffer.slot);
  const made = outs.map((o) => o.buffer.slot);
  rec.loop(loop, ins, made);
  const step = { op: "loop", loop, ins: ins.map((_, i) => i), outs: made.map((_, i) => ins.length + i) } as const;
  try {
    runLoop(backend, step, [...ins, ...made]);
  } catch (e) {
    for (const o of outs) o.dispose();
    throw e;
  } finally {
    for (const c of copies) c.dispose();
  }
  return outs;
}

/** The body's plan, recorded over the consts and dense copies of the initial carry and the xs' first rows. */
function recordBody(arrays: readonly ConcreteArray[], p: ScanParams): BodyProgram | null {
  const { numConsts: nc, numCarry: nk } = p;
  const scratch: Array[] = [];
  const own = (x: Array) => {
    scratch.push(x);
    return x;
  };
  try {
    const carry = arrays.slice(nc, nc + nk).map((c) => own(bind1("copy", [c], {})));
    const rows = arrays.slice(nc + nk).map((x) => {
      const first = own(
        bind1("slice", [x], {
          start: x.shape.map(() => 0),
          limit: x.shape.map((n, d) => (d === 0 ? 1 : n)),
          strides: x.shape.map(() => 1),
        }),
      );
      return own(bind1("copy", [own(bind1("reshape", [first], { newShape: rowAval(x.aval).shape }))], {}));
    });
    return recordBodyPlan(p.name, p.body, [...arrays.slice(0, nc), ...carry, ...rows], own);
  } finally {
    for (const x of new Set(scratch)) if (x instanceof ConcreteArray && !x.disposed) x.dispose();
  }
}

/**
 * A higher-order primitive's body recorded as a plan over `inputs` (dense, as a loop binds
 * them), for a loop step: its program, ids, fixed slots and outputs; null where it cannot be
 * one. The recording's outputs go to `own` (released by the caller).
 */
export function recordBodyPlan(
  name: string,
  closed: ClosedJaxpr,
  inputs: readonly Array[],
  own: (x: Array) => Array,
): BodyProgram | null {
  const program = loopBodyProgram(closed);
  // A first recording that uploads a literal cannot be replayed; the second finds it made.
  for (let attempt = 0; attempt < 2; attempt++) {
    const outs = program.run(inputs, () => {});
    const got = program.planFor(inputs);
    const kept = new Set<Array>(got?.fixed ?? inputs);
    for (const o of outs) if (!kept.has(o)) own(o);
    if (!got) continue;
    const shape = got.plan.asLoopBody(got.fixed);
    if (!shape) return null;
    const n = inputs.length;
    const fixed = got.fixed.slice(n).map((x, i) => ({
      id: shape.ids[n + i] as number,
      slot: () => {
        if (x.disposed) throw new BackendError(`${name}: a jitted loop's body const was released`);
        return x.buffer.slot;
      },
    }));
    return {
      program: shape.program,
      nIds: shape.nIds,
      inIds: shape.ids.slice(0, n),
      fixed,
      outs: shape.outs,
      made: shape.made,
    };
  }
  return null;
}
