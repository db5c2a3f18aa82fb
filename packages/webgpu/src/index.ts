/**
 * @webjax/webgpu — the WebGPU backend for browsers (`navigator.gpu`). In Node, import
 * "@webjax/webgpu/node", which acquires a Dawn device through the `webgpu` package.
 */
import { BackendError } from "@webjax/core";
import { installProvider } from "./acquire.js";

installProvider({
  where: "browser",
  async gpu() {
    const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
    if (!nav?.gpu) {
      throw new BackendError(
        "webgpu: navigator.gpu is undefined: this browser or context has no WebGPU (Chrome/Edge ≥ 113 on a secure origin, " +
          "Firefox/Safari with WebGPU enabled). In Node import '@webjax/webgpu/node'. Or use setBackend('cpu')",
      );
    }
    return nav.gpu;
  },
});

export { activeBackend, type InitOptions, init, initTask, initWebGPU, onDeviceLost, shutdown } from "./acquire.js";
export { WebGPUBackend } from "./backend.js";
export { type MatmulTiles, TILE_32, TILE_64, TILE_128, TUNING, type Tuning } from "./codegen/matmul-tiles.js";
export type { WebGPULimits } from "./limits.js";
