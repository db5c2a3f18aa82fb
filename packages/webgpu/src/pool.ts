/**
 * GPU buffers by size class. A buffer freed while the open command encoder may still use it
 * is held back until that encoder is submitted (`queue.writeBuffer` runs before unsubmitted
 * commands, so recycling it earlier could overwrite data a queued kernel has yet to read).
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private held: GPUBuffer[] = [];
  private dying: GPUBuffer[] = [];
  private pooledBytes = 0;
  /** Buffers this pool has created (a steady loop creates none after warm-up). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    private readonly maxPooledBytes: number,
    readonly label: string,
  ) {}

  /** The size class of a request: the next power of two, at least 256 bytes. */
  static sizeClass(bytes: number): number {
    return Math.max(256, 2 ** Math.ceil(Math.log2(Math.max(bytes, 1))));
  }

  acquire(bytes: number): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const b = this.free.get(size)?.pop();
    if (b) {
      this.pooledBytes -= size;
      return b;
    }
    this.created++;
    return this.device.createBuffer({ size, usage: this.usage, label: this.label });
  }

  /** Returns a buffer; it becomes reusable after the next submit. */
  release(buffer: GPUBuffer): void {
    this.held.push(buffer);
  }

  /** A buffer of exactly `bytes` (rounded to 4), outside the size classes: a program arena's block. */
  acquireExact(bytes: number): GPUBuffer {
    this.created++;
    return this.device.createBuffer({
      size: Math.ceil(bytes / 4) * 4,
      usage: this.usage,
      label: `${this.label}-arena`,
    });
  }

  /** Destroys an `acquireExact` buffer after the next submit (no request would match its size). */
  retire(buffer: GPUBuffer): void {
    this.dying.push(buffer);
  }

  /** Called right after a submit: held buffers become reusable (or are destroyed past the cap). */
  submitted(): void {
    for (const b of this.held) this.recycle(b);
    this.held = [];
    for (const b of this.dying) b.destroy();
    this.dying = [];
  }

  /**
   * Pools a buffer no queued command uses for reuse at once (an unmapped staging buffer; held
   * ones after their submit), or destroys it past the cap.
   */
  recycle(b: GPUBuffer): void {
    if (this.pooledBytes + b.size > this.maxPooledBytes) {
      b.destroy();
      return;
    }
    let list = this.free.get(b.size);
    if (!list) {
      list = [];
      this.free.set(b.size, list);
    }
    list.push(b);
    this.pooledBytes += b.size;
  }

  /** Buffers held back or pooled (for tests). */
  get stats(): { held: number; pooledBytes: number } {
    return { held: this.held.length, pooledBytes: this.pooledBytes };
  }

  destroyAll(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of [...this.held, ...this.dying]) b.destroy();
    this.free.clear();
    this.held = [];
    this.dying = [];
    this.pooledBytes = 0;
  }
}

/** WebGPU usage flags (numeric, so the code runs where the GPUBufferUsage global is absent). */
export const Usage = { MAP_READ: 0x1, COPY_SRC: 0x4, COPY_DST: 0x8, UNIFORM: 0x40, STORAGE: 0x80 } as const;
export const MapMode = { READ: 0x1 } as const;
