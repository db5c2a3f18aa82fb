/**
 * What a value is in a pytree: a leaf, an empty node (`null`/`undefined`), a list, a plain
 * object, a Map or a registered node, with its children in tree order. Anything else (class
 * instances, functions, Promises, typed arrays, Dates) is rejected with a message saying how
 * to fix it, rather than silently becoming one opaque leaf.
 */
import { Array as JArray } from "../array.js";
import { TreeNodeError } from "./errors.js";
import { lookupNode, type RegisteredNode, registeredBase } from "./registry.js";

/** The node type of one level of a tree, as stored in a `TreeDef`. */
export type NodeType =
  | { readonly kind: "leaf" }
  | { readonly kind: "null" }
  | { readonly kind: "undefined" }
  | { readonly kind: "list" }
  | { readonly kind: "object"; readonly keys: readonly string[] }
  | { readonly kind: "map"; readonly keys: readonly unknown[] }
  | { readonly kind: "custom"; readonly node: RegisteredNode; readonly aux: unknown };

/** One level of a value: its node type, its children and the children's path names (indices when null). */
export interface Node {
  readonly type: NodeType;
  readonly children: readonly unknown[];
  readonly keys: readonly string[] | null;
}

const none: readonly unknown[] = [];
export const LEAF: NodeType = { kind: "leaf" };
const leafNode: Node = { type: LEAF, children: none, keys: null };
const nullNode: Node = { type: { kind: "null" }, children: none, keys: null };
const undefinedNode: Node = { type: { kind: "undefined" }, children: none, keys: null };

/** Sorts plain-object keys by UTF-16 code units, as `Array.prototype.sort` does (JAX sorts dict keys). */
function sortedKeys(obj: object): string[] {
  return Object.keys(obj).sort();
}

/**
 * Orders Map keys: numbers first, numerically (NaN last), then everything else by `String(key)`;
 * the sort is stable, so keys that print alike keep their insertion order.
 */
function compareMapKeys(a: unknown, b: unknown): number {
  const an = typeof a === "number";
  const bn = typeof b === "number";
  if (an && bn) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : Number.isNaN(b) ? -1 : a - b;
  if (an !== bn) return an ? -1 : 1;
  const as = String(a);
  const bs = String(b);
  return as < bs ? -1 : as > bs ? 1 : 0;
}

/** Formats a path as `a/b/0` (empty for the root). */
export function fmtPath(path: readonly string[]): string {
  return path.join("/");
}

/** "at a/b" or "at the root", for messages. */
export function atPath(path: readonly string[]): string {
  return path.length === 0 ? "at the root" : `at ${fmtPath(path)}`;
}

/** Takes one level of `x` apart; throws a `TreeNodeError` naming `op` and `path` for values that cannot be in a tree. */
export function classify(x: unknown, op: string, path: readonly string[]): Node {
  if (x === null) return nullNode;
  if (x === undefined) return undefinedNode;
  if (typeof x !== "object") {
    if (typeof x === "function") throw unsupported(x, op, path);
    return leafNode;
  }
  if (x instanceof JArray) return leafNode;
  const proto = Object.getPrototypeOf(x) as object | null;
  const registered = lookupNode(proto);
  if (registered) return customNode(registered, x, op, path);
  if (proto === globalThis.Array.prototype) return { type: { kind: "list" }, children: x as unknown[], keys: null };
  if (proto === Object.prototype || proto === null) {
    const keys = sortedKeys(x);
    const record = x as Record<string, unknown>;
    return { type: { kind: "object", keys }, children: keys.map((k) => record[k]), keys };
  }
  if (proto === Map.prototype) {
    const map = x as Map<unknown, unknown>;
    const keys = [...map.keys()].sort(compareMapKeys);
    return { type: { kind: "map", keys }, children: keys.map((k) => map.get(k)), keys: keys.map(String) };
  }
  throw unsupported(x, op, path);
}

function customNode(registered: RegisteredNode, x: object, op: string, path: readonly string[]): Node {
  const out: unknown = registered.def.flatten(x);
  const bad = (why: string) =>
    new TreeNodeError(`${op}: the flatten of registered node ${registered.name} ${atPath(path)} ${why}`);
  if (!globalThis.Array.isArray(out) || out.length < 2 || out.length > 3)
    throw bad("must return [children, aux] or [children, aux, keys]");
  const [children, aux, keys] = out as [unknown, unknown, unknown];
  if (!globalThis.Array.isArray(children)) throw bad(`returned children that are not an array (${typeof children})`);
  if (keys !== undefined && !globalThis.Array.isArray(keys))
    throw bad(`returned keys that are not an array (${typeof keys})`);
  if (keys !== undefined && keys.length !== children.length)
    throw bad(`returned ${children.length} children but ${keys.length} keys`);
  return {
    type: { kind: "custom", node: registered, aux },
    children,
    keys: keys === undefined ? null : (keys as unknown[]).map(String),
  };
}

const isIdent = (k: string) => /^[A-Za-z_$][\w$]*$/.test(k);

/** The `tree.registerNode` call that would make instances like `x` tree nodes, built from its own fields. */
function registerHint(name: string, x: object): string {
  const fields = Object.keys(x);
  if (fields.length === 0 || fields.length > 8 || !fields.every(isIdent) || !isIdent(name))
    return `  tree.registerNode(${name}, {\n    flatten: (x) => [[/* the fields holding arrays */], /* static data */ null],\n    unflatten: (aux, children) => /* a new ${name} */,\n  });`;
  const list = fields.join(", ");
  const keys = fields.map((f) => `"${f}"`).join(", ");
  return (
    `  tree.registerNode(${name}, {\n` +
    `    flatten: (x) => [[${fields.map((f) => `x.${f}`).join(", ")}], null, [${keys}]],\n` +
    `    unflatten: (_aux, [${list}]) => Object.assign(Object.create(${name}.prototype), { ${list} }),\n` +
    "  });"
  );
}

/** The error for a value that is neither a leaf nor a node, saying what to do instead. */
function unsupported(x: object | Function, op: string, path: readonly string[]): TreeNodeError {
  const at = atPath(path);
  if (typeof x === "function")
    return new TreeNodeError(
      `${op}: found a function ${at}; functions are not pytree leaves (keep them out of the tree, e.g. in a closure)`,
    );
  if (x instanceof Promise) return new TreeNodeError(`${op}: found a Promise ${at}; await it before passing the tree`);
  const proto = Object.getPrototypeOf(x) as object | null;
  const ctor: unknown = proto !== null && Object.hasOwn(proto, "constructor") ? proto.constructor : undefined;
  const name = typeof ctor === "function" && ctor.name ? ctor.name : "";
  if (!name)
    return new TreeNodeError(
      `${op}: found an object with a custom prototype ${at}; only plain objects, JS arrays, Maps and registered classes are pytree nodes`,
    );
  if (ArrayBuffer.isView(x))
    return new TreeNodeError(
      `${op}: found a ${name} ${at}; typed arrays are not pytree leaves: convert it with np.array(...) first`,
    );
  const base = registeredBase(proto);
  const sub = base
    ? ` (its base class ${base.name} is registered, but registration is per exact class, as in JAX)`
    : "";
  return new TreeNodeError(
    `${op}: found an instance of class ${name} ${at}, which is not a registered pytree node${sub}. ` +
      "Only webjax Arrays, numbers, booleans, strings and bigints are leaves; register the class " +
      `so its fields become part of the tree:\n${registerHint(name, x)}`,
  );
}
