/**
 * A bounded map that forgets the least recently used entry past `capacity` (compiled-kernel
 * caches: a program that builds kernels for ever-new shapes or params must not grow without
 * bound). A hit moves the entry to the young end (Map keeps insertion order).
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, V>();
  /** Entries dropped to stay within capacity, since creation. */
  evictions = 0;

  private cap: number;

  constructor(
    capacity: number,
    /** Called with each entry dropped to stay within capacity, or by clear() (to release what it holds). */
    private readonly onEvict?: (value: V) => void,
  ) {
    this.cap = checkCapacity(capacity);
  }

  /** The bound; lowering it drops the oldest entries now. */
  get capacity(): number {
    return this.cap;
  }
  set capacity(n: number) {
    this.cap = checkCapacity(n);
    this.trim();
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    this.trim();
  }

  private trim(): void {
    while (this.map.size > this.cap) {
      const [k, v] = this.map.entries().next().value as [K, V];
      this.map.delete(k);
      this.evictions++;
      this.onEvict?.(v);
    }
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  clear(): void {
    const values = [...this.map.values()];
    this.map.clear();
    if (this.onEvict) for (const v of values) this.onEvict(v);
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }
}

function checkCapacity(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new RangeError(`LruCache: capacity must be a positive integer, got ${n}`);
  return n;
}
