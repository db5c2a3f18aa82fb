import type { Heap } from "../heap.js";
import { MAX_PAGES } from "../heap.js";
import type { WasmKernels } from "../matmul.js";
import { relaxedSimdAvailable, wasmAvailable } from "./asm.js";
import { type GemmExports, gemmModule } from "./gemm.js";
import { WorkerPool } from "./pool.js";

/** Closes a collected backend's workers (they hold its heap's memory). */
const pools = new FinalizationRegistry<WorkerPool>((p) => p.close());

/**
 * Compiles the Wasm kernels against one heap's memory (synchronously: each module is a few KiB,
 * under browsers' limit for main-thread compilation), with a worker pool of `threads` when the
 * heap is shared. Null when Wasm is off or unavailable.
 */
export function compileWasmKernels(
  owner: object,
  heap: Heap,
  opts: { wasm: "auto" | "off"; relaxedSimd: "auto" | "off"; threads: number },
): WasmKernels | null {
  if (opts.wasm === "off" || !wasmAvailable()) return null;
  const fma = opts.relaxedSimd === "auto" && relaxedSimdAvailable();
  const bytes = gemmModule(fma, undefined, { shared: heap.shared, maxPages: MAX_PAGES });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: heap.memory } });
  let pool: WorkerPool | null = null;
  if (heap.shared && opts.threads > 1) {
    try {
      pool = new WorkerPool(heap.memory, bytes, opts.threads);
      pools.register(owner, pool);
    } catch (e) {
      // A page's CSP may refuse blob: workers: the backend then runs on one thread, as it says.
      console.debug(`webjax cpu: one thread instead of ${opts.threads}: no worker could start (${String(e)})`);
    }
  }
  return { heap, gemm: instance.exports as unknown as GemmExports, fma, pool };
}
