import { contiguousStrides, type Shape, sizeOf } from "../shape.js";

/**
 * A strided view over a flat buffer, as numpy's: element `idx` lives at
 * `offset + Σ idx[d] · strides[d]`. Eager movement ops (reshape, transpose, broadcast, slice,
 * flip) only compute a new View; a kernel folds the view into its loads.
 */
export interface View {
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

export function contiguousView(shape: Shape): View {
  return { shape, strides: contiguousStrides(shape), offset: 0 };
}

/** True when the view covers a buffer of exactly its size in row-major order. */
export function isContiguous(v: View): boolean {
  if (v.offset !== 0) return false;
  const c = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === c[i]);
}

export function transposeView(v: View, perm: readonly number[]): View {
  return {
    shape: perm.map((p) => v.shape[p] as number),
    strides: perm.map((p) => v.strides[p] as number),
    offset: v.offset,
  };
}

/** Broadcast to `shape`, placing input dim i at output dim `dims[i]` (lax.broadcast_in_dim). */
export function broadcastInDimView(v: View, shape: Shape, dims: readonly number[]): View {
  const strides = new Array<number>(shape.length).fill(0);
  dims.forEach((d, i) => {
    strides[d] = v.shape[i] === 1 && shape[d] !== 1 ? 0 : (v.strides[i] as number);
  });
  return { shape, strides, offset: v.offset };
}

/** `start`/`limit`/`step` per dim with positive steps (lax.slice). */
export function sliceView(v: View, start: readonly number[], limit: readonly number[], step: readonly number[]): View {
  let offset = v.offset;
  const shape: number[] = [];
  const strides: number[] = [];
  v.shape.forEach((_, d) => {
    const s = start[d] as number;
    const st = step[d] as number;
    const n = Math.max(0, Math.ceil(((limit[d] as number) - s) / st));
    shape.push(n);
    strides.push((v.strides[d] as number) * st);
    if (n > 0) offset += s * (v.strides[d] as number);
  });
  return { shape, strides, offset };
}

/** Reverses the given dims (lax.rev): negative strides, the offset moved to the last element. */
export function revView(v: View, dims: readonly number[]): View {
  let offset = v.offset;
  const strides = [...v.strides];
  for (const d of dims) {
    const n = v.shape[d] as number;
    if (n > 0) offset += (n - 1) * (strides[d] as number);
    strides[d] = -(strides[d] as number);
  }
  return { shape: v.shape, strides, offset };
}

/**
 * Reshape without copying when the strides allow it (numpy's rule: each group of old dims
 * that merges into new dims must be mutually contiguous); null when a copy is needed.
 */
export function reshapeView(v: View, shape: Shape): View | null {
  if (sizeOf(shape) === 0 || isContiguous(v)) return { ...contiguousView(shape), offset: v.offset };
  // Drop size-1 dims of the old view; they never constrain the strides.
  const oldShape: number[] = [];
  const oldStrides: number[] = [];
  v.shape.forEach((d, i) => {
    if (d !== 1) {
      oldShape.push(d);
      oldStrides.push(v.strides[i] as number);
    }
  });
  const newStrides = new Array<number>(shape.length).fill(0);
  let oi = 0;
  let ni = 0;
  while (ni < shape.length) {
    if (shape[ni] === 1) {
      newStrides[ni] = 0;
      ni++;
      continue;
    }
    if (oi >= oldShape.length) return null;
    // Take the smallest run of old dims and new dims with the same element count.
    let oEnd = oi + 1;
    let nEnd = ni + 1;
    let oSize = oldShape[oi] as number;
    let nSize = shape[ni] as number;
    while (oSize !== nSize) {
      if (oSize < nSize) {
        if (oEnd >= oldShape.length) return null;
        oSize *= oldShape[oEnd++] as number;
      } else {
        if (nEnd >= shape.length) return null;
        nSize *= shape[nEnd++] as number;
      }
    }
    for (let k = oi; k < oEnd - 1; k++) {
      if (oldStrides[k] !== (oldStrides[k + 1] as number) * (oldShape[k + 1] as number)) return null;
    }
    // Lay the new dims of this group over the innermost old stride.
    let stride = oldStrides[oEnd - 1] as number;
    for (let k = nEnd - 1; k >= ni; k--) {
      newStrides[k] = stride;
      stride *= shape[k] as number;
    }
    oi = oEnd;
    ni = nEnd;
  }
  if (oi !== oldShape.length) return null;
  return { shape, strides: newStrides, offset: v.offset };
}
