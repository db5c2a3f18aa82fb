/**
 * Options objects are checked, as a JS call would not: an unknown key (a typo, a numpy name we
 * spell differently) is an error naming the valid keys and the nearest one, and a value where
 * the options object belongs (`x.mean(0, true)`) is an error naming the object.
 */
import { DTypeError } from "../errors.js";

/** Levenshtein distance, for the nearest valid key. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
      );
      prev = cur;
    }
  }
  return row[b.length] as number;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 40)})`;
  return typeof v === "object" ? (v.constructor?.name ?? "an object") : `${typeof v} ${String(v)}`;
}

/**
 * Checks that `opts` is undefined or a plain options object whose keys are all in `keys`.
 * `usage` (e.g. "np.mean(x, axis, { keepdims })") is shown when a positional value stands where
 * the options object belongs.
 */
export function checkOptions(op: string, opts: unknown, keys: readonly string[], usage?: string): void {
  if (opts === undefined) return;
  const list = keys.map((k) => `"${k}"`).join(", ");
  const proto = opts !== null && typeof opts === "object" ? Object.getPrototypeOf(opts) : undefined;
  if (proto !== Object.prototype && proto !== null) {
    throw new DTypeError(
      `${op}: expected an options object { ${keys.join(", ")} } here, got ${describe(opts)}` +
        (usage ? `; call it as ${usage}` : ""),
    );
  }
  check(op, opts as object, keys, list);
}

function check(op: string, opts: object, keys: readonly string[], list: string): void {
  for (const k of Object.keys(opts)) {
    if (keys.includes(k)) continue;
    const nearest = [...keys].sort((a, b) => distance(k, a) - distance(k, b))[0];
    const hint =
      nearest !== undefined && distance(k, nearest) <= Math.max(2, nearest.length / 2)
        ? ` (did you mean "${nearest}"?)`
        : "";
    throw new DTypeError(`${op}: unknown option "${k}"${hint}; the options are ${list}`);
  }
}
