/**
 * A cond inside a jitted program's recording as one step (backend/loop.ts's CondBody): each
 * branch recorded once as a plan of its own, and the step runs only the branch its index
 * chooses — read synchronously on the CPU, gated on the device by WebGPU — so the enclosing plan
 * replays for any index (before, a recorded cond ran every branch and selected). Null where it
 * cannot be one (the caller runs every branch and selects, as eagerly on WebGPU).
 */
import type { Array } from "../array.js";
import type { BackendProgram } from "../backend/backend.js";
import type { CondBody } from "../backend/loop.js";
import { strong } from "../core/aval.js";
import type { ConcreteArray } from "../core/concrete.js";
import { denseOffset } from "../core/plan.js";
import { loopTarget, recordAndRun, recordBodyPlan, recordingBodies } from "./loop-step.js";
import type { Params } from "./types.js";

type CondParams = Params["cond"];

export function condAsStep(inputs: readonly Array[], p: CondParams): Array[] | null {
  const target = loopTarget(inputs, "cond");
  if (!target) return null;
  const [index, ...ops] = inputs as readonly ConcreteArray[];
  const indexOffset = index && denseOffset(index.view);
  if (indexOffset === null || indexOffset === undefined) return null;
  const branches = recordingBodies((own) => {
    const bodies = [];
    for (const b of p.branches) {
      const body = recordBodyPlan(p.name, b, ops, own);
      if (!body) return null;
      bodies.push(body);
    }
    return bodies;
  });
  if (!branches) return null;
  // Gated on the device (WebGPU), a branch can hold no host callback and no while loop.
  if (!target.backend.canReadSync && branches.some((b) => !gateable(b.program))) return null;
  const outAvals = (p.branches[0]?.outAvals ?? []).map(strong);
  const step: CondBody = {
    kind: "cond",
    branches,
    outs: outAvals.map((a) => ({ dtype: a.dtype, size: a.shape.reduce((x, y) => x * y, 1) })),
    indexOffset,
  };
  return recordAndRun(target, step, inputs as readonly ConcreteArray[], outAvals, p.name);
}

/** Whether a program's steps can all be gated: no host steps, no while loops (scan bodies searched). */
function gateable(program: BackendProgram): boolean {
  return program.steps.every(
    (s) =>
      s.op !== "host" &&
      (s.op !== "loop" ||
        (s.loop.kind !== "while" &&
          (s.loop.kind === "cond" ? s.loop.branches.every((b) => gateable(b.program)) : gateable(s.loop.program)))),
  );
}
