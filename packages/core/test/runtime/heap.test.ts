/**
 * The CPU backend's heap: one WebAssembly.Memory carved by a segregated-fit allocator that
 * coalesces free neighbours, against an interval model of the live blocks; and flat memory over
 * a long training loop.
 */
import { grad, type Array as JArray, memoryStats, np } from "@webjax/core";
import { Heap } from "@webjax/core/internal";
import { testBackend } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

describe("heap allocator", () => {
  test("blocks are 16-aligned; freed neighbours coalesce and the top returns", () => {
    const h = new Heap(1 << 16);
    const a = h.alloc(100);
    const b = h.alloc(1);
    const c = h.alloc(64);
    for (const p of [a, b, c]) expect(p % 16).toBe(0);
    expect(b).toBe(a + 112);
    expect(c).toBe(b + 16);
    h.free(b);
    expect(h.stats()).toMatchObject({ freeBlocks: 1, freeBytes: 16, usedBytes: 112 + 64 });
    h.free(a);
    expect(h.stats()).toMatchObject({ freeBlocks: 1, freeBytes: 128 });
    // A fit inside the coalesced hole reuses its start.
    expect(h.alloc(120)).toBe(a);
    h.free(a);
    h.free(c);
    expect(h.stats()).toMatchObject({ freeBlocks: 0, freeBytes: 0, usedBytes: 0, liveBlocks: 0 });
    // Everything was returned to the top: the next block starts where the first did.
    expect(h.alloc(8)).toBe(a);
    expect(() => h.free(a + 16)).toThrow(/cpu heap: free of \d+, which is not a live block/);
  });

  test("a freed block is reused for the same size at once; cached blocks drain before the heap grows", () => {
    const h = new Heap(1 << 16);
    const a = h.alloc(4000);
    const b = h.alloc(4000);
    h.free(a);
    // The same size comes back from the per-size cache, without coalescing work.
    expect(h.alloc(4000)).toBe(a);
    h.free(b);
    h.free(a);
    // Stats drain the cache: both blocks coalesced, the top back at the start.
    const st = h.stats();
    expect(st.usedBytes).toBe(0);
    expect(st.liveBlocks).toBe(0);
    // Cached blocks of another size are drained (and coalesced) before the heap grows.
    const small = Array.from({ length: 12 }, () => h.alloc(4096));
    for (const p of small) h.free(p);
    const grows = h.stats().grows;
    for (const p of Array.from({ length: 12 }, () => h.alloc(4096))) h.free(p);
    const big = h.alloc(12 * 4096);
    expect(big).toBe(small[0]);
    expect(h.stats().grows).toBe(grows);
    h.free(big);
  });

  test("growth keeps the contents and refreshes the views", () => {
    const h = new Heap(1 << 16);
    const p = h.alloc(40);
    (h.view("float32", p, 10) as Float32Array).set(Float32Array.from({ length: 10 }, (_, i) => i * 1.5));
    const big = h.alloc(5 << 20);
    expect(h.stats().grows).toBeGreaterThan(0);
    expect(h.stats().heapBytes).toBeGreaterThanOrEqual(5 << 20);
    expect([...h.view("float32", p, 10)]).toEqual(Array.from({ length: 10 }, (_, i) => i * 1.5));
    const f64 = h.view("float64", big, 4) as Float64Array;
    f64.set([1, 2, 3, 4]);
    expect([...h.view("float64", big, 4)]).toEqual([1, 2, 3, 4]);
  });

  test("property: live blocks never overlap, the counts match a model, and freeing all empties the heap", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.constant(-1), fc.constant(-2)), {
          minLength: 1,
          maxLength: 200,
        }),
        (ops) => {
          const h = new Heap(1 << 16);
          const live = new Map<number, number>();
          ops.forEach((op, i) => {
            if (op > 0) {
              const p = h.alloc(op);
              const size = Math.ceil(op / 16) * 16;
              for (const [q, n] of live) expect(p + size <= q || q + n <= p).toBe(true);
              expect(p % 16).toBe(0);
              live.set(p, size);
            } else if (live.size > 0) {
              const keys = [...live.keys()];
              const p = keys[(i * 7 + (op === -1 ? 0 : 3)) % keys.length] as number;
              h.free(p);
              live.delete(p);
            }
          });
          const st = h.stats();
          expect(st.usedBytes).toBe([...live.values()].reduce((a, b) => a + b, 0));
          expect(st.liveBlocks).toBe(live.size);
          // No two free blocks are adjacent (they would have coalesced).
          for (const p of live.keys()) h.free(p);
          expect(h.stats()).toMatchObject({ usedBytes: 0, freeBytes: 0, freeBlocks: 0 });
        },
      ),
      { numRuns: Number(process.env.WEBJAX_PROP_RUNS ?? 60) },
    );
  });

  test("a steady alloc/free pattern reuses blocks: no growth after warm-up", () => {
    const h = new Heap(1 << 16);
    const sizes = [4096, 256, 4096, 64, 40000, 256];
    for (let round = 0; round < 3; round++) {
      const ps = sizes.map((s) => h.alloc(s));
      for (const p of ps.reverse()) h.free(p);
    }
    const warm = h.stats();
    for (let round = 0; round < 1000; round++) {
      const ps = sizes.map((s) => h.alloc(s));
      // Out of order frees, as arrays die in programs.
      for (const i of [1, 3, 0, 5, 2, 4]) h.free(ps[i] as number);
    }
    expect(h.stats().heapBytes).toBe(warm.heapBytes);
    expect(h.stats().grows).toBe(warm.grows);
  });
});

describe.runIf(testBackend === "cpu")("cpu heap under a training loop", () => {
  test("10,000 eager steps with await inside: live bytes flat, the heap does not grow after warm-up", {
    timeout: 60_000,
  }, async () => {
    const x = np.array(
      Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)),
      { shape: [8, 8] },
    );
    const loss = (w: JArray) => np.square(x.matmul(w).sub(1)).mean();
    const g = grad(loss);
    let w = np.zeros([8, 1]);
    const stats = () => memoryStats().cpu as Required<NonNullable<ReturnType<typeof memoryStats>["cpu"]>>;
    const step = async () => {
      using d = g(w);
      using scaled = d.mul(0.1);
      const next = w.sub(scaled);
      w.dispose();
      w = next;
      await w.blockUntilReady();
    };
    for (let i = 0; i < 100; i++) await step();
    const warm = stats();
    for (let i = 0; i < 10_000; i++) await step();
    const after = stats();
    expect(after.liveBytes).toBe(warm.liveBytes);
    expect(after.heap.heapBytes).toBe(warm.heap.heapBytes);
    expect(after.heap.grows).toBe(warm.heap.grows);
    expect(after.heap.usedBytes).toBeLessThanOrEqual(warm.heap.usedBytes);
    // The loop trained: at the least-squares optimum of this rank-2 problem the gradient vanishes.
    using gEnd = g(w);
    expect(await np.abs(gEnd).max().item()).toBeLessThan(1e-4);
    expect(await loss(w).item()).toBeLessThan(1);
    w.dispose();
    x.dispose();
  });
});
