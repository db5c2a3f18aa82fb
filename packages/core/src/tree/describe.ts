/**
 * How trees and their parts are printed: keys as JAX prints them (`'a'`, `1`), static aux data
 * in short form, and one-phrase descriptions of a level ("a list of 3", "an object with keys
 * ['b', 'w']") for the structure-mismatch messages.
 */
import { Array as JArray } from "../array.js";
import { fmtShape } from "../errors.js";
import type { NodeType } from "./node.js";

/** A string in single quotes (as Python's repr, which JAX's PyTreeDef printing uses); other keys as `String(key)`. */
export function fmtKey(key: unknown): string {
  if (typeof key === "string") return `'${key.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  if (typeof key === "bigint") return `${key}n`;
  return String(key);
}

/** `['a', 'b']`, cut after `max` keys. */
export function fmtKeys(keys: readonly unknown[], max = 12): string {
  const shown = keys.slice(0, max).map(fmtKey);
  if (keys.length > max) shown.push(`… (${keys.length - max} more)`);
  return `[${shown.join(", ")}]`;
}

/** A short, readable rendering of static aux data (cut at about `max` characters). */
export function showValue(x: unknown, max = 60): string {
  const s = render(x, 3);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function render(x: unknown, depth: number): string {
  if (typeof x === "string") return fmtKey(x);
  if (typeof x !== "object" || x === null) return typeof x === "bigint" ? `${x}n` : String(x);
  if (depth === 0) return "…";
  if (globalThis.Array.isArray(x)) return `[${x.map((v) => render(v, depth - 1)).join(", ")}]`;
  if (x instanceof JArray) return `Array(${x.dtype}${fmtShape(x.shape)})`;
  const proto = Object.getPrototypeOf(x) as object | null;
  if (proto === Object.prototype || proto === null) {
    const rec = x as Record<string, unknown>;
    return `{${Object.keys(rec)
      .map((k) => `${fmtKey(k)}: ${render(rec[k], depth - 1)}`)
      .join(", ")}}`;
  }
  const ctor = (x as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === "string" && ctor.name ? `<${ctor.name}>` : "<object>";
}

/** "a list of 3", "an object with keys ['a', 'b']", "a Linear node", "null", "a leaf": one level of a tree. */
export function describeType(type: NodeType, numChildren: number): string {
  switch (type.kind) {
    case "leaf":
      return "a leaf";
    case "null":
    case "undefined":
      return type.kind;
    case "list":
      return `a list of ${numChildren}`;
    case "object":
      return `an object with keys ${fmtKeys(type.keys)}`;
    case "map":
      return `a Map with keys ${fmtKeys(type.keys)}`;
    case "custom":
      return `a ${type.node.name} node`;
  }
}

/** Describes a leaf value more closely than `describeType` does: "a leaf (number 3)", "a leaf (float32[2,3] Array)". */
export function describeLeaf(x: unknown): string {
  if (x instanceof JArray) return `a leaf (${x.dtype}${fmtShape(x.shape)} Array)`;
  return `a leaf (${typeof x} ${showValue(x, 24)})`;
}

/** The keys one side has and the other lacks: " (missing 'b'; extra 'c')", or "" when none. */
export function keyDiff(expected: readonly unknown[], got: readonly unknown[]): string {
  const missing = expected.filter((k) => !got.some((g) => Object.is(g, k)));
  const extra = got.filter((k) => !expected.some((e) => Object.is(e, k)));
  const parts: string[] = [];
  if (missing.length > 0) parts.push(`missing ${missing.map(fmtKey).join(", ")}`);
  if (extra.length > 0) parts.push(`extra ${extra.map(fmtKey).join(", ")}`);
  return parts.length > 0 ? ` (${parts.join("; ")})` : "";
}
