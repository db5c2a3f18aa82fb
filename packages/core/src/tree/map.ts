/**
 * Functions over the leaves of one or several trees of the same structure: `map`,
 * `mapWithPath`, `reduce`, and `assertSameStructure`.
 */
import { scoped } from "../core/scope.js";
import { flattenAs, flattenWithPathAs } from "./flatten.js";
import { matchLeaves } from "./match.js";
import type { TreeDef } from "./treedef.js";
import type { LeafOf, LeavesOf, MapLeaves } from "./types.js";

/** The leaves of each extra tree, checked against tree 0's structure (a mismatch names the path). */
function restLeaves(op: string, def: TreeDef, rest: readonly unknown[]): unknown[][] {
  return rest.map((r, i) => matchLeaves(def, r, { op, who: `tree ${i + 1} differs from tree 0`, prefix: false }));
}

/**
 * Applies `f` to every leaf of `t` and returns a tree of the same structure with the results
 * (JAX's `tree.map`). With several trees, `f` gets the leaves at the same position of each:
 * `tree.map((p, g) => p.sub(g.mul(lr)), params, grads)`.
 *
 * Every extra tree must have exactly the structure of the first (same nodes, keys, list lengths
 * and aux data, leaves where it has leaves); otherwise a `TreeStructureError` names the path
 * of the first difference and both sides, e.g.
 * `tree.map: tree 1 differs from tree 0 at dense/b: expected a list of 2, got a list of 3`.
 * (JAX also lets an extra tree hold a whole subtree where the first has a leaf; here that is
 * `tree.structure(t).flattenUpTo(other)`.)
 *
 * Each call of `f` runs in an ownership scope: arrays it creates and does not return (the
 * `g.mul(lr)` above) are released when it returns, so an eager loop over `tree.map` leaves no
 * temporaries to the garbage collector.
 *
 * The result holds new objects, arrays and Maps; registered nodes are rebuilt by their
 * `unflatten`. The type follows the first tree's shape: mapping `{ a: Array; b: [Array] }` to
 * numbers gives `{ a: number; b: [number] }`.
 */
export function map<T, Rest extends readonly unknown[], R>(
  f: (x: NoInfer<LeafOf<T>>, ...rest: LeavesOf<Rest>) => R,
  t: T,
  ...rest: Rest
): MapLeaves<T, R> {
  const [leaves, def] = flattenAs("tree.map", t);
  const others = restLeaves("tree.map", def, rest);
  const call = f as (...xs: unknown[]) => R;
  const out = leaves.map((x, j) => scoped(() => call(x, ...others.map((o) => o[j]))));
  return def.unflatten(out) as MapLeaves<T, R>;
}

/**
 * Like `map`, with each leaf's path as `f`'s first argument (JAX's `tree.map_with_path`, with
 * string paths): object keys, list indices, Map keys and registered nodes' child keys joined by
 * `/`, e.g. `dense_0/kernel`. Handy for masks (`path.endsWith("bias")`), labels and checkpoint
 * names. Paths come from the first tree.
 *
 * @example
 * const decay = tree.mapWithPath((path, p) => !path.endsWith("/b"), params); // { dense_0: { b: false, w: true } }
 */
export function mapWithPath<T, Rest extends readonly unknown[], R>(
  f: (path: string, x: NoInfer<LeafOf<T>>, ...rest: LeavesOf<Rest>) => R,
  t: T,
  ...rest: Rest
): MapLeaves<T, R> {
  const [pairs, def] = flattenWithPathAs("tree.mapWithPath", t);
  const others = restLeaves("tree.mapWithPath", def, rest);
  const call = f as (path: string, ...xs: unknown[]) => R;
  const out = pairs.map(([p, x], j) => scoped(() => call(p, x, ...others.map((o) => o[j]))));
  return def.unflatten(out) as MapLeaves<T, R>;
}

/**
 * Folds `f` over the leaves of `t` in tree order, starting from `initial` (JAX's
 * `tree.reduce`): `tree.reduce((acc, g) => acc.add(g.square().sum()), grads, np.zeros([]))`.
 */
export function reduce<T, R>(f: (acc: R, x: NoInfer<LeafOf<T>>) => R, t: T, initial: R): R {
  // One ownership scope over the fold: temporaries and the intermediate accumulators die, the result lives.
  return scoped(() => flattenAs("tree.reduce", t)[0].reduce(f, initial));
}

/**
 * Throws a `TreeStructureError` unless `a` and `b` have the same structure (same nodes, keys,
 * list lengths, aux data and leaf positions; the leaves' values and types do not matter). The
 * message names the first path where they differ and what each side has there, e.g.
 * `tree.assertSameStructure: tree 1 differs from tree 0 at w: expected a leaf, got a list of 2`.
 */
export function assertSameStructure(a: unknown, b: unknown): void {
  const [, def] = flattenAs("tree.assertSameStructure", a);
  restLeaves("tree.assertSameStructure", def, [b]);
}
