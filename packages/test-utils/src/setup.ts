/**
 * Vitest setup shared by every project: picks the CPU backend's mode from WEBJAX_CPU.
 * - "normal": the default, Wasm kernels and the worker pool where the machine has more than one core;
 * - "deferred": queued work and reads on later tasks, Wasm kernels on one thread;
 * - "js": the generated-JS kernels (`wasm: "off"`), what an engine without Wasm runs;
 * - "interpreter": never calls new Function and runs no Wasm (a strict-CSP page).
 */
import { configureCpu } from "@webjax/core";
import { type CpuBackend, existingBackend } from "@webjax/core/internal";
import { afterAll, expect } from "vitest";

const mode = process.env.WEBJAX_CPU ?? "normal";
if (mode === "deferred") configureCpu({ deferred: true, threads: 1 });
else if (mode === "interpreter") configureCpu({ codegen: "interpreter", wasm: "off" });
else if (mode === "js") configureCpu({ codegen: "js", wasm: "off" });
else if (mode !== "normal") throw new Error(`WEBJAX_CPU=${mode}: expected normal, deferred, js or interpreter`);

/**
 * Fused kernels that could not go to Wasm, by reason, must be ones the backend documents
 * (float64 and float16 storage, float rem, integer pow): a new reason fails the file.
 */
const ALLOWED_FALLBACKS =
  /^(float64 storage|float16 storage|float64 values|float16 values|rem on float32|pow on (int32|uint32))$/;
afterAll(() => {
  const cpu = existingBackend("cpu") as CpuBackend | undefined;
  if (!cpu?.wasmFallbackReasons) return;
  const unexpected = [...cpu.wasmFallbackReasons.keys()].filter((r) => !ALLOWED_FALLBACKS.test(r));
  expect(unexpected, "fused kernels that fell back to JS for an undocumented reason").toEqual([]);
});
