import type { Array as ArrayT } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import { add, clip, less, where } from "../numpy/elementwise.js";
import { avalOf, isLinearInput, known, linearJvp } from "./ad-util.js";
import { alignBatched, front, shiftAxis } from "./batch-util.js";
import { zerosOf } from "./indexing-ad.js";
import type { LoadPrimitive, LoweringInput, PrimitiveTable } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const clamp = (v: Expr, hi: Expr): Expr =>
  binary("max", binary("min", v, binary("sub", hi, constant(1, "int32"))), constant(0, "int32"));

export const gatherPrimitives: PrimitiveTable<LoadPrimitive> = {
  concatenate: {
    abstractEval(avals, { dimension: axis }) {
      const first = avals[0];
      if (!first) throw new ShapeError("concatenate: needs at least one array");
      const r = first.shape.length;
      if (!Number.isInteger(axis) || axis < 0 || axis >= r) {
        throw new ShapeError(`concatenate: axis ${axis} is out of bounds for arrays of rank ${r}`);
      }
      for (const a of avals) {
        if (a.dtype !== first.dtype)
          throw new DTypeError(`concatenate: dtypes differ: ${avals.map(fmtAval).join(", ")}`);
        if (a.shape.length !== r || a.shape.some((n, d) => d !== axis && n !== first.shape[d])) {
          throw new ShapeError(
            `concatenate: along axis ${axis} all other dims must match, got shapes ${avals.map((x) => `[${x.shape}]`).join(", ")}`,
          );
        }
      }
      const shape = first.shape.map((n, d) => (d === axis ? avals.reduce((s, a) => s + (a.shape[d] as number), 0) : n));
      return [
        aval(
          shape,
          first.dtype,
          avals.every((a) => a.weakType),
        ),
      ];
    },
    batch: (args, dims, p, size) => {
      const [xs, d] = alignBatched(args, dims, size);
      return [[bind1("concatenate", xs, { dimension: shiftAxis(p.dimension, d) })], [d]];
    },
    lowering: {
      kind: "loads",
      kernel(inputs, { dimension: axis }, out) {
        // Input j covers [start_j, start_j + n_j) of the output axis; it is read at (i - start_j).
        const r = out.shape.length;
        const starts: Expr[] = [];
        let start: Expr = constant(0, "int32");
        const reads = inputs.map((x, j) => {
          starts.push(start);
          const at = j === 0 ? index(axis) : binary("sub", index(axis), start);
          start = binary("add", start, x.shape[axis] as Expr);
          return x.at(range(r).map((d) => (d === axis ? at : index(d))));
        });
        let expr = reads[reads.length - 1] as Expr;
        for (let j = inputs.length - 2; j >= 0; j--) {
          expr = select(binary("lt", index(axis), starts[j + 1] as Expr), reads[j] as Expr, expr);
        }
        return { expr };
      },
    },
    jvp: linearJvp("concatenate"),
    // Each operand's cotangent is its slice of the output's.
    transpose: ([ct], inputs, { dimension: axis }) => {
      let start = 0;
      return inputs.map((x) => {
        const n = avalOf(x).shape[axis] as number;
        start += n;
        if (ct == null || !isLinearInput(x)) return null;
        return bind1("slice", [ct], {
          start: ct.shape.map((_, d) => (d === axis ? start - n : 0)),
          limit: ct.shape.map((m, d) => (d === axis ? start : m)),
          strides: ct.shape.map(() => 1),
        });
      });
    },
  },
  take: {
    abstractEval(avals, { axis }) {
      const [x, idx] = avals as [Aval, Aval];
      if (avals.length !== 2) throw new ShapeError(`take: expected 2 operands, got ${avals.length}`);
      if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
        throw new ShapeError(`take: axis ${axis} is out of bounds for ${fmtAval(x)}`);
      }
      if (idx.dtype !== "int32") throw new DTypeError(`take: indices must be int32, got ${fmtAval(idx)}`);
      if (x.shape[axis] === 0 && idx.shape.some((n) => n > 0)) {
        throw new ShapeError(`take: cannot take from the empty axis ${axis} of ${fmtAval(x)}`);
      }
      const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      return [aval(shape, x.dtype, x.weakType)];
    },
    // One side batched: take itself (its output has the batch dim where the operand or the
    // indices put it). Both: one gather with batching dims.
    batch: (args, dims, { axis }, size) => {
      const [x, idx] = args as [ArrayT, ArrayT];
      const dx = dims[0] ?? null;
      const di = dims[1] ?? null;
      const k = idx.ndim - (di === null ? 0 : 1);
      if (di === null) {
        const d = dx as number;
        const ax = shiftAxis(axis, d);
        return [[bind1("take", [x, idx], { axis: ax })], [d < ax ? d : d - 1 + k]];
      }
      if (dx === null) return [[bind1("take", [x, idx], { axis })], [axis + di]];
      const xb = front(x, dx, size);
      const ib = front(idx, di, size);
      const r = xb.ndim - 1;
      const offsetDims = [...range(axis).map((j) => 1 + j), ...range(r - axis - 1).map((j) => axis + 1 + k + j)];
      // take's reading of the indices: negatives wrap once (in the gather's kernel), then clamp.
      const out = bind1("gather", [xb, bind1("reshape", [ib], { newShape: [...ib.shape, 1] })], {
        offsetDims,
        collapsedSliceDims: [axis + 1],
        startIndexMap: [axis + 1],
        operandBatchingDims: [0],
        startIndicesBatchingDims: [0],
        sliceSizes: xb.shape.map((m, j) => (j === 0 || j === axis + 1 ? 1 : m)),
        mode: "clip",
        wrapNegative: true,
      });
      return [[out], [0]];
    },
    lowering: {
      kind: "loads",
      kernel([x, idx], { axis }) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const k = ii.aval.shape.length;
        // Output dims: x[:axis], idx dims, x[axis+1:]. Negative indices count from the end (as
        // numpy and JAX), then clamp into [0, n) (JAX's "clip").
        const raw = ii.at(range(k).map((j) => index(axis + j)));
        const n = xi.shape[axis] as Expr;
        const position = select(binary("lt", raw, constant(0, "int32")), binary("add", raw, n), raw);
        const at = range(xi.aval.shape.length).map((d) =>
          d < axis ? index(d) : d === axis ? clamp(position, n) : index(d + k - 1),
        );
        return { expr: xi.at(at) };
      },
    },
    jvp: linearJvp("take", [0]),
    // JAX's _gather_transpose_rule: scatter-add the cotangent at the same (wrapped, clamped) indices.
    transpose: ([ct], [x, idx], { axis }) => {
      if (ct == null || !isLinearInput(x)) return [null, null];
      const n = x.aval.shape[axis] as number;
      const i = known(idx, "take");
      const clamped = clip(where(less(i, 0), add(i, n), i), 0, Math.max(n - 1, 0));
      return [bind1("scatter", [zerosOf(x.aval, ct), clamped, ct], { axis, mode: "add" }), null];
    },
  },
};
