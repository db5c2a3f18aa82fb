/**
 * Combinators and the base: freeze and multiTransform leave frozen params bit-identical over
 * 100 jitted steps; masked passes masked-out updates through unchanged; chain = the composed
 * updates by hand; applyUpdates keeps dtypes; sgd with momentum equals chain(trace, scale) and
 * adamw with zero decay equals adam, exactly (optax's equivalences).
 */
import { grad, type Array as JArray, jit, np, random, tree } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import {
  adam,
  adamw,
  applyUpdates,
  chain,
  freeze,
  type GradientTransformation,
  identity,
  masked,
  multiTransform,
  namedChain,
  scale,
  scaleByAdam,
  setToZero,
  sgd,
  statelessWithTreeMap,
  trace,
} from "../src/index.js";

const net = () => {
  const [k1, k2] = random.split(random.key(7), 2) as Iterable<JArray> as [JArray, JArray];
  return {
    dense_0: { kernel: random.normal(k1, [4, 3]), bias: np.zeros([3]) },
    dense_1: { kernel: random.normal(k2, [3, 2]), bias: np.zeros([2]) },
  };
};
type Net = ReturnType<typeof net>;
const x = random.normal(random.key(1), [8, 4]);
const loss = (p: Net) =>
  np
    .tanh(np.tanh(x.matmul(p.dense_0.kernel).add(p.dense_0.bias)).matmul(p.dense_1.kernel).add(p.dense_1.bias))
    .square()
    .sum();

async function train(tx: GradientTransformation, steps: number): Promise<[Net, Net]> {
  const start = net();
  let params = start;
  let state = tx.init(params);
  const step = jit((p: Net, s: unknown) => {
    const [u, s2] = tx.update(grad(loss)(p), s, p);
    return [applyUpdates(p, u), s2] as const;
  });
  for (let i = 0; i < steps; i++) [params, state] = step(params, state);
  return [start, params];
}

const bits = async (a: JArray) => Array.from(new Uint32Array(((await a.data()) as Float32Array).buffer.slice(0)));

describe("freezing for transfer learning", () => {
  test("freeze(mask) over 100 jitted steps: frozen params bit-identical, the others train", async () => {
    const [start, end] = await train(chain(adam(1e-2), freeze({ dense_0: true, dense_1: false })), 100);
    expect(await bits(end.dense_0.kernel)).toEqual(await bits(start.dense_0.kernel));
    expect(await bits(end.dense_0.bias)).toEqual(await bits(start.dense_0.bias));
    expect(await bits(end.dense_1.kernel)).not.toEqual(await bits(start.dense_1.kernel));
    expect((await loss(end).item()) < (await loss(start).item())).toBe(true);
  });

  test("multiTransform({ train, frozen }, labels): the same by labels (a prefix of the params)", async () => {
    const tx = multiTransform({ train: adam(1e-2), frozen: setToZero() }, { dense_0: "frozen", dense_1: "train" });
    const [start, end] = await train(tx, 100);
    expect(await bits(end.dense_0.kernel)).toEqual(await bits(start.dense_0.kernel));
    expect(await bits(end.dense_1.bias)).not.toEqual(await bits(start.dense_1.bias));
    expect(() => multiTransform({ train: adam(1e-2) }, { dense_0: "frozen", dense_1: "train" }).init(net())).toThrow(
      /the label "frozen" has no transformation; the transformations are "train"/,
    );
  });

  test("masked passes masked-out updates through unchanged (it does not freeze by itself)", async () => {
    const p = { a: np.array([1, 2]), b: np.array([3, 4]) };
    const g = { a: np.array([0.5, 0.5]), b: np.array([1, 1]) };
    const tx = masked(scale(10), { a: true, b: false });
    const [u] = tx.update(g, tx.init(p), p);
    await expectClose(u.a, [5, 5]);
    await expectClose(u.b, [1, 1]);
    // A mask function of the params, and inner state only for the masked-in leaves.
    const tm = masked(trace({ decay: 0.9 }), (params: typeof p) => tree.map(() => false, params));
    expect(tree.leaves(tm.init(p))).toEqual([]);
  });
});

describe("the base", () => {
  test("chain composes, namedChain keys states, applyUpdates keeps each param's dtype", async () => {
    const p = { w: np.array([1, 2], "float16"), n: np.array([3, 4]) };
    const g = { w: np.array([1, 1], "float16"), n: np.array([2, 2]) };
    const tx = chain(
      scale(2),
      statelessWithTreeMap((u: JArray) => u.add(1)),
      identity(),
    );
    const [u] = tx.update(g, tx.init(p), p);
    await expectClose(u.n, [5, 5]);
    const moved = applyUpdates(p, u);
    expect(moved.w.dtype).toBe("float16");
    await expectClose(moved.w, [4, 5]);
    const named = namedChain(["clip", scale(1)], ["adam", scaleByAdam()]);
    const s = named.init(p) as Record<string, unknown>;
    expect(Object.keys(s)).toEqual(["clip", "adam"]);
  });

  test("optax's equivalences, exactly: sgd with momentum = chain(trace, scale); adamw with no decay = adam", async () => {
    const pairs: [GradientTransformation, GradientTransformation][] = [
      [sgd(0.1, { momentum: 0.9 }), chain(trace({ decay: 0.9 }), scale(-0.1))],
      [adamw(1e-2, { weightDecay: 0 }), adam(1e-2)],
    ];
    for (const [a, b] of pairs) {
      const [, ea] = await train(a, 20);
      const [, eb] = await train(b, 20);
      for (const [la, lb] of tree.leaves(ea).map((l, i) => [l, tree.leaves(eb)[i]] as [JArray, JArray])) {
        expect(await bits(la)).toEqual(await bits(lb));
      }
    }
  });
});
