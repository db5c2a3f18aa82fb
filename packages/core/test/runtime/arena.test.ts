/**
 * Buffer planning (issue 23): a jitted program's intermediates live in its arena — places
 * shared by intermediates of one size class whose lifetimes do not overlap, their storage made
 * at the program's first run and kept — so later calls take nothing from the allocator for
 * them. The plan against hand-derived places; the backends' counters over a long chain.
 */
import { getBackend, type Array as JArray, jit, np, type ProgramStep } from "@webjax/core";
import { planArena } from "@webjax/core/internal";
import { testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

describe("the arena plan", () => {
  const alloc = (id: number, size: number): ProgramStep => ({ op: "alloc", id, dtype: "float32", size });
  const free = (id: number): ProgramStep => ({ op: "free", id });
  const classOf = (_d: string, n: number) => Math.max(256, 2 ** Math.ceil(Math.log2(n * 4)));

  test("disjoint lifetimes of one class share a place; overlapping ones and other classes do not; outputs have none", () => {
    const a1 = alloc(1, 100); // 400 B: class 512
    const a2 = alloc(2, 100);
    const a3 = alloc(3, 64); // 256 B: class 256
    const a4 = alloc(4, 120); // 480 B: class 512, takes 1's place once 1 is freed
    const a5 = alloc(5, 100); // an output: never freed
    const arena = planArena([a1, a2, free(1), a3, a4, free(2), free(3), free(4), a5], classOf);
    expect(arena.placeOf.get(a4)).toBe(arena.placeOf.get(a1));
    expect(arena.placeOf.get(a2)).not.toBe(arena.placeOf.get(a1));
    expect(arena.placeOf.get(a3)).not.toBe(arena.placeOf.get(a1));
    expect(arena.placeOf.has(a5)).toBe(false);
    expect(arena.classes).toEqual([512, 512, 256]);
    expect([...arena.ids].sort()).toEqual([1, 2, 3, 4]);
  });

  test("a chain of n intermediates, each dead after the next, needs two places", () => {
    const steps: ProgramStep[] = [alloc(10, 50)];
    for (let i = 11; i < 60; i++) steps.push(alloc(i, 50), free(i - 1));
    steps.push(free(59));
    const arena = planArena(steps, classOf);
    expect(arena.placeOf.size).toBe(50);
    expect(arena.classes.length).toBe(2);
  });
});

describe(`program arenas on ${testBackend}`, () => {
  test("a 40-round chain's ~80 intermediates share a few arena blocks; later calls make none and equal eager", async () => {
    const b = getBackend(testBackend) as unknown as { counters: Record<string, number> };
    const made = () => b.counters.arenaBlocks ?? b.counters.arenaBuffers ?? Number.NaN;
    const f = (x: JArray) => {
      let y = x;
      for (let i = 0; i < 40; i++) y = y.sub(y.mean()).mul(1.01);
      return y;
    };
    const g = jit(f);
    using x = np.arange(256).astype("float32");
    using warm = g(x); // the recording run
    await warm.data();
    const before = { slots: b.counters.arenaSlots as number, made: made() };
    using first = g(x); // the first program run: the arena's storage is made
    await first.data();
    expect((b.counters.arenaSlots as number) - before.slots).toBeGreaterThan(60);
    expect(made() - before.made).toBeLessThanOrEqual(4);
    const mid = made();
    const want = await f(x).data();
    for (let i = 0; i < 3; i++) {
      using y = g(x);
      expect(Array.from(await y.data())).toEqual(Array.from(await first.data()));
    }
    expect(made()).toBe(mid);
    const got = await first.data();
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 3));
    expect(got[0]).toBeCloseTo(-127.5 * 1.01 ** 40, 2);
  });
});
