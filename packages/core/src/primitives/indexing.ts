import type { Array as ArrayT } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import { backendOf, scalar } from "../numpy/convert.js";
import { avalOf, isLinearInput, known, linearJvp } from "./ad-util.js";
import { clampIndex, front } from "./batch-util.js";
import { axisScatterOps, scatterJvp, scatterTranspose, zerosOf } from "./indexing-ad.js";
import type { IndexingPrimitive, LoweringInput, PrimitiveTable, TransposeInput } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const int = (v: number) => constant(v, "int32");
const sub = (a: Expr, b: Expr) => binary("sub", a, b);
const add = (a: Expr, b: Expr) => binary("add", a, b);
const clamp = (v: Expr, lo: Expr, hi: Expr) => binary("max", binary("min", v, hi), lo);
const and = (a: Expr, b: Expr) => binary("and", a, b);

function checkStarts(op: string, x: Aval, starts: readonly Aval[]): void {
  if (starts.length !== x.shape.length) {
    throw new ShapeError(`${op}: ${starts.length} start indices for ${fmtAval(x)} of rank ${x.shape.length}`);
  }
  for (const s of starts) {
    if (s.shape.length !== 0 || s.dtype !== "int32") {
      throw new DTypeError(`${op}: start indices must be int32 scalars, got ${fmtAval(s)}`);
    }
  }
}

export const indexingPrimitives: PrimitiveTable<Exclude<IndexingPrimitive, "gather" | "scatter_general">> = {
  dynamic_slice: {
    abstractEval(avals, { sizes }) {
      const [x, ...starts] = avals as [Aval, ...Aval[]];
      checkStarts("dynamic_slice", x, starts);
      if (
        sizes.length !== x.shape.length ||
        sizes.some((s, d) => !Number.isInteger(s) || s < 0 || s > (x.shape[d] as number))
      ) {
        throw new ShapeError(`dynamic_slice: slice sizes ${JSON.stringify(sizes)} do not fit ${fmtAval(x)}`);
      }
      return [aval(sizes, x.dtype, x.weakType)];
    },
    // Unbatched starts: a wider window (the whole batch dim). Batched starts: one gather with
    // a batching dim (its clip mode clamps as dynamic_slice does).
    batch: (args, dims, { sizes }, size) => {
      const [x, ...starts] = args as [ArrayT, ...ArrayT[]];
      if (dims.slice(1).every((d) => d === null)) {
        const d = dims[0] as number;
        const at = [...starts];
        at.splice(d, 0, zeroStart(x));
        const wide = [...sizes];
        wide.splice(d, 0, size);
        return [[bind1("dynamic_slice", [x, ...at], { sizes: wide })], [d]];
      }
      const r = sizes.length;
      const out = bind1("gather", [front(x, dims[0] ?? null, size), startVectors(starts, dims.slice(1), size)], {
        offsetDims: range(r).map((i) => i + 1),
        collapsedSliceDims: [],
        startIndexMap: range(r).map((i) => i + 1),
        operandBatchingDims: [0],
        startIndicesBatchingDims: [0],
        sliceSizes: [1, ...sizes],
        mode: "clip",
      });
      return [[out], [0]];
    },
    lowering: {
      kind: "loads",
      kernel(inputs, { sizes }) {
        const x = inputs[0] as LoweringInput;
        const r = sizes.length;
        // The starts (inputs 1…r), clamped as XLA does so the window fits: clamp(s, 0, n − size).
        const starts = x.shape.map((n, d) =>
          clamp((inputs[d + 1] as LoweringInput).at([]), int(0), sub(n, int(sizes[d] as number))),
        );
        return { expr: x.at(range(r).map((d) => add(index(d), starts[d] as Expr))) };
      },
    },
    jvp: linearJvp("dynamic_slice", [0]),
    // JAX's _dynamic_slice_transpose_rule: the cotangent written into zeros at the same starts
    // (dynamic_update_slice clamps them the same way, as the window and the update have one size).
    transpose: ([ct], [x, ...starts]) => {
      const none = starts.map(() => null);
      if (ct == null || !isLinearInput(x)) return [null, ...none];
      return [bind1("dynamic_update_slice", [zerosOf(x.aval, ct), ct, ...knownStarts(starts)], {}), ...none];
    },
  },
  dynamic_update_slice: {
    abstractEval(avals) {
      const [x, u, ...starts] = avals as [Aval, Aval, ...Aval[]];
      checkStarts("dynamic_update_slice", x, starts);
      if (u.dtype !== x.dtype)
        throw new DTypeError(`dynamic_update_slice: update ${fmtAval(u)} must have the dtype of ${fmtAval(x)}`);
      if (u.shape.length !== x.shape.length || u.shape.some((n, d) => n > (x.shape[d] as number))) {
        throw new ShapeError(`dynamic_update_slice: update ${fmtAval(u)} does not fit in ${fmtAval(x)}`);
      }
      return [x];
    },
    batch: (args, dims, _p, size) => {
      const [x, u, ...starts] = args as [ArrayT, ArrayT, ...ArrayT[]];
      const xb = front(x, dims[0] ?? null, size);
      const ub = front(u, dims[1] ?? null, size);
      if (dims.slice(2).every((d) => d === null)) {
        return [[bind1("dynamic_update_slice", [xb, ub, zeroStart(x), ...starts], {})], [0]];
      }
      // Batched starts: clamp them so the update fits (dynamic_update_slice's rule), then one
      // scatter with a batching dim.
      const r = starts.length;
      const xs = xb.shape.slice(1);
      const us = ub.shape.slice(1);
      const clamped = starts.map((s, i) => clampIndex(s, 0, Math.max((xs[i] as number) - (us[i] as number), 0)));
      const out = bind1("scatter_general", [xb, startVectors(clamped, dims.slice(2), size), ub], {
        updateWindowDims: range(r).map((i) => i + 1),
        insertedWindowDims: [],
        scatterDimsToOperandDims: range(r).map((i) => i + 1),
        operandBatchingDims: [0],
        scatterIndicesBatchingDims: [0],
        mode: "set",
      });
      return [[out], [0]];
    },
    lowering: {
      kind: "loads",
      kernel(inputs) {
        const [x, u] = inputs as [LoweringInput, LoweringInput];
        const r = x.aval.shape.length;
        // The starts (inputs 2…), clamped so the update fits.
        const starts = x.shape.map((n, d) =>
          clamp((inputs[d + 2] as LoweringInput).at([]), int(0), sub(n, u.shape[d] as Expr)),
        );
        const inside = starts.reduce<Expr>(
          (acc, s, d) => and(acc, and(binary("ge", index(d), s), binary("lt", index(d), add(s, u.shape[d] as Expr)))),
          constant(1, "bool"),
        );
        const update = u.at(starts.map((s, d) => clamp(sub(index(d), s), int(0), sub(u.shape[d] as Expr, int(1)))));
        const operand = x.at(range(r).map((d) => index(d)));
        return { expr: select(inside, update, operand) };
      },
    },
    jvp: linearJvp("dynamic_update_slice", [0, 1]),
    // JAX's _dynamic_update_slice_transpose_rule: the operand gets the cotangent with the window
    // zeroed, the update gets the window.
    transpose: ([ct], [x, u, ...starts]) => {
      const none = starts.map(() => null);
      if (ct == null) return [null, null, ...none];
      const s = knownStarts(starts);
      const ua = avalOf(u as TransposeInput);
      return [
        isLinearInput(x) ? bind1("dynamic_update_slice", [ct, zerosOf(ua, ct), ...s], {}) : null,
        isLinearInput(u) ? bind1("dynamic_slice", [ct, ...s], { sizes: ua.shape }) : null,
        ...none,
      ];
    },
  },
  scatter: {
    abstractEval(avals, { axis, mode }) {
      const [x, idx, upd] = avals as [Aval, Aval, Aval];
      if (avals.length !== 3)
        throw new ShapeError(`scatter: expected operand, indices and updates, got ${avals.length} operands`);
      if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
        throw new ShapeError(`scatter: axis ${axis} is out of bounds for ${fmtAval(x)}`);
      }
      if (idx.dtype !== "int32") throw new DTypeError(`scatter: indices must be int32, got ${fmtAval(idx)}`);
      const want = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      if (upd.shape.length !== want.length || upd.shape.some((n, d) => n !== want[d])) {
        throw new ShapeError(
          `scatter: updates ${fmtAval(upd)} must have shape [${want}] (operand ${fmtAval(x)} with indices ${fmtAval(idx)} along axis ${axis})`,
        );
      }
      if (upd.dtype !== x.dtype)
        throw new DTypeError(`scatter: updates ${fmtAval(upd)} must have the dtype of ${fmtAval(x)}`);
      if (mode !== "set" && x.dtype === "bool" && (mode === "add" || mode === "mul")) {
        throw new DTypeError(`scatter: '${mode}' is not defined for bool`);
      }
      return [x];
    },
    // One scatter_general: indices gain an index-vector dim of 1 (the same buffer), the updates'
    // dims other than the index dims are the window, and negative indices count from the end.
    // Unbatched indices: a scatter along the shifted axis (operand and updates at the front).
    // Batched indices: one scatter_general with batching dims.
    batch: (args, dims, { axis, mode }, size) => {
      const [x, idx, u] = args as [ArrayT, ArrayT, ArrayT];
      const xb = front(x, dims[0] ?? null, size);
      const ub = front(u, dims[2] ?? null, size);
      const di = dims[1] ?? null;
      if (di === null) return [[bind1("scatter", [xb, idx, ub], { axis: axis + 1, mode })], [0]];
      const ib = front(idx, di, size);
      const k = ib.ndim - 1;
      const r = xb.ndim - 1;
      const out = bind1("scatter_general", [xb, bind1("reshape", [ib], { newShape: [...ib.shape, 1] }), ub], {
        updateWindowDims: [...range(axis).map((j) => 1 + j), ...range(r - axis - 1).map((j) => axis + 1 + k + j)],
        insertedWindowDims: [axis + 1],
        scatterDimsToOperandDims: [axis + 1],
        operandBatchingDims: [0],
        scatterIndicesBatchingDims: [0],
        mode,
        wrapNegative: true,
      });
      return [[out], [0]];
    },
    lowering: {
      kind: "routine",
      views: [0, 2],
      routine: ([x, idx, upd], { axis, mode }) => {
        const [xa, ia, ua] = [x, idx, upd] as [Aval, Aval, Aval];
        const r = xa.shape.length;
        const k = ia.shape.length;
        const updateWindowDims = [...range(axis), ...range(r - axis - 1).map((i) => axis + k + i)];
        return {
          spec: {
            name: "scatter",
            dtype: xa.dtype,
            mode,
            wrapNegative: true,
            dims: {
              updateWindowDims,
              insertedWindowDims: [axis],
              operandBatchingDims: [],
              scatterIndicesBatchingDims: [],
              scatterDimsToOperandDims: [axis],
            },
            operandRank: r,
            indicesRank: k + 1,
            updatesRank: ua.shape.length,
          },
          params: [...xa.shape, ...ia.shape, 1, ...ua.shape],
        };
      },
    },
    jvp: scatterJvp("scatter", (x, idx, u, p) => axisScatterOps(x, idx, u, p.axis)),
    transpose: scatterTranspose("scatter", (x, idx, u, p) => axisScatterOps(x, idx, u, p.axis)),
  },
};

/** The start operands of a dynamic slice's transpose (always known: they are int32). */
function knownStarts(starts: readonly TransposeInput[]): ArrayT[] {
  return starts.map((s) => known(s, "dynamic_slice"));
}

/** An int32 zero start on x's backend. */
function zeroStart(x: ArrayT): ArrayT {
  return scalar(0, "int32", false, backendOf([x]));
}

/** Scalar starts (batched at dims, or shared) as one int32 [size, r] index array. */
function startVectors(starts: readonly ArrayT[], dims: readonly (number | null)[], size: number): ArrayT {
  const cols = starts.map((s, i) => bind1("reshape", [front(s, dims[i] ?? null, size)], { newShape: [size, 1] }));
  return bind1("concatenate", cols, { dimension: 1 });
}
