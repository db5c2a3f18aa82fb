/**
 * Flattening a pytree into its leaves and `TreeDef`, and back. Leaves come in tree order:
 * depth first, plain-object and Map keys sorted, list elements and registered nodes' children
 * in their order.
 */
import { TreeNodeError } from "./errors.js";
import { atPath, classify, fmtPath } from "./node.js";
import { LEAF_DEF, TreeDef } from "./treedef.js";
import type { LeafOf } from "./types.js";

/** Flattens `x`, pushing leaves (and, when `paths` is given, their paths) in tree order. */
function flattenInto(x: unknown, op: string, leaves: unknown[], paths: string[] | null): TreeDef {
  const path: string[] = [];
  const ancestors = new Set<unknown>();
  const walk = (v: unknown): TreeDef => {
    const node = classify(v, op, path);
    if (node.type.kind === "leaf") {
      leaves.push(v);
      paths?.push(fmtPath(path));
      return LEAF_DEF;
    }
    if (node.children.length === 0) return new TreeDef(node.type, []);
    if (ancestors.has(v)) throw new TreeNodeError(`${op}: the tree contains itself ${atPath(path)} (a cycle)`);
    ancestors.add(v);
    const kids = node.children.map((c, i) => {
      path.push(node.keys?.[i] ?? String(i));
      const d = walk(c);
      path.pop();
      return d;
    });
    ancestors.delete(v);
    return new TreeDef(node.type, kids);
  };
  return walk(x);
}

/** @internal `flatten` with the public op's name in errors. */
export function flattenAs<T>(op: string, t: T): [LeafOf<T>[], TreeDef] {
  const leaves: unknown[] = [];
  const def = flattenInto(t, op, leaves, null);
  return [leaves as LeafOf<T>[], def];
}

/** @internal `flattenWithPath` with the public op's name in errors. */
export function flattenWithPathAs<T>(op: string, t: T): [[string, LeafOf<T>][], TreeDef] {
  const leaves: unknown[] = [];
  const paths: string[] = [];
  const def = flattenInto(t, op, leaves, paths);
  return [paths.map((p, i) => [p, leaves[i] as LeafOf<T>]), def];
}

/**
 * Splits a pytree into its leaves, in tree order, and its structure (JAX's `tree.flatten`).
 *
 * Nodes are plain objects (keys sorted, so `{b, a}` and `{a, b}` flatten alike), JS arrays,
 * `Map`s (keys sorted: numbers numerically, then the rest by `String(key)`), `null` and
 * `undefined` (empty nodes, no leaves) and classes registered with `tree.registerNode`.
 * Leaves are webjax Arrays and numbers, booleans, strings, bigints and symbols.
 *
 * Stricter than JAX: an instance of an unregistered class (or a Date, typed array, Promise,
 * function) throws a `TreeNodeError` that shows the `tree.registerNode` call to add, instead of
 * silently becoming one opaque leaf — so a model object is never frozen out of `grad` by accident.
 *
 * @example
 * const [leaves, def] = tree.flatten({ b: [x, y], a: 1 });
 * // leaves: [1, x, y]; String(def): "PyTreeDef({'a': *, 'b': [*, *]})"
 */
export function flatten<T>(t: T): [LeafOf<T>[], TreeDef] {
  return flattenAs("tree.flatten", t);
}

/**
 * Like `flatten`, with each leaf's path: `[["a", 1], ["b/0", x], ["b/1", y]]` for
 * `{ a: 1, b: [x, y] }`. Paths join object keys, list indices, Map keys (as `String(key)`) and
 * registered nodes' child keys (or indices) with `/`; a lone leaf's path is `""`.
 */
export function flattenWithPath<T>(t: T): [[string, LeafOf<T>][], TreeDef] {
  return flattenWithPathAs("tree.flattenWithPath", t);
}

/** The leaves of a pytree in tree order (JAX's `tree.leaves`): `tree.leaves({ b: [x, y], a: 1 })` is `[1, x, y]`. */
export function leaves<T>(t: T): LeafOf<T>[] {
  return flattenAs("tree.leaves", t)[0];
}

/** Each leaf with its path (`a/b/0`), in tree order (JAX's `tree.leaves_with_path`, with string paths). */
export function leavesWithPath<T>(t: T): [string, LeafOf<T>][] {
  return flattenWithPathAs("tree.leavesWithPath", t)[0];
}

/** The structure of a pytree without its leaves (JAX's `tree.structure`). */
export function structure(t: unknown): TreeDef {
  return flattenAs("tree.structure", t)[1];
}

/**
 * Builds a tree of `treedef`'s structure from `leaves` in tree order (JAX's `tree.unflatten`):
 * `tree.unflatten(def, leaves)` after `[leaves, def] = tree.flatten(t)` gives a tree equal to
 * `t`, with new objects, arrays and Maps. Throws a `TreeStructureError` on a wrong leaf count.
 */
export function unflatten(treedef: TreeDef, leaves: readonly unknown[]): unknown {
  return treedef.unflatten(leaves);
}
