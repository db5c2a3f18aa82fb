import type { Array as ArrayT } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, load, select } from "../ir/expr.js";
import type { IntExpr, Load } from "../ir/kernel.js";
import { array, onBackendOf } from "../numpy/creation.js";
import { clip } from "../numpy/elementwise.js";
import { isLinearInput, known } from "./ad-util.js";
import { generalScatterOps, scatterJvp, scatterTranspose, zerosOf } from "./indexing-ad.js";
import type { LoweringInput, Params, PrimitiveTable } from "./types.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const int = (v: number) => constant(v, "int32");
const clamp = (v: Expr, lo: Expr, hi: Expr) => binary("max", binary("min", v, hi), lo);
const and = (a: Expr, b: Expr) => binary("and", a, b);

/** XLA's gather checks; the index vector is the last dim of the indices. */
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
    if (d < 0 || d >= x.shape.length) fail(`dim ${d} is out of range`);
  const kept = range(x.shape.length).filter((d) => !collapsedSliceDims.includes(d));
  if (offsetDims.length !== kept.length) fail("offsetDims must name every operand dim that is not collapsed");
  const batch = idx.shape.slice(0, -1);
  const rank = batch.length + offsetDims.length;
  const shape: number[] = [];
  let b = 0;
  let o = 0;
  for (let d = 0; d < rank; d++) {
    if (offsetDims.includes(d)) shape.push(sliceSizes[kept[o++] as number] as number);
    else shape.push(batch[b++] as number);
  }
  return shape;
}

export const generalGatherPrimitives: PrimitiveTable<"gather" | "scatter_general"> = {
  gather: {
    abstractEval(avals, p) {
      const [x, idx] = avals as [Aval, Aval];
      return [aval(checkGather(x, idx, p), x.dtype, x.weakType)];
    },
    lowering: {
      kind: "loads",
      kernel([x, idx], p, out) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const r = out.shape.length;
        const xr = xi.aval.shape.length;
        const kept = range(xr).filter((d) => !p.collapsedSliceDims.includes(d));
        const batchLoops = range(r).filter((d) => !p.offsetDims.includes(d));
        const last = ii.aval.shape.length - 1;
        // Loads 1…: the index vector's entry k at this output's batch position.
        const idxLoads: Load[] = p.startIndexMap.map((_, k) => ({
          input: 1,
          offset: ii.offset,
          strides: range(r).map((l) => (batchLoops.includes(l) ? (ii.strides[batchLoops.indexOf(l)] as IntExpr) : 0)),
          gather: [{ index: int(k), stride: ii.strides[last] as IntExpr }],
        }));
        // The operand: offset dims walk the kept dims; each mapped dim adds its (clamped) start.
        const strides = range(r).map((l) => {
          const o = p.offsetDims.indexOf(l);
          return o < 0 ? 0 : (xi.strides[kept[o] as number] as IntExpr);
        });
        const starts = p.startIndexMap.map((d, k) => {
          const hi = binary("sub", xi.shape[d] as Expr, int(p.sliceSizes[d] as number));
          return { d, raw: load(k + 1, "int32"), clamped: clamp(load(k + 1, "int32"), int(0), hi) };
        });
        const loads: Load[] = [
          {
            input: 0,
            offset: xi.offset,
            strides,
            gather: starts.map((s) => ({ index: s.clamped, stride: xi.strides[s.d] as IntExpr })),
          },
          ...idxLoads,
        ];
        let expr: Expr = load(0, out.dtype);
        if (p.mode === "fill") {
          // Out of bounds (the window would not fit) → the fill value.
          const inBounds = starts.reduce<Expr>(
            (acc, s) => and(acc, binary("eq", s.raw, s.clamped)),
            constant(1, "bool"),
          );
          expr = select(inBounds, expr, constant(p.fillValue ?? Number.NaN, out.dtype));
        }
        return { loads, expr };
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
      const fail = (why: string): never => {
        throw new ShapeError(
          `scatter: ${why} (operand ${fmtAval(x)}, indices ${fmtAval(idx)}, updates ${fmtAval(upd)}, dimension numbers ${JSON.stringify(p)})`,
        );
      };
      if (idx.dtype !== "int32") throw new DTypeError(`scatter: indices must be int32, got ${fmtAval(idx)}`);
      if (upd.dtype !== x.dtype)
        throw new DTypeError(`scatter: updates ${fmtAval(upd)} must have the dtype of ${fmtAval(x)}`);
      if (idx.shape.length === 0 || idx.shape[idx.shape.length - 1] !== p.scatterDimsToOperandDims.length) {
        fail("the last dim of the indices must have len(scatterDimsToOperandDims) entries");
      }
      const batch = idx.shape.slice(0, -1);
      const windowRank = x.shape.length - p.insertedWindowDims.length;
      if (p.updateWindowDims.length !== windowRank)
        fail("updateWindowDims must name every operand dim that is not inserted");
      if (upd.shape.length !== batch.length + windowRank) fail(`updates must have rank ${batch.length + windowRank}`);
      const updBatch = range(upd.shape.length).filter((d) => !p.updateWindowDims.includes(d));
      updBatch.forEach((d, i) => {
        if (upd.shape[d] !== batch[i]) fail(`update dim ${d} must equal index batch dim ${i} (${batch[i]})`);
      });
      const windowed = range(x.shape.length).filter((d) => !p.insertedWindowDims.includes(d));
      p.updateWindowDims.forEach((ud, i) => {
        if ((upd.shape[ud] as number) > (x.shape[windowed[i] as number] as number))
          fail(`update window dim ${ud} is larger than the operand`);
      });
      return [x];
    },
    lowering: {
      kind: "loads",
      kernel([x, idx, upd], p, out) {
        const xi = x as LoweringInput;
        const ii = idx as LoweringInput;
        const ui = upd as LoweringInput;
        const r = xi.aval.shape.length;
        const d = out.dtype;
        const nb = ii.aval.shape.length - 1;
        const last = nb;
        const windowed = range(r).filter((dim) => !p.insertedWindowDims.includes(dim));
        const updBatch = range(ui.aval.shape.length).filter((dim) => !p.updateWindowDims.includes(dim));
        // Output loops 0…r−1 (operand dims); reduction loops r…r+nb−1 (the index batch dims).
        const starts = p.scatterDimsToOperandDims.map((_, k) => load(k + 2, "int32"));
        const startOf = (dim: number): Expr => {
          const k = p.scatterDimsToOperandDims.indexOf(dim);
          return k < 0 ? int(0) : (starts[k] as Expr);
        };
        // Window position of this output element relative to the update's start, per operand dim.
        const w = range(r).map((dim) => binary("sub", index(dim), startOf(dim)));
        let valid: Expr = constant(1, "bool");
        for (const [k, dim] of p.scatterDimsToOperandDims.entries()) {
          const size = windowed.includes(dim)
            ? (ui.shape[p.updateWindowDims[windowed.indexOf(dim)] as number] as Expr)
            : int(1);
          const hi = binary("sub", xi.shape[dim] as Expr, size);
          const s = starts[k] as Expr;
          valid = and(valid, and(binary("ge", s, int(0)), binary("le", s, hi))); // whole window in bounds, else dropped
        }
        range(r).forEach((dim) => {
          const wd = w[dim] as Expr;
          if (p.insertedWindowDims.includes(dim)) valid = and(valid, binary("eq", wd, int(0)));
          else {
            const size = ui.shape[p.updateWindowDims[windowed.indexOf(dim)] as number] as Expr;
            valid = and(valid, and(binary("ge", wd, int(0)), binary("lt", wd, size)));
          }
        });
        const zeros = (n: number) => range(n).map(() => 0 as IntExpr);
        const idxLoads: Load[] = p.scatterDimsToOperandDims.map((_, k) => ({
          input: 1,
          offset: ii.offset,
          strides: [...zeros(r), ...range(nb).map((b) => ii.strides[b] as IntExpr)],
          gather: [{ index: int(k), stride: ii.strides[last] as IntExpr }],
        }));
        const updLoad: Load = {
          input: 2,
          offset: ui.offset,
          strides: [...zeros(r), ...range(nb).map((b) => ui.strides[updBatch[b] as number] as IntExpr)],
          gather: windowed.map((dim, i) => {
            const ud = p.updateWindowDims[i] as number;
            return {
              index: clamp(w[dim] as Expr, int(0), binary("sub", ui.shape[ud] as Expr, int(1))),
              stride: ui.strides[ud] as IntExpr,
            };
          }),
        };
        const loads: Load[] = [
          { input: 0, offset: xi.offset, strides: [...xi.strides, ...zeros(nb)] },
          updLoad,
          ...idxLoads,
        ];
        // Loads: 0 = operand, 1 = update, 2… = index entries (hence `load(k + 2)` above).
        const sizes = range(nb).map((b) => ii.dims[b] as IntExpr);
        const acc: Expr = { op: "acc", dtype: d === "bool" ? "bool" : d };
        if (p.mode === "set") {
          let flat: Expr = int(0);
          for (let b = 0; b < nb; b++) flat = binary("add", binary("mul", flat, ii.shape[b] as Expr), index(r + b));
          // In `post`, read the winning batch position's start indices and update element.
          const zerosAll = zeros(r + nb);
          const startAt = p.scatterDimsToOperandDims.map((_, k) => {
            loads.push({
              input: 1,
              offset: ii.offset,
              strides: zerosAll,
              gather: [
                ...accTerms(ii, nb, (b) => ii.strides[b] as IntExpr),
                { index: int(k), stride: ii.strides[last] as IntExpr },
              ],
            });
            return load(loads.length - 1, "int32");
          });
          const startAcc = (dim: number): Expr => {
            const k = p.scatterDimsToOperandDims.indexOf(dim);
            return k < 0 ? int(0) : (startAt[k] as Expr);
          };
          loads.push({
            input: 2,
            offset: ui.offset,
            strides: zerosAll,
            gather: [
              ...accTerms(ii, nb, (b) => ui.strides[updBatch[b] as number] as IntExpr),
              ...windowed.map((dim, i) => {
                const ud = p.updateWindowDims[i] as number;
                return {
                  index: clamp(
                    binary("sub", index(dim), startAcc(dim)),
                    int(0),
                    binary("sub", ui.shape[ud] as Expr, int(1)),
                  ),
                  stride: ui.strides[ud] as IntExpr,
                };
              }),
            ],
          });
          return {
            loads,
            expr: select(valid, flat, int(-1)),
            reduce: { op: "max", sizes },
            post: select(binary("ge", { op: "acc", dtype: "int32" }, int(0)), load(loads.length - 1, d), load(0, d)),
          };
        }
        const ident = identity(p.mode, d);
        const op = p.mode === "add" ? "sum" : p.mode === "mul" ? "prod" : p.mode;
        const combine = p.mode === "add" ? "add" : p.mode === "mul" ? "mul" : p.mode;
        return {
          loads,
          expr: select(valid, load(1, d), ident),
          reduce: { op, sizes },
          post: binary(combine, load(0, d), acc),
        };
      },
    },
    jvp: scatterJvp("scatter_general", generalScatterOps),
    transpose: scatterTranspose("scatter_general", generalScatterOps),
  },
};

/**
 * JAX's _gather_transpose_rule: scatter-add the cotangent's slices into zeros at the same starts.
 * "fill" slices that do not fit read nothing, and scatter drops those windows; "clip" slices
 * read at the clamped starts, so the starts are clamped here the same way first.
 */
function gatherTranspose(ct: ArrayT, x: Aval, idx: ArrayT, p: Params["gather"]): ArrayT {
  let starts = idx;
  if (p.mode === "clip") {
    const hi = p.startIndexMap.map((d) => (x.shape[d] as number) - (p.sliceSizes[d] as number));
    starts = clip(idx, 0, array(hi, { dtype: "int32", ...onBackendOf(idx) }));
  }
  const dims = {
    updateWindowDims: p.offsetDims,
    insertedWindowDims: p.collapsedSliceDims,
    scatterDimsToOperandDims: p.startIndexMap,
  };
  return bind1("scatter_general", [zerosOf(x, ct), starts, ct], { ...dims, mode: "add" });
}

function identity(mode: "add" | "mul" | "min" | "max", d: Aval["dtype"]): Expr {
  if (mode === "add") return constant(0, d);
  if (mode === "mul") return constant(1, d);
  if (d === "bool") return constant(mode === "max" ? 0 : 1, d);
  if (d === "uint32") return constant(mode === "max" ? 0 : 4294967295, d);
  if (d === "int32") return constant(mode === "max" ? -2147483648 : 2147483647, d);
  return constant(mode === "max" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, d);
}

/** Gather terms addressing batch position `acc` (a flat index over the index batch dims). */
function accTerms(ii: LoweringInput, nb: number, strideOf: (b: number) => IntExpr): { index: Expr; stride: IntExpr }[] {
  const acc: Expr = { op: "acc", dtype: "int32" };
  const terms: { index: Expr; stride: IntExpr }[] = [];
  let inner: Expr = int(1);
  for (let b = nb - 1; b >= 0; b--) {
    const size = ii.shape[b] as Expr;
    terms.push({ index: binary("rem", binary("div", acc, inner), size), stride: strideOf(b) });
    inner = binary("mul", inner, size);
  }
  return terms;
}
