/**
 * The WebGPU rows alone (`node dist/gpu.js`), for a GPU machine: imports only webjax and
 * jax-js, so `scripts/pack-gpu.sh` can carry it without a registry. `pnpm bench --backend
 * webgpu` runs the same rows from the full bench.
 */
import { benchWebGPU } from "./webgpu.js";

console.log(`node ${process.version}, ${process.arch}`);
await benchWebGPU(
  (results, unit) => {
    for (const [name, v] of Object.entries(results))
      console.log(`  ${name.padEnd(36)} ${v.toFixed(2).padStart(9)} ${unit}`);
  },
  (title) => console.log(title),
);
