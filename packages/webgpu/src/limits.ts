import { BackendError } from "@webjax/core";

/** The device limits webjax plans around (possibly lowered by options, to test the split paths). */
export interface WebGPULimits {
  maxStorageBufferBindingSize: number;
  maxStorageBuffersPerShaderStage: number;
  maxComputeWorkgroupsPerDimension: number;
  maxBufferSize: number;
  minStorageBufferOffsetAlignment: number;
}

export const LIMIT_NAMES = [
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupsPerDimension",
  "maxBufferSize",
  "minStorageBufferOffsetAlignment",
] as const;

/** The device's limits, each lowered to `requested` where that is smaller (alignment: larger). */
export function effectiveLimits(device: GPUSupportedLimits, requested: Partial<WebGPULimits> = {}): WebGPULimits {
  const out = {} as WebGPULimits;
  for (const name of LIMIT_NAMES) {
    const have = device[name];
    const want = requested[name];
    out[name] =
      want === undefined
        ? have
        : name === "minStorageBufferOffsetAlignment"
          ? Math.max(have, want)
          : Math.min(have, want);
  }
  return out;
}

/** Splits a workgroup count over x and y so neither passes the per-dimension limit. */
export function grid(count: number, limits: WebGPULimits, label: string): [number, number] {
  const max = limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return [Math.max(count, 1), 1];
  const y = Math.ceil(count / max);
  if (y > max) {
    throw new BackendError(
      `webgpu: kernel '${label}' needs ${count} workgroups, past ${max}² (maxComputeWorkgroupsPerDimension squared)`,
    );
  }
  return [max, y];
}
