/**
 * Properties of flatten/unflatten/map over random trees of numbers, strings, booleans, null,
 * undefined, arrays, plain objects and Maps, checked against a small reference flattener
 * written independently of the tree module.
 */
import { tree } from "@webjax/core";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 100;

/** Object keys from a small alphabet (no '/', so paths can be split back into keys). */
const keyArb = fc.string({ unit: fc.constantFrom("a", "b", "c", "_", "0", "1", "'"), minLength: 1, maxLength: 3 });

const { node: treeArb } = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    { arbitrary: tie("leaf"), weight: 3 },
    { arbitrary: tie("empty"), weight: 1 },
    { arbitrary: tie("list"), weight: 3 },
    { arbitrary: tie("object"), weight: 3 },
    { arbitrary: tie("map"), weight: 1 },
  ),
  leaf: fc.oneof(fc.integer({ min: -100, max: 100 }), fc.double(), fc.boolean(), fc.string({ maxLength: 3 })),
  empty: fc.constantFrom(null, undefined),
  list: fc.array(tie("node"), { maxLength: 4 }),
  object: fc.dictionary(keyArb, tie("node"), { maxKeys: 4, noNullPrototype: true }),
  map: fc
    .uniqueArray(fc.tuple(fc.oneof(keyArb, fc.integer({ min: -20, max: 20 })), tie("node")), {
      maxLength: 3,
      selector: ([k]) => k,
    })
    .map((entries) => new Map<unknown, unknown>(entries)),
}));

const isPlain = (x: unknown): x is Record<string, unknown> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Map);

/** Map keys in the documented order: numbers ascending, then strings ascending. */
function mapKeyOrder(keys: unknown[]): unknown[] {
  const nums = keys.filter((k): k is number => typeof k === "number").sort((a, b) => a - b);
  const strs = keys.filter((k): k is string => typeof k === "string").sort();
  return [...nums, ...strs];
}

/** Reference flattener: [path, leaf] pairs, depth first, sorted keys. */
function refLeaves(x: unknown, path: string[] = []): [string, unknown][] {
  if (x === null || x === undefined) return [];
  const sub = (k: string, v: unknown) => refLeaves(v, [...path, k]);
  if (Array.isArray(x)) return x.flatMap((v, i) => sub(String(i), v));
  if (x instanceof Map) return mapKeyOrder([...x.keys()]).flatMap((k) => sub(String(k), x.get(k)));
  if (isPlain(x))
    return Object.keys(x)
      .sort()
      .flatMap((k) => sub(k, x[k]));
  return [[path.join("/"), x]];
}

/** The same tree with every object's and Map's keys inserted in reverse order. */
function reverseKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(reverseKeys);
  if (x instanceof Map) return new Map([...x].reverse().map(([k, v]) => [k, reverseKeys(v)]));
  if (isPlain(x))
    return Object.fromEntries(
      Object.entries(x)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  return x;
}

describe("tree properties", () => {
  test("unflatten(structure, leaves) rebuilds an equal tree with the same treedef", () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const [leaves, def] = tree.flatten(t);
        expect(def.numLeaves).toBe(leaves.length);
        const back = tree.unflatten(def, leaves);
        expect(back).toStrictEqual(t);
        const def2 = tree.structure(back);
        expect(def2.equals(def)).toBe(true);
        expect(String(def2)).toBe(String(def));
      }),
      { numRuns: RUNS },
    );
  });

  test("leaves and paths match the reference flattener", () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const want = refLeaves(t);
        expect(tree.leavesWithPath(t)).toStrictEqual(want);
        expect(tree.leaves(t)).toStrictEqual(want.map(([, v]) => v));
      }),
      { numRuns: RUNS },
    );
  });

  test("key insertion order changes neither the structure nor the leaf order", () => {
    fc.assert(
      fc.property(treeArb, (t) => {
        const r = reverseKeys(t);
        expect(tree.structure(r).equals(tree.structure(t))).toBe(true);
        expect(tree.leaves(r)).toStrictEqual(tree.leaves(t));
        expect(() => tree.assertSameStructure(t, r)).not.toThrow();
      }),
      { numRuns: RUNS },
    );
  });

  test("map applies f leaf by leaf and keeps the structure; n-ary map pairs leaves", () => {
    const f = (x: unknown) => `<${String(x)}>`;
    fc.assert(
      fc.property(treeArb, (t) => {
        const [leaves, def] = tree.flatten(t);
        const mapped = tree.map(f, t);
        expect(tree.structure(mapped).equals(def)).toBe(true);
        expect(tree.leaves(mapped)).toStrictEqual(leaves.map(f));
        const pairs = tree.map((a: unknown, b: unknown) => [a, b], t, mapped);
        expect(tree.structure(pairs).numLeaves).toBe(2 * leaves.length);
        expect(tree.leaves(pairs)).toStrictEqual(leaves.flatMap((x) => [x, f(x)]));
        expect(tree.mapWithPath((p: string) => p, t)).toStrictEqual(
          tree.unflatten(
            def,
            refLeaves(t).map(([p]) => p),
          ),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test("a tree with one more leaf in some list is reported as a mismatch", () => {
    fc.assert(
      fc.property(treeArb, fc.nat(), (t, pick) => {
        const lists: unknown[][] = [];
        const collect = (x: unknown): void => {
          if (Array.isArray(x)) lists.push(x);
          const kids = Array.isArray(x) ? x : x instanceof Map ? [...x.values()] : isPlain(x) ? Object.values(x) : [];
          kids.forEach(collect);
        };
        const [leaves, def] = tree.flatten(t);
        const copy = tree.unflatten(def, leaves);
        collect(copy);
        fc.pre(lists.length > 0);
        const list = lists[pick % lists.length] as unknown[];
        list.push(0);
        expect(() => tree.map((x: unknown) => x, t, copy)).toThrow(
          /^tree\.map: tree 1 differs from tree 0 at .+: expected a list of \d+, got a list of \d+$/,
        );
      }),
      { numRuns: RUNS },
    );
  });
});
