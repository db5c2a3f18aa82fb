/**
 * `debug` (issue 25): JAX's `jax.debug.print` and `jax.debug.callback`, working eagerly and
 * inside jit, vmap, grad and control flow (primitives/debug-callback.ts), and `debug.barrier()`
 * (JAX's `effects_barrier`), which awaits the callbacks a backend that reads asynchronously
 * still owes.
 */
import type { Array, ArrayLike } from "./array.js";
import { getBackend } from "./backend/registry.js";
import { aval, fmtAval } from "./core/aval.js";
import { ConcreteArray } from "./core/concrete.js";
import { barrier } from "./core/effects.js";
import { formatNumber, formatStr, validSpec } from "./core/format-str.js";
import { withoutRecorder } from "./core/recording.js";
import { untracked } from "./core/scope.js";
import { bind } from "./core/trace.js";
import { TracerError } from "./errors.js";
import { asArray } from "./numpy/convert.js";
import type { HostLeaf } from "./primitives/types.js";
import { flattenAs } from "./tree/flatten.js";

export { barrier };

export interface CallbackOptions {
  /**
   * Keep this callback in order with the other ordered ones (JAX's `ordered`). Every callback
   * runs in program order here, so it changes nothing; it is accepted for JAX's signature.
   */
  ordered?: boolean;
}

const isOptions = (x: unknown): x is CallbackOptions =>
  x !== null &&
  typeof x === "object" &&
  Object.getPrototypeOf(x) === Object.prototype &&
  Object.keys(x).length > 0 &&
  Object.keys(x).every((k) => k === "ordered") &&
  typeof (x as CallbackOptions).ordered === "boolean";

/** The leaves of `args` as arrays (JS numbers as weak scalars), for a primitive's operands. */
function operands(name: string, args: unknown): { leaves: Array[]; unflatten: (xs: unknown[]) => unknown } {
  const [raw, def] = flattenAs(name, args);
  const leaves = raw.map((l, i) => {
    if (typeof l !== "number" && typeof l !== "boolean" && !(l !== null && typeof l === "object" && "aval" in l)) {
      throw new TracerError(`${name}: argument leaf ${i} is ${typeof l}; callbacks take arrays and numbers`);
    }
    return asArray(l as ArrayLike, name);
  });
  return { leaves, unflatten: (xs) => def.unflatten(xs) };
}

/**
 * `fn(...args)` on the host with the values `args` (pytrees of arrays) have when the program
 * reaches this point: eagerly now (or, where reads are asynchronous, once read), inside `jit`
 * at every call, inside `scan` at every iteration, under `vmap` once per member, under `grad`
 * with the primal values. `fn` gets arrays on the CPU backend; it returns nothing. A trailing
 * `{ ordered }` is JAX's option.
 *
 * @example debug.callback((x) => console.log("x is", x.dataSync()), x)
 */
export function callback(fn: (...args: never[]) => unknown, ...args: unknown[]): void {
  const name = "debug.callback";
  if (typeof fn !== "function") throw new TracerError(`${name}: the first argument must be a function`);
  const last = args[args.length - 1];
  const opts = isOptions(last) ? last : {};
  const values = isOptions(last) ? args.slice(0, -1) : args;
  const { leaves, unflatten } = operands(name, values);
  const cpu = getBackend("cpu");
  bind("debug_callback", leaves, {
    name,
    ordered: opts.ordered ?? false,
    callback: (host: readonly HostLeaf[]) => {
      const arrays = untracked(() =>
        withoutRecorder(() => host.map((h) => ConcreteArray.fromHost(cpu, aval(h.shape, h.dtype), h.data, name))),
      );
      fn(...(unflatten(arrays) as never[]));
    },
  });
}

/** A format string's pieces: text, or a field (its value's key, conversion and spec). */
type Piece = string | { readonly key: number | string; readonly spec: string };

/** Parses Python's format syntax (`{}`, `{0}`, `{name}`, `{:.3f}`, `{{`, `}}`), with its errors. */
function parseFormat(name: string, fmt: string): Piece[] {
  const pieces: Piece[] = [];
  let text = "";
  let auto = 0;
  let numbering: "auto" | "manual" | null = null;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i] as string;
    if (c === "}") {
      if (fmt[i + 1] !== "}") throw new TracerError(`${name}: single '}' in "${fmt}" (write '}}' for a brace)`);
      text += "}";
      i++;
      continue;
    }
    if (c !== "{") {
      text += c;
      continue;
    }
    if (fmt[i + 1] === "{") {
      text += "{";
      i++;
      continue;
    }
    const end = fmt.indexOf("}", i);
    if (end < 0) throw new TracerError(`${name}: single '{' in "${fmt}" (write '{{' for a brace)`);
    const body = fmt.slice(i + 1, end);
    const m = /^([A-Za-z_]\w*|\d+)?(?:!([rsa]))?(?::(.*))?$/.exec(body);
    if (!m) throw new TracerError(`${name}: cannot read the field {${body}} in "${fmt}"`);
    const [, field = "", , spec = ""] = m;
    const kind = field === "" ? "auto" : "manual";
    if (/^\d*$/.test(field)) {
      if (numbering !== null && numbering !== kind) {
        throw new TracerError(`${name}: "${fmt}" mixes automatic ({}) and numbered ({0}) fields`);
      }
      numbering = kind;
    }
    if (spec !== "" && !validSpec(spec))
      throw new TracerError(`${name}: unsupported format spec ':${spec}' in "${fmt}"`);
    if (text) pieces.push(text);
    text = "";
    pieces.push({ key: field === "" ? auto++ : /^\d+$/.test(field) ? Number(field) : field, spec });
    i = end;
  }
  if (text) pieces.push(text);
  return pieces;
}

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  x !== null && typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype;

/**
 * Prints `fmt` with its fields replaced by the values the arrays have at run time, formatted as
 * numpy's `str` does, as `jax.debug.print` does: inside `jit` on every call, inside `scan` every
 * iteration, under `vmap` once per member, in `cond` only in the branch taken. Fields are
 * Python's: `{}` (the next positional value), `{0}` (by position), `{name}` (from a trailing
 * plain object: `debug.print("loss {loss} at {step}", { loss, step })`), with format specs for
 * scalars (`{:.4f}`, `{:>8}`, `{:e}`); `{{` and `}}` print braces. Values may be arrays, JS
 * numbers, strings, booleans, null, or pytrees of them.
 *
 * @example debug.print("x = {}, y = {:.3f}", x, y)
 */
export function print(fmt: string, ...args: unknown[]): void {
  const name = "debug.print";
  if (typeof fmt !== "string") throw new TracerError(`${name}: the first argument must be a format string`);
  const pieces = parseFormat(name, fmt);
  const fields = pieces.filter((p): p is Exclude<Piece, string> => typeof p !== "string");
  const wantsNames = fields.some((f) => typeof f.key === "string");
  const last = args[args.length - 1];
  const named = wantsNames && isPlainObject(last) ? last : null;
  const positional = named ? args.slice(0, -1) : args;
  for (const f of fields) {
    if (typeof f.key === "number" && f.key >= positional.length) {
      throw new TracerError(`${name}: "${fmt}" needs positional value ${f.key}, but got ${positional.length}`);
    }
    if (typeof f.key === "string" && !(named && f.key in named)) {
      throw new TracerError(
        `${name}: "${fmt}" names '${f.key}', but ${named ? `the names given are ${Object.keys(named).join(", ")}` : "no object of names was passed last"}`,
      );
    }
  }
  const usedPositions = new Set(fields.flatMap((f) => (typeof f.key === "number" ? [f.key] : [])));
  if (positional.length > usedPositions.size) {
    throw new TracerError(
      `${name}: "${fmt}" uses ${usedPositions.size} of the ${positional.length} positional values it was given`,
    );
  }
  const keys = [...new Set(fields.map((f) => f.key))];
  const valueOf = (k: number | string) =>
    typeof k === "number" ? positional[k] : (named as Record<string, unknown>)[k];
  // Each value's array leaves are operands; everything else is printed as it is.
  const [leaves, def] = flattenAs(
    name,
    keys.map((k) => valueOf(k)),
  );
  const arrays: Array[] = [];
  const slots = leaves.map((l) => {
    if (l instanceof Object && "aval" in l) {
      arrays.push(l as unknown as Array);
      return arrays.length - 1;
    }
    return null;
  });
  for (const f of fields) {
    const v = valueOf(f.key);
    const isArray = v instanceof Object && "aval" in (v as object);
    if (f.spec !== "" && !(typeof v === "number" || (isArray && (v as Array).ndim === 0))) {
      throw new TracerError(
        `${name}: the spec ':${f.spec}' formats a number or a scalar array, not ${isArray ? fmtAval((v as Array).aval) : typeof v}`,
      );
    }
  }
  bind("debug_callback", arrays, {
    name,
    ordered: true,
    callback: (host: readonly HostLeaf[]) => {
      const shown = leaves.map((l, i) => {
        const at = slots[i];
        if (at !== null && at !== undefined) {
          const h = host[at] as HostLeaf;
          return { text: formatStr(h.data, h.shape, h.dtype), scalar: h.shape.length === 0 ? Number(h.data[0]) : null };
        }
        if (typeof l === "number") return { text: String(l), scalar: l };
        return { text: l === null ? "null" : l === undefined ? "undefined" : String(l), scalar: null };
      });
      const values = def.unflatten(shown) as { text: string; scalar: number | null }[];
      const render = (v: unknown): string => {
        if (v !== null && typeof v === "object" && "text" in v && "scalar" in v) return (v as { text: string }).text;
        if (globalThis.Array.isArray(v)) return `[${v.map(render).join(", ")}]`;
        if (isPlainObject(v))
          return `{${Object.entries(v)
            .map(([k, x]) => `${k}: ${render(x)}`)
            .join(", ")}}`;
        return String(v);
      };
      let out = "";
      for (const piece of pieces) {
        if (typeof piece === "string") {
          out += piece;
          continue;
        }
        const v = values[keys.indexOf(piece.key)] as unknown;
        const leaf = v as { text: string; scalar: number | null };
        out +=
          piece.spec !== "" && leaf && typeof leaf === "object" && "scalar" in leaf && leaf.scalar !== null
            ? formatNumber(leaf.scalar, piece.spec, leaf.text)
            : render(v);
      }
      console.log(out);
    },
  });
}
