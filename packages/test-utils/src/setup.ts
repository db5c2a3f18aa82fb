/**
 * Vitest setup shared by every project: picks the CPU backend's mode from WEBJAX_CPU.
 * - "normal": the default, Wasm kernels and the worker pool where the machine has more than one core;
 * - "deferred": queued work and reads on later tasks, Wasm kernels on one thread;
 * - "js": the generated-JS kernels (`wasm: "off"`), what an engine without Wasm runs;
 * - "interpreter": never calls new Function and runs no Wasm (a strict-CSP page).
 */
import { configureCpu } from "@webjax/core";
import { type CpuBackend, existingBackend, setJaxprChecks } from "@webjax/core/internal";
import { afterAll, expect } from "vitest";

// Every program that linearize, staging and dead-code elimination make is type-checked.
setJaxprChecks(true);

const mode = process.env.WEBJAX_CPU ?? "normal";
if (mode === "deferred") configureCpu({ deferred: true, threads: 1 });
else if (mode === "interpreter") configureCpu({ codegen: "interpreter", wasm: "off" });
else if (mode === "js") configureCpu({ codegen: "js", wasm: "off" });
else if (mode !== "normal") throw new Error(`WEBJAX_CPU=${mode}: expected normal, deferred, js or interpreter`);

/** Every fused kernel goes to Wasm where Wasm runs: a kernel that fell back to JS fails the file, with its reason. */
afterAll(() => {
  const cpu = existingBackend("cpu") as CpuBackend | undefined;
  if (!cpu?.wasmFallbackReasons) return;
  expect([...cpu.wasmFallbackReasons.keys()], "fused kernels that fell back to JS kernels").toEqual([]);
});
