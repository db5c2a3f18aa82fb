/**
 * Buffer transfers of the WebGPU backend: copies between buffers inside a command buffer (a
 * loop step's rows and carries, `readAt`), and reading back (the copied range, mapping the
 * staging copy).
 */
import { BackendError, type DType } from "@webjax/core";
import { type DataArray, fromBytes, type GpuSlot } from "./executables.js";
import type { BackendParts } from "./loop-host.js";
import type { Batch } from "./passes.js";
import type { BufferPool } from "./pool.js";
import { MapMode } from "./pool.js";

/** The bytes a read copies: float16 copies start on a 4-byte word, so an odd offset reads one element early. */
export function readRange(dtype: DType, offset: number, size: number): { skip: number; start: number; bytes: number } {
  const half = dtype === "float16";
  const skip = half ? offset % 2 : 0;
  const start = half ? (offset - skip) * 2 : offset * 4;
  const bytes = half ? Math.ceil(((size + skip) * 2) / 4) * 4 : size * 4;
  return { skip, start, bytes };
}

/** Maps a staging buffer the queue has copied into, returns its bytes and hands it back to the pool. */
export async function mapStaging(
  staging: GPUBuffer,
  bytes: number,
  pool: BufferPool,
  lostReason: () => string | null,
): Promise<ArrayBuffer> {
  try {
    await staging.mapAsync(MapMode.READ);
  } catch (e) {
    staging.destroy();
    const lost = lostReason();
    throw new BackendError(`webgpu: reading an array failed${lost ? ` (device lost: ${lost})` : ""}: ${String(e)}`);
  }
  const raw = staging.getMappedRange(0, Math.max(bytes, 4)).slice(0);
  staging.unmap();
  pool.recycle(staging);
  return raw;
}

/** A copy's byte range, checked: both buffers live, float16 on whole words, within both slots. */
export function copyRange(
  a: GpuSlot,
  srcOffset: number,
  b: GpuSlot,
  dstOffset: number,
  size: number,
  dtype: DType,
): { from: number; to: number; bytes: number } {
  if (!a.buffer || !b.buffer) throw new BackendError("webgpu: a copy reads or writes a freed buffer");
  const item = dtype === "float16" ? 2 : 4;
  const [from, to, bytes] = [srcOffset * item, dstOffset * item, size * item];
  if (from % 4 !== 0 || to % 4 !== 0 || bytes % 4 !== 0) {
    throw new BackendError(
      `webgpu: a float16 copy needs even offsets and sizes, got ${srcOffset}, ${dstOffset}, ${size}`,
    );
  }
  if (from + bytes > a.bytes || to + bytes > b.bytes) {
    throw new BackendError(
      `webgpu: a copy of ${size} elements from ${srcOffset} of ${a.size} to ${dstOffset} of ${b.size} is out of range`,
    );
  }
  return { from, to, bytes };
}

/** Ends the batch's compute pass, encodes a buffer copy, and begins the next pass. */
export function copyBetweenPasses(
  batch: Batch,
  src: GPUBuffer,
  srcOffset: number,
  dst: GPUBuffer,
  dstOffset: number,
  bytes: number,
): void {
  batch.pass.end();
  if (bytes > 0) batch.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  batch.pass = batch.encoder.beginComputePass();
}

/** Reads a slot in a submit of its own (a copy to a staging buffer, then its mapping). */
export async function readSubmitted(
  device: GPUDevice,
  pool: BufferPool,
  lostReason: () => string | null,
  s: GpuSlot,
  dtype: DType,
  offset: number,
  size: number,
): Promise<DataArray> {
  const { skip, start, bytes } = readRange(dtype, offset, size);
  const staging = pool.acquire(Math.max(bytes, 4));
  device.pushErrorScope("validation");
  const enc = device.createCommandEncoder({ label: "webjax-read" });
  enc.copyBufferToBuffer(s.buffer as GPUBuffer, s.offset + start, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  const copied = device.popErrorScope();
  const raw = await mapStaging(staging, bytes, pool, lostReason);
  const err = await s.check;
  if (err) throw err;
  const copyError = await copied;
  if (copyError) throw new BackendError(`webgpu: reading a ${dtype}[${size}] array failed: ${copyError.message}`);
  return fromBytes(raw, dtype, skip, size);
}

/** Reads a slot with a copy encoded into `batch` (no submit of its own): resolves after the batch's submit. */
export function readInBatch(
  batch: Batch,
  pool: BufferPool,
  lostReason: () => string | null,
  s: GpuSlot,
  dtype: DType,
  offset: number,
  size: number,
): Promise<DataArray> {
  const { skip, start, bytes } = readRange(dtype, offset, size);
  const staging = pool.acquire(Math.max(bytes, 4));
  copyBetweenPasses(batch, s.buffer as GPUBuffer, s.offset + start, staging, 0, bytes);
  const submitted = new Promise<void>((resolve) => {
    batch.afterSubmit ??= [];
    batch.afterSubmit.push(resolve);
  });
  return submitted
    .then(() => mapStaging(staging, bytes, pool, lostReason))
    .then(async (raw) => {
      const err = (await s.check) ?? (await batch.errors);
      if (err) throw err;
      return fromBytes(raw, dtype, skip, size);
    });
}

/** A slot a read may take: not poisoned (its error is thrown), not freed. */
function checkReadable(s: GpuSlot): void {
  if (s.poison) throw s.poison;
  if (!s.buffer) throw new BackendError("webgpu: read of a freed buffer");
}

/**
 * The backend's `read`: a copy and a submit of its own — or, behind a device loop, a read in
 * the current command buffer, which waits its turn.
 */
export async function readSlot(
  p: BackendParts,
  s: GpuSlot,
  dtype: DType,
  offset: number,
  size: number,
): Promise<DataArray> {
  p.alive();
  checkReadable(s);
  if (p.order.busy) {
    const data = readSlotAt(p, s, dtype, offset, size);
    p.flush();
    return data;
  }
  p.flush();
  const data = await readSubmitted(p.device, p.pools.staging, p.lostReason, s, dtype, offset, size);
  if (p.lostReason() !== null) p.alive();
  return data;
}

/**
 * A read at this point of the queue without a submit of its own (debug callbacks, host steps
 * of programs): the copy is encoded into the current command buffer between compute passes,
 * and the value resolves once that buffer has run — one submit for any number of reads.
 */
export function readSlotAt(
  p: BackendParts,
  s: GpuSlot,
  dtype: DType,
  offset: number,
  size: number,
): Promise<DataArray> {
  p.alive();
  try {
    checkReadable(s);
  } catch (e) {
    return Promise.reject(e);
  }
  if (p.preparing()) return readSlot(p, s, dtype, offset, size);
  if (p.swap({}).gate) return Promise.reject(new BackendError("webgpu: a read inside a device while loop's body"));
  const read = readInBatch(p.open(), p.pools.staging, p.lostReason, s, dtype, offset, size);
  p.flushSoon();
  return read;
}

/** The data an upload writes into `s` (bools as u32 words, an odd float16 count padded to a whole word), or null: nothing. */
export function uploadWords(s: GpuSlot, data: DataArray): DataArray | null {
  if (data.length === 0) return null;
  if (s.dtype === "bool") return Uint32Array.from(data);
  if (s.dtype === "float16" && data.length % 2 === 1) {
    const padded = new Uint16Array(data.length + 1);
    padded.set(data);
    return padded;
  }
  return data;
}
