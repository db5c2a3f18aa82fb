/** Reading buffers back (the backend's `read` and `readAt`): the copied range, and mapping the staging copy. */
import { BackendError, type DType } from "@webjax/core";
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
