/**
 * A while loop inside a jitted program's recording as one loop step (backend/loop.ts's
 * WhileBody), on a backend that reads synchronously: its cond and body are recorded once as
 * plans of their own, and the step runs cond, reads the predicate, runs the body, until the
 * predicate is false — so the enclosing plan replays (before, a program with a while loop was
 * recorded anew at every call). Null where it cannot be one (the caller runs the loop eagerly
 * and marks the plan not replayable).
 *
 * `eager`: outside any recording, on a backend that runs while loops itself (WebGPU), the
 * same step runs once there (the eager loop cannot read its predicate on the calling thread).
 */
import type { Array } from "../array.js";
import type { WhileBody } from "../backend/loop.js";
import { strong } from "../core/aval.js";
import { denseOffset } from "../core/plan.js";
import { bind1 } from "../core/trace.js";
import { denseFrom, deviceTarget, loopTarget, recordAndRun, recordBodyPlan, recordingBodies } from "./loop-step.js";
import type { Params } from "./types.js";

type WhileParams = Params["while"];

export function whileAsLoop(inputs: readonly Array[], p: WhileParams, eager = false): Array[] | null {
  const device = eager ? deviceTarget(inputs, "while") : null;
  const target = device ? { rec: null, backend: device } : loopTarget(inputs, "while");
  if (!target) return null;
  const { condConsts: cc, bodyConsts: bc } = p;
  if (inputs.slice(cc + bc).some((x) => x.dtype === "float16")) return null;
  const { arrays, release } = denseFrom(inputs, cc + bc);
  try {
    const parts = recordingBodies((own) => {
      const carry = arrays.slice(cc + bc).map((c) => own(bind1("copy", [c], {})));
      const cond = recordBodyPlan(p.name, p.cond, [...arrays.slice(0, cc), ...carry], own);
      const body = cond && recordBodyPlan(p.name, p.body, [...arrays.slice(cc, cc + bc), ...carry], own);
      return cond && body ? { cond, body } : null;
    });
    if (!parts) return null;
    const loop: WhileBody = {
      kind: "while",
      ...parts,
      numCondConsts: cc,
      numBodyConsts: bc,
      carry: arrays.slice(cc + bc).map((c) => ({ dtype: c.dtype, size: c.size })),
      inOffsets: arrays.map((x) => denseOffset(x.view) ?? 0),
    };
    return recordAndRun(target, loop, arrays, p.body.outAvals.map(strong), p.name);
  } finally {
    release();
  }
}
