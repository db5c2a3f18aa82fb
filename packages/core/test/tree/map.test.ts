/**
 * tree.map over one and several trees of webjax Arrays, mapWithPath's paths, reduce, and the
 * messages for trees whose structures differ.
 */
import { type Array, np, tree } from "@webjax/core";
import { afterAll, describe, expect, test } from "vitest";

class Linear {
  constructor(
    readonly w: unknown,
    readonly b: unknown,
    readonly activation: string,
  ) {}
}
tree.registerNode(Linear, {
  flatten: (x) => [[x.w, x.b], x.activation, ["w", "b"]],
  unflatten: (activation, [w, b]) => new Linear(w, b, activation),
});

/** Runs `f` and returns the message of what it threw. */
function message(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(tree.TreeStructureError);
    return (e as Error).message;
  }
  throw new Error("expected a throw");
}

describe("tree.map", () => {
  test("adds two parameter trees of webjax Arrays leaf by leaf", async () => {
    using w1 = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b1 = np.array([0.5, -1]);
    using w2 = np.array([
      [10, 20],
      [30, 40],
    ]);
    using b2 = np.array([1, 1]);
    const p = { dense: { kernel: w1, bias: b1 }, scale: [b1] as const };
    const q = { scale: [b2] as const, dense: { bias: b2, kernel: w2 } };
    const sum = tree.map((a, b) => a.add(b), p, q);
    expect(await sum.dense.kernel.toArray()).toEqual([
      [11, 22],
      [33, 44],
    ]);
    expect(await sum.dense.bias.toArray()).toEqual([1.5, 0]);
    expect(await sum.scale[0].toArray()).toEqual([1.5, 0]);
    for (const x of tree.leaves(sum)) x.dispose();
  });

  test("keeps the structure, with new containers, and rebuilds registered nodes", () => {
    const t = { layers: [new Linear([1, 2], 3, "relu")], n: null, m: new Map([["k", 4]]) };
    // Linear's fields are `unknown`, so the leaf type is too.
    const out = tree.map((x) => (x as number) * 10, t);
    expect(out).toEqual({ layers: [new Linear([10, 20], 30, "relu")], n: null, m: new Map([["k", 40]]) });
    expect(out.layers[0]).toBeInstanceOf(Linear);
    expect(out.layers).not.toBe(t.layers);
    expect(t.layers[0]?.w).toEqual([1, 2]);
  });

  test("passes three trees' leaves in order", () => {
    const out = tree.map(
      (a: number, b: number, c: string) => `${a}${b}${c}`,
      [1, { x: 2 }],
      [3, { x: 4 }],
      ["a", { x: "b" }],
    );
    expect(out).toEqual(["13a", { x: "24b" }]);
  });
});

describe("structure mismatches name the path and both sides", () => {
  const one = np.zeros([2]);
  afterAll(() => one.dispose());
  test("a list of a different length", () => {
    const p = { a: { b: [one, one] } };
    const q = { a: { b: [one, one, one] } };
    expect(message(() => tree.map((x, y) => x.add(y), p, q))).toBe(
      "tree.map: tree 1 differs from tree 0 at a/b: expected a list of 2, got a list of 3",
    );
  });

  test("missing and extra keys", () => {
    expect(message(() => tree.map((x) => x, { dense_0: { w: 1, b: 2 } }, { dense_0: { w: 1 } }))).toBe(
      "tree.map: tree 1 differs from tree 0 at dense_0: expected an object with keys ['b', 'w'], got keys ['w'] (missing 'b')",
    );
    expect(message(() => tree.map((x) => x, { w: 1 }, { w: 1, v: 2, u: 3 }))).toBe(
      "tree.map: tree 1 differs from tree 0 at the root: expected an object with keys ['w'], got keys ['u', 'v', 'w'] (extra 'u', 'v')",
    );
    expect(message(() => tree.map((x) => x, new Map([[1, 0]]), new Map([["1", 0]])))).toBe(
      "tree.map: tree 1 differs from tree 0 at the root: expected a Map with keys [1], got keys ['1'] (missing 1; extra '1')",
    );
  });

  test("a leaf against a node, and a node of another kind", () => {
    expect(message(() => tree.map((x) => x, { w: one }, { w: [one, one] }))).toBe(
      "tree.map: tree 1 differs from tree 0 at w: expected a leaf, got a list of 2",
    );
    expect(message(() => tree.map((x) => x, { w: [one] }, { w: one }))).toBe(
      "tree.map: tree 1 differs from tree 0 at w: expected a list of 1, got a leaf (float32[2] Array)",
    );
    expect(message(() => tree.map((x) => x, [null], [3]))).toBe(
      "tree.map: tree 1 differs from tree 0 at 0: expected null, got a leaf (number 3)",
    );
    expect(message(() => tree.map((x) => x, [1, { a: 1 }], [1, 2], [1, { a: 1 }]))).toBe(
      "tree.map: tree 1 differs from tree 0 at 1: expected an object with keys ['a'], got a leaf (number 2)",
    );
    expect(message(() => tree.map((x) => x, [1, [2]], [1, [2]], [1, [2, 3]]))).toBe(
      "tree.map: tree 2 differs from tree 0 at 1: expected a list of 1, got a list of 2",
    );
  });

  test("registered nodes with other aux data", () => {
    const a = [new Linear(1, 2, "relu")];
    const b = [new Linear(1, 2, "gelu")];
    expect(message(() => tree.map((x) => x, a, b))).toBe(
      "tree.map: tree 1 differs from tree 0 at 0: expected a Linear node with aux data 'relu', got aux data 'gelu'",
    );
    expect(message(() => tree.map((x) => x, a, [{ w: 1, b: 2 }]))).toBe(
      "tree.map: tree 1 differs from tree 0 at 0: expected a Linear node, got an object with keys ['b', 'w']",
    );
  });

  test("assertSameStructure ignores leaf values and types", () => {
    expect(() => tree.assertSameStructure({ a: [1, "x"], b: null }, { b: null, a: [one, true] })).not.toThrow();
    expect(message(() => tree.assertSameStructure({ a: [1, 2] }, { a: [1, [2]] }))).toBe(
      "tree.assertSameStructure: tree 1 differs from tree 0 at a/1: expected a leaf, got a list of 1",
    );
  });
});

describe("tree.mapWithPath and tree.leavesWithPath", () => {
  test("paths join object keys, indices, Map keys and registered child keys with '/'", () => {
    const params = {
      dense_0: { kernel: 1, bias: 2 },
      blocks: [new Linear(3, 4, "relu")],
      emb: new Map([[7, 5]]),
    };
    expect(tree.leavesWithPath(params)).toEqual([
      ["blocks/0/w", 3],
      ["blocks/0/b", 4],
      ["dense_0/bias", 2],
      ["dense_0/kernel", 1],
      ["emb/7", 5],
    ]);
    const decay = tree.mapWithPath((path, _x) => !path.endsWith("bias") && !path.endsWith("/b"), params);
    expect(decay).toEqual({
      dense_0: { kernel: true, bias: false },
      blocks: [new Linear(true, false, "relu")],
      emb: new Map([[7, true]]),
    });
  });

  test("several trees get the first tree's paths", () => {
    const out = tree.mapWithPath((path, a: number, b: number) => `${path}=${a + b}`, { x: [1, 2] }, { x: [10, 20] });
    expect(out).toEqual({ x: ["x/0=11", "x/1=22"] });
  });
});

describe("tree.reduce", () => {
  test("folds the leaves in tree order", async () => {
    expect(tree.reduce((acc: string, x: number) => acc + x, { b: [2, 3], a: 1 }, "")).toBe("123");
    using g1 = np.array([3, 4]);
    using g2 = np.array([12]);
    using zero = np.zeros([]);
    const squares: Array[] = [];
    const total = tree.reduce(
      (acc, g) => {
        using sq = g.square();
        const s = sq.sum();
        squares.push(s);
        const next = acc.add(s);
        squares.push(next);
        return next;
      },
      { a: g1, b: g2 },
      zero,
    );
    expect(await total.item()).toBe(169);
    for (const s of squares) s.dispose();
  });
});
