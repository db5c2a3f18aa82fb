/**
 * Flattening and rebuilding pytrees: leaf order (sorted object and Map keys), empty nodes,
 * registered classes, TreeDef printing and equality, and the errors for values that cannot be
 * in a tree.
 */
import { np, tree, WebjaxError } from "@webjax/core";
import { describe, expect, test } from "vitest";

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

/** A registered class without child keys (children are named by index). */
class Pair {
  constructor(
    readonly first: unknown,
    readonly second: unknown,
  ) {}
}
tree.registerNode(Pair, { flatten: (p) => [[p.first, p.second], null], unflatten: (_, [a, b]) => new Pair(a, b) });

describe("tree.flatten", () => {
  test("object keys are sorted, so insertion order does not change leaves or structure", () => {
    const [l1, d1] = tree.flatten({ b: 2, a: 1, c: { z: 4, y: 3 } });
    const [l2, d2] = tree.flatten({ c: { y: 3, z: 4 }, a: 1, b: 2 });
    expect(l1).toEqual([1, 2, 3, 4]);
    expect(l2).toEqual([1, 2, 3, 4]);
    expect(d1.equals(d2)).toBe(true);
    expect(String(d1)).toBe("PyTreeDef({'a': *, 'b': *, 'c': {'y': *, 'z': *}})");
  });

  test("keys sort by code units, as JS sort does ('10' before '2', 'B' before 'a')", () => {
    expect(tree.leaves({ 2: "two", 10: "ten", a: "a", B: "B" })).toEqual(["ten", "two", "B", "a"]);
  });

  test("arrays keep their order and nest depth first", () => {
    const t = [1, [2, [3, 4]], { x: 5 }, 6];
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([1, 2, 3, 4, 5, 6]);
    expect(def.numLeaves).toBe(6);
    expect(def.numNodes).toBe(10); // 3 lists, 1 object, 6 leaves
    expect(String(def)).toBe("PyTreeDef([*, [*, [*, *]], {'x': *}, *])");
    expect(tree.unflatten(def, leaves)).toEqual(t);
  });

  test("null and undefined are empty nodes that round trip", () => {
    const t = { a: null, b: [undefined, 1], c: {}, d: [] };
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([1]);
    expect(String(def)).toBe("PyTreeDef({'a': null, 'b': [undefined, *], 'c': {}, 'd': []})");
    const back = tree.unflatten(def, leaves) as typeof t;
    expect(back).toEqual(t);
    expect(back.a).toBeNull();
    expect(Object.hasOwn(back.b, 0) && back.b[0] === undefined).toBe(true);
    expect(tree.structure(null).numLeaves).toBe(0);
    expect(tree.structure(null).equals(tree.structure(undefined))).toBe(false);
  });

  test("a lone leaf is its own tree", () => {
    const [leaves, def] = tree.flatten(3);
    expect(leaves).toEqual([3]);
    expect(def.isLeaf).toBe(true);
    expect(String(def)).toBe("PyTreeDef(*)");
    expect(tree.unflatten(def, [7])).toBe(7);
    expect(tree.leavesWithPath("s")).toEqual([["", "s"]]);
  });

  test("webjax Arrays, numbers, booleans, strings and bigints are leaves", () => {
    using x = np.array([1, 2]);
    const leaves = tree.leaves({ a: x, b: true, c: "relu", d: 3n, e: 0.5 });
    // (Arrays iterate over their first axis, so deep equality would walk their elements.)
    expect(leaves[0]).toBe(x);
    expect(leaves.slice(1)).toEqual([true, "relu", 3n, 0.5]);
  });

  test("Maps sort numbers numerically, then other keys by String(key)", () => {
    const m = new Map<unknown, unknown>([
      ["b", 1],
      [10, 2],
      ["a", [3, 4]],
      [2, 5],
    ]);
    const [leaves, def] = tree.flatten(m);
    expect(leaves).toEqual([5, 2, 3, 4, 1]);
    expect(String(def)).toBe("PyTreeDef(Map({2: *, 10: *, 'a': [*, *], 'b': *}))");
    const back = tree.unflatten(def, leaves) as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect(back).toEqual(m);
    expect([...back.keys()]).toEqual([2, 10, "a", "b"]);
    const reordered = new Map<unknown, unknown>([...m].reverse());
    expect(tree.structure(reordered).equals(def)).toBe(true);
  });

  test("a Map and an object with the same keys are different structures", () => {
    expect(tree.structure(new Map([["a", 1]])).equals(tree.structure({ a: 1 }))).toBe(false);
  });

  test("registered classes flatten to their children and round trip to new instances", () => {
    const layer = new Linear([1, 2], 3, "relu");
    const [leaves, def] = tree.flatten({ dense: layer });
    expect(leaves).toEqual([1, 2, 3]);
    expect(String(def)).toBe("PyTreeDef({'dense': CustomNode(Linear['relu'], [[*, *], *])})");
    const back = tree.unflatten(def, [10, 20, 30]) as { dense: Linear };
    expect(back.dense).toBeInstanceOf(Linear);
    expect(back.dense).not.toBe(layer);
    expect(back.dense).toEqual(new Linear([10, 20], 30, "relu"));
    expect(tree.leavesWithPath(layer)).toEqual([
      ["w/0", 1],
      ["w/1", 2],
      ["b", 3],
    ]);
    expect(tree.leavesWithPath(new Pair("x", ["y"]))).toEqual([
      ["0", "x"],
      ["1/0", "y"],
    ]);
  });

  test("treedefs of registered nodes compare their aux data by value", () => {
    const relu = tree.structure(new Linear(0, 0, "relu"));
    expect(relu.equals(tree.structure(new Linear(1, 2, "relu")))).toBe(true);
    expect(relu.equals(tree.structure(new Linear(0, 0, "gelu")))).toBe(false);
    expect(relu.equals(tree.structure(new Pair(0, 0)))).toBe(false);
  });

  test("children() and flattenUpTo() see one level / a prefix of the tree", () => {
    const def = tree.structure({ a: 0, b: [0, 0] });
    expect(def.children().map(String)).toEqual(["PyTreeDef(*)", "PyTreeDef([*, *])"]);
    const prefix = tree.structure({ a: 0, b: 0 });
    expect(prefix.flattenUpTo({ a: [1, 2], b: { c: 3 } })).toEqual([[1, 2], { c: 3 }]);
    expect(() => prefix.flattenUpTo({ a: 1 })).toThrow(
      "TreeDef.flattenUpTo: the tree differs from the treedef at the root: expected an object with keys ['a', 'b'], got keys ['a'] (missing 'b')",
    );
  });

  test("a '__proto__' key stays an own key through a round trip", () => {
    const t = JSON.parse('{"__proto__": 1, "a": 2}') as Record<string, unknown>;
    const [leaves, def] = tree.flatten(t);
    expect(leaves).toEqual([1, 2]);
    const back = tree.unflatten(def, leaves) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.keys(back)).toEqual(["__proto__", "a"]);
  });

  test("objects with a null prototype are plain objects", () => {
    const t = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    expect(tree.leaves(t)).toEqual([2, 1]);
    expect(tree.structure(t).equals(tree.structure({ a: 0, b: 0 }))).toBe(true);
  });
});

describe("tree.unflatten", () => {
  test("a wrong number of leaves names both counts", () => {
    const def = tree.structure({ a: 1, b: [2, 3] });
    expect(() => tree.unflatten(def, [1, 2])).toThrow(
      new tree.TreeStructureError("tree.unflatten: PyTreeDef({'a': *, 'b': [*, *]}) has 3 leaves, but 2 were given"),
    );
  });
});

describe("values that are not pytree nodes", () => {
  test("an unregistered class says how to register it, and that call works", () => {
    class Dense {
      w = [1, 2];
      b = 3;
    }
    let err: unknown;
    try {
      tree.flatten({ layers: [new Dense()] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(tree.TreeNodeError);
    expect(err).toBeInstanceOf(WebjaxError);
    expect((err as Error).message).toBe(
      "tree.flatten: found an instance of class Dense at layers/0, which is not a registered pytree node. " +
        "Only webjax Arrays, numbers, booleans, strings and bigints are leaves; register the class so its " +
        "fields become part of the tree:\n" +
        "  tree.registerNode(Dense, {\n" +
        '    flatten: (x) => [[x.w, x.b], null, ["w", "b"]],\n' +
        "    unflatten: (_aux, [w, b]) => Object.assign(Object.create(Dense.prototype), { w, b }),\n" +
        "  });",
    );
    // The suggested call, as printed.
    tree.registerNode(Dense, {
      flatten: (x) => [[x.w, x.b], null, ["w", "b"]],
      unflatten: (_aux, [w, b]) => Object.assign(Object.create(Dense.prototype), { w, b }),
    });
    const [leaves, def] = tree.flatten({ layers: [new Dense()] });
    expect(leaves).toEqual([1, 2, 3]);
    const back = tree.unflatten(def, [4, 5, 6]) as { layers: Dense[] };
    expect(back.layers[0]).toBeInstanceOf(Dense);
    expect(back.layers[0]).toEqual(Object.assign(new Dense(), { w: [4, 5], b: 6 }));
  });

  test("a subclass of a registered class is told that registration is per class", () => {
    class Conv extends Linear {}
    expect(() => tree.leaves([new Conv(1, 2, "relu")])).toThrow(
      "tree.leaves: found an instance of class Conv at 0, which is not a registered pytree node " +
        "(its base class Linear is registered, but registration is per exact class, as in JAX).",
    );
  });

  test("functions, Promises, typed arrays, Dates and cycles are rejected with the path", () => {
    expect(() => tree.flatten({ act: Math.tanh })).toThrow(
      "tree.flatten: found a function at act; functions are not pytree leaves (keep them out of the tree, e.g. in a closure)",
    );
    expect(() => tree.leaves({ a: [Promise.resolve(1)] })).toThrow(
      "tree.leaves: found a Promise at a/0; await it before passing the tree",
    );
    expect(() => tree.structure({ w: new Float32Array(2) })).toThrow(
      "tree.structure: found a Float32Array at w; typed arrays are not pytree leaves: convert it with np.array(...) first",
    );
    expect(() => tree.flatten(new Date(0))).toThrow(/found an instance of class Date at the root/);
    const cyclic: { a: unknown[] } = { a: [] };
    cyclic.a.push(1, cyclic);
    expect(() => tree.flatten(cyclic)).toThrow("tree.flatten: the tree contains itself at a/1 (a cycle)");
  });

  test("a shared (non-cyclic) subtree is fine and appears twice", () => {
    const shared = [1, 2];
    expect(tree.leaves({ a: shared, b: shared })).toEqual([1, 2, 1, 2]);
  });

  test("registerNode refuses built-in node types, non-classes and a second registration", () => {
    const def = { flatten: () => [[], null] as const, unflatten: () => ({}) };
    expect(() => tree.registerNode(Object, def)).toThrow(
      "tree.registerNode(Object): plain objects are built into pytrees",
    );
    expect(() => tree.registerNode((() => 0) as never, def)).toThrow(
      "tree.registerNode: expected a class, got function",
    );
    expect(() => tree.registerNode(Map, def)).toThrow("tree.registerNode(Map): Map are built into pytrees");
    expect(() => tree.registerNode(Linear, { flatten: () => [[], ""], unflatten: () => new Linear(0, 0, "") })).toThrow(
      "tree.registerNode(Linear): Linear is already registered",
    );
  });

  test("a malformed flatten result names the class", () => {
    class Bad {}
    tree.registerNode(Bad, { flatten: () => [[1, 2], null, ["only one"]], unflatten: () => new Bad() });
    expect(() => tree.flatten({ x: new Bad() })).toThrow(
      "tree.flatten: the flatten of registered node Bad at x returned 2 children but 1 keys",
    );
  });
});
