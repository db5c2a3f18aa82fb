/**
 * Windowed primitives: `reduce_window` (pooling) and `conv_general_dilated` (N-d convolution).
 * Both lower to one fused reduction per output element over the window positions: the input
 * position of each window element is an int32 expression of the output and window loop
 * indices, checked against the input's bounds, and read through a gather term per spatial dim.
 */
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { DTypeError, ShapeError } from "../errors.js";
import { acc, binary, constant, type Expr, index, select } from "../ir/expr.js";
import type { IntExpr } from "../ir/kernel.js";
import { checkArity, checkDTypeIn, NUMERIC } from "./checks.js";
import { convAsDot } from "./conv-dot.js";
import type { LoweringInput, PrimitiveTable } from "./types.js";
import { convJvp, convTranspose, reduceWindowJvp, reduceWindowTranspose } from "./window-ad.js";
import { convBatch, reduceWindowBatch } from "./window-batch.js";

/** Explicit padding: [low, high] per spatial dim (negative values crop). */
export type PadPairs = readonly (readonly [number, number])[];

/** Parameters of `reduce_window`: operand 0 is reduced, operand 1 is the scalar init (and padding) value. */
export interface ReduceWindowParams {
  readonly op: "sum" | "max" | "min";
  readonly windowDimensions: readonly number[];
  readonly windowStrides: readonly number[];
  readonly padding: PadPairs;
  readonly baseDilation: readonly number[];
  readonly windowDilation: readonly number[];
}

/**
 * Where each logical dim lives, as JAX's ConvDimensionNumbers: `lhs` = [batch, feature,
 * spatial…], `rhs` = [out feature, in feature, spatial…], `out` = [batch, feature, spatial…].
 */
export interface ConvDimensionNumbers {
  readonly lhs: readonly number[];
  readonly rhs: readonly number[];
  readonly out: readonly number[];
}

export interface ConvParams {
  readonly windowStrides: readonly number[];
  readonly padding: PadPairs;
  readonly lhsDilation: readonly number[];
  readonly rhsDilation: readonly number[];
  readonly dimensionNumbers: ConvDimensionNumbers;
  readonly featureGroupCount: number;
}

export type WindowPrimitive = "reduce_window" | "conv_general_dilated";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const i32 = (v: number): Expr => constant(v, "int32");

/** `0 if d == 0 else 1 + dilation·(d − 1)` (JAX's dilate_dim). */
export function dilateDim(d: number, dilation: number): number {
  return d === 0 ? 0 : 1 + dilation * (d - 1);
}

/** XLA's windowed output size: max(0, ⌊(padded − window)/stride⌋ + 1), as JAX's stride_dim. */
export function windowOutputSize(padded: number, window: number, stride: number): number {
  return Math.max(0, Math.floor((padded - window) / stride) + 1);
}

/** Throws unless `v` holds `n` positive integers (strides, dilations, window sizes). */
export function checkPositiveInts(op: string, name: string, v: readonly number[], n: number, where = ""): void {
  if (!Array.isArray(v) || v.length !== n || v.some((x) => !Number.isSafeInteger(x) || x < 1)) {
    throw new ShapeError(
      `${op}: ${name} must be ${n} positive integers${where ? ` ${where}` : ""}, got ${JSON.stringify(v)}`,
    );
  }
}

function checkPadding(op: string, padding: PadPairs, n: number): void {
  if (padding.length !== n || padding.some((p) => p.length !== 2 || !p.every((x) => Number.isSafeInteger(x)))) {
    throw new ShapeError(`${op}: padding must be ${n} [low, high] integer pairs, got ${JSON.stringify(padding)}`);
  }
}

/** Throws unless `perm` is a permutation of 0..rank−1. */
export function checkPerm(op: string, name: string, perm: readonly number[], rank: number): void {
  const ok = perm.length === rank && range(rank).every((d) => perm.includes(d));
  if (!ok)
    throw new ShapeError(
      `${op}: ${name} dimension numbers ${JSON.stringify(perm)} are not a permutation of 0..${rank - 1}`,
    );
}

// Small constant folding keeps the generated index arithmetic short.
const addC = (e: Expr, c: number): Expr => (c === 0 ? e : binary("add", e, i32(c)));
const mulC = (e: Expr, c: number): Expr => (c === 1 ? e : binary("mul", e, i32(c)));
const all = (conds: readonly Expr[]): Expr | undefined =>
  conds.length === 0 ? undefined : conds.reduce((a, b) => binary("and", a, b));

/**
 * One spatial dim of a window read: the input position `out·stride + win·dilation − lo` in the
 * padded, base-dilated coordinates; in range when 0 ≤ pos, pos ≡ 0 (mod baseDilation) and
 * pos/baseDilation < n. Bound checks that padding ≤ 0 makes unnecessary are left out (the
 * output size keeps every window inside [−lo, dilated n + hi)). Returns the conditions and the
 * input index, clamped into [0, n) so the load stays in the buffer when the condition is false.
 */
function windowPosition(
  outLoop: number,
  winLoop: number,
  stride: number,
  dilation: number,
  [lo, hi]: readonly [number, number],
  baseDilation: number,
  n: Expr,
): { conds: Expr[]; at: Expr } {
  const pos = addC(binary("add", mulC(index(outLoop), stride), mulC(index(winLoop), dilation)), -lo);
  const conds: Expr[] = [];
  if (lo > 0) conds.push(binary("ge", pos, i32(0)));
  let at = pos;
  if (baseDilation > 1) {
    conds.push(binary("eq", binary("rem", pos, i32(baseDilation)), i32(0)));
    at = binary("div", pos, i32(baseDilation));
  }
  if (hi > 0) conds.push(binary("lt", at, n));
  if (lo > 0) at = binary("max", at, i32(0));
  if (hi > 0) at = binary("min", at, binary("sub", n, i32(1)));
  return { conds, at };
}

/**
 * The lhs positions of a convolution window: per spatial dim i, the input index of output
 * loop `outLoops[i]` and kernel loop `winLoops[i]` (clamped into range), and the conditions
 * under which the position is inside the input.
 */
export function convWindowIndex(
  l: LoweringInput,
  p: ConvParams,
  outLoops: readonly number[],
  winLoops: readonly number[],
): { conds: Expr[]; at: Expr[] } {
  const ls = p.dimensionNumbers.lhs.slice(2);
  const conds: Expr[] = [];
  const at = ls.map((d, i) => {
    const w = windowPosition(
      outLoops[i] as number,
      winLoops[i] as number,
      p.windowStrides[i] as number,
      p.rhsDilation[i] as number,
      p.padding[i] as [number, number],
      p.lhsDilation[i] as number,
      l.shape[d] as Expr,
    );
    conds.push(...w.conds);
    return w.at;
  });
  return { conds, at };
}

function reduceWindowShape(x: Aval, p: ReduceWindowParams): number[] {
  const op = "reduce_window";
  const r = x.shape.length;
  checkPositiveInts(op, "windowDimensions", p.windowDimensions, r);
  checkPositiveInts(op, "windowStrides", p.windowStrides, r);
  checkPositiveInts(op, "baseDilation", p.baseDilation, r);
  checkPositiveInts(op, "windowDilation", p.windowDilation, r);
  checkPadding(op, p.padding, r);
  return x.shape.map((n, d) => {
    const [lo, hi] = p.padding[d] as [number, number];
    const padded = dilateDim(n, p.baseDilation[d] as number) + lo + hi;
    if (padded < 0) {
      throw new ShapeError(
        `${op}: padding [${lo}, ${hi}] of dim ${d} crops more than the ${n} elements of ${fmtAval(x)}`,
      );
    }
    const window = dilateDim(p.windowDimensions[d] as number, p.windowDilation[d] as number);
    return windowOutputSize(padded, window, p.windowStrides[d] as number);
  });
}

function convShape(lhs: Aval, rhs: Aval, p: ConvParams): number[] {
  const op = "conv_general_dilated";
  const desc = `lhs ${fmtAval(lhs)}, rhs ${fmtAval(rhs)}`;
  const r = lhs.shape.length;
  const s = r - 2;
  if (r < 2 || rhs.shape.length !== r) {
    throw new ShapeError(`${op}: lhs and rhs must have the same rank ≥ 2 (batch, feature, spatial…), got ${desc}`);
  }
  const dn = p.dimensionNumbers;
  checkPerm(op, "lhs", dn.lhs, r);
  checkPerm(op, "rhs", dn.rhs, r);
  checkPerm(op, "out", dn.out, r);
  checkPositiveInts(op, "windowStrides", p.windowStrides, s);
  checkPositiveInts(op, "lhsDilation", p.lhsDilation, s);
  checkPositiveInts(op, "rhsDilation", p.rhsDilation, s);
  checkPadding(op, p.padding, s);
  const g = p.featureGroupCount;
  if (!Number.isSafeInteger(g) || g < 1) {
    throw new ShapeError(`${op}: featureGroupCount must be a positive integer, got ${g}`);
  }
  const dim = (a: Aval, d: number) => a.shape[d] as number;
  const [lb, lf] = dn.lhs as [number, number];
  const [ro, ri] = dn.rhs as [number, number];
  const c = dim(lhs, lf);
  const o = dim(rhs, ro);
  if (c % g !== 0) {
    throw new ShapeError(
      `${op}: the ${c} input features of lhs (dim ${lf}) are not divisible by featureGroupCount ${g}; ${desc}`,
    );
  }
  if (c / g !== dim(rhs, ri)) {
    throw new ShapeError(
      `${op}: lhs has ${c} input features (dim ${lf}) / featureGroupCount ${g} = ${c / g}, but rhs has ${dim(rhs, ri)} (dim ${ri}); ${desc}`,
    );
  }
  if (o % g !== 0) {
    throw new ShapeError(
      `${op}: the ${o} output features of rhs (dim ${ro}) are not divisible by featureGroupCount ${g}; ${desc}`,
    );
  }
  const spatial = range(s).map((i) => {
    const n = dim(lhs, dn.lhs[2 + i] as number);
    const k = dim(rhs, dn.rhs[2 + i] as number);
    const [lo, hi] = p.padding[i] as [number, number];
    const padded = dilateDim(n, p.lhsDilation[i] as number) + lo + hi;
    const window = dilateDim(k, p.rhsDilation[i] as number);
    if (window > padded) {
      throw new ShapeError(
        `${op}: spatial dim ${i}: the kernel spans ${window} (size ${k}, dilation ${p.rhsDilation[i]}; rhs dim ${dn.rhs[2 + i]}) but the padded input only ${padded} (size ${n}, dilation ${p.lhsDilation[i]}, padding [${lo}, ${hi}]; lhs dim ${dn.lhs[2 + i]}); ${desc}`,
      );
    }
    return windowOutputSize(padded, window, p.windowStrides[i] as number);
  });
  const shape = new Array<number>(r);
  shape[dn.out[0] as number] = dim(lhs, lb);
  shape[dn.out[1] as number] = o;
  spatial.forEach((n, i) => {
    shape[dn.out[2 + i] as number] = n;
  });
  return shape;
}

export const windowPrimitives: PrimitiveTable<WindowPrimitive> = {
  reduce_window: {
    abstractEval(avals, params) {
      checkArity("reduce_window", avals, 2);
      const [x, init] = avals as [Aval, Aval];
      if (init.shape.length !== 0 || init.dtype !== x.dtype) {
        throw new DTypeError(
          `reduce_window: the init value must be a scalar of the operand's dtype, got ${fmtAval(init)} for ${fmtAval(x)}`,
        );
      }
      if (!["sum", "max", "min"].includes(params.op)) {
        throw new ShapeError(`reduce_window: op must be "sum", "max" or "min", got ${JSON.stringify(params.op)}`);
      }
      checkDTypeIn("reduce_window", x, NUMERIC, "convert bool arrays to int32 first");
      return [aval(reduceWindowShape(x, params), x.dtype, x.weakType)];
    },
    jvp: reduceWindowJvp,
    batch: reduceWindowBatch,
    transpose: reduceWindowTranspose,
    lowering: {
      kind: "loads",
      // Loops: output dims, then one window loop per dim (the reduction). Padding and
      // base-dilation holes read the init value, which also seeds the result once: op(acc, init).
      kernel([x, init], p) {
        const xi = x as LoweringInput;
        const r = xi.aval.shape.length;
        const dtype = xi.aval.dtype;
        const conds: Expr[] = [];
        // A dim the window does not touch (size 1, stride 1, no padding or dilation) is read at
        // its output loop: a plain strided loop, so the kernel can run lanes along it.
        const plain = (d: number) =>
          p.windowDimensions[d] === 1 &&
          p.windowStrides[d] === 1 &&
          p.baseDilation[d] === 1 &&
          (p.padding[d] as [number, number]).every((x) => x === 0);
        const at = range(r).map((d) => {
          if (plain(d)) return index(d);
          const w = windowPosition(
            d,
            r + d,
            p.windowStrides[d] as number,
            p.windowDilation[d] as number,
            p.padding[d] as [number, number],
            p.baseDilation[d] as number,
            xi.shape[d] as Expr,
          );
          conds.push(...w.conds);
          return w.at;
        });
        const inBounds = all(conds);
        const value = xi.at(at);
        const fill = (init as LoweringInput).at([]);
        return {
          expr: inBounds ? select(inBounds, value, fill) : value,
          reduce: { op: p.op, sizes: p.windowDimensions },
          post: binary(p.op === "sum" ? "add" : p.op, acc(dtype), fill),
        };
      },
    },
  },
  conv_general_dilated: {
    abstractEval(avals, params) {
      checkArity("conv_general_dilated", avals, 2);
      const [lhs, rhs] = avals as [Aval, Aval];
      if (lhs.dtype !== rhs.dtype) {
        throw new DTypeError(`conv_general_dilated: operand dtypes differ: lhs ${fmtAval(lhs)}, rhs ${fmtAval(rhs)}`);
      }
      checkDTypeIn("conv_general_dilated", lhs, NUMERIC, "convert bool arrays to int32 or float32 first");
      return [aval(convShape(lhs, rhs, params), lhs.dtype, lhs.weakType && rhs.weakType)];
    },
    jvp: convJvp,
    batch: convBatch,
    transpose: convTranspose,
    lowering: {
      kind: "loads",
      // Loops: the output dims (in the output's layout), then the kernel's spatial dims and the
      // input features of one group (the reduction). out[n, o, x…] = Σ_{k…, c} lhs[n, g·C_g + c,
      // x·stride + k·rhsDilation − lo (in lhs-dilated coordinates)] · rhs[o, c, k…] with
      // g = o / (O/G); out-of-range lhs positions read 0 (XLA's zero padding: 0·inf is NaN).
      kernel([lhs, rhs], p, out) {
        const l = lhs as LoweringInput;
        const k = rhs as LoweringInput;
        const s = p.windowStrides.length;
        const r = s + 2;
        const cLoop = r + s;
        const dn = p.dimensionNumbers;
        const [lb, lf] = dn.lhs as [number, number];
        const [ro, ri, ...rs] = dn.rhs as [number, number, ...number[]];
        const [ob, of, ...os] = dn.out as [number, number, ...number[]];
        const { conds, at } = convWindowIndex(
          l,
          p,
          os,
          range(s).map((i) => r + i),
        );
        // The input feature: c of this output feature's group, g·C_g + c.
        let feature: Expr = index(cLoop);
        if (p.featureGroupCount > 1) {
          const perGroup = binary("div", k.shape[ro] as Expr, i32(p.featureGroupCount));
          const group = binary("div", index(of), perGroup);
          feature = binary("add", feature, binary("mul", group, k.shape[ri] as Expr));
        }
        const lhsAt = range(r).map((): Expr => i32(0));
        lhsAt[lb] = index(ob);
        lhsAt[lf] = feature;
        dn.lhs.slice(2).forEach((d, i) => {
          lhsAt[d] = at[i] as Expr;
        });
        const rhsAt = range(r).map((): Expr => i32(0));
        rhsAt[ro] = index(of);
        rhsAt[ri] = index(cLoop);
        rs.forEach((d, i) => {
          rhsAt[d] = index(r + i);
        });
        const dtype = out.dtype;
        const inBounds = all(conds);
        const x = l.at(lhsAt);
        return {
          expr: binary("mul", inBounds ? select(inBounds, x, constant(0, dtype)) : x, k.at(rhsAt)),
          reduce: { op: "sum", sizes: [...rs.map((d) => k.dims[d] as IntExpr), k.dims[ri] as IntExpr] },
        };
      },
      asDot: (avals, p, out, strides) => convAsDot(avals, p, out, strides),
    },
  },
};
