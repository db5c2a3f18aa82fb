import type { DType } from "../dtype.js";

/**
 * Routines: kernels that do not fuse (DESIGN, Backends). Each is one IR node with several
 * inputs and outputs; every backend lowers it with an algorithm of the right cost (the CPU
 * with radix sorts and linear scans in JS, WebGPU with multi-pass bitonic sorts and log-depth
 * scans), deterministically: no atomics, results never depend on thread order.
 *
 * Every input and output of a routine is a contiguous row-major buffer (the eager executor
 * copies strided views first), except the inputs a lowering lists as `views`: those arrive as
 * the buffer under the view, with the view's offset and strides in the params. Sizes are integer params, so one compiled routine serves every
 * shape; what is in the spec (dtypes, ops, ranks, dimension numbers) is the compile key.
 * Routines see 32-bit dtypes, bool, and float64 on the CPU: float16 operands are widened to
 * float32 around them (exactly: every float16 is a float32).
 *
 * The sort order of every routine is numpy's: NaN after every number (all NaNs equal), −0
 * equal to 0, ties by index (stable).
 */
export type RoutineSpec = SortRoutine | TopKRoutine | ScanRoutine | SearchRoutine | ScatterRoutine;

/**
 * Stable sort of each line along the middle axis of an [outer, n, inner] array. Params
 * [outer, n, inner]; input 0 the array; outputs: the sorted values (the input's dtype, the
 * original bits) and the int32 indices, both [outer, n, inner]. `descending` reverses the order
 * of values (NaN first) while ties still keep index order.
 */
export interface SortRoutine {
  readonly name: "sort";
  readonly dtype: DType;
  readonly descending: boolean;
}

/**
 * The k largest elements of each row of a [rows, n] array (`lax.top_k`), largest first, ties by
 * lower index, NaN largest. Params [rows, n, k]; outputs values and int32 indices, [rows, k].
 */
export interface TopKRoutine {
  readonly name: "top_k";
  readonly dtype: DType;
}

/**
 * Inclusive scan along the middle axis of [outer, n, inner] (`reverse`: from the end). Params
 * [outer, n, inner]; one output of the input's shape and dtype. Integer sums and products wrap;
 * max/min propagate NaN.
 */
export interface ScanRoutine {
  readonly name: "scan";
  readonly op: "sum" | "prod" | "max" | "min";
  readonly dtype: DType;
  readonly reverse: boolean;
}

/**
 * For each of the m values (input 1), the number of elements of the ascending [n] (input 0)
 * that are < it (side "left") or ≤ it ("right"), by binary search. Params [n, m]; one int32
 * output [m].
 */
export interface SearchRoutine {
  readonly name: "searchsorted";
  readonly dtype: DType;
  readonly side: "left" | "right";
}

/**
 * XLA's scatter dimension numbers, with JAX's batching dims; the index vector is the last dim
 * of the indices. An update at batch position b (the indices' dims but the last) starts at the
 * index vector's entries along `scatterDimsToOperandDims`, at b's coordinate along
 * `scatterIndicesBatchingDims[i]` in `operandBatchingDims[i]`, and at 0 elsewhere; its window
 * spans the operand dims that are neither inserted nor batching (`updateWindowDims` of the
 * updates, in order).
 */
export interface ScatterDims {
  readonly updateWindowDims: readonly number[];
  readonly insertedWindowDims: readonly number[];
  readonly operandBatchingDims: readonly number[];
  readonly scatterIndicesBatchingDims: readonly number[];
  readonly scatterDimsToOperandDims: readonly number[];
}

/**
 * XLA's scatter of updates (input 2) into a copy of the operand (input 0) at int32 indices
 * (input 1). A window that does not fit in the operand is dropped whole (JAX's default mode).
 * Updates combine in update order: `set` keeps the last, `add`/`mul`/`min`/`max` fold them
 * into the operand element in that order. Params: the operand's shape, the indices' shape, the
 * updates' shape (ranks in the spec), then the operand's view (offset, strides) and the
 * updates' view (offset, strides): those two are read in place, so a broadcast zero operand or
 * a broadcast cotangent (vmap of a gather's gradient) is never copied. One output of the
 * operand's shape.
 */
export interface ScatterRoutine {
  readonly name: "scatter";
  readonly dtype: DType;
  readonly mode: "set" | "add" | "mul" | "min" | "max";
  readonly dims: ScatterDims;
  /** Negative starts count from the end of their dim first (numpy's rule, for `x.at[i]`). */
  readonly wrapNegative: boolean;
  readonly operandRank: number;
  readonly indicesRank: number;
  readonly updatesRank: number;
}

/** A routine as a kernel: it declares its inputs and outputs. */
export interface RoutineKernel {
  readonly kind: "routine";
  readonly label: string;
  readonly inputs: readonly DType[];
  readonly outputs: readonly DType[];
  readonly routine: RoutineSpec;
}

/** The sizes (and the operand's and updates' views) a scatter routine reads from its params. */
export interface ScatterShapes {
  readonly operand: number[];
  readonly indices: number[];
  readonly updates: number[];
  readonly operandView: { offset: number; strides: number[] };
  readonly updatesView: { offset: number; strides: number[] };
}

export function scatterShapes(s: ScatterRoutine, p: ArrayLike<number>): ScatterShapes {
  const take = (from: number, n: number) => Array.from({ length: n }, (_, i) => p[from + i] as number);
  const r = s.operandRank;
  const shapes = r + s.indicesRank + s.updatesRank;
  return {
    operand: take(0, r),
    indices: take(r, s.indicesRank),
    updates: take(r + s.indicesRank, s.updatesRank),
    operandView: { offset: p[shapes] as number, strides: take(shapes + 1, r) },
    updatesView: { offset: p[shapes + 1 + r] as number, strides: take(shapes + 2 + r, s.updatesRank) },
  };
}

/**
 * How one scatter reaches its operand, in plain numbers: for update batch position b and window
 * position w, the target element is Σ_d start_d(b)·os_d + Σ_w w·ws (when the window fits). Both
 * backends derive their loops from this, so the two agree on what lands where.
 */
export interface ScatterPlan {
  /** Update batch positions (the indices' shape without the index vector dim). */
  readonly batchShape: number[];
  /** The updates' strides along each batch dim (in batch order), in their view. */
  readonly updateBatchStrides: number[];
  /** The indices' strides along each batch dim. */
  readonly indexBatchStrides: number[];
  /** The window: its sizes, the updates' strides and the operand's strides along it. */
  readonly windowShape: number[];
  readonly updateWindowStrides: number[];
  readonly operandWindowStrides: number[];
  /** Per index vector entry k: the operand dim it starts, that dim's size, stride and room (size − window). */
  readonly scattered: { dim: number; size: number; stride: number; room: number }[];
  /** Per batching pair: the batch dim whose coordinate is the start, and the operand's stride. */
  readonly batching: { batchDim: number; stride: number }[];
  /** The indices' stride along the index vector dim. */
  readonly vectorStride: number;
  readonly operandSize: number;
  /** Where the updates' view starts in their buffer. */
  readonly updatesOffset: number;
}

const strides = (shape: readonly number[]) => {
  const s = shape.map(() => 1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = (s[d + 1] as number) * (shape[d + 1] as number);
  return s;
};

export function scatterPlan(s: ScatterRoutine, shapes: ScatterShapes): ScatterPlan {
  const { dims } = s;
  const os = strides(shapes.operand);
  const is = strides(shapes.indices);
  const us = shapes.updatesView.strides;
  const r = shapes.operand.length;
  const nb = shapes.indices.length - 1;
  const updBatch = shapes.updates.map((_, d) => d).filter((d) => !dims.updateWindowDims.includes(d));
  const windowed = Array.from({ length: r }, (_, d) => d).filter(
    (d) => !dims.insertedWindowDims.includes(d) && !dims.operandBatchingDims.includes(d),
  );
  const windowShape = dims.updateWindowDims.map((ud) => shapes.updates[ud] as number);
  const windowSize = (d: number) => {
    const w = windowed.indexOf(d);
    return w < 0 ? 1 : (windowShape[w] as number);
  };
  return {
    batchShape: shapes.indices.slice(0, nb),
    updateBatchStrides: updBatch.map((d) => us[d] as number),
    indexBatchStrides: is.slice(0, nb),
    windowShape,
    updateWindowStrides: dims.updateWindowDims.map((ud) => us[ud] as number),
    operandWindowStrides: windowed.map((d) => os[d] as number),
    scattered: dims.scatterDimsToOperandDims.map((d) => ({
      dim: d,
      size: shapes.operand[d] as number,
      stride: os[d] as number,
      room: (shapes.operand[d] as number) - windowSize(d),
    })),
    batching: dims.operandBatchingDims.map((d, i) => ({
      batchDim: dims.scatterIndicesBatchingDims[i] as number,
      stride: os[d] as number,
    })),
    vectorStride: is[nb] as number,
    operandSize: shapes.operand.reduce((a, b) => a * b, 1),
    updatesOffset: shapes.updatesView.offset,
  };
}
