/**
 * The WebGPU backend's compute pipelines, cached by WGSL source (and kernels compiled to them): compiled on first use — at
 * once, or asynchronously while a `prepare` builds — with their compile errors (and the
 * shader's messages) kept as a promise that reaches the reads of what their kernels write.
 */
import { BackendError } from "@webjax/core";
import { type Kernel, LruCache } from "@webjax/core/internal";
import { fusedSource, paramCount } from "./codegen/fused.js";
import { matmulSource } from "./codegen/matmul.js";
import { chooseTiles, type Tuning } from "./codegen/matmul-tiles.js";
import { Compiled, type GpuCounters, GpuExecutable, GpuRoutine } from "./executables.js";
import type { WebGPULimits } from "./limits.js";

export class Pipelines {
  /** The least recently used past 1024 are dropped (recompiled on reuse). */
  private readonly cache = new LruCache<string, Compiled>(1024);

  constructor(
    private readonly device: GPUDevice,
    private readonly counters: GpuCounters,
  ) {}

  /** The pipeline of `source`; made asynchronously where `pending` (a `prepare`'s list) is given. */
  get(label: string, source: string, pending: Promise<Error | null>[] | null): Compiled {
    let entry = this.cache.get(source);
    if (entry) return entry;
    this.counters.compiles++;
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ code: source, label });
    const descriptor: GPUComputePipelineDescriptor = { layout: "auto", compute: { module, entryPoint: "main" }, label };
    entry = new Compiled(this.device, descriptor, pending ? null : this.device.createComputePipeline(descriptor));
    const scoped = this.device.popErrorScope();
    let made: Promise<Error | null> = Promise.resolve(null);
    if (pending) {
      this.counters.asyncPipelines++;
      made = entry.makeAsync();
      pending.push(made);
    }
    entry.compiled = Promise.all([scoped, made]).then(async ([err, failed]) => {
      const e = err ?? failed;
      if (!e) return null;
      const info = await module.getCompilationInfo();
      const messages = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join("; ");
      return new BackendError(`webgpu: kernel '${label}' did not compile: ${messages || e.message}\n${source}`);
    });
    this.cache.set(source, entry);
    return entry;
  }

  clear(): void {
    this.cache.clear();
  }
}

/** A kernel's executable: a routine as is; a fused or matmul kernel's pipelines (a reduction's serial one too). */
export function compileKernel(
  kernel: Kernel,
  limits: WebGPULimits,
  tuning: Tuning,
  pipeline: (label: string, source: string) => Compiled,
): GpuExecutable | GpuRoutine {
  if (kernel.kind === "routine") return new GpuRoutine(kernel);
  const bindings = kernel.inputs.length + kernel.outputs.length;
  if (bindings > limits.maxStorageBuffersPerShaderStage) {
    throw new BackendError(
      `webgpu: kernel '${kernel.label}' binds ${bindings} storage buffers, past this device's maxStorageBuffersPerShaderStage (${limits.maxStorageBuffersPerShaderStage})`,
    );
  }
  const nParams = paramCount([kernel]);
  if (kernel.kind === "matmul") {
    const tiles = chooseTiles(kernel, tuning);
    const main = pipeline(kernel.label, matmulSource(kernel, nParams, undefined, tiles));
    return new GpuExecutable(kernel, main, nParams, null, null, tiles);
  }
  const main = pipeline(kernel.label, fusedSource(kernel, nParams));
  const serial = kernel.reduce ? pipeline(kernel.label, fusedSource(kernel, nParams, true)) : null;
  return new GpuExecutable(kernel, main, nParams, serial);
}

/** The WGSL of a kernel (routines are several passes: named only). */
export function kernelSource(kernel: Kernel, tuning: Tuning): string {
  if (kernel.kind === "routine") return `routine '${kernel.routine.name}' (WGSL passes, see routines/)`;
  const nParams = paramCount([kernel]);
  return kernel.kind === "matmul"
    ? matmulSource(kernel, nParams, undefined, chooseTiles(kernel, tuning))
    : fusedSource(kernel, nParams);
}
