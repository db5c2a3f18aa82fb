/**
 * webjax against the libraries users would pick instead, in one run on one machine:
 * matmul GFLOP/s and eager per-op overhead. Ratios are webjax ÷ peer (higher is better for
 * GFLOP/s, lower for µs/op).
 */

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { configureCollection, getBackend } from "@webjax/core";
import type { CpuBackend } from "@webjax/core/internal";
import { benchControl, benchControlWebGPU } from "./control.js";
import { benchFit } from "./fit.js";
import { benchFusion, benchFusionWebGPU } from "./fusion.js";
import { benchJit } from "./jit.js";
import { benchNn } from "./nn.js";
import { type Contender, jaxjsJitMlp, jaxjsWasm, tfjsCpu, tfjsWasm, webjaxCpu } from "./peers.js";
import { benchRoutines } from "./routines.js";
import { medianMs, randomData } from "./timing.js";
import { benchPerExample } from "./vmap.js";
import { benchWebGPU } from "./webgpu.js";

const contenders: Contender[] = [webjaxCpu, tfjsCpu, tfjsWasm, jaxjsWasm];

/** `--json`: the tables go to stderr and one JSON document of every row to stdout. */
const json = process.argv.includes("--json");
if (json) console.log = console.error;
const rows: { title: string; unit: string; results: Record<string, number> }[] = [];
let current = "";
function heading(title: string): void {
  current = title.trim();
  console.log(title);
}

async function safely<T>(name: string, f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    console.log(`  ${name}: failed (${(e as Error).message})`);
    return undefined;
  }
}

async function benchMatmul(n: number, reps = 7): Promise<void> {
  // tfjs cpu runs 2048² at under 1 GFLOP/s (20 s a product): that row leaves it out.
  const who = n > 1024 ? contenders.filter((c) => c !== tfjsCpu) : contenders;
  const skipped = who.length < contenders.length ? "; tfjs cpu left out, ~20 s a product" : "";
  heading(`\nmatmul ${n}×${n} float32 (median of ${reps} after 2 warm-ups${skipped})`);
  const a = randomData(n * n, 1);
  const b = randomData(n * n, 2);
  const results: Record<string, number> = {};
  for (const c of who) {
    const gflops = await safely(c.name, async () => {
      const { run, done } = await c.matmul(n, a, b);
      const ms = await medianMs(run, { warmup: 2, reps });
      done();
      return (2 * n ** 3) / (ms * 1e6);
    });
    if (gflops !== undefined) results[c.name] = gflops;
  }
  report(results, "GFLOP/s", true);
}

async function benchOverhead(size: number, ops: number): Promise<void> {
  heading(`\neager per-op overhead: ${ops} chained adds of ${size} float32 elements`);
  const results: Record<string, number> = {};
  for (const c of contenders) {
    const us = await safely(c.name, async () => {
      const { run, done } = await c.addChain(size, ops);
      const ms = await medianMs(run, { warmup: 20, reps: 15 });
      done();
      return (ms * 1000) / ops;
    });
    if (us !== undefined) results[c.name] = us;
  }
  // What tracking dropped arrays costs per op: the same chain with the collector off.
  configureCollection({ mode: "off" });
  const off = await safely("webjax cpu (collection off)", async () => {
    const { run, done } = await webjaxCpu.addChain(size, ops);
    const ms = await medianMs(run, { warmup: 20, reps: 15 });
    done();
    return (ms * 1000) / ops;
  });
  configureCollection({ mode: "auto" });
  if (off !== undefined) results["webjax (no collector)"] = off;
  report(results, "µs/op", false);
}

function report(results: Record<string, number>, unit: string, higherIsBetter: boolean): void {
  rows.push({ title: current, unit, results });
  const ours = results[webjaxCpu.name];
  for (const [name, v] of Object.entries(results)) {
    const ratio = ours === undefined || name === webjaxCpu.name ? "" : `  webjax/peer = ${(ours / v).toFixed(2)}`;
    console.log(`  ${name.padEnd(16)} ${v.toFixed(2).padStart(9)} ${unit}${ratio}`);
  }
  void higherIsBetter;
}

async function benchMlpGrad(sizes: readonly number[], batch: number): Promise<void> {
  heading(`\neager valueAndGrad of an MLP ${sizes.join("-")}, batch ${batch} (ReLU, softmax cross-entropy)`);
  const results: Record<string, number> = {};
  for (const c of contenders) {
    const ms = await safely(c.name, async () => {
      const { run, done } = await c.mlpGrad(sizes, batch);
      const t = await medianMs(run, { warmup: 3, reps: 9 });
      done();
      return t;
    });
    if (ms !== undefined) results[c.name] = ms;
  }
  const jitted = await safely("jax-js wasm jit", async () => {
    const { run, done } = await jaxjsJitMlp(sizes, batch);
    const t = await medianMs(run, { warmup: 3, reps: 9 });
    done();
    return t;
  });
  if (jitted !== undefined) results["jax-js wasm jit"] = jitted;
  report(results, "ms/step", false);
}

/** One timed run per contender of what `make` sets up; reports `value(ms)` in `unit`. */
async function benchEach(
  title: string,
  make: (c: Contender) => Promise<{ run: () => Promise<void>; done: () => void }>,
  value: (ms: number) => number,
  unit: string,
  reps = 9,
): Promise<void> {
  heading(`\n${title} (median of ${reps})`);
  const results: Record<string, number> = {};
  for (const c of contenders) {
    const v = await safely(c.name, async () => {
      const { run, done } = await make(c);
      const ms = await medianMs(run, { warmup: 3, reps });
      done();
      return value(ms);
    });
    if (v !== undefined) results[c.name] = v;
  }
  report(results, unit, false);
}

async function benchBatched(batch: number, n: number): Promise<void> {
  const a = randomData(batch * n * n, 4);
  const b = randomData(batch * n * n, 5);
  await benchEach(
    `batched matmul [${batch}, ${n}, ${n}] @ [${batch}, ${n}, ${n}] float32`,
    (c) => c.batchedMatmul(batch, n, a, b),
    (ms) => ms,
    "ms",
  );
}

/** Cold start (import → first 256² matmul result) and peak RSS, each library in its own process. */
async function benchCold(): Promise<void> {
  const script = fileURLToPath(new URL("./cold.js", import.meta.url));
  const cold: Record<string, number> = {};
  const peak: Record<string, number> = {};
  for (const [name, lib] of [
    [webjaxCpu.name, "webjax"],
    [tfjsCpu.name, "tfjs-cpu"],
    [tfjsWasm.name, "tfjs-wasm"],
    [jaxjsWasm.name, "jax-js"],
  ] as const) {
    await safely(name, async () => {
      const out = execFileSync(process.execPath, [script, lib], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
      const r = JSON.parse(out.trim().split("\n").pop() as string) as { coldMs: number; peakMB: number };
      cold[name] = r.coldMs;
      peak[name] = r.peakMB;
    });
  }
  heading("\ncold start: a fresh process's import → first 256×256 matmul result");
  report(cold, "ms", false);
  heading("\npeak resident memory of that process after twenty 1024×1024 matmuls");
  report(peak, "MB", false);
}

/** The CPU backend on one and two threads, with relaxed SIMD off and on: one process each. */
async function benchConfigs(): Promise<void> {
  const script = fileURLToPath(new URL("./configs.js", import.meta.url));
  const configs = [
    { name: "1 thread", threads: 1, relaxed: "off", flags: [] as string[] },
    { name: "2 threads", threads: 2, relaxed: "off", flags: [] as string[] },
    { name: "1 thread, relaxed", threads: 1, relaxed: "auto", flags: ["--experimental-wasm-relaxed-simd"] },
    { name: "2 threads, relaxed", threads: 2, relaxed: "auto", flags: ["--experimental-wasm-relaxed-simd"] },
  ];
  const byRow: Record<string, Record<string, number>> = {};
  for (const c of configs) {
    await safely(c.name, async () => {
      const out = execFileSync(process.execPath, [...c.flags, script, String(c.threads), c.relaxed], {
        encoding: "utf8",
      });
      const r = JSON.parse(out.trim().split("\n").pop() as string) as {
        threads: number;
        fma: boolean;
        rows: Record<string, number>;
      };
      const label = `${r.threads} thread${r.threads > 1 ? "s" : ""}${r.fma ? ", relaxed madd" : ""}`;
      for (const [row, v] of Object.entries(r.rows)) {
        byRow[row] ??= {};
        byRow[row][label] = v;
      }
    });
  }
  for (const [row, results] of Object.entries(byRow)) {
    const unit = row.endsWith("GFLOP/s") ? "GFLOP/s" : "ms";
    heading(`\nwebjax cpu configurations: ${row.replace(/ (GFLOP\/s|ms)$/, "")}`);
    rows.push({ title: current, unit, results });
    const base = results["1 thread"];
    for (const [name, v] of Object.entries(results)) {
      const speedup = base === undefined ? "" : `  speedup ${(unit === "ms" ? base / v : v / base).toFixed(2)}×`;
      console.log(`  ${name.padEnd(26)} ${v.toFixed(2).padStart(9)} ${unit}${speedup}`);
    }
  }
}

/** `pnpm bench` runs every section; `node dist/main.js routines matmul` only the named ones. */
const sections: Record<string, () => Promise<void>> = {
  mlp: () => benchMlpGrad([784, 512, 512, 10], 128),
  jit: () => benchJit((r, u) => report(r, u, false), heading),
  fusion: () => benchFusion((r, u) => report(r, u, false), heading),
  control: () => benchControl((r, u) => report(r, u, false), heading),
  nn: () => benchNn((r, u) => report(r, u, false), heading),
  fit: () => benchFit((r, u) => report(r, u, false), heading),
  overhead: () => benchOverhead(1000, 1000),
  matmul: async () => {
    await benchMatmul(128, 15);
    await benchMatmul(512);
    await benchMatmul(1024);
    await benchMatmul(2048, 3);
  },
  elementwise: () =>
    benchEach(
      "elementwise chain tanh(2x + 1) − exp(−0.1x) on 1e6 float32",
      (c) => c.elementwise(randomData(1e6, 6)),
      (ms) => ms,
      "ms",
    ),
  reduce: () =>
    benchEach(
      "sum of 1e6 float32",
      (c) => c.reduceSum(randomData(1e6, 7)),
      (ms) => ms,
      "ms",
    ),
  batched: async () => {
    await benchBatched(256, 64);
    await benchBatched(2000, 8);
  },
  conv: async () => {
    const c = { n: 32, hw: 32, cin: 64, cout: 64 };
    const x = randomData(c.n * c.hw * c.hw * c.cin, 8);
    const w = randomData(9 * c.cin * c.cout, 9).map((v) => v / 24);
    const flops = 2 * c.n * c.hw * c.hw * c.cout * 9 * c.cin;
    await benchEach(
      `conv2d 3×3 SAME, [${c.n}, ${c.hw}, ${c.hw}, ${c.cin}] → ${c.cout} features float32`,
      (k) => k.conv2d(c, x, w),
      (ms) => flops / (ms * 1e6),
      "GFLOP/s",
      5,
    );
    await benchEach(
      `max pool 2×2 stride 2 of [${c.n}, ${c.hw}, ${c.hw}, ${c.cin}]`,
      (k) => k.maxPool(c, x),
      (ms) => ms,
      "ms",
    );
  },
  cold: () => benchCold(),
  configs: () => benchConfigs(),
  routines: benchRoutines,
  vmap: benchPerExample,
  // Last: they make WebGPU the default backend while they run.
  "fusion-webgpu": () => benchFusionWebGPU((r, u) => report(r, u, false), heading),
  "control-webgpu": () => benchControlWebGPU((r, u) => report(r, u, false), heading),
  webgpu: () => benchWebGPU((r, u) => report(r, u, false), heading),
};
// `--backend webgpu`: the WebGPU rows alone (against jax-js' WebGPU backend).
const args = process.argv.slice(2);
const backendAt = args.indexOf("--backend");
const backendArg = backendAt >= 0 ? args[backendAt + 1] : undefined;
if (backendArg !== undefined && backendArg !== "webgpu" && backendArg !== "cpu")
  throw new Error(`bench: --backend takes webgpu or cpu, got '${backendArg}'`);
const named = args.filter((a, i) => !a.startsWith("--") && (backendAt < 0 || i !== backendAt + 1));
const wanted = backendArg === "webgpu" ? ["webgpu", ...named] : named;
console.log(`node ${process.version}, ${process.arch}`);
// The CPU pool's workers start in the background: time it with them, not before them.
await (getBackend("cpu") as CpuBackend).wasm?.pool?.whenReady();
for (const [name, run] of Object.entries(sections)) {
  const all = wanted.length === 0 && name !== "webgpu"; // a plain run keeps its CPU rows and the SwiftShader step
  if (all || wanted.includes(name)) await run();
}
if (json) process.stdout.write(`${JSON.stringify({ node: process.version, arch: process.arch, rows }, null, 2)}\n`);
