/** The compiled-kernel caches: bounded LRU, keys that keep every param's identity. */
import { getBackend, lax, np } from "@webjax/core";
import { EAGER_CACHE_CAPACITY, eagerCache, LruCache } from "@webjax/core/internal";
import { describe, expect, test } from "vitest";

describe("LruCache", () => {
  test("drops the least recently used past capacity; a hit makes an entry young", () => {
    const c = new LruCache<string, number>(3);
    c.set("a", 1);
    c.set("b", 2);
    c.set("c", 3);
    expect(c.get("a")).toBe(1);
    c.set("d", 4);
    expect(c.has("b")).toBe(false);
    expect([c.has("a"), c.has("c"), c.has("d")]).toEqual([true, true, true]);
    expect(c.size).toBe(3);
    expect(c.evictions).toBe(1);
    c.set("c", 30); // an overwrite is not an eviction
    expect(c.evictions).toBe(1);
    c.capacity = 1;
    expect(c.size).toBe(1);
    expect(c.get("c")).toBe(30);
    expect(c.evictions).toBe(3);
    expect(() => new LruCache(0)).toThrow(/capacity must be a positive integer, got 0/);
  });
});

describe("the eager kernel cache", () => {
  test("stays within its capacity while kernels keep coming, and evicted kernels recompile correctly", async () => {
    using x = np.arange(64).astype("float32").reshape([1, 64]);
    await x.data();
    const cache = eagerCache(getBackend());
    expect(cache).toBeDefined();
    if (!cache) return;
    expect(cache.capacity).toBe(EAGER_CACHE_CAPACITY);
    cache.capacity = 8;
    const bound = cache.capacity;
    const before = cache.evictions;
    try {
      // Window sizes are params: each is its own kernel.
      for (let w = 1; w <= 24; w++) {
        using s = lax.reduceWindow(x, 0, "add", [1, w], [1, 1], "VALID");
        const got = Array.from(await s.data());
        expect(got[0]).toBe((w * (w - 1)) / 2);
        expect(cache.size).toBeLessThanOrEqual(bound);
      }
      expect(cache.evictions - before).toBeGreaterThanOrEqual(24 - bound);
      expect(cache.size).toBe(bound);
      using again = lax.reduceWindow(x, 0, "add", [1, 1], [1, 1], "VALID");
      expect(Array.from(await again.data())).toEqual(Array.from(await x.data()));
    } finally {
      cache.capacity = EAGER_CACHE_CAPACITY;
    }
  });

  test("equal params hit one entry, different params get their own", async () => {
    using x = np.arange(6).astype("float32").reshape([2, 3]);
    using warm0 = np.sum(x, 0);
    using warm1 = np.sum(x, 1);
    await Promise.all([warm0.data(), warm1.data()]);
    const cache = eagerCache(getBackend());
    const size = cache?.size;
    using a = np.sum(x, 0);
    using b = np.sum(x, 1);
    expect(Array.from(await a.data())).toEqual([3, 5, 7]);
    expect(Array.from(await b.data())).toEqual([3, 12]);
    expect(cache?.size).toBe(size);
    using c = np.sum(x, [0, 1]);
    expect(await c.item()).toBe(15);
    expect(cache?.size).toBe((size as number) + 1);
  });
});
