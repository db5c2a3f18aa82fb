import { BackendError, currentBackend, getBackend, registerBackend, resetBackend, setBackend } from "@webjax/core";
import * as TE from "fp-ts/lib/TaskEither.js";
import { WebGPUBackend, type WebGPUBackendOptions } from "./backend.js";
import { effectiveLimits, type WebGPULimits } from "./limits.js";

/** Where the GPU object comes from: `navigator.gpu` in a browser, the `webgpu` package in Node. */
export interface GpuProvider {
  /** What this environment is, for messages ("browser", "node"). */
  readonly where: string;
  /** The GPU entry point, or an error saying what is missing and how to get it. */
  gpu(): Promise<GPU>;
}

export interface InitOptions extends WebGPUBackendOptions {
  /** Plan around lower limits than the device has (tests use this to exercise split paths). */
  limits?: Partial<WebGPULimits>;
  powerPreference?: GPUPowerPreference;
  /**
   * `init()` only: when WebGPU is unavailable, use the cpu backend instead (default true).
   * The fallback is never silent: it warns with the reason.
   */
  fallback?: boolean;
  /**
   * Accept a software adapter (SwiftShader, llvmpipe, WARP: `isFallbackAdapter`), which is
   * correct but usually slower than the cpu backend (default false: only hardware is picked).
   * Test suites without a GPU ask for it.
   */
  allowSoftware?: boolean;
}

/** Whether an adapter is a software rasteriser (the spec's isFallbackAdapter, or a known CPU driver). */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  if (info?.isFallbackAdapter === true || legacy === true) return true;
  const text = `${info?.vendor ?? ""} ${info?.architecture ?? ""} ${info?.description ?? ""}`.toLowerCase();
  return /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|warp/.test(text);
}

let provider: GpuProvider | null = null;
let active: WebGPUBackend | null = null;
const lostHooks = new Set<(error: BackendError) => void>();

function notInitialised(): never {
  throw new BackendError(
    'webgpu: the backend is not initialised; call `await init()` from "@webjax/webgpu" (or "@webjax/webgpu/node") first, or setBackend("cpu")',
  );
}

/** Installs the environment's GPU provider and registers the backend name with core. */
export function installProvider(p: GpuProvider): void {
  provider = p;
  registerBackend("webgpu", () => active ?? notInitialised());
}

/** Acquires an adapter and a device with the adapter's limits; rejects with a BackendError saying what is missing. */
async function acquire(options: InitOptions): Promise<WebGPUBackend> {
  if (!provider)
    throw new BackendError("webgpu: no GPU provider installed (import @webjax/webgpu or @webjax/webgpu/node)");
  const gpu = await provider.gpu();
  const adapter = await gpu.requestAdapter(options.powerPreference ? { powerPreference: options.powerPreference } : {});
  if (!adapter) {
    throw new BackendError(
      provider.where === "node"
        ? "webgpu: no GPU adapter found. Install a Vulkan driver (a GPU's, or SwiftShader: apt-get install chromium libvulkan1 " +
            "and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json), or use the cpu backend: setBackend('cpu')"
        : "webgpu: navigator.gpu found no adapter (GPU blocklisted or disabled); enable WebGPU, or use setBackend('cpu')",
    );
  }
  if (isSoftwareAdapter(adapter) && !options.allowSoftware) {
    const name = adapter.info ? `${adapter.info.vendor} ${adapter.info.description}`.trim() : "a software adapter";
    throw new BackendError(
      `webgpu: the only adapter is a software one (${name}), which is usually slower than the cpu backend; ` +
        "pass { allowSoftware: true } to use it anyway, or install a GPU driver",
    );
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    "maxStorageBufferBindingSize",
    "maxBufferSize",
    "maxStorageBuffersPerShaderStage",
    "maxComputeWorkgroupsPerDimension",
  ] as const) {
    requiredLimits[name] = adapter.limits[name];
  }
  // Timestamp queries time kernels for the profiler (nothing is queried unless it records).
  const requiredFeatures: GPUFeatureName[] = adapter.features?.has("timestamp-query") ? ["timestamp-query"] : [];
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });
  const info = adapter.info
    ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}`.trim()
    : "";
  const backend = new WebGPUBackend(
    device,
    effectiveLimits(device.limits, options.limits),
    info || "unknown adapter",
    options,
  );
  device.lost.then((lost) => {
    if (lost.reason === "destroyed" && backend.lostReason === "shutdown") return;
    const reason = `${lost.reason}${lost.message ? `: ${lost.message}` : ""}`;
    backend.markLost(reason);
    const err = new BackendError(`webgpu: the device was lost (${reason}); call await init() to create a new one`);
    for (const hook of lostHooks) hook(err);
  });
  device.onuncapturederror = (e) => {
    console.error(`webjax webgpu: uncaptured error: ${e.error.message}`);
  };
  return backend;
}

/** Acquires the WebGPU device and makes "webgpu" the current backend; throws a BackendError when it cannot. */
export async function initWebGPU(options: InitOptions = {}): Promise<WebGPUBackend> {
  if (active && active.lostReason === null) active.destroy();
  active = null;
  resetBackend("webgpu");
  active = await acquire(options);
  setBackend("webgpu");
  return active;
}

/**
 * Picks the backend: WebGPU when a hardware adapter exists (a software one only with
 * `allowSoftware`), else (unless `fallback: false`) the cpu backend with a warning that says
 * why. Resolves to the name of the backend in use.
 */
export async function init(options: InitOptions = {}): Promise<"webgpu" | "cpu"> {
  try {
    await initWebGPU(options);
    return "webgpu";
  } catch (e) {
    if (options.fallback === false) throw e;
    console.warn(`webjax: WebGPU is unavailable, using the cpu backend. ${(e as Error).message}`);
    setBackend("cpu");
    return "cpu";
  }
}

/** `initWebGPU` as an fp-ts TaskEither: Left(BackendError) instead of a rejection. */
export function initTask(options: InitOptions = {}): TE.TaskEither<BackendError, WebGPUBackend> {
  return TE.tryCatch(
    () => initWebGPU(options),
    (e) => (e instanceof BackendError ? e : new BackendError(`webgpu: ${String(e)}`)),
  );
}

/** Registers a hook called when the device is lost (arrays on it are then unusable; re-init). */
export function onDeviceLost(hook: (error: BackendError) => void): () => void {
  lostHooks.add(hook);
  return () => lostHooks.delete(hook);
}

/** Destroys the device and drops every reference to it, so a Node script can exit by itself. */
export function shutdown(): void {
  if (active) {
    active.lostReason = "shutdown";
    active.destroy();
  }
  active = null;
  resetBackend("webgpu");
  if (currentBackend() === "webgpu") setBackend("cpu");
}

/** The active WebGPU backend (for tests and diagnostics), or null. */
export function activeBackend(): WebGPUBackend | null {
  return active;
}

export { getBackend };
