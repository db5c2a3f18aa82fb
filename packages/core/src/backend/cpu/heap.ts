import { arrayType, type DataArray, type DType } from "../../dtype.js";
import { BackendError } from "../../errors.js";

/** Every block starts at a multiple of this (a v128 load's natural alignment). */
export const ALIGN = 16;
const PAGE = 65536;
/** A shared memory's fixed maximum: wasm32's 4 GiB (reserved address space, not committed). */
export const MAX_PAGES = 65536;
/** Bytes below this offset are never handed out (offset 0 stays a null pointer). */
const RESERVED = 64;
/** Fitting blocks tried in a block's own size class before a larger class is split. */
const FIT_TRIES = 8;
/**
 * Freed blocks up to this size wait in a per-size LIFO cache (at most QUICK_PER_SIZE each)
 * before they coalesce (and at most QUICK_TOTAL bytes in all): an eager loop frees and allocates the same sizes every step, and a
 * cached block is reused with two map operations instead of the classes' bookkeeping. The
 * cache drains into the free lists before the heap would grow, and whenever stats are read.
 */
const QUICK_MAX = 1 << 18;
const QUICK_PER_SIZE = 256;
/** At most this many bytes wait in the cache (a flush frees up to 256 blocks at once). */
const QUICK_TOTAL = 1 << 23;

/** What the allocator holds: the memory's size, the bytes in live blocks and in free ones. */
export interface HeapStats {
  /** The WebAssembly.Memory's size. */
  heapBytes: number;
  /** Bytes in live blocks (sizes rounded up to 16). */
  usedBytes: number;
  /** Bytes in free blocks below the top (reusable without growing). */
  freeBytes: number;
  liveBlocks: number;
  freeBlocks: number;
  /** Times the memory grew. */
  grows: number;
}

const classOf = (size: number) => 31 - Math.clz32(size / ALIGN);

/**
 * The CPU backend's storage: one `WebAssembly.Memory` per backend instance, carved into blocks
 * by a segregated-fit allocator. Free blocks sit in power-of-two size classes and coalesce with
 * their free neighbours on release (boundary maps by start and end); a free block at the top
 * returns to the unused tail. Growth is by `memory.grow`, at least a quarter of the current size
 * at a time, and typed-array views are rebuilt from the current buffer after a grow.
 *
 * Wasm kernels take byte offsets into this memory; the JS and interpreter kernels take typed
 * views of it, made fresh for each dispatch.
 */
export class Heap {
  readonly memory: WebAssembly.Memory;
  private buffer: ArrayBuffer;
  private views = new Map<DType, DataArray>();
  /** Top of the allocated region: everything at or above it is unused. */
  private top = RESERVED;
  private readonly used = new Map<number, number>();
  private readonly freeByStart = new Map<number, number>();
  private readonly freeByEnd = new Map<number, number>();
  private readonly bins: Set<number>[] = [];
  private readonly quick = new Map<number, number[]>();
  private quickBytes = 0;
  private usedBytes = 0;
  private freeBytes = 0;
  private grows = 0;

  /** Whether the memory is a shared one (worker threads read and write it). */
  readonly shared: boolean;

  constructor(initialBytes = 1 << 20, opts: { shared?: boolean } = {}) {
    const initial = Math.max(1, Math.ceil(initialBytes / PAGE));
    this.shared = opts.shared ?? false;
    this.memory = this.shared
      ? new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true })
      : new WebAssembly.Memory({ initial });
    this.buffer = this.memory.buffer as ArrayBuffer;
  }

  /** A block of at least `bytes` bytes (16-aligned); its contents are unspecified. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const cached = this.quick.get(size);
    if (cached !== undefined && cached.length > 0) {
      const ptr = cached.pop() as number;
      this.quickBytes -= size;
      this.used.set(ptr, size);
      this.usedBytes += size;
      return ptr;
    }
    let found = this.findFree(size);
    if (found === null && this.quickBytes > 0) {
      this.drainQuick();
      found = this.findFree(size);
    }
    let ptr: number;
    if (found !== null) {
      ptr = found;
      const have = this.takeFree(ptr);
      if (have > size) this.addFree(ptr + size, have - size);
    } else {
      // No free block touches the top (free() lowers the top instead), so start at the top.
      ptr = this.top;
      this.ensure(ptr + size);
      this.top = ptr + size;
    }
    this.used.set(ptr, size);
    this.usedBytes += size;
    return ptr;
  }

  /** Returns a block from `alloc`; a pointer that is not live is an error. */
  free(ptr: number): void {
    const size = this.used.get(ptr);
    if (size === undefined) throw new BackendError(`cpu heap: free of ${ptr}, which is not a live block`);
    this.used.delete(ptr);
    this.usedBytes -= size;
    if (size <= QUICK_MAX) {
      let cached = this.quick.get(size);
      if (cached === undefined) {
        cached = [];
        this.quick.set(size, cached);
      }
      if (cached.length < QUICK_PER_SIZE && this.quickBytes + size <= QUICK_TOTAL) {
        cached.push(ptr);
        this.quickBytes += size;
        return;
      }
    }
    this.release(ptr, size);
  }

  /** Moves every cached block into the free lists (coalescing, lowering the top). */
  private drainQuick(): void {
    for (const [size, ptrs] of this.quick) for (const p of ptrs.splice(0)) this.release(p, size);
    this.quickBytes = 0;
  }

  /** Returns a block to the free lists, coalescing with its free neighbours. */
  private release(ptr: number, size: number): void {
    let start = ptr;
    let end = ptr + size;
    const before = this.freeByEnd.get(start);
    if (before !== undefined) {
      this.takeFree(before);
      start = before;
    }
    const afterSize = this.freeByStart.get(end);
    if (afterSize !== undefined) {
      this.takeFree(end);
      end += afterSize;
    }
    if (end === this.top) this.top = start;
    else this.addFree(start, end - start);
  }

  /** The size of a live block. */
  sizeOf(ptr: number): number | undefined {
    return this.used.get(ptr);
  }

  /** A typed view of `length` elements of dtype `d` at byte offset `ptr` (valid until the next grow). */
  view(d: DType, ptr: number, length: number): DataArray {
    const whole = this.whole(d);
    const first = ptr / whole.BYTES_PER_ELEMENT;
    return whole.subarray(first, first + length) as DataArray;
  }

  /** The whole memory as dtype `d` (valid until the next grow). */
  whole(d: DType): DataArray {
    if (this.buffer !== this.memory.buffer) this.refresh();
    let v = this.views.get(d);
    if (!v) {
      v = new (arrayType(d))(this.buffer);
      this.views.set(d, v);
    }
    return v;
  }

  stats(): HeapStats {
    this.drainQuick();
    return {
      heapBytes: this.memory.buffer.byteLength,
      usedBytes: this.usedBytes,
      freeBytes: this.freeBytes,
      liveBlocks: this.used.size,
      freeBlocks: this.freeByStart.size,
      grows: this.grows,
    };
  }

  private refresh(): void {
    this.buffer = this.memory.buffer as ArrayBuffer;
    this.views.clear();
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const need = Math.ceil((end - have) / PAGE);
    const pages = Math.max(need, Math.ceil(have / PAGE / 4));
    try {
      this.memory.grow(pages);
    } catch {
      try {
        this.memory.grow(need);
      } catch (e) {
        throw new BackendError(
          `cpu: out of memory: cannot grow the heap from ${have} to ${end} bytes (${(e as Error).message}); ` +
            "dispose arrays you no longer need (memoryStats() lists what is live)",
        );
      }
    }
    this.grows++;
    this.refresh();
  }

  /** A free block of at least `size`: a few tries in its own class, then any block of a larger class. */
  private findFree(size: number): number | null {
    const c = classOf(size);
    const own = this.bins[c];
    if (own) {
      let tries = 0;
      for (const p of own) {
        if ((this.freeByStart.get(p) as number) >= size) return p;
        if (++tries >= FIT_TRIES) break;
      }
    }
    for (let k = c + 1; k < this.bins.length; k++) {
      const bin = this.bins[k];
      if (bin && bin.size > 0) return bin.values().next().value as number;
    }
    return null;
  }

  private addFree(start: number, size: number): void {
    this.freeByStart.set(start, size);
    this.freeByEnd.set(start + size, start);
    const c = classOf(size);
    let bin = this.bins[c];
    if (!bin) {
      for (let k = this.bins.length; k <= c; k++) this.bins[k] = new Set();
      bin = this.bins[c] as Set<number>;
    }
    bin.add(start);
    this.freeBytes += size;
  }

  /** Removes a free block from every map; returns its size. */
  private takeFree(start: number): number {
    const size = this.freeByStart.get(start) as number;
    this.freeByStart.delete(start);
    this.freeByEnd.delete(start + size);
    this.bins[classOf(size)]?.delete(start);
    this.freeBytes -= size;
    return size;
  }
}
