/**
 * numpy's `str()` of an array, which `jax.debug.print` shows: elements separated by spaces and
 * padded to one width, rows on their own lines, a blank line between blocks of 3-d arrays,
 * floats in the shortest form that reads back to the same value (`1.`, `0.5`, `nan`, `1e-08`),
 * `True`/`False`, and the edges only past 1,000 elements. Also Python's format specs for
 * scalars (`{:.3f}`, `{:>8}`, `{:e}`) as `debug.print` applies them.
 */
import type { DataArray, DType } from "../dtype.js";
import { sizeOf } from "../shape.js";

const EDGE = 3;
const SUMMARY_OVER = 1000;

/** The shortest decimal that reads back as `v` at the dtype's precision. */
function shortest(v: number, dtype: DType): string {
  const same = dtype === "float64" ? (x: number) => x === v : (x: number) => Math.fround(x) === Math.fround(v);
  for (let p = 1; p <= 17; p++) {
    const s = v.toPrecision(p);
    if (same(Number(s))) return s;
  }
  return String(v);
}

/** One float as numpy prints it inside an array (`scalar`: a 0-d array, `5.0` rather than `5.`). */
function fmtFloat(v: number, dtype: DType, scalar: boolean): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  const neg = v < 0 || Object.is(v, -0);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    // Scientific: a mantissa without trailing zeros, a two-digit exponent.
    const [m, e] = Number(shortest(a, dtype)).toExponential().split("e") as [string, string];
    const exp = Number(e);
    let digits = shortest(Number(m), dtype);
    if (!scalar && !digits.includes(".")) digits += ".";
    return `${neg ? "-" : ""}${digits}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  let s = shortest(a, dtype);
  if (s.includes("e")) s = Number(s).toString();
  if (!s.includes(".")) s += scalar ? ".0" : ".";
  else if (s.includes(".")) s = s.replace(/(\.\d*?)0+$/, "$1");
  return `${neg ? "-" : ""}${s}`;
}

/** One element as numpy prints it. */
function fmtElement(v: number, dtype: DType, scalar: boolean): string {
  if (dtype === "bool") return v ? "True" : "False";
  if (dtype === "int32" || dtype === "uint32") return String(v);
  return fmtFloat(v, dtype, scalar);
}

/** numpy's `str(array)` of `data` with `shape`. */
export function formatStr(data: DataArray, shape: readonly number[], dtype: DType): string {
  if (shape.length === 0) return fmtElement(data[0] as number, dtype, true);
  const summarize = sizeOf(shape) > SUMMARY_OVER;
  const shown = (n: number) =>
    summarize && n > 2 * EDGE
      ? [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
      : Array.from({ length: n }, (_, i) => i);
  // Every element shown, for the common width.
  const texts = new Map<number, string>();
  const collect = (dim: number, offset: number) => {
    if (dim === shape.length) {
      texts.set(offset, fmtElement(data[offset] as number, dtype, false));
      return;
    }
    const inner = sizeOf(shape.slice(dim + 1));
    for (const i of shown(shape[dim] as number)) if (i >= 0) collect(dim + 1, offset + i * inner);
  };
  collect(0, 0);
  // Floats line up on the decimal point (numpy pads the integer part left, the fraction right).
  const all = [...texts.values()];
  const point = all.every((t) => /^-?\d+\.\d*$/.test(t));
  if (point) {
    const left = Math.max(...all.map((t) => t.indexOf(".")));
    const right = Math.max(...all.map((t) => t.length - t.indexOf(".")));
    for (const [k, t] of texts) texts.set(k, (" ".repeat(left - t.indexOf(".")) + t).padEnd(left + right));
  }
  const width = Math.max(...[...texts.values()].map((t) => t.length));
  const rec = (dim: number, offset: number): string => {
    const n = shape[dim] as number;
    const inner = sizeOf(shape.slice(dim + 1));
    const last = dim === shape.length - 1;
    const parts = shown(n).map((i) => {
      if (i < 0) return "...";
      return last ? (texts.get(offset + i) as string).padStart(width) : rec(dim + 1, offset + i * inner);
    });
    const sep = last ? " " : `${"\n".repeat(shape.length - 1 - dim)}${" ".repeat(dim + 1)}`;
    return `[${parts.join(sep)}]`;
  };
  return rec(0, 0);
}

/** Python's format-spec mini-language for one number: [[fill]align][sign][width][,][.precision][type]. */
const SPEC = /^(?:(.)?([<>^=]))?([+\- ])?(0)?(\d+)?(,)?(?:\.(\d+))?([bdeEfFgGn%xXo])?$/;

/** Whether `spec` is one `formatNumber` takes. */
export function validSpec(spec: string): boolean {
  return SPEC.test(spec);
}

/** `v` formatted by a Python format spec (`.3f`, `>8`, `e`, `d`, `%` …); `text` when there is no type. */
export function formatNumber(v: number, spec: string, text: string): string {
  const m = SPEC.exec(spec);
  if (!m) return text;
  const [, fill = " ", align, sign, zero, width, comma, precision, type] = m;
  const p = precision === undefined ? undefined : Number(precision);
  let s: string;
  switch (type) {
    case "f":
    case "F":
      s = v.toFixed(p ?? 6);
      break;
    case "e":
    case "E":
      s = v.toExponential(p ?? 6).replace(/e([+-])(\d)$/, "e$10$2");
      if (type === "E") s = s.toUpperCase();
      break;
    case "g":
    case "G":
      s = String(Number(v.toPrecision(p ?? 6)));
      break;
    case "%":
      s = `${(v * 100).toFixed(p ?? 6)}%`;
      break;
    case "d":
    case "n":
      s = String(Math.trunc(v));
      break;
    case "x":
    case "X":
      s = Math.trunc(v).toString(16);
      if (type === "X") s = s.toUpperCase();
      break;
    case "o":
      s = Math.trunc(v).toString(8);
      break;
    case "b":
      s = Math.trunc(v).toString(2);
      break;
    default:
      s = p === undefined ? text : String(Number(v.toPrecision(p)));
  }
  if (comma) s = s.replace(/^(-?\d+)/, (d) => d.replace(/\B(?=(\d{3})+(?!\d))/g, ","));
  if (sign === "+" && v >= 0) s = `+${s}`;
  else if (sign === " " && v >= 0) s = ` ${s}`;
  const w = width === undefined ? 0 : Number(width);
  if (s.length >= w) return s;
  if (zero && !align) return s.startsWith("-") ? `-${s.slice(1).padStart(w - 1, "0")}` : s.padStart(w, "0");
  const pad = w - s.length;
  const a = align ?? (type === undefined && !/^-?[\d.]/.test(s) ? "<" : ">");
  if (a === "<") return s + fill.repeat(pad);
  if (a === "^") return fill.repeat(Math.floor(pad / 2)) + s + fill.repeat(Math.ceil(pad / 2));
  return fill.repeat(pad) + s;
}
