/**
 * User-registered pytree node types, like `jax.tree_util.register_pytree_node`: a class plus
 * the functions that take an instance apart into children and static aux data, and put it back.
 */
import { Array as JArray } from "../array.js";
import { TreeNodeError } from "./errors.js";

/** What `flatten` of a registered node returns: its children, its static aux data and optionally the children's path names. */
export type FlattenedNode<A> = readonly [children: readonly unknown[], aux: A, keys?: readonly (string | number)[]];

/**
 * How to take a registered class apart and rebuild it.
 *
 * - `flatten(x)` returns `[children, aux]` or `[children, aux, keys]`: `children` are subtrees
 *   (their leaves become the tree's leaves), `aux` is static data kept in the `TreeDef` (compared
 *   with deep equality by `TreeDef.equals`), and `keys` optionally names the children in paths
 *   (`tree.mapWithPath`); without it children are named by their index.
 * - `unflatten(aux, children)` builds a new instance from the aux data and (new) children.
 */
export interface NodeDef<T, A = unknown> {
  flatten: (node: T) => FlattenedNode<A>;
  unflatten: (aux: A, children: unknown[]) => T;
}

/** Any class, abstract or not, whatever its constructor's parameters. */
export type NodeClass<T> = abstract new (...args: never[]) => T;

/** A registered node type as the tree code sees it. */
export interface RegisteredNode {
  readonly cls: NodeClass<unknown>;
  readonly name: string;
  readonly def: NodeDef<unknown, unknown>;
}

/** Registered node types by their class's prototype (registration is per exact class, as in JAX). */
const registry = new Map<object, RegisteredNode>();

/** Prototypes that are built-in tree nodes or leaves and cannot be registered again. */
const builtins: ReadonlyMap<object, string> = new Map<object, string>([
  [Object.prototype, "plain objects"],
  [globalThis.Array.prototype, "JS arrays"],
  [Map.prototype, "Map"],
  [JArray.prototype, "webjax Arrays"],
]);

/**
 * Registers a class as a pytree node, so its instances are taken apart into children by every
 * `tree` function (and by the transforms) instead of being rejected. Like JAX's
 * `register_pytree_node`, registration is per exact class: a subclass needs its own call.
 *
 * @example
 * class Linear {
 *   constructor(readonly w: Array, readonly b: Array, readonly activation: string) {}
 * }
 * tree.registerNode(Linear, {
 *   flatten: (x) => [[x.w, x.b], x.activation, ["w", "b"]],
 *   unflatten: (activation, [w, b]) => new Linear(w as Array, b as Array, activation),
 * });
 */
export function registerNode<T, A>(cls: NodeClass<T>, def: NodeDef<T, A>): void {
  const proto: unknown = cls?.prototype;
  const name = typeof cls === "function" && cls.name ? cls.name : "<anonymous class>";
  if (typeof cls !== "function" || typeof proto !== "object" || proto === null)
    throw new TreeNodeError(`tree.registerNode: expected a class, got ${typeof cls}`);
  if (typeof def?.flatten !== "function" || typeof def.unflatten !== "function")
    throw new TreeNodeError(`tree.registerNode(${name}): expected { flatten, unflatten } functions`);
  const builtin = builtins.get(proto);
  if (builtin !== undefined || proto instanceof JArray)
    throw new TreeNodeError(`tree.registerNode(${name}): ${builtin ?? "webjax Arrays"} are built into pytrees`);
  if (registry.has(proto)) throw new TreeNodeError(`tree.registerNode(${name}): ${name} is already registered`);
  registry.set(proto, { cls, name, def: def as unknown as NodeDef<unknown, unknown> });
}

/** The registered node type whose class's prototype is exactly `proto`, if any. */
export function lookupNode(proto: object | null): RegisteredNode | undefined {
  return proto === null ? undefined : registry.get(proto);
}

/** The nearest registered base class along `proto`'s chain (for the message about subclasses). */
export function registeredBase(proto: object | null): RegisteredNode | undefined {
  for (let p = proto; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const node = registry.get(p);
    if (node) return node;
  }
  return undefined;
}

/**
 * Equality of static aux data, as `TreeDef.equals` uses it: SameValueZero for primitives and
 * class instances, element-wise for JS arrays and key-wise for plain objects (JAX compares aux
 * data with `==`; deep equality is the JS analogue for the usual tuples and records).
 */
export function auxEquals(a: unknown, b: unknown): boolean {
  if (a === b || (a !== a && b !== b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (globalThis.Array.isArray(a))
    return globalThis.Array.isArray(b) && a.length === b.length && a.every((v, i) => auxEquals(v, b[i]));
  const pa = Object.getPrototypeOf(a) as object | null;
  const pb = Object.getPrototypeOf(b) as object | null;
  if (pa !== pb || (pa !== Object.prototype && pa !== null)) return false;
  const ka = Object.keys(a);
  const rb = b as Record<string, unknown>;
  const ra = a as Record<string, unknown>;
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(rb, k) && auxEquals(ra[k], rb[k]));
}
