/**
 * @webjax/core — JAX for TypeScript: immutable n-d arrays, the primitive registry, the kernel
 * IR, the embedded CPU backend, and the autodiff transforms (jvp, linearize, vjp, grad).
 */
import "./backend/cpu/index.js";

export { Array, type ArrayLike, type Axis, type NestedArray, type ReduceOptions, type SliceIndex } from "./array.js";
export type { Backend, BackendProgram, Executable, ProgramStep, Slot } from "./backend/backend.js";
export { type CpuOptions, configureCpu } from "./backend/cpu/index.js";
export {
  backendNames,
  currentBackend,
  getBackend,
  registerBackend,
  resetBackend,
  setBackend,
} from "./backend/registry.js";
export type { Atom, ClosedJaxpr, Eqn, EqnOf, Jaxpr, Literal, Var } from "./core/jaxpr.js";
export { Lowered, type LoweredKernel } from "./core/lower.js";
export * as debug from "./debug.js";
export { configure, type DebugOptions, FloatingPointError, withDebugNans } from "./debug-config.js";
export { DTYPES, type DType, promoteTypes, type ValueArray } from "./dtype.js";
export { BackendError, DTypeError, ShapeError, TracerError, WebjaxError } from "./errors.js";
export * as lax from "./lax.js";
export {
  type BackendMemory,
  type CollectionOptions,
  checkLeaks,
  collect,
  collectionStats,
  configureCollection,
  type HeapStats,
  type LeakReport,
  memoryStats,
  resetMemoryPeak,
  setMemoryWarning,
} from "./memory.js";
export * as np from "./numpy/index.js";
export * as profiler from "./profiler.js";
export * as random from "./random/index.js";
export { devicePut } from "./transfer.js";
export {
  type AnyFn,
  jvp,
  linearize,
  type SavedFunction,
  type VjpOptions,
  vjp,
} from "./transforms/autodiff.js";
export { type CheckpointOptions, type CheckpointPolicy, checkpoint } from "./transforms/checkpoint.js";
export { type BwdFn, customJvp, customVjp, type FwdFn, type JvpRuleFn, stopGradient } from "./transforms/custom.js";
export { type GradFn, type GradOptions, grad, type ValueAndGradFn, valueAndGrad } from "./transforms/grad.js";
export {
  type HessianFn,
  hessian,
  type JacobianFn,
  type JacobianOf,
  type JacobianOptions,
  jacfwd,
  jacrev,
} from "./transforms/jacobians.js";
export { type CompileEvent, clearCaches, configureJit, type JitOptions, type Jitted, jit } from "./transforms/jit.js";
export type { Cotangent } from "./transforms/leaves.js";
export { evalShape, makeJaxpr, ShapeDtypeStruct, type ShapesOf } from "./transforms/staging.js";
export { type AxisSpec, type VmapOptions, vmap } from "./transforms/vmap.js";
export type { PyTree, TreeDef } from "./tree/index.js";
export * as tree from "./tree/index.js";
