import { fmtShape, ShapeError } from "./errors.js";

export type Shape = readonly number[];

/** Validates a user-given shape: non-negative safe integers only. */
export function checkShape(shape: unknown, op: string): number[] {
  if (typeof shape === "number") shape = [shape];
  if (!Array.isArray(shape)) {
    throw new ShapeError(`${op}: shape must be an array of non-negative integers, got ${String(shape)}`);
  }
  const show = (v: unknown) => (typeof v === "object" && v !== null ? String(v) : JSON.stringify(v));
  for (const [i, d] of shape.entries()) {
    if (typeof d === "object" && d !== null) {
      throw new ShapeError(
        `${op}: size ${i} of the shape is an array (${String(d)}), not a JS integer. Shapes are known while tracing: ` +
          "a traced value cannot set one; pass it as a static argument (jit's staticArgnums) or compute the size from shapes",
      );
    }
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new ShapeError(
        `${op}: shape [${shape.map(show).join(", ")}] has an invalid size ${String(d)} at position ${i}; sizes must be non-negative integers`,
      );
    }
  }
  return [...(shape as number[])];
}

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Row-major (C-order) strides in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

/** Normalises one axis (negative counts from the end); names the op, axis and rank on error. */
export function normalizeAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis)) {
    const what = globalThis.Array.isArray(axis)
      ? `the list ${JSON.stringify(axis)} (${op} takes one axis)`
      : typeof axis === "number"
        ? String(axis)
        : `${JSON.stringify(axis)} (a ${typeof axis})`;
    throw new ShapeError(`${op}: axis must be an integer, got ${what}`);
  }
  if (axis < -ndim || axis >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of bounds for an array of rank ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/** Normalises an axis argument (`undefined`/`null` = all axes); rejects repeats. */
export function normalizeAxes(axis: number | readonly number[] | null | undefined, ndim: number, op: string): number[] {
  if (axis === undefined || axis === null) return Array.from({ length: ndim }, (_, i) => i);
  if (typeof axis !== "number" && !Array.isArray(axis)) {
    throw new ShapeError(
      `${op}: axis must be an integer, a list of integers or null, got ${JSON.stringify(axis)} (a ${typeof axis})`,
    );
  }
  const list = typeof axis === "number" ? [axis] : [...axis];
  const out = list.map((a) => normalizeAxis(a, ndim, op));
  if (new Set(out).size !== out.length) throw new ShapeError(`${op}: repeated axis in ${JSON.stringify(list)}`);
  return out.sort((a, b) => a - b);
}

/** numpy broadcasting of several shapes; the error names the op and every shape. */
export function broadcastShapes(op: string, ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = nd - s.length + i;
      const d = s[i] as number;
      const o = out[j] as number;
      if (d === o || d === 1) continue;
      if (o === 1) out[j] = d;
      else {
        throw new ShapeError(
          `${op}: shapes ${shapes.map(fmtShape).join(", ")} cannot be broadcast together (axis ${j - nd}: ${o} vs ${d})`,
        );
      }
    }
  }
  return out;
}
