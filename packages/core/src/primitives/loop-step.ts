/**
 * What the loop steps of a jitted program's recording share (primitives/scan-as-loop.ts,
 * while-as-loop.ts): whether a loop can be one here, dense copies of its strided inputs, its
 * bodies recorded as plans of their own, and recording the step and running it now.
 */
import type { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { type BodyProgram, runLoop, type StepLoop } from "../backend/loop.js";
import type { Aval } from "../core/aval.js";
import { DeviceBuffer } from "../core/buffer.js";
import { ConcreteArray } from "../core/concrete.js";
import type { ClosedJaxpr } from "../core/jaxpr.js";
import { denseOffset } from "../core/plan.js";
import { loopBodyProgram } from "../core/program.js";
import { type Recorder, recorder, rehearse, withoutRecorder } from "../core/recording.js";
import { bind1 } from "../core/trace.js";
import { BackendError } from "../errors.js";
import { sizeOf } from "../shape.js";

/**
 * The recorder and backend a loop step of `kind` needs (a recording that takes loop steps, and
 * `deviceTarget`'s backend), or null.
 */
export function loopTarget(inputs: readonly Array[], kind: StepKind): { rec: Recorder; backend: Backend } | null {
  const rec = recorder();
  if (!rec?.loop) return null;
  const target = deviceTarget(inputs, kind);
  return target && { rec, backend: target };
}

/** What a loop step needs of its backend: a scan only `copy`; a while loop or a cond also a way to read its predicate or index. */
export type StepKind = "scan" | "while" | "cond";

/**
 * The one backend of `inputs` (every one concrete) where it can run a loop step of `kind`: it
 * has `copy`, and for a while loop or a cond it reads synchronously or runs them itself.
 */
export function deviceTarget(inputs: readonly Array[], kind: StepKind): Backend | null {
  if (inputs.length === 0 || !inputs.every((x) => x instanceof ConcreteArray)) return null;
  const backend = (inputs[0] as ConcreteArray).backend;
  if (!backend.copy) return null;
  if (kind !== "scan" && !backend.canReadSync && !(kind === "while" ? backend.runWhile : backend.runCond)) return null;
  return inputs.every((x) => (x as ConcreteArray).backend === backend) ? backend : null;
}

/**
 * The inputs with those from `from` on made dense (the loop reads them densely from an
 * offset; a strided one, a broadcast zeros, is copied, and the copy recorded), and a release
 * of the copies.
 */
export function denseFrom(inputs: readonly Array[], from: number): { arrays: ConcreteArray[]; release: () => void } {
  const copies: ConcreteArray[] = [];
  const arrays = (inputs as readonly ConcreteArray[]).map((x, i) => {
    if (i < from || denseOffset(x.view) !== null) return x;
    const c = bind1("copy", [x], {}) as ConcreteArray;
    copies.push(c);
    return c;
  });
  return {
    arrays,
    release: () => {
      for (const c of copies) c.dispose();
    },
  };
}

/**
 * Runs `f` — recording a loop's bodies — unrecorded by the enclosing program and as a
 * rehearsal (callbacks silent), every array handed to `own` released afterwards.
 */
export function recordingBodies<T>(f: (own: (x: Array) => Array) => T): T {
  return withoutRecorder(() =>
    rehearse(() => {
      const scratch: Array[] = [];
      try {
        return f((x) => {
          scratch.push(x);
          return x;
        });
      } finally {
        for (const x of new Set(scratch)) if (x instanceof ConcreteArray && !x.disposed) x.dispose();
      }
    }),
  );
}

/**
 * Allocates the loop's outputs (`outAvals`), records the loop step over `arrays` (where a
 * recording takes it; an eager device loop has none) and runs it now; its outputs are
 * released if it throws.
 */
export function recordAndRun(
  target: { rec: Recorder | null; backend: Backend },
  loop: StepLoop,
  arrays: readonly ConcreteArray[],
  outAvals: readonly Aval[],
  name: string,
): ConcreteArray[] {
  const { rec, backend } = target;
  const outs = outAvals.map((a) => {
    const size = sizeOf(a.shape);
    return new ConcreteArray(a, new DeviceBuffer(backend, backend.alloc(a.dtype, size), a.dtype, size, name));
  });
  const ins = arrays.map((x) => x.buffer.slot);
  const made = outs.map((o) => o.buffer.slot);
  rec?.loop?.(loop, ins, made);
  const step = { op: "loop", loop, ins: ins.map((_, i) => i), outs: made.map((_, i) => ins.length + i) } as const;
  try {
    runLoop(backend, step, [...ins, ...made]);
  } catch (e) {
    for (const o of outs) o.dispose();
    throw e;
  }
  return outs;
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
