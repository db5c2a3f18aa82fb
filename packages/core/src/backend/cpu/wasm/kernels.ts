import type { Heap } from "../heap.js";
import type { WasmKernels } from "../matmul.js";
import { relaxedSimdAvailable, wasmAvailable } from "./asm.js";
import { type GemmExports, gemmModule } from "./gemm.js";

/**
 * Compiles the Wasm kernels against one heap's memory (synchronously: each module is a few KiB,
 * under browsers' limit for main-thread compilation). Null when Wasm is off or unavailable.
 */
export function compileWasmKernels(
  heap: Heap,
  opts: { wasm: "auto" | "off"; relaxedSimd: "auto" | "off" },
): WasmKernels | null {
  if (opts.wasm === "off" || !wasmAvailable()) return null;
  const fma = opts.relaxedSimd === "auto" && relaxedSimdAvailable();
  const bytes = gemmModule(fma);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: heap.memory } });
  return { heap, gemm: instance.exports as unknown as GemmExports, fma };
}
