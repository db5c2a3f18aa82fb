/**
 * A scan inside a jitted program's recording as one loop step (backend/loop.ts), so the
 * program does not grow with the length and a replay runs the loop in one `Backend.run`. The
 * body is recorded once as a plan of its own (its kernels fused as in any jitted program) over
 * dense copies of the initial carry and of the xs' first rows — the layouts the loop binds at
 * every iteration — and the loop step, recorded in the enclosing program, runs it `length`
 * times, the recording run included. Where that cannot be (a backend without `copy`, float16
 * rows, a body whose plan cannot be replayed, a recorder that shows kernels: `jit(f).lower`),
 * the scan runs its steps as before and they are recorded unrolled.
 */
import type { Array } from "../array.js";
import type { LoopBody } from "../backend/loop.js";
import { type Aval, strong } from "../core/aval.js";
import { denseOffset } from "../core/plan.js";
import { bind1 } from "../core/trace.js";
import { sizeOf } from "../shape.js";
import { denseFrom, loopTarget, recordAndRun, recordBodyPlan, recordingBodies } from "./loop-step.js";
import type { Params } from "./types.js";

type ScanParams = Params["scan"];

const rowAval = (a: Aval): Aval => ({ ...a, shape: a.shape.slice(1), weakType: false });

/** The scan as a recorded loop step, run now; null where it cannot be one (the caller unrolls). */
export function scanAsLoop(inputs: readonly Array[], p: ScanParams): Array[] | null {
  const target = p.length > 0 ? loopTarget(inputs, "scan") : null;
  if (!target) return null;
  const { numConsts: nc, numCarry: nk, length } = p;
  const yAvals = p.body.outAvals.slice(nk);
  if ([...inputs.slice(nc), ...yAvals].some((a) => a.dtype === "float16")) return null;
  const { arrays, release } = denseFrom(inputs, nc);
  try {
    const body = recordingBodies((own) => {
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
    });
    if (!body) return null;
    const loop: LoopBody = {
      ...body,
      length,
      reverse: p.reverse,
      numConsts: nc,
      carry: arrays.slice(nc, nc + nk).map((c) => ({ dtype: c.dtype, size: c.size })),
      xs: arrays.slice(nc + nk).map((x) => ({ dtype: x.dtype, rowSize: sizeOf(x.shape.slice(1)) })),
      ys: yAvals.map((a) => ({ dtype: a.dtype, rowSize: sizeOf(a.shape) })),
      inOffsets: arrays.map((x) => denseOffset(x.view) ?? 0),
    };
    const outAvals = [
      ...p.body.outAvals.slice(0, nk).map(strong),
      ...yAvals.map((a) => ({ ...a, shape: [length, ...a.shape], weakType: false })),
    ];
    return recordAndRun(target, loop, arrays, outAvals, p.name);
  } finally {
    release();
  }
}
