import type { RoutineSpec } from "@webjax/core/internal";
import type { RoutinePlan } from "./program.js";
import { scanPlan } from "./scan.js";
import { scatterRoutinePlan } from "./scatter.js";
import { searchPlan } from "./search.js";
import { sortPlan, topKPlan } from "./sort.js";

export type { BufRef, Pass, RoutinePlan } from "./program.js";

/**
 * WebGPU's lowering of a routine: the passes for these params. `sources` memoises each WGSL
 * variant per compiled routine (a plan is made at every dispatch; its modules are not).
 */
export function planRoutine(
  r: RoutineSpec,
  params: Int32Array,
  sources: (variant: string, build: () => string) => string,
): RoutinePlan {
  switch (r.name) {
    case "sort":
      return sortPlan(r, params, sources);
    case "top_k":
      return topKPlan(r, params, sources);
    case "scan":
      return scanPlan(r, params, sources);
    case "searchsorted":
      return searchPlan(r, params, sources);
    case "scatter":
      return scatterRoutinePlan(r, params, sources);
  }
}
