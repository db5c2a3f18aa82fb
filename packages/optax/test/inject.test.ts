/**
 * injectHyperparams: identical to the plain optimiser; hyperparameters change between jitted
 * steps without a recompile; schedules evaluated per step; 1cycle with cycled momentum.
 */
import { grad, type Array as JArray, jit, np } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test, vi } from "vitest";
import {
  adam,
  applyUpdates,
  chain,
  cosineOnecycleSchedule,
  cycleMomentum,
  exponentialDecay,
  type GradientTransformation,
  type InjectHyperparamsState,
  injectHyperparams,
  reduceOnPlateau,
  sgd,
} from "../src/index.js";

const loss = (p: { w: JArray }) => np.sum(np.square(p.w.sub([1, -2, 3])).mul([1, 10, 0.5]));

async function run(tx: GradientTransformation, steps: number) {
  let p = { w: np.array([0.5, 0.5, 0.5]) };
  let s = tx.init(p);
  for (let i = 0; i < steps; i++) {
    const [u, s2] = tx.update(grad(loss)(p), s, p);
    p = applyUpdates(p, u);
    s = s2;
  }
  return [p, s] as const;
}
const bits = async (a: JArray) => Array.from(new Uint32Array(((await a.data()) as Float32Array).buffer.slice(0)));

describe("injectHyperparams", () => {
  test("identical to the plain optimiser: a number, a schedule (bit for bit), and b1 (to float32 rounding)", async () => {
    const [a] = await run(adam(1e-2), 8);
    const [b] = await run(
      injectHyperparams((h: { learningRate: JArray }) => adam(h.learningRate))({ learningRate: 1e-2 }),
      8,
    );
    expect(await bits(b.w)).toEqual(await bits(a.w));
    const sched = exponentialDecay(1e-2, 3, 0.5);
    const [c] = await run(adam(sched), 8);
    const [d] = await run(injectHyperparams((h: { lr: JArray }) => adam(h.lr))({ lr: sched }), 8);
    expect(await bits(d.w)).toEqual(await bits(c.w));
    // 1 − b1 is computed in float32 from an injected b1, in float64 from a number.
    const [e] = await run(injectHyperparams((h: { b1: JArray }) => adam(1e-2, { b1: h.b1 }))({ b1: 0.8 }), 8);
    const [f] = await run(adam(1e-2, { b1: 0.8 }), 8);
    await expectClose(e.w, await f.w.toArray(), { rtol: 1e-6 });
  });

  test("a learning rate changed in the state between jitted steps takes effect without a recompile", async () => {
    const tx = injectHyperparams((h: { learningRate: JArray; momentum: JArray }) =>
      sgd(h.learningRate, { momentum: h.momentum }),
    )({ learningRate: 0.1, momentum: 0.9 });
    let p = { w: np.array([0.5, 0.5, 0.5]) };
    let s = tx.init(p) as InjectHyperparamsState<"learningRate" | "momentum">;
    const step = jit((q: typeof p, st: typeof s) => {
      const [u, st2] = tx.update(grad(loss)(q), st, q);
      return [applyUpdates(q, u), st2] as const;
    });
    [p, s] = step(p, s);
    s = { ...s, hyperparams: { ...s.hyperparams, learningRate: np.array(0), momentum: np.array(0) } };
    const before = await p.w.toArray();
    [p, s] = step(p, s);
    expect(await p.w.toArray()).toEqual(before);
    expect(step.traceCount).toBe(1);
    expect(await s.count.item()).toBe(2);
  });

  test("1cycle: the learning rate and b1 scheduled together; the state holds the current values", async () => {
    const T = 20;
    const lr = cosineOnecycleSchedule(T, 0.1);
    const mom = cycleMomentum(T, { cosine: true });
    const tx = injectHyperparams((h: { lr: JArray; b1: JArray }) => adam(h.lr, { b1: h.b1 }))({ lr, b1: mom });
    const [, s] = await run(tx, 7);
    const st = s as InjectHyperparamsState<"lr" | "b1">;
    // The values used by the 7th update, at count 6.
    await expectClose(st.hyperparams.lr, lr(6) as number, { rtol: 1e-6 });
    await expectClose(st.hyperparams.b1, mom(6) as number, { rtol: 1e-6 });
  });
});

describe("donated states", () => {
  test("reduceOnPlateau's and a scheduled injectHyperparams' states donate cleanly; a missing learning rate is named", () => {
    const warn = vi.spyOn(console, "warn");
    const txs: GradientTransformation[] = [
      injectHyperparams((h: { learningRate: JArray }) => adam(h.learningRate))({
        learningRate: exponentialDecay(0.1, 10, 0.5),
      }),
      chain(adam(0.5), reduceOnPlateau({ patience: 3 })),
    ];
    for (const tx of txs) {
      let p = { w: np.ones([3]) };
      let s = tx.init(p);
      const step = jit(
        (q: typeof p, st: unknown) => {
          const [u, s2] = tx.update(grad(loss)(q), st, q, { value: loss(q) });
          return [applyUpdates(q, u), s2] as const;
        },
        { donateArgnums: [0, 1] },
      );
      for (let i = 0; i < 3; i++) [p, s] = step(p, s);
    }
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    // optax's injectHyperparams(adam) spelling: adam would get the hyperparameter object.
    const wrong = injectHyperparams(adam as never)({ learningRate: 0.1 });
    expect(() => wrong.init({ w: np.ones([2]) })).toThrow(/injectHyperparams\(\(h\) => adam\(h.learningRate\)\)/);
    expect(() => (adam as unknown as () => unknown)()).toThrow(/an alias needs its learning rate/);
  });

  test("names are checked: a hyperparameter read but not given, and a value that is not a hyperparameter", () => {
    const typo = injectHyperparams((h: { learningRate: JArray }) => adam(h.learningRate))({
      learningrate: 1e-3,
    } as never);
    expect(() => typo.init({ w: np.ones([2]) })).toThrow(
      'injectHyperparams: the factory read hyperparameter "learningRate", which was not given (did you mean "learningrate"?); given: "learningrate"',
    );
    const bad = injectHyperparams((h: { lr: JArray }) => adam(h.lr));
    expect(() => bad({ lr: "fast" } as never)).toThrow(
      'injectHyperparams: hyperparameter "lr" must be a number, a schedule or a scalar array, got string',
    );
    // Reading the given ones, spreading them, and code that probes objects all still work.
    const ok = injectHyperparams((h: { lr: JArray; b1: JArray }) => {
      expect(Object.keys({ ...h }).sort()).toEqual(["b1", "lr"]);
      expect((h as unknown as { then?: unknown }).then).toBeUndefined();
      return adam(h.lr, { b1: h.b1 });
    })({ lr: 1e-3, b1: 0.9 });
    const p = { w: np.ones([2]) };
    const [u] = ok.update({ w: np.ones([2]) }, ok.init(p), p);
    expect(u.w.shape).toEqual([2]);
  });
});

describe("cycleMomentum", () => {
  test("falls from 0.95 to 0.85 while the learning rate rises, rises back, then holds (by hand)", () => {
    const m = cycleMomentum(100);
    expect(m(0)).toBeCloseTo(0.95, 12);
    expect(m(15)).toBeCloseTo(0.9, 12);
    expect(m(30)).toBeCloseTo(0.85, 12);
    expect(m(57.5)).toBeCloseTo(0.9, 12);
    expect(m(85)).toBeCloseTo(0.95, 12);
    expect(m(100)).toBeCloseTo(0.95, 12);
    const c = cycleMomentum(100, { cosine: true });
    expect(c(30)).toBeCloseTo(0.85, 12);
    expect(c(65)).toBeCloseTo(0.9, 12); // the cosine's midpoint
    expect(c(100)).toBeCloseTo(0.95, 12);
  });
});
