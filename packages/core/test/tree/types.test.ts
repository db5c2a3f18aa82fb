/**
 * The static types of tree functions follow the tree's shape (checked by tsc; the runtime
 * assertions are the same calls' values).
 */
import { type Array, np, tree } from "@webjax/core";
import { describe, expect, expectTypeOf, test } from "vitest";

describe("tree types", () => {
  test("identity map keeps the shape type, tuples and readonly included", () => {
    using arr = np.zeros([2]);
    const t = { a: arr, b: [arr, arr] as const };
    const same = tree.map((x) => x, t);
    expectTypeOf(same).toEqualTypeOf<{ a: Array; b: readonly [Array, Array] }>();
    expect(same.b[1]).toBe(arr);
  });

  test("mapping to numbers maps every leaf type", () => {
    using arr = np.zeros([2]);
    const sizes = tree.map((x) => x.size, { a: arr, b: [arr, arr] as const });
    expectTypeOf(sizes).toEqualTypeOf<{ a: number; b: readonly [number, number] }>();
    expect(sizes).toEqual({ a: 2, b: [2, 2] });
  });

  test("arrays, Maps, optional keys and null keep their shape", () => {
    type Params = { layers: Array[]; emb: Map<string, Array>; norm?: Array; frozen: null };
    expectTypeOf<tree.MapLeaves<Params, boolean>>().toEqualTypeOf<{
      layers: boolean[];
      emb: Map<string, boolean>;
      norm?: boolean | undefined;
      frozen: null;
    }>();
    expectTypeOf<tree.LeafOf<Params>>().toEqualTypeOf<Array>();
    expectTypeOf<tree.LeafOf<{ lr: number; name: string; w: [Array] }>>().toEqualTypeOf<number | string | Array>();
    expectTypeOf<tree.LeafOf<unknown>>().toEqualTypeOf<unknown>();
    expectTypeOf<tree.LeafOf<tree.PyTree>>().toEqualTypeOf<tree.Leaf>();
    expectTypeOf<tree.LeafOf<tree.PyTree<Array>>>().toEqualTypeOf<Array>();
  });

  test("n-ary map types each tree's leaves", () => {
    using x = np.ones([2]);
    const p = { w: x, b: [x] as [Array] };
    const q = { w: 0.5, b: [2] as [number] };
    const out = tree.map(
      (a, s) => {
        expectTypeOf(a).toEqualTypeOf<Array>();
        expectTypeOf(s).toEqualTypeOf<number>();
        return a.size * s;
      },
      p,
      q,
    );
    expectTypeOf(out).toEqualTypeOf<{ w: number; b: [number] }>();
    expect(out).toEqual({ w: 1, b: [4] });
    const labels = tree.mapWithPath((path, a) => `${path}:${a.ndim}`, p);
    expectTypeOf(labels).toEqualTypeOf<{ w: string; b: [string] }>();
    expect(labels).toEqual({ w: "w:1", b: ["b/0:1"] });
  });

  test("a PyTree<Array> maps to a PyTree of the results", () => {
    using x = np.ones([3]);
    const t: tree.PyTree<Array> = { a: [x, null] };
    const sizes = tree.map((a) => a.size, t);
    expectTypeOf(tree.leaves(sizes)).toEqualTypeOf<number[]>();
    expect(sizes).toEqual({ a: [3, null] });
    const ndims = (p: tree.PyTree<Array>) => tree.map((a) => a.ndim, p);
    expectTypeOf(ndims).returns.toEqualTypeOf<tree.PyTree<number>>();
    expect(ndims([x, { b: x }])).toEqual([1, { b: 1 }]);
    expectTypeOf<tree.MapLeaves<tree.PyTree, string>>().toEqualTypeOf<tree.PyTree<string>>();
  });

  test("leaves and flatten return the leaf type", () => {
    const [leaves, def] = tree.flatten({ a: 1, b: ["s", null] as const });
    expectTypeOf(leaves).toEqualTypeOf<(number | "s")[]>();
    expectTypeOf(def).toEqualTypeOf<tree.TreeDef>();
    expectTypeOf(tree.leaves([true, { x: 2n }])).toEqualTypeOf<(boolean | bigint)[]>();
    expectTypeOf(tree.leavesWithPath({ a: 1 })).toEqualTypeOf<[string, number][]>();
    expect(leaves).toEqual([1, "s"]);
  });
});
