import type { RoutineSpec } from "../../../ir/routine.js";
import type { CpuRun } from "../codegen.js";
import { scanRunner } from "./scan.js";
import { scatterRunner } from "./scatter.js";
import { searchRunner } from "./search.js";
import { sortRunner, topKRunner } from "./sort.js";

/**
 * The CPU's lowering of each routine: plain JS over typed arrays (no `new Function`, so the
 * interpreter mode runs the same code).
 */
export function routineRunner(r: RoutineSpec): CpuRun {
  switch (r.name) {
    case "sort":
      return sortRunner(r);
    case "top_k":
      return topKRunner(r);
    case "scan":
      return scanRunner(r);
    case "searchsorted":
      return searchRunner(r);
    case "scatter":
      return scatterRunner(r);
  }
}
