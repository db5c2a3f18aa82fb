/** Internals for backend packages and tests: the IR, the registry and the eager executor. */

export { type PackedArena, ProgramArenas, packArena } from "./backend/arena.js";
export { generateFused } from "./backend/cpu/codegen.js";
export { CpuBackend } from "./backend/cpu/cpu-backend.js";
export { Heap } from "./backend/cpu/heap.js";
export {
  type BodyProgram,
  bindInputs,
  bindMade,
  type CondBody,
  type LoopBody,
  type LoopOutput,
  type LoopStep,
  runLoop,
  type StepLoop,
  type WhileBody,
} from "./backend/loop.js";
export { existingBackend } from "./backend/registry.js";
export { runSteps } from "./backend/run-steps.js";
export type { Aval } from "./core/aval.js";
export { DeviceBuffer, liveBuffers } from "./core/buffer.js";
export { ConcreteArray } from "./core/concrete.js";
export { EAGER_CACHE_CAPACITY, eagerCache } from "./core/eager.js";
export { type Fusion, type FusionStage, fuse, type KernelStage } from "./core/fusion.js";
export { ClosedJaxpr, evalJaxpr, Literal, Var } from "./core/jaxpr.js";
export { checkJaxpr, dce, setJaxprChecks } from "./core/jaxpr-check.js";
export { printEqn } from "./core/jaxpr-print.js";
export { profiling, THREAD, traceAwait, traceNow, traceSpan, traceSpanAt } from "./core/profiler.js";
export { type PlanStep, schedule } from "./core/schedule.js";
export { stage } from "./core/staging.js";
export { abstractEval, bind, bind1, Trace, Tracer } from "./core/trace.js";
export * from "./float16.js";
export * from "./ir/expr.js";
export { ExprTable, exprKey, hashCons, kernelKey } from "./ir/hashcons.js";
export * from "./ir/kernel.js";
export { EXPANDED_UNARY, expandMath, hasTranscendental } from "./ir/math.js";
export * from "./ir/routine.js";
export * from "./ir/view.js";
export { LruCache } from "./lru.js";
export { KernelLoads } from "./primitives/lowering-input.js";
export { registry } from "./primitives/registry.js";
export type { Lowering, Params, Primitive, PrimitiveDef } from "./primitives/types.js";
