import { WebjaxError } from "../errors.js";

/**
 * Two pytrees that should have the same structure do not (`tree.map`, `tree.assertSameStructure`,
 * `TreeDef.flattenUpTo`), or `tree.unflatten` got the wrong number of leaves. The message names
 * the op, the path where the trees first differ and what each side has there.
 */
export class TreeStructureError extends WebjaxError {
  override name = "TreeStructureError";
}

/**
 * A value cannot be part of a pytree: an instance of an unregistered class (the message shows
 * the `tree.registerNode` call to add), a function, a Promise, a cycle, or a registered node
 * whose `flatten` returned something malformed.
 */
export class TreeNodeError extends WebjaxError {
  override name = "TreeNodeError";
}
