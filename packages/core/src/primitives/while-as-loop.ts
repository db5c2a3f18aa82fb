/**
 * A while loop inside a jitted program's recording as one loop step (backend/loop.ts's
 * WhileBody), on a backend that reads synchronously: its cond and body are recorded once as
 * plans of their own, and the step runs cond, reads the predicate, runs the body, until the
 * predicate is false — so the enclosing plan replays (before, a program with a while loop was
 * recorded anew at every call). Null where it cannot be one (the caller runs the loop eagerly
 * and marks the plan not replayable).
 */
import type { Array } from "../array.js";
import { runLoop, type WhileBody } from "../backend/loop.js";
import { strong } from "../core/aval.js";
import { DeviceBuffer } from "../core/buffer.js";
import { ConcreteArray } from "../core/concrete.js";
import { denseOffset } from "../core/plan.js";
import { recorder, rehearse, withoutRecorder } from "../core/recording.js";
import { bind1 } from "../core/trace.js";
import { sizeOf } from "../shape.js";
import { recordBodyPlan } from "./scan-as-loop.js";
import type { Params } from "./types.js";

type WhileParams = Params["while"];

export function whileAsLoop(inputs: readonly Array[], p: WhileParams): Array[] | null {
  const rec = recorder();
  if (!rec?.loop || inputs.length === 0 || !inputs.every((x) => x instanceof ConcreteArray)) return null;
  const backend = (inputs[0] as ConcreteArray).backend;
  if (!backend.copy || !backend.canReadSync || !inputs.every((x) => (x as ConcreteArray).backend === backend))
    return null;
  const { condConsts: cc, bodyConsts: bc } = p;
  if (inputs.slice(cc + bc).some((x) => x.dtype === "float16")) return null;
  // The loop reads the initial carry densely: a strided one (a broadcast zeros) is copied first.
  const copies: ConcreteArray[] = [];
  const arrays = (inputs as readonly ConcreteArray[]).map((x, i) => {
    if (i < cc + bc || denseOffset(x.view) !== null) return x;
    const c = bind1("copy", [x], {}) as ConcreteArray;
    copies.push(c);
    return c;
  });
  const release = () => {
    for (const c of copies) c.dispose();
  };
  const parts = withoutRecorder(() =>
    rehearse(() => {
      const scratch: Array[] = [];
      const own = (x: Array) => {
        scratch.push(x);
        return x;
      };
      try {
        const carry = arrays.slice(cc + bc).map((c) => own(bind1("copy", [c], {})));
        const cond = recordBodyPlan(p.name, p.cond, [...arrays.slice(0, cc), ...carry], own);
        const body = cond && recordBodyPlan(p.name, p.body, [...arrays.slice(cc, cc + bc), ...carry], own);
        return cond && body ? { cond, body } : null;
      } finally {
        for (const x of new Set(scratch)) if (x instanceof ConcreteArray && !x.disposed) x.dispose();
      }
    }),
  );
  if (!parts) {
    release();
    return null;
  }
  const loop: WhileBody = {
    kind: "while",
    ...parts,
    numCondConsts: cc,
    numBodyConsts: bc,
    carry: arrays.slice(cc + bc).map((c) => ({ dtype: c.dtype, size: c.size })),
    inOffsets: arrays.map((x) => denseOffset(x.view) ?? 0),
  };
  const outs = p.body.outAvals.map(strong).map((a) => {
    const size = sizeOf(a.shape);
    return new ConcreteArray(a, new DeviceBuffer(backend, backend.alloc(a.dtype, size), a.dtype, size, p.name));
  });
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
    release();
  }
  return outs;
}
