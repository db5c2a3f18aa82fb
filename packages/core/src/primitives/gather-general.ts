import type { Array as ArrayT } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import type { ScatterDims } from "../ir/routine.js";
import { array, onBackendOf } from "../numpy/creation.js";
import { add, clip, less, where } from "../numpy/elementwise.js";
import { isLinearInput, known } from "./ad-util.js";
import { front } from "./batch-util.js";
import { generalScatterOps, scatterJvp, scatterTranspose, zerosOf } from "./indexing-ad.js";
import type { LoweringInput, Params, PrimitiveTable } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const int = (v: number) => constant(v, "int32");
const clamp = (v: Expr, lo: Expr, hi: Expr) => binary("max", binary("min", v, hi), lo);
const and = (a: Expr, b: Expr) => binary("and", a, b);

/** XLA's gather checks (with JAX's batching dims); the index vector is the last dim of the indices. */
function checkGather(x: Aval, idx: Aval, p: Params["gather"]): number[] {
  const { offsetDims, collapsedSliceDims, startIndexMap, sliceSizes } = p;
  const fail = (why: string): never => {
    throw new ShapeError(
      `gather: ${why} (operand ${fmtAval(x)}, indices ${fmtAval(idx)}, dimension numbers ${JSON.stringify(p)})`,
    );
  };
  if (idx.dtype !== "int32") throw new DTypeError(`gather: indices must be int32, got ${fmtAval(idx)}`);
  if (idx.shape.length === 0) fail("indices need an index-vector dim (the last)");
  if (idx.shape[idx.shape.length - 1] !== startIndexMap.length)
    fail("the index vector length must equal len(startIndexMap)");
  if (sliceSizes.length !== x.shape.length) fail("sliceSizes needs one size per operand dim");
  sliceSizes.forEach((s, d) => {
    if (!Number.isInteger(s) || s < 0 || s > (x.shape[d] as number)) fail(`slice size ${s} does not fit dim ${d}`);
  });
  for (const d of collapsedSliceDims) if (sliceSizes[d] !== 1) fail(`collapsed dim ${d} must have slice size 1`);
  for (const d of [...startIndexMap, ...collapsedSliceDims])
    if (!Number.isInteger(d) || d < 0 || d >= x.shape.length) fail(`dim ${d} is out of range`);
  const batch = idx.shape.slice(0, -1);
  const ob = p.operandBatchingDims ?? [];
  checkBatching(fail, x, batch, ob, p.startIndicesBatchingDims ?? [], [...collapsedSliceDims, ...startIndexMap]);
  for (const d of ob) if (sliceSizes[d] !== 1) fail(`batching dim ${d} must have slice size 1`);
  const kept = range(x.shape.length).filter((d) => !collapsedSliceDims.includes(d) && !ob.includes(d));
  if (offsetDims.length !== kept.length)
    fail("offsetDims must name every operand dim that is neither collapsed nor batching");
  const rank = batch.length + offsetDims.length;
  for (const d of offsetDims) if (!Number.isInteger(d) || d < 0 || d >= rank) fail(`offset dim ${d} is out of range`);
  const shape: number[] = [];
  let b = 0;
  let o = 0;
  for (let d = 0; d < rank; d++) {
    if (offsetDims.includes(d)) shape.push(sliceSizes[kept[o++] as number] as number);
    else shape.push(batch[b++] as number);
  }
  return shape;
}

/** Dimension numbers past a new leading batch dim. */
const plus = (v: readonly number[] | undefined) => (v ?? []).map((a) => a + 1);

export const generalGatherPrimitives: PrimitiveTable<"gather" | "scatter_general"> = {
  gather: {
    abstractEval(avals, p) {
      const [x, idx] = avals as [Aval, Aval];
      return [aval(checkGather(x, idx, p), x.dtype, x.weakType)];
    },
    // Operand and indices at the front (the shared one broadcast in, a view), paired by a new
    // batching dim; indices alone batched: a new leading batch dim of the indices.
    batch: (args, dims, p, size) => {
      const [x, idx] = args as [ArrayT, ArrayT];
      const ib = front(idx, dims[1] ?? null, size);
      if (dims[0] === null) {
        const params = {
          ...p,
          offsetDims: plus(p.offsetDims),
          startIndicesBatchingDims: plus(p.startIndicesBatchingDims),
        };
        return [[bind1("gather", [x, ib], params)], [0]];
      }
      const params = {
        ...p,
        offsetDims: plus(p.offsetDims),
        collapsedSliceDims: plus(p.collapsedSliceDims),
        startIndexMap: plus(p.startIndexMap),
        operandBatchingDims: [0, ...plus(p.operandBatchingDims)],
        startIndicesBatchingDims: [0, ...plus(p.startIndicesBatchingDims)],
        sliceSizes: [1, ...p.sliceSizes],
      };
      return [[bind1("gather", [front(x, dims[0] ?? null, size), ib], params)], [0]];
    },
    lowering: {
      kind: "loads",
      kernel([x, idx], p, out) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const r = out.shape.length;
        const xr = xi.aval.shape.length;
        const ob = p.operandBatchingDims ?? [];
        const kept = range(xr).filter((d) => !p.collapsedSliceDims.includes(d) && !ob.includes(d));
        const batchLoops = range(r).filter((d) => !p.offsetDims.includes(d));
        // The index vector's entry k at this output's batch position.
        const entry = (k: number) => ii.at([...batchLoops.map((l) => index(l)), int(k)]);
        const starts = p.startIndexMap.map((d, k) => {
          const hi = binary("sub", xi.shape[d] as Expr, int(p.sliceSizes[d] as number));
          const v = entry(k);
          const raw = p.wrapNegative ? select(binary("lt", v, int(0)), binary("add", v, xi.shape[d] as Expr), v) : v;
          return { d, raw, clamped: clamp(raw, int(0), hi) };
        });
        // The operand at dim d: the offset loop walking a kept dim, plus the (clamped) start of a
        // mapped dim, plus, for a batching dim, the output's coordinate along its paired index
        // batch dim.
        const at = range(xr).map((d) => {
          const parts: Expr[] = [];
          const o = kept.indexOf(d);
          if (o >= 0) parts.push(index(p.offsetDims[o] as number));
          const s = starts.find((t) => t.d === d);
          if (s) parts.push(s.clamped);
          const b = ob.indexOf(d);
          if (b >= 0) parts.push(index(batchLoops[(p.startIndicesBatchingDims ?? [])[b] as number] as number));
          return parts.length ? parts.reduce((x, y) => binary("add", x, y)) : int(0);
        });
        let expr: Expr = xi.at(at);
        if (p.mode === "fill") {
          // Out of bounds (the window would not fit) → the fill value.
          const inBounds = starts.reduce<Expr>(
            (acc, s) => and(acc, binary("eq", s.raw, s.clamped)),
            constant(1, "bool"),
          );
          expr = select(inBounds, expr, constant(p.fillValue ?? Number.NaN, out.dtype));
        }
        return { expr };
      },
    },
    // Linear in the operand; out-of-bounds slices have tangent 0 (JAX's fill_value=0 for the tangent).
    jvp: (primals, [t], p) => {
      const out = bind1("gather", primals, p);
      const tp = p.mode === "fill" ? { ...p, fillValue: 0 } : p;
      return [[out], [t == null ? null : bind1("gather", [t, primals[1] as ArrayT], tp)]];
    },
    transpose: ([ct], [x, idx], p) => {
      if (ct == null || !isLinearInput(x)) return [null, null];
      return [gatherTranspose(ct, x.aval, known(idx, "gather"), p), null];
    },
  },
  scatter_general: {
    abstractEval(avals, p) {
      const [x, idx, upd] = avals as [Aval, Aval, Aval];
      checkScatter(x, idx, upd, p);
      return [x];
    },
    // Everything at the front (shared operands broadcast in, views), paired by a new batching dim.
    batch: (args, dims, p, size) => {
      const [x, idx, u] = args.map((a, i) => front(a, dims[i] ?? null, size)) as [ArrayT, ArrayT, ArrayT];
      const params = {
        ...p,
        updateWindowDims: plus(p.updateWindowDims),
        insertedWindowDims: plus(p.insertedWindowDims),
        scatterDimsToOperandDims: plus(p.scatterDimsToOperandDims),
        operandBatchingDims: [0, ...plus(p.operandBatchingDims)],
        scatterIndicesBatchingDims: [0, ...plus(p.scatterIndicesBatchingDims)],
      };
      return [[bind1("scatter_general", [x, idx, u], params)], [0]];
    },
    lowering: {
      kind: "routine",
      views: [0, 2],
      routine: ([x, idx, upd], p) => {
        const [xa, ia, ua] = [x, idx, upd] as [Aval, Aval, Aval];
        return {
          spec: {
            name: "scatter",
            dtype: xa.dtype,
            mode: p.mode,
            wrapNegative: p.wrapNegative ?? false,
            dims: scatterDims(p),
            operandRank: xa.shape.length,
            indicesRank: ia.shape.length,
            updatesRank: ua.shape.length,
          },
          params: [...xa.shape, ...ia.shape, ...ua.shape],
        };
      },
    },
    jvp: scatterJvp("scatter_general", generalScatterOps),
    transpose: scatterTranspose("scatter_general", generalScatterOps),
  },
};

/** The routine's dimension numbers of a scatter_general (batching dims default to none). */
export function scatterDims(p: Params["scatter_general"]): ScatterDims {
  return {
    updateWindowDims: p.updateWindowDims,
    insertedWindowDims: p.insertedWindowDims,
    operandBatchingDims: p.operandBatchingDims ?? [],
    scatterIndicesBatchingDims: p.scatterIndicesBatchingDims ?? [],
    scatterDimsToOperandDims: p.scatterDimsToOperandDims,
  };
}

/** XLA's scatter checks, with JAX's batching dims. */
function checkScatter(x: Aval, idx: Aval, upd: Aval, p: Params["scatter_general"]): void {
  const fail = (why: string): never => {
    throw new ShapeError(
      `scatter: ${why} (operand ${fmtAval(x)}, indices ${fmtAval(idx)}, updates ${fmtAval(upd)}, dimension numbers ${JSON.stringify(p)})`,
    );
  };
  if (idx.dtype !== "int32") throw new DTypeError(`scatter: indices must be int32, got ${fmtAval(idx)}`);
  if (upd.dtype !== x.dtype)
    throw new DTypeError(`scatter: updates ${fmtAval(upd)} must have the dtype of ${fmtAval(x)}`);
  if ((p.mode === "add" || p.mode === "mul") && x.dtype === "bool")
    throw new DTypeError(`scatter: '${p.mode}' is not defined for bool`);
  if (idx.shape.length === 0 || idx.shape[idx.shape.length - 1] !== p.scatterDimsToOperandDims.length) {
    fail("the last dim of the indices must have len(scatterDimsToOperandDims) entries");
  }
  const d = scatterDims(p);
  const batch = idx.shape.slice(0, -1);
  checkBatching(fail, x, batch, d.operandBatchingDims, d.scatterIndicesBatchingDims, [
    ...d.insertedWindowDims,
    ...d.scatterDimsToOperandDims,
  ]);
  for (const dim of [...d.insertedWindowDims, ...d.scatterDimsToOperandDims])
    if (!Number.isInteger(dim) || dim < 0 || dim >= x.shape.length) fail(`dim ${dim} is out of range`);
  const windowed = range(x.shape.length).filter(
    (dim) => !d.insertedWindowDims.includes(dim) && !d.operandBatchingDims.includes(dim),
  );
  if (p.updateWindowDims.length !== windowed.length)
    fail("updateWindowDims must name every operand dim that is neither inserted nor batching");
  if (upd.shape.length !== batch.length + windowed.length)
    fail(`updates must have rank ${batch.length + windowed.length}`);
  for (const ud of p.updateWindowDims)
    if (!Number.isInteger(ud) || ud < 0 || ud >= upd.shape.length) fail(`update dim ${ud} is out of range`);
  const updBatch = range(upd.shape.length).filter((dim) => !p.updateWindowDims.includes(dim));
  updBatch.forEach((dim, i) => {
    if (upd.shape[dim] !== batch[i]) fail(`update dim ${dim} must equal index batch dim ${i} (${batch[i]})`);
  });
  p.updateWindowDims.forEach((ud, i) => {
    if ((upd.shape[ud] as number) > (x.shape[windowed[i] as number] as number))
      fail(`update window dim ${ud} is larger than the operand`);
  });
}

/**
 * Batching dims pair operand dims with index batch dims of the same size; they are neither
 * collapsed/inserted nor indexed (`exclusive`).
 */
function checkBatching(
  fail: (why: string) => never,
  x: Aval,
  batch: readonly number[],
  operandDims: readonly number[],
  indexDims: readonly number[],
  exclusive: readonly number[],
): void {
  if (operandDims.length !== indexDims.length) fail("operand and index batching dims must pair up one to one");
  operandDims.forEach((od, i) => {
    const id = indexDims[i] as number;
    if (!Number.isInteger(od) || od < 0 || od >= x.shape.length) fail(`batching dim ${od} is out of range`);
    if (!Number.isInteger(id) || id < 0 || id >= batch.length)
      fail(`index batching dim ${id} must be a batch dim of the indices (not the index vector)`);
    if (exclusive.includes(od)) fail(`batching dim ${od} cannot also be collapsed or indexed`);
    if (x.shape[od] !== batch[id])
      fail(`batching dims differ in size: operand dim ${od} (${x.shape[od]}) and index dim ${id} (${batch[id]})`);
  });
}

/**
 * JAX's _gather_transpose_rule: scatter-add the cotangent's slices into zeros at the same starts.
 * "fill" slices that do not fit read nothing, and scatter drops those windows; "clip" slices
 * read at the clamped starts, so the starts are clamped here the same way first.
 */
function gatherTranspose(ct: ArrayT, x: Aval, idx: ArrayT, p: Params["gather"]): ArrayT {
  let starts = p.wrapNegative
    ? wrapVectors(
        idx,
        p.startIndexMap.map((d) => x.shape[d] as number),
      )
    : idx;
  if (p.mode === "clip") {
    const hi = p.startIndexMap.map((d) => (x.shape[d] as number) - (p.sliceSizes[d] as number));
    starts = clip(idx, 0, array(hi, { dtype: "int32", ...onBackendOf(idx) }));
  }
  const dims = {
    updateWindowDims: p.offsetDims,
    insertedWindowDims: p.collapsedSliceDims,
    scatterDimsToOperandDims: p.startIndexMap,
    operandBatchingDims: p.operandBatchingDims ?? [],
    scatterIndicesBatchingDims: p.startIndicesBatchingDims ?? [],
  };
  return bind1("scatter_general", [zerosOf(x, ct), starts, ct], { ...dims, mode: "add" });
}

/** Index vectors (the last dim of idx) with negative entries counted from the end of `sizes`. */
export function wrapVectors(idx: ArrayT, sizes: readonly number[]): ArrayT {
  const n = bind1("broadcast_in_dim", [array(sizes, { dtype: "int32", ...onBackendOf(idx) })], {
    shape: idx.shape,
    broadcastDimensions: [idx.ndim - 1],
  });
  return where(less(idx, 0), add(idx, n), idx);
}
