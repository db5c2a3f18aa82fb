import { BackendError } from "@webjax/core";
import { children, type Expr, type Kernel, outputExprs } from "@webjax/core/internal";
import type { GpuSlot } from "./executables.js";
import type { WebGPULimits } from "./limits.js";

/** One dispatch of a kernel: its params, and the byte range bound for each slot (null: whole buffers). */
export interface Chunk {
  params: Int32Array;
  ranges: { offset: number; size: number }[] | null;
}

/**
 * Splits a flat elementwise kernel whose buffers pass `maxStorageBufferBindingSize` into
 * dispatches over ranges of the output, binding only the part of each buffer a chunk reads
 * (offsets aligned to `minStorageBufferOffsetAlignment`). Anything else that is too large for one
 * binding is a named error.
 */
export function flatChunks(
  k: Kernel,
  ins: GpuSlot[],
  outs: GpuSlot[],
  params: Int32Array,
  limits: WebGPULimits,
): Chunk[] {
  const limit = limits.maxStorageBufferBindingSize;
  const tooBig = () =>
    new BackendError(
      `webgpu: kernel '${k.label}' binds a buffer of ${Math.max(...outs.map((s) => s.bytes), ...ins.map((s) => s.bytes))} bytes, past this device's ` +
        `maxStorageBufferBindingSize (${limit}); only flat elementwise kernels are split, so make the array smaller or use the cpu backend`,
    );
  // Chunks restart the loop at 0 and bind sub-ranges, so only plain strided kernels split:
  // no gathers (their reads can fall anywhere) and no index or param leaves (chunk-local).
  if (
    k.kind !== "fused" ||
    k.reduce ||
    k.outRank !== 1 ||
    [...ins, ...outs].some((s) => s.dtype === "float16") ||
    k.loads.some((l) => l.gather && l.gather.length > 0) ||
    outputExprs(k).some(readsPosition)
  ) {
    throw tooBig();
  }
  const n0 = k.loops[0];
  if (typeof n0 !== "object") throw tooBig();
  const loadInfo = k.loads.map((l) => {
    const s = l.strides[0];
    const stride = typeof s === "number" ? s : (params[s?.param ?? -1] ?? -1);
    if (typeof l.offset !== "object" || (stride !== 0 && stride !== 1)) throw tooBig();
    return { param: l.offset.param, offset: params[l.offset.param] as number, stride, input: l.input };
  });
  const alignEl = limits.minStorageBufferOffsetAlignment / 4;
  const total = params[n0.param] as number;
  const chunk = Math.floor((limit / 4 - alignEl) / alignEl) * alignEl;
  if (chunk <= 0) throw tooBig();
  const chunks: Chunk[] = [];
  for (let c0 = 0; c0 < total; c0 += chunk) {
    const len = Math.min(chunk, total - c0);
    const p = params.slice();
    p[n0.param] = len;
    const ranges = [...ins, ...outs].map((s) => ({ offset: 0, size: Math.max(s.bytes, 4) }));
    for (const l of loadInfo) {
      const first = l.offset + l.stride * c0;
      const start = Math.floor(first / alignEl) * alignEl;
      const slot = ins[l.input] as GpuSlot;
      const needed = (first - start + (l.stride === 1 ? len : 1)) * 4;
      ranges[l.input] = { offset: start * 4, size: Math.min(needed, slot.bytes - start * 4) };
      p[l.param] = first - start;
    }
    outs.forEach((_, j) => {
      ranges[ins.length + j] = { offset: c0 * 4, size: len * 4 };
    });
    chunks.push({ params: p, ranges });
  }
  return chunks;
}

/** Whether an expression reads a loop index or a param (values a chunk would change). */
function readsPosition(e: Expr): boolean {
  const seen = new Set<Expr>();
  const visit = (n: Expr): boolean => {
    if (seen.has(n)) return false;
    seen.add(n);
    if (n.op === "index" || n.op === "param") return true;
    return children(n).some(visit);
  };
  return visit(e);
}
