import type { DataArray, DType } from "../dtype.js";
import { sizeOf } from "../shape.js";

const EDGE = 3;
const SUMMARY_OVER = 1000;

function fmtValue(v: number, dtype: DType): string {
  if (dtype === "bool") return v ? "true" : "false";
  if (dtype !== "float32" && dtype !== "float64") return String(v);
  if (Number.isInteger(v)) return `${v}.`;
  return Number.isFinite(v) ? String(Number(v.toPrecision(dtype === "float32" ? 7 : 15))) : String(v);
}

/** numpy-like nested text of an array's values; large arrays show their edges with `...`. */
export function formatArray(data: DataArray, shape: readonly number[], dtype: DType): string {
  const summarize = data.length > SUMMARY_OVER;
  const rec = (dim: number, offset: number, indent: string): string => {
    if (dim === shape.length) return fmtValue(data[offset] as number, dtype);
    const n = shape[dim] as number;
    const inner = sizeOf(shape.slice(dim + 1));
    const idx =
      summarize && n > 2 * EDGE
        ? [...Array.from({ length: EDGE }, (_, i) => i), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
        : Array.from({ length: n }, (_, i) => i);
    const parts = idx.map((i) => (i < 0 ? "..." : rec(dim + 1, offset + i * inner, `${indent} `)));
    const sep = dim === shape.length - 1 ? ", " : `,\n${indent} `;
    return `[${parts.join(sep)}]`;
  };
  return rec(0, 0, "      ");
}
