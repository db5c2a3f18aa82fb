/**
 * Buffer planning (issue 23): a jitted program's intermediates live in its arena — places
 * shared by intermediates of one size class whose lifetimes do not overlap, their storage made
 * at the program's first run and kept — so later calls take nothing from the allocator for
 * them. The plan against hand-derived places; the backends' counters over a long chain.
 */
import { getBackend, type Array as JArray, jit, np, type ProgramStep, random, tree, valueAndGrad } from "@webjax/core";
import { packArena, planArena } from "@webjax/core/internal";
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

describe(`a planned, donated training step on ${testBackend}`, () => {
  test("from its third call its intermediates take no buffers: only its 5 outputs do; it matches eager", async () => {
    const b = getBackend(testBackend) as unknown as { counters: Record<string, number> };
    const made = () => b.counters.arenaBlocks ?? b.counters.arenaBuffers ?? Number.NaN;
    const [k1, k2, kx] = random.split(random.key(3), 3) as Iterable<JArray> as [JArray, JArray, JArray];
    const init = () => ({
      w1: random.normal(k1, [12, 24]).mul(0.3),
      b1: np.zeros([24]),
      w2: random.normal(k2, [24, 5]).mul(0.2),
      b2: np.zeros([5]),
    });
    using x = random.normal(kx, [8, 12]);
    using y = np.oneHot(np.mod(np.arange(8), 5), 5);
    type P = ReturnType<typeof init>;
    const loss = (p: P) => {
      const z = np.maximum(x.matmul(p.w1).add(p.b1), 0).matmul(p.w2).add(p.b2);
      return z
        .sub(np.logsumexp(z, { axis: -1, keepdims: true }))
        .mul(y)
        .sum(-1)
        .mean()
        .neg();
    };
    const update = (p: P) => {
      const [l, g] = valueAndGrad(loss)(p);
      return [l, tree.map((a: JArray, d: JArray) => a.sub(d.mul(0.2)), p, g)] as const;
    };
    const step = jit(update, { donateArgnums: 0 });
    let p = init();
    let q = init();
    const perCall: number[] = [];
    const arena: number[] = [];
    const placed: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = { allocs: b.counters.allocs as number, made: made(), slots: b.counters.arenaSlots as number };
      const [l, next] = step(p);
      p = next;
      await l.item();
      l.dispose();
      perCall.push((b.counters.allocs as number) - before.allocs);
      arena.push(made() - before.made);
      placed.push((b.counters.arenaSlots as number) - before.slots);
      const [le, nq] = update(q);
      le.dispose();
      tree.map((a: JArray) => a.dispose(), q);
      q = nq;
    }
    // The recording call and the first program run allocate; then only the outputs do: the loss
    // and the four new parameters (each written by the kernel that last reads its donated
    // buffer, so the donation comes too late for it: in-place updates are not done yet). The
    // intermediates — the activations, their gradients — live in the arena.
    expect(perCall.slice(2)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(arena.slice(2)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Math.min(...placed.slice(2))).toBeGreaterThanOrEqual(4);
    const tol = testBackend === "webgpu" ? 1e-5 : 1e-6;
    for (const k of ["w1", "b1", "w2", "b2"] as const) {
      const got = await p[k].data();
      const want = await q[k].data();
      got.forEach((v, i) => expect(Math.abs(v - (want[i] as number))).toBeLessThanOrEqual(tol));
    }
    tree.map((a: JArray) => a.dispose(), p);
    tree.map((a: JArray) => a.dispose(), q);
  });
});

describe("the packed arena (the CPU's: one block, offsets by lifetime)", () => {
  const alloc = (id: number, size: number): ProgramStep => ({ op: "alloc", id, dtype: "float32", size });
  const free = (id: number): ProgramStep => ({ op: "free", id });
  const bytesOf = (_d: string, n: number) => n * 4;

  test("overlapping lifetimes never share a byte; disjoint ones reuse the space; the block is the peak", () => {
    // 1 (400 B) lives over 2 (160 B); 3 (400 B) comes after 1 is freed and overlaps 2.
    const a1 = alloc(1, 100);
    const a2 = alloc(2, 40);
    const a3 = alloc(3, 100);
    const steps = [a1, a2, free(1), a3, free(2), free(3), alloc(4, 7)];
    const packed = packArena(steps, bytesOf);
    const at = (s: ProgramStep) => packed.offsetOf.get(s) as number;
    expect(at(a1)).toBe(0);
    expect(at(a3)).toBe(0); // 1's bytes, free again
    expect(at(a2)).toBe(400); // beside both
    expect(packed.bytes).toBe(560);
    expect([...packed.ids].sort()).toEqual([1, 2, 3]); // 4 is an output
  });

  test("random programs: no two live intermediates overlap, and the block is at most 2× the peak live bytes", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 50; trial++) {
      const steps: ProgramStep[] = [];
      const live: number[] = [];
      let next = 0;
      for (let i = 0; i < 60; i++) {
        if (live.length > 0 && rand() < 0.45)
          steps.push(free(live.splice(Math.floor(rand() * live.length), 1)[0] as number));
        else {
          steps.push(alloc(next, 1 + Math.floor(rand() * 300)));
          live.push(next++);
        }
      }
      for (const id of live) steps.push(free(id));
      const packed = packArena(steps, bytesOf);
      const size = new Map<number, number>();
      const place = new Map<number, number>();
      let peak = 0;
      let now = 0;
      const alive = new Set<number>();
      for (const s of steps) {
        if (s.op === "alloc") {
          const bytes = Math.ceil((s.size * 4) / 16) * 16;
          const at = packed.offsetOf.get(s) as number;
          for (const o of alive) {
            const [a, b] = [place.get(o) as number, size.get(o) as number];
            expect(at + bytes <= a || a + b <= at).toBe(true);
          }
          expect(at + bytes).toBeLessThanOrEqual(packed.bytes);
          size.set(s.id, bytes);
          place.set(s.id, at);
          alive.add(s.id);
          now += bytes;
          peak = Math.max(peak, now);
        } else if (s.op === "free") {
          alive.delete(s.id);
          now -= size.get(s.id) as number;
        }
      }
      expect(packed.bytes).toBeLessThanOrEqual(2 * peak);
    }
  });
});
