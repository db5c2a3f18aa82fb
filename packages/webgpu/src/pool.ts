/**
 * GPU buffers by size class. A buffer freed while the open command encoder may still use it
 * is held back until that encoder is submitted (`queue.writeBuffer` runs before unsubmitted
 * commands, so recycling it earlier could overwrite data a queued kernel has yet to read).
 * Each release is tagged with the current `epoch` — the number of the command buffer (or
 * device loop) being built — and becomes reusable once that one has been submitted: while a
 * device loop runs, command buffers wait in order behind it (order.ts), so "the next submit"
 * is not enough.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private held: { buffer: GPUBuffer; epoch: number }[] = [];
  private dying: { buffer: GPUBuffer; epoch: number }[] = [];
  /** The tag of releases from now on (set by the backend). */
  epoch = 0;
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

  /** Returns a buffer; it becomes reusable once the work of the current epoch is submitted. */
  release(buffer: GPUBuffer): void {
    this.held.push({ buffer, epoch: this.epoch });
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

  /** Destroys an `acquireExact` buffer once the current epoch's work is submitted (no request would match its size). */
  retire(buffer: GPUBuffer): void {
    this.dying.push({ buffer, epoch: this.epoch });
  }

  /**
   * Called right after the submit of epoch `upTo`'s work (every earlier epoch's went before):
   * buffers released up to it become reusable (or are destroyed past the cap).
   */
  submitted(upTo: number): void {
    const ready = (h: { epoch: number }) => h.epoch <= upTo;
    for (const h of this.held) if (ready(h)) this.recycle(h.buffer);
    this.held = this.held.filter((h) => !ready(h));
    for (const h of this.dying) if (ready(h)) h.buffer.destroy();
    this.dying = this.dying.filter((h) => !ready(h));
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
    for (const h of [...this.held, ...this.dying]) h.buffer.destroy();
    this.free.clear();
    this.held = [];
    this.dying = [];
    this.pooledBytes = 0;
  }
}

/** WebGPU usage flags (numeric, so the code runs where the GPUBufferUsage global is absent). */
export const Usage = {
  MAP_READ: 0x1,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  INDIRECT: 0x100,
} as const;
export const MapMode = { READ: 0x1 } as const;
