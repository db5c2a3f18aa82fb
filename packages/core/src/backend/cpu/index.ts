import { BackendError } from "../../errors.js";
import { checkOptions } from "../../numpy/options.js";
import { registerBackend, resetBackend } from "../registry.js";
import { CpuBackend, type CpuOptions, cpuOptions, setCpuOptions } from "./cpu-backend.js";

registerBackend("cpu", () => new CpuBackend(cpuOptions()));

const oneOf = (...values: readonly unknown[]) => ({
  test: (v: unknown) => values.includes(v),
  expected: values.map((v) => JSON.stringify(v)).join(" or "),
});
const positiveInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 1;

/** What each option accepts. */
const CHOICES: Record<keyof CpuOptions, { test: (v: unknown) => boolean; expected: string }> = {
  deferred: oneOf(true, false),
  codegen: oneOf("auto", "js", "interpreter"),
  flushEvery: { test: positiveInt, expected: "a positive integer" },
  wasm: oneOf("auto", "off"),
  relaxedSimd: oneOf("auto", "off"),
  threads: { test: (v) => v === "auto" || positiveInt(v), expected: '"auto" or a positive integer' },
};

/**
 * Configures the CPU backend (deferred mode, code generation, flush size). The next use of the
 * "cpu" backend creates a new instance with these options; arrays made before keep the old one.
 */
export function configureCpu(options: Partial<CpuOptions>): void {
  checkOptions("configureCpu", options, Object.keys(CHOICES), "configureCpu({ threads: 2 })");
  for (const [key, value] of Object.entries(options)) {
    const ok = CHOICES[key as keyof CpuOptions];
    if (value !== undefined && !ok.test(value))
      throw new BackendError(`configureCpu: ${key} must be ${ok.expected}, got ${JSON.stringify(value)}`);
  }
  setCpuOptions(options);
  resetBackend("cpu");
}

export { CpuBackend, type CpuOptions };
