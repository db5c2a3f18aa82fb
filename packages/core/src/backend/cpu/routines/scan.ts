import type { DataArray } from "../../../dtype.js";
import type { ScanRoutine } from "../../../ir/routine.js";
import type { CpuRun } from "../codegen.js";
import { reduceInit, reduceStep } from "../scalar.js";

/**
 * A linear inclusive scan along the middle axis of [outer, n, inner]: a running accumulator per
 * inner column, stepped in order along the axis. Floats accumulate in doubles and round when
 * stored (as the CPU's reductions do), integers wrap at every step.
 */
export function scanRunner(s: ScanRoutine): CpuRun {
  const step = reduceStep(s.op, s.dtype);
  const init = reduceInit(s.op, s.dtype);
  const sum = s.op === "sum" && (s.dtype === "float32" || s.dtype === "float64");
  let acc = new Float64Array(0);
  return (ins, outs, p) => {
    const [outer, n, inner] = [p[0] as number, p[1] as number, p[2] as number];
    const x = ins[0] as DataArray;
    const out = outs[0] as DataArray;
    if (acc.length < inner) acc = new Float64Array(inner);
    const first = s.reverse ? n - 1 : 0;
    const dir = s.reverse ? -inner : inner;
    for (let o = 0; o < outer; o++) {
      acc.fill(init, 0, inner);
      let q = o * n * inner + first * inner;
      for (let i = 0; i < n; i++, q += dir) {
        if (sum) {
          for (let j = 0; j < inner; j++) {
            const v = (acc[j] as number) + (x[q + j] as number);
            acc[j] = v;
            out[q + j] = v;
          }
        } else {
          for (let j = 0; j < inner; j++) {
            const v = step(acc[j] as number, x[q + j] as number);
            acc[j] = v;
            out[q + j] = v;
          }
        }
      }
    }
  };
}
