/**
 * @webjax/webgpu/node — the WebGPU backend in Node, on Dawn through the `webgpu` package
 * (an optional peer dependency: `pnpm add webgpu`).
 */
import { BackendError } from "@webjax/core";
import { type GpuProvider, installProvider } from "./acquire.js";

let gpu: GPU | null = null;

/**
 * Dawn through the `webgpu` package, loaded on first use. The instance lives as long as the
 * process. Dropping it after `shutdown()` let the garbage collector free Dawn's instance while
 * the binding could still have an event tick scheduled on it: a test fork once hung in Dawn's
 * `InstanceBase::ProcessEvents` on a mutex no thread owned, and one aborted in glibc's mutex
 * code as a file ended. A script still exits by itself after `shutdown()`: the instance alone
 * keeps nothing on the event loop (test/fixtures/exit-after-shutdown.mjs).
 */
export const nodeProvider: GpuProvider = {
  where: "node",
  async gpu() {
    if (gpu) return gpu;
    let mod: { create: (flags: string[]) => GPU };
    try {
      mod = (await import("webgpu")) as unknown as { create: (flags: string[]) => GPU };
    } catch (e) {
      throw new BackendError(
        `webgpu: the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}. Install it with \`pnpm add webgpu\` ` +
          "(its prebuilt binaries need glibc ≥ 2.38 on Linux), or use setBackend('cpu')",
      );
    }
    gpu = mod.create([]);
    return gpu;
  },
};

installProvider(nodeProvider);

export { activeBackend, type InitOptions, init, initTask, initWebGPU, onDeviceLost, shutdown } from "./acquire.js";
export { WebGPUBackend } from "./backend.js";
export { type MatmulTiles, TILE_32, TILE_64, TILE_128, TUNING, type Tuning } from "./codegen/matmul-tiles.js";
export type { WebGPULimits } from "./limits.js";
