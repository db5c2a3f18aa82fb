import { registerBackend, resetBackend } from "../registry.js";
import { CpuBackend, type CpuOptions, cpuOptions, setCpuOptions } from "./cpu-backend.js";

registerBackend("cpu", () => new CpuBackend(cpuOptions()));

/**
 * Configures the CPU backend (deferred mode, code generation, flush size). The next use of the
 * "cpu" backend creates a new instance with these options; arrays made before keep the old one.
 */
export function configureCpu(options: Partial<CpuOptions>): void {
  setCpuOptions(options);
  resetBackend("cpu");
}

export { CpuBackend, type CpuOptions };
