/**
 * `TreeDef`: the structure of a pytree without its leaves (JAX's `PyTreeDef`). Two trees with
 * equal treedefs have the same nodes, keys, aux data and leaf count, so their leaves line up.
 */
import { fmtKey, showValue } from "./describe.js";
import { TreeStructureError } from "./errors.js";
import { matchLeaves } from "./match.js";
import { LEAF, type NodeType } from "./node.js";
import { auxEquals } from "./registry.js";

/**
 * The structure of a pytree: node types, object/Map keys, registered nodes' aux data and
 * where the leaves go. Made by `tree.flatten` / `tree.structure`; printed like JAX's
 * (`PyTreeDef({'a': *, 'b': [*, *]})`).
 */
export class TreeDef {
  /** How many leaves a tree of this structure has. */
  readonly numLeaves: number;
  /** How many nodes, leaves and empty nodes included (JAX's `num_nodes`). */
  readonly numNodes: number;
  #str: string | undefined;

  /**
   * Built by `tree.flatten`; not meant to be called directly.
   * @internal
   */
  constructor(
    /** @internal The node type at the root. */
    readonly type: NodeType,
    /** @internal The children's treedefs, in tree order. */
    readonly childDefs: readonly TreeDef[],
  ) {
    let leaves = type.kind === "leaf" ? 1 : 0;
    let nodes = 1;
    for (const c of childDefs) {
      leaves += c.numLeaves;
      nodes += c.numNodes;
    }
    this.numLeaves = leaves;
    this.numNodes = nodes;
  }

  /** Whether this is the structure of a single leaf. */
  get isLeaf(): boolean {
    return this.type.kind === "leaf";
  }

  /** The treedefs of the root's children, in tree order (JAX's `children()`). */
  children(): TreeDef[] {
    return [...this.childDefs];
  }

  /** Whether `other` describes the same structure: same node types, keys, aux data (deep equality) and leaves. */
  equals(other: TreeDef): boolean {
    if (this === other) return true;
    if (this.numLeaves !== other.numLeaves || this.numNodes !== other.numNodes) return false;
    if (!sameType(this.type, other.type) || this.childDefs.length !== other.childDefs.length) return false;
    return this.childDefs.every((c, i) => c.equals(other.childDefs[i] as TreeDef));
  }

  /**
   * Builds a tree of this structure from `leaves` in tree order (the inverse of `tree.flatten`).
   * Plain objects, arrays and Maps are new; registered nodes are rebuilt by their `unflatten`.
   */
  unflatten(leaves: readonly unknown[]): unknown {
    if (leaves.length !== this.numLeaves)
      throw new TreeStructureError(
        `tree.unflatten: ${this} has ${this.numLeaves} leaves, but ${leaves.length} were given`,
      );
    let next = 0;
    const build = (def: TreeDef): unknown => {
      const t = def.type;
      switch (t.kind) {
        case "leaf":
          return leaves[next++];
        case "null":
          return null;
        case "undefined":
          return undefined;
        case "list":
          return def.childDefs.map(build);
        case "object":
          // fromEntries defines own properties, so a '__proto__' key stays a key.
          return Object.fromEntries(def.childDefs.map((c, i) => [t.keys[i], build(c)]));
        case "map":
          return new Map(def.childDefs.map((c, i) => [t.keys[i], build(c)]));
        case "custom":
          return t.node.def.unflatten(t.aux, def.childDefs.map(build));
      }
    };
    return build(this);
  }

  /**
   * The subtrees of `tree` at this treedef's leaves, in tree order, where this treedef is a
   * prefix of `tree`'s structure (JAX's `flatten_up_to`): `tree.structure({a: 0, b: 0})`
   * flattens `{a: [x, y], b: z}` to `[[x, y], z]`. Throws a `TreeStructureError` with the path
   * of the first difference otherwise.
   */
  flattenUpTo(tree: unknown): unknown[] {
    return matchLeaves(this, tree, {
      op: "TreeDef.flattenUpTo",
      who: "the tree differs from the treedef",
      prefix: true,
    });
  }

  /** Like JAX: `PyTreeDef({'a': *, 'b': [*, *]})`, with `*` for each leaf. */
  toString(): string {
    this.#str ??= `PyTreeDef(${this.#body()})`;
    return this.#str;
  }

  #body(): string {
    const t = this.type;
    const kids = this.childDefs.map((c) => c.#body());
    switch (t.kind) {
      case "leaf":
        return "*";
      case "null":
      case "undefined":
        return t.kind;
      case "list":
        return `[${kids.join(", ")}]`;
      case "object":
        return `{${kids.map((k, i) => `${fmtKey(t.keys[i])}: ${k}`).join(", ")}}`;
      case "map":
        return `Map({${kids.map((k, i) => `${fmtKey(t.keys[i])}: ${k}`).join(", ")}})`;
      case "custom":
        return `CustomNode(${t.node.name}[${showValue(t.aux)}], [${kids.join(", ")}])`;
    }
  }
}

/** The treedef of a single leaf (shared: leaves are the most common node). */
export const LEAF_DEF: TreeDef = new TreeDef(LEAF, []);

function sameKeys(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((k, i) => Object.is(k, b[i]));
}

/** Whether two node types are the same (keys in order, registered class, aux data). */
export function sameType(a: NodeType, b: NodeType): boolean {
  if (a.kind !== b.kind) return false;
  if ((a.kind === "object" || a.kind === "map") && (b.kind === "object" || b.kind === "map"))
    return sameKeys(a.keys, b.keys);
  if (a.kind === "custom" && b.kind === "custom") return a.node === b.node && auxEquals(a.aux, b.aux);
  return true;
}
