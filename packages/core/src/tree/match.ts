/**
 * Walks a tree against a `TreeDef`, collecting its leaves in the treedef's order, and stops at
 * the first difference with a message that names the path and what each side has there.
 * `tree.map`'s extra trees, `tree.assertSameStructure` and `TreeDef.flattenUpTo` use it.
 */
import { describeLeaf, describeType, fmtKeys, keyDiff, showValue } from "./describe.js";
import { TreeStructureError } from "./errors.js";
import { atPath, classify, type Node } from "./node.js";
import { auxEquals } from "./registry.js";
import type { TreeDef } from "./treedef.js";

/** How to word a mismatch, and whether a leaf of the treedef may stand for a whole subtree. */
export interface MatchOptions {
  /** The public op, e.g. `tree.map`. */
  readonly op: string;
  /** What differs from what, e.g. `tree 1 differs from tree 0`. */
  readonly who: string;
  /** When true, a leaf of the treedef matches any subtree (JAX's `flatten_up_to`). */
  readonly prefix: boolean;
}

/** The leaves of `x` (or with `prefix`, the subtrees at the treedef's leaves), in the treedef's order. */
export function matchLeaves(def: TreeDef, x: unknown, opts: MatchOptions): unknown[] {
  const out: unknown[] = [];
  const path: string[] = [];
  const fail = (why: string): never => {
    throw new TreeStructureError(`${opts.op}: ${opts.who} ${atPath(path)}: ${why}`);
  };
  const got = (node: Node, v: unknown) =>
    node.type.kind === "leaf" ? describeLeaf(v) : describeType(node.type, node.children.length);

  const walk = (d: TreeDef, v: unknown): void => {
    const want = d.type;
    if (want.kind === "leaf" && opts.prefix) {
      out.push(v);
      return;
    }
    const node = classify(v, opts.op, path);
    const have = node.type;
    const n = d.childDefs.length;
    if (have.kind !== want.kind) fail(`expected ${describeType(want, n)}, got ${got(node, v)}`);
    if (want.kind === "leaf") {
      out.push(v);
      return;
    }
    if (want.kind === "list" && node.children.length !== n)
      fail(`expected a list of ${n}, got a list of ${node.children.length}`);
    if ((want.kind === "object" || want.kind === "map") && (have.kind === "object" || have.kind === "map")) {
      const same = want.keys.length === have.keys.length && want.keys.every((k, i) => Object.is(k, have.keys[i]));
      if (!same)
        fail(`expected ${describeType(want, n)}, got keys ${fmtKeys(have.keys)}${keyDiff(want.keys, have.keys)}`);
    }
    if (want.kind === "custom" && have.kind === "custom") {
      const name = want.node.name;
      if (want.node !== have.node) fail(`expected a ${name} node, got a ${have.node.name} node`);
      if (!auxEquals(want.aux, have.aux))
        fail(`expected a ${name} node with aux data ${showValue(want.aux)}, got aux data ${showValue(have.aux)}`);
      if (node.children.length !== n) fail(`expected a ${name} node with ${n} children, got ${node.children.length}`);
    }
    for (let i = 0; i < n; i++) {
      path.push(node.keys?.[i] ?? String(i));
      walk(d.childDefs[i] as TreeDef, node.children[i]);
      path.pop();
    }
  };
  walk(def, x);
  return out;
}
