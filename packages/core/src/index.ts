/**
 * @webjax/core — JAX for TypeScript: immutable n-d arrays, the primitive registry, the kernel
 * IR and the embedded CPU backend. (Transforms arrive in later releases.)
 */
import "./backend/cpu/index.js";

export { Array, type ArrayLike, type Axis, type NestedArray, type ReduceOptions, type SliceIndex } from "./array.js";
export { BackendError, DTypeError, ShapeError, TracerError, WebjaxError } from "./errors.js";
export { type DType, DTYPES, promoteTypes } from "./dtype.js";
export { backendNames, currentBackend, getBackend, registerBackend, setBackend } from "./backend/registry.js";
export type { Backend, Executable, Slot } from "./backend/backend.js";
export { configureCpu, type CpuOptions } from "./backend/cpu/index.js";
export { checkLeaks, memoryStats, setMemoryWarning, type BackendMemory, type LeakReport } from "./memory.js";
export * as np from "./numpy/index.js";
export * as lax from "./lax.js";
