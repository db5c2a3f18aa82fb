import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import type { ClosedJaxpr } from "../core/jaxpr.js";
import type { CustomJvpCall, CustomVjpCall } from "../core/trace.js";
import type { DataArray, DType } from "../dtype.js";
import type { BinaryOp, Expr, UnaryOp } from "../ir/expr.js";
import type { IntExpr, ReduceOp } from "../ir/kernel.js";
import type { RoutineSpec } from "../ir/routine.js";
import type { View } from "../ir/view.js";
import type { ConvParams, ReduceWindowParams, WindowPrimitive } from "./window.js";

/** Unary elementwise primitives; their names are the IR's unary ops. */
export type UnaryPrimitive = UnaryOp;
/** Binary elementwise primitives (same shapes, same dtypes); names are the IR's binary ops. */
export type BinaryPrimitive = BinaryOp;
export type ReducePrimitive = "reduce_sum" | "reduce_prod" | "reduce_max" | "reduce_min" | "argmax" | "argmin";
export type ViewPrimitive = "reshape" | "transpose" | "broadcast_in_dim" | "squeeze" | "slice" | "rev";
/** Primitives lowered to fused kernels with custom loads (gathers, concatenation). */
export type LoadPrimitive = "concatenate" | "take";
/** Dynamic slices and scatters (fused loads with data-dependent terms, and reductions). */
export type IndexingPrimitive = "dynamic_slice" | "dynamic_update_slice" | "scatter" | "gather" | "scatter_general";

/** Cumulative reductions along one axis (linear or log-depth scan routines; see primitives/scan.ts). */
export type ScanPrimitive = "cumsum" | "cumprod" | "cummax" | "cummin";
/** Sorting, selection, gather-along-axis and binary search (see primitives/sort.ts). */
export type SortPrimitive = "sort" | "top_k" | "take_along_axis" | "searchsorted";

/** The closed set of primitives. Everything else in webjax is a composition of these. */
export type Primitive =
  | UnaryPrimitive
  | BinaryPrimitive
  | "select"
  | "convert_element_type"
  | "bitcast_convert_type"
  | "copy"
  | ReducePrimitive
  | "dot_general"
  | ViewPrimitive
  | LoadPrimitive
  | IndexingPrimitive
  | WindowPrimitive
  | ScanPrimitive
  | SortPrimitive
  | "threefry2x32"
  | "stop_gradient"
  | "iota"
  | "custom_lin"
  | "custom_jvp_call"
  | "custom_vjp_call"
  | "cond"
  | "scan"
  | "while"
  | "checkpoint"
  | "debug_callback";

type NoParams = Record<string, never>;

/** One operand of a host callback as read back: its values, shape and dtype. */
export interface HostLeaf {
  readonly data: DataArray;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** XLA's dot_general dimension numbers: [lhs dims, rhs dims] for contraction and batch. */
export interface DotDims {
  readonly contracting: readonly [readonly number[], readonly number[]];
  readonly batch: readonly [readonly number[], readonly number[]];
}

/** The typed parameters of each primitive. */
export type Params = { [P in UnaryPrimitive | BinaryPrimitive | "select" | "copy" | "stop_gradient"]: NoParams } & {
  convert_element_type: { readonly newDtype: DType; readonly weakType: boolean };
  bitcast_convert_type: { readonly newDtype: DType };
  reduce_sum: { readonly axes: readonly number[] };
  reduce_prod: { readonly axes: readonly number[] };
  reduce_max: { readonly axes: readonly number[] };
  reduce_min: { readonly axes: readonly number[] };
  argmax: { readonly axis: number };
  argmin: { readonly axis: number };
  dot_general: DotDims;
  reshape: { readonly newShape: readonly number[] };
  transpose: { readonly perm: readonly number[] };
  broadcast_in_dim: { readonly shape: readonly number[]; readonly broadcastDimensions: readonly number[] };
  squeeze: { readonly dimensions: readonly number[] };
  slice: { readonly start: readonly number[]; readonly limit: readonly number[]; readonly strides: readonly number[] };
  rev: { readonly dimensions: readonly number[] };
  concatenate: { readonly dimension: number };
  /** Elements of operand 0 along `axis` at the int32 indices of operand 1 (clamped into range). */
  take: { readonly axis: number };
  /** A window of static `sizes` at traced int32 start operands (clamped so the window fits). */
  dynamic_slice: { readonly sizes: readonly number[] };
  dynamic_update_slice: NoParams;
  /**
   * The transpose of `take`: updates aimed at operand elements along `axis` by an int32 index
   * array; `mode` combines them (set: the last one wins). Out-of-range indices are dropped.
   */
  scatter: { readonly axis: number; readonly mode: "set" | "add" | "mul" | "min" | "max" };
  /**
   * XLA's gather (JAX's GatherDimensionNumbers; the index vector is the last dim of the
   * indices). `clip` clamps starts so the slice fits; `fill` gives `fillValue` (NaN by default)
   * where the slice would not fit. Batching dims (default none) pair operand dims with index
   * batch dims: the slice of batch position b starts at b's coordinate there (vmap's gathers).
   */
  gather: {
    readonly offsetDims: readonly number[];
    readonly collapsedSliceDims: readonly number[];
    readonly startIndexMap: readonly number[];
    readonly operandBatchingDims?: readonly number[];
    readonly startIndicesBatchingDims?: readonly number[];
    readonly sliceSizes: readonly number[];
    readonly mode: "clip" | "fill";
    readonly fillValue?: number;
    /** Negative starts count from the end of their operand dim first (vmap's batched takes). */
    readonly wrapNegative?: boolean;
  };
  /**
   * XLA's scatter (JAX's ScatterDimensionNumbers, batching dims default none); windows that
   * would not fit are dropped (JAX's default). See ir/routine.ts for the exact semantics.
   */
  scatter_general: {
    readonly updateWindowDims: readonly number[];
    readonly insertedWindowDims: readonly number[];
    readonly scatterDimsToOperandDims: readonly number[];
    readonly operandBatchingDims?: readonly number[];
    readonly scatterIndicesBatchingDims?: readonly number[];
    readonly mode: "set" | "add" | "mul" | "min" | "max";
    /** Negative indices count from the end of their operand dim first (vmap's batched scatters). */
    readonly wrapNegative?: boolean;
  };
  /** Windowed reduction of operand 0, operand 1 the scalar init/padding value; see primitives/window.ts. */
  reduce_window: ReduceWindowParams;
  /** N-d convolution with XLA's dimension numbers, dilations and feature groups; see primitives/window.ts. */
  conv_general_dilated: ConvParams;
  /** Inclusive cumulative sum/product/max/min along `axis`; `reverse` accumulates from the end. */
  cumsum: { readonly axis: number; readonly reverse: boolean };
  cumprod: { readonly axis: number; readonly reverse: boolean };
  cummax: { readonly axis: number; readonly reverse: boolean };
  cummin: { readonly axis: number; readonly reverse: boolean };
  /** Stable sort along `axis` (NaN last, ties by index): outputs the sorted values and the int32 indices. */
  sort: { readonly axis: number; readonly descending: boolean };
  /** The `k` largest along the last axis, largest first (ties by index, NaN largest): values and int32 indices. */
  top_k: { readonly k: number };
  /** x[…, idx[…, k, …], …] along `axis` (idx has x's rank; negative indices wrap, then clamp). */
  take_along_axis: { readonly axis: number };
  /** Count of 1-D operand 0's elements < (left) or ≤ (right) each element of operand 1, int32. */
  searchsorted: { readonly side: "left" | "right" };
  /** Threefry-2x32 rounds [from, to) (the whole hash is [0, 20]); see primitives/random.ts. */
  threefry2x32: { readonly rounds: readonly [number, number] };
  /**
   * The linear part of a customVjp function: operands are its residuals then the input tangents;
   * its transpose is the user's backward function (see transforms/custom.ts).
   */
  custom_lin: CustomLinParams;
  /** Integers 0, 1, … along `dimension` of `shape`, as `dtype` (staged creation functions). */
  iota: { readonly dtype: DType; readonly shape: readonly number[]; readonly dimension: number };
  /**
   * A customJvp function as a program (higher-order: DESIGN decision 12): its operands are the
   * `numConsts` values its program closes over, then its arguments; `jvp` is the user's rule
   * on the arguments.
   */
  custom_jvp_call: {
    readonly name: string;
    readonly call: ClosedJaxpr;
    readonly numConsts: number;
    readonly jvp: CustomJvpCall["jvp"];
  };
  /**
   * lax.cond/lax.switch (primitives/cond.ts): operand 0 is the int32 branch index (clamped into
   * range), the rest every branch's operands; the branches are programs of one signature.
   */
  cond: { readonly name: string; readonly branches: readonly ClosedJaxpr[] };
  /**
   * lax.scan (primitives/scan-loop.ts): operands [consts…, carry…, xs…]; the body maps
   * (consts, carry, x slices) → (carry, y slices), run `length` times (from the last slice when
   * `reverse`); outputs [carry…, ys stacked along a new axis 0…].
   */
  /**
   * debug.callback / debug.print (primitives/debug-callback.ts): no outputs; `callback` gets the
   * operands' values on the host, as the pytree `tree` of them, in program order.
   */
  debug_callback: {
    readonly name: string;
    readonly callback: (leaves: readonly HostLeaf[]) => void;
    readonly ordered: boolean;
  };
  /** checkpoint(f) (primitives/checkpoint.ts): the body's derivative saves only its inputs. */
  checkpoint: {
    readonly name: string;
    readonly body: ClosedJaxpr;
    readonly policy: "nothingSaveable" | "everythingSaveable";
  };
  /**
   * lax.whileLoop (primitives/while-loop.ts): operands [cond consts…, body consts…, carry…];
   * body(body consts, carry) → carry while cond(cond consts, carry) (a bool scalar) holds.
   */
  while: {
    readonly name: string;
    readonly cond: ClosedJaxpr;
    readonly body: ClosedJaxpr;
    readonly condConsts: number;
    readonly bodyConsts: number;
  };
  scan: {
    readonly name: string;
    readonly body: ClosedJaxpr;
    readonly numConsts: number;
    readonly numCarry: number;
    readonly length: number;
    readonly reverse: boolean;
  };
  /** A customVjp function as a program, with the user's fwd and bwd on the arguments. */
  custom_vjp_call: {
    readonly name: string;
    readonly call: ClosedJaxpr;
    readonly numConsts: number;
    readonly fwd: CustomVjpCall["fwd"];
    readonly bwd: CustomVjpCall["bwd"];
  };
};

/** custom_lin's parameters: how to call the user's backward function. */
export interface CustomLinParams {
  readonly name: string;
  readonly numResiduals: number;
  readonly outAvals: readonly Aval[];
  /** Cotangents of the outputs (flat, null = zero) and the residuals → cotangents of the linear operands. */
  readonly bwd: (residuals: readonly Array[], cts: readonly (Array | null)[]) => (Array | null)[];
}

/** A tangent or cotangent: an array, or null for a symbolic zero (nothing is allocated for it). */
export type Tangent = Array | null;

/** In a transpose rule, an operand that the linear function takes as its input (its value is unknown). */
export class UndefinedPrimal {
  constructor(readonly aval: Aval) {}
}

/** An operand as a transpose rule sees it: a known value, or the linear input. */
export type TransposeInput = Array | UndefinedPrimal;

/**
 * An input as a kernel sees it in a `loads` lowering (DESIGN decision 7): its shape as int32
 * expressions and one accessor, `at`, for its element at a logical index; its layout (the
 * view's offset and strides) stays hidden. Eager kernels get sizes and layout as params, jit
 * as constants. See primitives/lowering-input.ts.
 */
export interface LoweringInput {
  readonly aval: Aval;
  readonly shape: readonly Expr[];
  /** The same sizes as loop extents. */
  readonly dims: readonly IntExpr[];
  /**
   * The element at `idx` (one int32 expression per dim, over the kernel's loop indices, params
   * and other inputs' elements), as an expression of the input's dtype. The caller keeps each
   * index inside [0, size): a lowering clamps or masks data-dependent ones.
   */
  at(idx: readonly Expr[]): Expr;
}

/**
 * How a primitive becomes kernel IR. `elementwise`: an element expression over the inputs'
 * elements; `reduce`: a reduction over `axes` of one input; `view`: a new strided view of one
 * input (null when the input must first be made contiguous); `dot`: the matmul kernel.
 */
export type Lowering<P extends Primitive> =
  | { readonly kind: "elementwise"; expr(args: readonly Expr[], params: Params[P], out: Aval): Expr }
  | { readonly kind: "reduce"; readonly op: ReduceOp; axes(params: Params[P]): readonly number[] }
  | { readonly kind: "view"; view(v: View, params: Params[P]): View | null }
  | { readonly kind: "dot"; dims(params: Params[P]): DotDims }
  | {
      /** Not a kernel: a composition evaluated by calling back into bind (custom rules, control flow). */
      readonly kind: "impl";
      impl(inputs: readonly Array[], params: Params[P]): Array[];
    }
  | {
      /**
       * A routine that does not fuse (ir/routine.ts): its spec and integer params for these
       * operand types. Inputs and outputs are the primitive's, as contiguous buffers (float16
       * ones arrive widened to float32), except the inputs listed in `views`.
       */
      readonly kind: "routine";
      routine(inputs: readonly Aval[], params: Params[P], outs: readonly Aval[]): RoutineCall;
      /**
       * Inputs the routine reads through their strided view (a broadcast or a slice is not
       * copied first): the executor appends each one's offset and strides, in this order, to
       * the routine's params.
       */
      readonly views?: readonly number[];
    }
  | {
      readonly kind: "loads";
      /**
       * The loads and element expression of a kernel looping over the output shape, optionally
       * reducing over extra loops (`reduce.sizes`, loop variables after the output's) with `post`.
       */
      kernel(inputs: readonly LoweringInput[], params: Params[P], out: Aval): LoadsKernel;
      /**
       * The same result as a gather kernel and a matmul, for backends whose matmul is a fast
       * GEMM for the dtype (Backend.gemmDtypes), given the inputs' view strides; undefined where
       * the kernel above is better.
       */
      asDot?(
        inputs: readonly Aval[],
        params: Params[P],
        out: Aval,
        strides: readonly (readonly number[])[],
      ): DotPlan | undefined;
    };

/** What a `loads` lowering's kernel computes; its loads are the `at` reads of its inputs. */
export interface LoadsKernel {
  readonly expr: Expr;
  readonly reduce?: { op: ReduceOp; sizes: readonly IntExpr[] };
  readonly post?: Expr;
}

/**
 * A primitive as `dot_general` of a kernel's output (`gathered`: a loads kernel over input 0,
 * e.g. im2col's patches) and a view of input 1 (transposed by `other.perm`, then reshaped to
 * `other.shape`); the dot's result is reshaped to `result.shape` and transposed by
 * `result.perm` into the output. `gatheredFirst`: the gathered array is the dot's lhs.
 */
export interface DotPlan {
  readonly label: string;
  /** What, beyond the params, the gather kernel depends on (its part of the kernel-cache key). */
  readonly key: string;
  readonly gathered: { readonly shape: readonly number[]; kernel(input: LoweringInput): LoadsKernel };
  readonly other: { readonly perm: readonly number[]; readonly shape: readonly number[] };
  readonly gatheredFirst: boolean;
  readonly dims: DotDims;
  readonly result: { readonly shape: readonly number[]; readonly perm: readonly number[] };
}

/** A primitive's routine: what to compile (the cache key) and its integer arguments. */
export interface RoutineCall {
  readonly spec: RoutineSpec;
  readonly params: readonly number[];
}

/** Everything about one primitive. Later transforms add their rules here as required fields. */
export interface PrimitiveDef<P extends Primitive> {
  /** Output shapes/dtypes; throws ShapeError/DTypeError naming the op on bad input. */
  abstractEval(avals: readonly Aval[], params: Params[P]): Aval[];
  readonly lowering: Lowering<P>;
  /**
   * Forward mode: the primal outputs and their tangents, given the primal operands and their
   * tangents (null = symbolic zero; at least one is non-null). Tangents of non-float outputs are null.
   * The tangents must be computed by ops that are linear in the operand tangents.
   */
  jvp(primals: readonly Array[], tangents: readonly Tangent[], params: Params[P]): [Array[], Tangent[]];
  /**
   * For primitives linear in some operands: the cotangents of the `UndefinedPrimal` operands
   * (null for zero, and for the known operands) given the output cotangents (null = zero).
   */
  transpose?(cts: readonly Tangent[], inputs: readonly TransposeInput[], params: Params[P]): Tangent[];
  /**
   * vmap: the primitive on operands batched at `dims` (null = not batched: the operand is the
   * same for every member and nothing was broadcast for it; at least one is batched), with
   * `size` members. Returns the outputs and where each one's batch dim is (null: unbatched).
   * Rules lower to the primitives' general forms (never a loop over members) and move batch
   * dims only where the primitive needs it.
   */
  batch(args: readonly Array[], dims: readonly BDim[], params: Params[P], size: number): [Array[], BDim[]];
}

/** Where a value's batch dimension is under vmap, or null when it is not batched. */
export type BDim = number | null;

export type PrimitiveTable<K extends Primitive> = { [P in K]: PrimitiveDef<P> };
