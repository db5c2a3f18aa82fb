/** `profiler` (issue 25): Chrome-trace recording of compiles, program calls, kernels and live bytes (core/profiler.ts). */
export {
  type ProfileTrace,
  saveTrace,
  startTrace,
  stopTrace,
  type TraceEvent,
  traceBlob,
} from "./core/profiler.js";
