import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";

/** @webjax/core's own tests reach the test helpers by alias (a dependency would make a cycle). */
const alias = { "@webjax/test-utils": fileURLToPath(new URL("packages/test-utils/src/index.ts", import.meta.url)) };
const resolve = { conditions: ["source"], alias };
const ssr = { resolve: { conditions: ["source"] } };
const setup = "packages/test-utils/src/setup.ts";

/** Dawn on SwiftShader where no GPU driver is configured (CI, these machines). */
const swiftshader = "/usr/lib/chromium/vk_swiftshader_icd.json";
const vulkanEnv: Record<string, string> = {
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp",
  ...(process.env.VK_ICD_FILENAMES || !existsSync(swiftshader) ? {} : { VK_ICD_FILENAMES: swiftshader }),
};

/**
 * WebGPU projects run where a Vulkan driver (or SwiftShader) and Chromium are present, and
 * always under CI=true, where a missing adapter or browser fails the run. Elsewhere they are
 * left out with a warning, so `pnpm test` works on a machine with only Node.
 */
const ci = process.env.CI === "true" || process.env.CI === "1";
const hasVulkan =
  Boolean(process.env.VK_ICD_FILENAMES) || existsSync(swiftshader) || existsSync("/usr/share/vulkan/icd.d");
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const withWebGPU = ci || hasVulkan;
const withBrowser = ci || existsSync(chromium);
if (!withWebGPU)
  console.warn(
    "webjax: no Vulkan driver found, so the WebGPU (Dawn) tests are left out (apt-get install chromium libvulkan1).",
  );
if (!withBrowser) console.warn(`webjax: no Chromium at ${chromium}, so the browser tests are left out.`);

/** Headless Chromium with WebGPU on SwiftShader, and no network chatter. */
const chromiumArgs = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-vulkan=swiftshader",
  "--use-webgpu-adapter=swiftshader",
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The CPU suite runs four times: normal (Wasm kernels, worker pool), deferred (reads on later
 * tasks, Wasm on one thread), js (generated-JS kernels) and interpreter (no new Function, no Wasm).
 */
const cpuModes = ["normal", "deferred", "js", "interpreter"] as const;
/**
 * A CPU test's default time limit: 30 s, not Vitest's 5 s — two files run at once on a 2-core
 * CI machine, so a loop of 1,000 gradient steps that takes 1.5 s alone can take 5 s there.
 */
const CPU_TIMEOUT = 30_000;

/**
 * The op tests a second time through jit: `@webjax/core` resolves to a module whose `np`, `lax`
 * and `random` functions each run as a jitted program (packages/test-utils/src/jit-core.ts).
 */
const jitCore = fileURLToPath(new URL("packages/test-utils/src/jit-core.ts", import.meta.url));
/** Every import of `@webjax/core` but the wrapper's own resolves to the wrapper. */
const jitPlugin = {
  name: "webjax-jit-core",
  enforce: "pre" as const,
  resolveId(source: string, importer: string | undefined) {
    return source === "@webjax/core" && importer && !importer.endsWith("jit-core.ts") ? jitCore : null;
  },
};
const jitInclude = ["ops", "numpy", "routines", "indexing", "window", "random"].map(
  (d) => `packages/core/test/${d}/**/*.test.ts`,
);
/** Left out of the jit runs: size-scaling and golden-vector files (their ops are covered by the others). */
const jitExclude = [
  "packages/core/test/routines/large.test.ts",
  "packages/core/test/random/permutation-golden.test.ts",
];

export default defineConfig({
  resolve,
  ssr,
  test: {
    // Two test files at a time even on a 2-core machine (Vitest's default there is one): most
    // of a file's time is spent waiting on SwiftShader, a worker or a timer, so two overlap well.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      ...cpuModes.map((mode) => ({
        resolve,
        ssr,
        test: {
          name: `core-cpu-${mode}`,
          // optax's and nn's tests run on the default CPU path and on WebGPU (they use only the public API).
          include: [
            "packages/core/test/**/*.test.ts",
            ...(mode === "normal" ? ["packages/optax/test/**/*.test.ts", "packages/nn/test/**/*.test.ts"] : []),
          ],
          setupFiles: [setup],
          env: { WEBJAX_CPU: mode, WEBJAX_BACKEND: "cpu" },
          testTimeout: CPU_TIMEOUT,
        },
      })),
      {
        resolve,
        ssr,
        plugins: [jitPlugin],
        test: {
          name: "core-cpu-jit",
          include: jitInclude,
          exclude: jitExclude,
          setupFiles: [setup],
          env: { WEBJAX_CPU: "normal", WEBJAX_BACKEND: "cpu", WEBJAX_JIT_OPS: "1" },
          testTimeout: CPU_TIMEOUT,
        },
      },
      ...(withWebGPU
        ? [
            {
              resolve,
              ssr,
              test: {
                name: "webgpu-node",
                include: [
                  "packages/core/test/**/*.test.ts",
                  "packages/webgpu/test/**/*.test.ts",
                  "packages/optax/test/**/*.test.ts",
                  "packages/nn/test/**/*.test.ts",
                ],
                // The dataset loaders parse JSON and read files: nothing in them depends on the backend.
                exclude: ["packages/nn/test/datasets.test.ts"],
                setupFiles: [setup, "packages/webgpu/test/setup.ts"],
                env: { WEBJAX_BACKEND: "webgpu", WEBJAX_PROP_RUNS: "12", ...vulkanEnv },
                testTimeout: 60_000,
                hookTimeout: 60_000,
              },
            },
            {
              resolve,
              ssr,
              plugins: [jitPlugin],
              test: {
                name: "webgpu-jit",
                // The op set proper on WebGPU (routines and random run through jit on the CPU).
                include: jitInclude.filter((g) => /\/(ops|numpy|indexing|window)\//.test(g)),
                exclude: jitExclude,
                setupFiles: [setup, "packages/webgpu/test/setup.ts"],
                env: { WEBJAX_BACKEND: "webgpu", WEBJAX_JIT_OPS: "1", WEBJAX_PROP_RUNS: "12", ...vulkanEnv },
                testTimeout: 60_000,
                hookTimeout: 60_000,
              },
            },
          ]
        : []),
      ...(withBrowser
        ? [
            {
              resolve,
              // Cross-origin isolated, as a page must be for SharedArrayBuffer: the CPU backend's worker pool.
              server: {
                headers: {
                  "Cross-Origin-Opener-Policy": "same-origin",
                  "Cross-Origin-Embedder-Policy": "require-corp",
                },
              },
              test: {
                name: "webgpu-browser",
                include: ["packages/webgpu/test-browser/**/*.test.ts"],
                testTimeout: 60_000,
                browser: {
                  enabled: true,
                  headless: true,
                  provider: playwright({ launchOptions: { executablePath: chromium, args: chromiumArgs } }),
                  instances: [{ browser: "chromium" as const }],
                },
              },
            },
          ]
        : []),
      ...(["normal", "deferred"] as const).map((mode) => ({
        resolve,
        ssr,
        test: {
          name: `examples-${mode}`,
          include: ["apps/examples/test/**/*.test.ts"],
          // The main job's test runs the CLI in a child process (normal mode whatever the project),
          // and the examples are whole training runs: once, in the normal project, is enough.
          ...(mode === "deferred"
            ? { exclude: ["apps/examples/test/fashion.test.ts", "apps/examples/test/examples/**"] }
            : {}),
          setupFiles: [setup],
          env: { WEBJAX_CPU: mode },
          testTimeout: CPU_TIMEOUT,
        },
      })),
    ],
  },
});
