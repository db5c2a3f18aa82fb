/**
 * A jitted scan as one loop step of the backend program (issue 24): a call after the first is one
 * top-level `Backend.run` whose program has the same steps for 10 and 1,000 iterations, the
 * body's kernels run once per iteration, and the rows and carries move by buffer copies. Values
 * against eager for the awkward bodies: a carry passed through unchanged, a y that repeats the
 * carry, an integer counter, reversed, a broadcast initial carry, nested scans, and the gradient.
 */

import type { BackendProgram, Slot } from "@webjax/core";
import { getBackend, grad, type Array as JArray, jit, lax, np } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

/** Runs `f` counting the backend's top-level `run` calls and the steps of each program they ran. */
async function topLevelRuns(f: () => Promise<unknown>): Promise<number[]> {
  const backend = getBackend();
  const run = backend.run?.bind(backend);
  if (!run) throw new Error("this backend has no run");
  const seen: number[] = [];
  let depth = 0;
  backend.run = (p: BackendProgram, s: Slot[]) => {
    if (depth === 0) seen.push(p.steps.length);
    depth++;
    try {
      run(p, s);
    } finally {
      depth--;
    }
  };
  try {
    await f();
  } finally {
    delete (backend as { run?: unknown }).run;
  }
  return seen;
}

/** The long run's length: SwiftShader runs a 1,000-step RNN (and its eager reference) slowly. */
const long = getBackend().name === "webgpu" ? 100 : 1000;

const counters = () => (getBackend() as unknown as { counters: { copies: number } }).counters;

const rnn = (w: JArray, xs: JArray) =>
  lax
    .scan(
      (h: JArray, x: JArray) => {
        const next = np.tanh(h.matmul(w).add(x));
        return [next, next.sum()] as const;
      },
      np.zeros([4]),
      xs,
    )[1]
    .sum();

describe("a jitted scan is one loop step", () => {
  test("one program call of the same length for 10 and 1,000 steps (100 on WebGPU); rows and carries copied, not unrolled", async () => {
    const w = np.eye(4).mul(0.5);
    const lengths: number[][] = [];
    for (const n of [10, long]) {
      const xs = np.linspace(-1, 1, 4 * n).reshape([n, 4]);
      const jf = jit(rnn);
      const first = await jf(w, xs).data();
      const c0 = counters().copies;
      let again: ArrayLike<number> = [];
      lengths.push(
        await topLevelRuns(async () => {
          again = await jf(w, xs).data();
        }),
      );
      // A row of xs in, a y out per step, the carry in and out once.
      expect(counters().copies - c0).toBe(2 * n + 2);
      const eager = await rnn(w, xs).data();
      expect(Math.abs((again[0] as number) - (eager[0] as number))).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(eager[0] as number)),
      );
      expect(again[0]).toBe(first[0]);
    }
    expect(lengths[0]).toHaveLength(1);
    expect(lengths[1]).toEqual(lengths[0]);
  });

  test("its gradient replays too, as loop steps, and equals the eager gradient", async () => {
    const w = np.array([
      [0.5, -0.2, 0.1, 0],
      [0.1, 0.4, 0, -0.3],
      [0, 0.2, 0.3, 0.1],
      [-0.1, 0, 0.2, 0.5],
    ]);
    const lengths: number[][] = [];
    for (const n of [10, long / 5]) {
      const xs = np.linspace(-1, 1, 4 * n).reshape([n, 4]);
      const g = jit(grad(rnn));
      await g(w, xs).data();
      let got: JArray | null = null;
      lengths.push(
        await topLevelRuns(async () => {
          got = g(w, xs);
          await got.data();
        }),
      );
      await expectClose(got as unknown as JArray, await grad(rnn)(w, xs).toArray(), { rtol: 1e-4, atol: 1e-5 });
    }
    expect(lengths[0]).toHaveLength(1);
    expect(lengths[1]).toEqual(lengths[0]);
  });

  test("awkward bodies equal eager: pass-through carry, repeated outputs, an int counter, reversed, nested", async () => {
    const xs = np.arange(12).astype("float32").reshape([6, 2]);
    const cases: [string, (xs: JArray) => JArray[]][] = [
      [
        "a carry passed through and a y that repeats the carry",
        (v) => {
          const [c, ys] = lax.scan(
            (c: { keep: JArray; acc: JArray }, x: JArray) =>
              [{ keep: c.keep, acc: c.acc.add(x) }, [c.acc.add(x), c.keep]] as const,
            { keep: np.array([7, 8]), acc: np.zeros([2]) },
            v,
          );
          return [c.keep, c.acc, ys[0], ys[1]];
        },
      ],
      [
        "an int32 counter (foriLoop) and a reversed scan",
        (v) => {
          const total = lax.foriLoop(0, 5, (i, acc: JArray) => acc.add(i.astype("float32").mul(v.sum())), np.array(0));
          const [, ys] = lax.scan((c: JArray, x: JArray) => [c.mul(0.5).add(x), c] as const, np.zeros([2]), v, {
            reverse: true,
          });
          return [total, ys];
        },
      ],
      [
        "a scan inside a scan's body",
        (v) => {
          const [c, ys] = lax.scan(
            (c: JArray, x: JArray) => {
              const [inner] = lax.scan(
                (d: JArray, k: JArray) => [d.add(k.mul(x)), null] as const,
                c,
                np.arange(3).astype("float32"),
              );
              return [inner, inner.sum()] as const;
            },
            np.ones([2]),
            v,
          );
          return [c, ys];
        },
      ],
    ];
    for (const [, f] of cases) {
      const want = f(xs);
      const jf = jit(f);
      await jf(xs)[0]?.data();
      const got = jf(xs);
      expect(got).toHaveLength(want.length);
      for (let i = 0; i < want.length; i++)
        await expectClose(got[i] as JArray, await (want[i] as JArray).toArray(), { rtol: 1e-6, atol: 1e-6 });
    }
  });
});
