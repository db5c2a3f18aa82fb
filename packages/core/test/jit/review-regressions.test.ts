/**
 * Regressions from the jit review: custom functions inside a jitted program release their
 * intermediates and may return what they close over; a program closing over an enclosing
 * transform's value may return consts; static strings cannot collide in the cache key; arrays
 * made inside a staged function are not left alive; a JS number inside a donated argument
 * comes back usable.
 */
import { customJvp, grad, type Array as JArray, jit, makeJaxpr, memoryStats, np } from "@webjax/core";
import { expectClose, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const live = () => memoryStats()[testBackend]?.liveBuffers ?? 0;

describe("jit review regressions", () => {
  test("a customJvp softplus inside jit leaks nothing per call", async () => {
    const softplus = customJvp(
      (x: JArray) => np.log1p(np.exp(x)),
      ([x], [t]) => [np.log1p(np.exp(x)), t.mul(np.reciprocal(np.add(1, np.exp(x.neg()))))] as const,
    );
    const f = jit((x: JArray) => softplus(x.mul(2)).sum());
    const x = np.array([0.5, -1, 2]);
    const warm = f(x);
    await warm.blockUntilReady();
    warm.dispose();
    const before = live();
    for (let i = 0; i < 50; i++) {
      const y = f(x);
      await y.blockUntilReady();
      y.dispose();
    }
    expect(live()).toBe(before);
  });

  test("a custom function returning a closed-over array, inside jit, survives later calls", async () => {
    const w = np.array([1, 2]);
    const g = customJvp(
      (x: JArray): JArray[] => [x.mul(2), w],
      ([x], [t]): [JArray[], JArray[]] => [
        [x.mul(2), w],
        [t.mul(2), np.zerosLike(w)],
      ],
    );
    const f = jit((x: JArray) => g(x));
    for (let i = 0; i < 3; i++) {
      const [a, b] = f(np.array([1, 1])) as [JArray, JArray];
      await expectClose(a, [2, 2]);
      await expectClose(b, [1, 2]);
    }
    expect(await w.toArray()).toEqual([1, 2]);
  });

  test("a jitted function closing over a differentiated value may return consts and numbers", async () => {
    const w = np.array([3, 4]);
    const d = grad((x: JArray) => {
      const [a, b] = jit((y: JArray) => [y.mul(x), w])(x) as [JArray, JArray];
      return a.sum().add(b.sum());
    })(np.array(2));
    await expectClose(d, 4); // y = x, so a = x², and d/dx x² = 2x at x = 2
    const [, two] = grad(
      (x: JArray) => {
        const [a, c] = jit((y: JArray) => [y.mul(x), 2])(x) as [JArray, JArray];
        return [a.add(c), c] as const;
      },
      { hasAux: true },
    )(np.array(1));
    await expectClose(two as JArray, 2);
  });

  test("static strings are escaped in the cache key", async () => {
    const f = jit((a: JArray, s: string[]) => a.add(s.length), { staticArgnums: 1 });
    const one = f(np.zeros([1]), ["a,string:b"]);
    const two = f(np.zeros([1]), ["a", "b"]);
    expect(await one.toArray()).toEqual([1]);
    expect(await two.toArray()).toEqual([2]);
  });

  test("arrays made inside a staged function are released with the program", async () => {
    const arg = np.zeros([3]);
    const before = live();
    const j = makeJaxpr((x: JArray) => x.add(np.array([1, 2, 3])))(arg);
    j.dispose();
    expect(live()).toBe(before);
  });

  test("a JS number inside a donated argument comes back as a usable output", async () => {
    const f = jit((s: { a: JArray; b: number }) => ({ a: s.a.add(1), b: s.b }), { donateArgnums: 0 });
    const out = f({ a: np.zeros([2]), b: 0.5 }) as unknown as { a: JArray; b: JArray };
    await expectClose(out.b, 0.5);
  });
});
