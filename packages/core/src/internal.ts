/** Internals for backend packages and tests: the IR, the registry and the eager executor. */
export * from "./ir/expr.js";
export * from "./ir/kernel.js";
export * from "./ir/view.js";
export type { Aval } from "./core/aval.js";
export { ConcreteArray } from "./core/concrete.js";
export { DeviceBuffer, liveBuffers } from "./core/buffer.js";
export { bind, bind1, Trace, Tracer, abstractEval } from "./core/trace.js";
export { registry } from "./primitives/registry.js";
export type { Primitive, Params, PrimitiveDef, Lowering } from "./primitives/types.js";
export { CpuBackend } from "./backend/cpu/cpu-backend.js";
