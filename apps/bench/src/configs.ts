/**
 * webjax's CPU backend under one configuration per process: `node [--experimental-wasm-relaxed-simd]
 * dist/configs.js <threads> <auto|off>` sets `configureCpu({ threads, relaxedSimd })` before the
 * first op, times the rows threads and relaxed SIMD affect, and prints one JSON line (with
 * whether the matmul microkernel really used `f32x4.relaxed_madd`).
 */
import { configureCpu, getBackend, np } from "@webjax/core";
import type { CpuBackend } from "@webjax/core/internal";
import { webjaxCpu } from "./peers.js";
import { medianMs, randomData } from "./timing.js";

const threads = Number(process.argv[2] ?? 1);
const relaxedSimd = (process.argv[3] ?? "auto") as "auto" | "off";
configureCpu({ threads, relaxedSimd });
// Workers start in the background; time the pool, not its first kernels on one thread.
await (getBackend("cpu") as CpuBackend).wasm?.pool?.whenReady();

async function time(setup: Promise<{ run: () => Promise<void>; done: () => void }>, reps = 7): Promise<number> {
  const { run, done } = await setup;
  const ms = await medianMs(run, { warmup: 2, reps });
  done();
  return ms;
}

const n = 1024;
const conv = { n: 32, hw: 32, cin: 64, cout: 64 };
const rows: Record<string, number> = {};
rows["matmul 1024² GFLOP/s"] =
  (2 * n ** 3) / ((await time(webjaxCpu.matmul(n, randomData(n * n, 1), randomData(n * n, 2)))) * 1e6);
const convFlops = 2 * conv.n * conv.hw * conv.hw * conv.cout * 9 * conv.cin;
const cx = randomData(conv.n * conv.hw * conv.hw * conv.cin, 8);
const cw = randomData(9 * conv.cin * conv.cout, 9).map((v) => v / 24);
rows["conv2d GFLOP/s"] = convFlops / ((await time(webjaxCpu.conv2d(conv, cx, cw), 5)) * 1e6);
rows["MLP valueAndGrad ms"] = await time(webjaxCpu.mlpGrad([784, 512, 512, 10], 128), 9);
rows["elementwise chain 1e6 ms"] = await time(webjaxCpu.elementwise(randomData(1e6, 6)), 15);
const m = np.array(randomData(1e6, 7), { shape: [1000, 1000] });
rows["row sums [1000,1000] ms"] = await time(
  Promise.resolve({
    run: async () => {
      using s = m.sum(1);
      await s.blockUntilReady();
    },
    done: () => m.dispose(),
  }),
  15,
);
const cpu = getBackend("cpu") as CpuBackend;
process.stdout.write(`${JSON.stringify({ threads: cpu.threads, fma: cpu.wasm?.fma ?? false, rows })}\n`);
process.exit(0);
