/**
 * Buffer planning (issue 23): a jitted program's intermediates live in its arena — byte ranges
 * shared by intermediates whose lifetimes do not overlap, the storage made at the program's
 * first run and kept — so later calls take nothing from the allocator for them. The packing
 * against hand-derived offsets and random programs; the backends' counters over a long chain, a
 * donated training step and the MLP 784-512-512-10 Adam step.
 */
import { getBackend, type Array as JArray, jit, np, type ProgramStep, random, tree, valueAndGrad } from "@webjax/core";
import { type ConcreteArray, packArena } from "@webjax/core/internal";
import { cpuMode, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

/** Mean softmax cross-entropy of logits `z` against one-hot `y`. */
const crossEntropy = (z: JArray, y: JArray) =>
  z
    .sub(np.logsumexp(z, { axis: -1, keepdims: true }))
    .mul(y)
    .sum(-1)
    .mean()
    .neg();

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
  test("from its third call it allocates only its loss: the parameters are updated in place; it matches eager", async () => {
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
    const loss = (p: P) => crossEntropy(np.maximum(x.matmul(p.w1).add(p.b1), 0).matmul(p.w2).add(p.b2), y);
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
    const sameSlots: boolean[] = [];
    const slotsOf = (t: P) =>
      (["w1", "b1", "w2", "b2"] as const).map((k) => (t[k] as unknown as ConcreteArray).buffer.slot);
    for (let i = 0; i < 8; i++) {
      const before = { allocs: b.counters.allocs as number, made: made(), slots: b.counters.arenaSlots as number };
      const old = slotsOf(p);
      const [l, next] = step(p);
      p = next;
      sameSlots.push(slotsOf(p).every((s, k) => s === old[k]));
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
    // The recording call and the first program run allocate; then only the loss does. Each new
    // parameter is written in place over its donated buffer by the kernel that last reads it
    // (the bias updates elementwise, the weight updates in their gradient matmul's epilogue),
    // so it keeps its slot; the intermediates — the activations, their gradients — live in the
    // arena.
    expect(perCall.slice(2)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(sameSlots.slice(1)).toEqual([true, true, true, true, true, true, true]);
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

describe(`the MLP 784-512-512-10 Adam step's arena on ${testBackend}`, () => {
  test("its intermediates take at most 60% of their sum (the unplanned program holds them all)", async () => {
    const b = getBackend(testBackend) as unknown as { counters: Record<string, number> };
    const keys = [...(random.split(random.key(0), 4) as Iterable<JArray>)] as JArray[];
    const normal = (i: number, shape: number[], s: number) => random.normal(keys[i] as JArray, shape).mul(s);
    const params = {
      w1: normal(0, [784, 512], 0.05),
      b1: np.zeros([512]),
      w2: normal(1, [512, 512], 0.05),
      b2: np.zeros([512]),
      w3: normal(2, [512, 10], 0.05),
      b3: np.zeros([10]),
    };
    type P = typeof params;
    // Batch 128; 16 where kernels run as JS (the interpreted and generated-JS modes), whose
    // matmuls are too slow for a unit test — the arena's shape is the same.
    const batch = cpuMode === "interpreter" || cpuMode === "js" ? 16 : 128;
    using x = normal(3, [batch, 784], 1);
    using y = np.oneHot(np.mod(np.arange(batch), 10), 10);
    const loss = (p: P) => {
      const h1 = np.maximum(x.matmul(p.w1).add(p.b1), 0);
      const h2 = np.maximum(h1.matmul(p.w2).add(p.b2), 0);
      return crossEntropy(h2.matmul(p.w3).add(p.b3), y);
    };
    // Adam by hand (optax is not a dependency of core's tests).
    const step = jit(
      (p: P, m: P, v: P) => {
        const [l, g] = valueAndGrad(loss)(p);
        const m2 = tree.map((a: JArray, d: JArray) => a.mul(0.9).add(d.mul(0.1)), m, g) as P;
        const v2 = tree.map((a: JArray, d: JArray) => a.mul(0.999).add(d.mul(d).mul(0.001)), v, g) as P;
        const p2 = tree.map(
          (w: JArray, a: JArray, c: JArray) => w.sub(a.div(np.sqrt(c).add(1e-8)).mul(1e-3)),
          p,
          m2,
          v2,
        ) as P;
        return [l, p2, m2, v2] as const;
      },
      { donateArgnums: [0, 1, 2] },
    );
    let state: [P, P, P] = [params, tree.map(np.zerosLike, params) as P, tree.map(np.zerosLike, params) as P];
    const arenaBytes = () => b.counters.arenaBytes as number;
    let made = 0;
    let slotBytes = 0;
    let allocs = 0;
    for (let i = 0; i < 3; i++) {
      const before = {
        arena: arenaBytes(),
        slot: b.counters.arenaSlotBytes as number,
        allocs: b.counters.allocs as number,
      };
      const [l, p, m, v] = step(...state);
      state = [p, m, v];
      await l.item();
      l.dispose();
      if (i === 1) made = arenaBytes() - before.arena; // the first program run makes the arena
      slotBytes = (b.counters.arenaSlotBytes as number) - before.slot;
      allocs = (b.counters.allocs as number) - before.allocs;
    }
    // 34 intermediates, 4.0 MB in all; the CPU's block is 1.9 MB, WebGPU's blocks 2.4 MB.
    expect(slotBytes).toBeGreaterThan(batch === 128 ? 3_900_000 : 2_500_000);
    expect(made).toBeGreaterThan(0);
    expect(made).toBeLessThanOrEqual(0.6 * slotBytes);
    expect(allocs).toBe(1); // the loss: parameters, mu and nu are updated in place
    for (const t of state) tree.map((a: JArray) => a.dispose(), t);
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
