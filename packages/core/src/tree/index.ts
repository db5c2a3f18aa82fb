/**
 * Pytrees, as in `jax.tree_util` / `jax.tree`: nested plain objects (keys sorted), arrays,
 * Maps, `null`/`undefined` (empty) and registered classes, with webjax Arrays and JS scalars
 * as leaves. Import as `import { tree } from "@webjax/core"`.
 */
export { TreeNodeError, TreeStructureError } from "./errors.js";
export { flatten, flattenWithPath, leaves, leavesWithPath, structure, unflatten } from "./flatten.js";
export { assertSameStructure, map, mapWithPath, reduce } from "./map.js";
export { type FlattenedNode, type NodeClass, type NodeDef, registerNode } from "./registry.js";
export { TreeDef } from "./treedef.js";
export type { Leaf, LeafOf, LeavesOf, MapLeaves, Primitive, PyTree } from "./types.js";
