/**
 * The jvp and transpose rules of the windowed primitives, after JAX's lax/windowed_reductions.py
 * and lax/convolution.py:
 *
 * - `reduce_window` sum is linear in (operand, init) jointly; the operand's transpose is another
 *   windowed sum of the cotangent, strided and padded as JAX's _reduce_window_sum_transpose_rule.
 * - `reduce_window` max/min: each output takes the tangent of the window element it chose
 *   (JAX's _reduce_window_chooser_jvp_rule, select-and-gather-add); see `chooserJvp`.
 * - `conv_general_dilated` is bilinear; each operand's transpose is again a convolution
 *   (_conv_general_dilated_transpose_lhs / _rhs), feature groups included.
 *
 * This module only imports types from window.ts (which imports it), so the cycle is harmless.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { array, eye, onBackendOf, zeros } from "../numpy/creation.js";
import { equal, logicalAnd, logicalOr, multiply, notEqual } from "../numpy/elementwise.js";
import { addT, isLinearInput, type JvpRule, jvp1, known, linearJvp, type TransposeRule, zerosOf } from "./ad-util.js";
import type { Tangent } from "./types.js";
import type { ConvDimensionNumbers, ConvParams, PadPairs, ReduceWindowParams } from "./window.js";

const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);
const prod = (xs: readonly number[]): number => xs.reduce((p, d) => p * d, 1);
/** `0 if d == 0 else 1 + dilation·(d − 1)` (JAX's dilate_dim). */
const dilated = (d: number, dilation: number): number => (d === 0 ? 0 : 1 + dilation * (d - 1));

function cast(x: Array, dtype: Aval["dtype"]): Array {
  return bind1("convert_element_type", [x], { newDtype: dtype, weakType: false });
}

/** Per spatial dim: the dilated operand, window and (stride-dilated) output sizes, and the low padding. */
function dilatedSizes(
  inShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  outShape: readonly number[],
  padding: PadPairs,
  lhsDilation: readonly number[],
  rhsDilation: readonly number[],
): { lhsD: number; rhsD: number; outD: number; lo: number }[] {
  return inShape.map((n, i) => ({
    lhsD: dilated(n, lhsDilation[i] as number),
    rhsD: dilated(window[i] as number, rhsDilation[i] as number),
    outD: dilated(outShape[i] as number, strides[i] as number),
    lo: (padding[i] as readonly [number, number])[0],
  }));
}

/**
 * JAX's _conv_general_vjp_lhs_padding: the padding under which a window pass over the
 * stride-dilated cotangent lands back on the operand's positions, [k̂ − lo − 1, …] per dim.
 */
function vjpLhsPadding(...args: Parameters<typeof dilatedSizes>): [number, number][] {
  return dilatedSizes(...args).map(({ lhsD, rhsD, outD, lo }) => {
    const before = rhsD - lo - 1;
    return [before, lhsD + rhsD - 1 - outD - before];
  });
}

/** JAX's _conv_general_vjp_rhs_padding. */
function vjpRhsPadding(...args: Parameters<typeof dilatedSizes>): [number, number][] {
  return dilatedSizes(...args).map(({ lhsD, rhsD, outD, lo }) => [lo, outD - lhsD + (rhsD - lo - 1)]);
}

// ---------------------------------------------------------------------------------------------
// reduce_window

/** The transpose of a windowed sum w.r.t. its operand (of shape `shape`): a windowed sum of the cotangent. */
function reduceWindowSumTranspose(ct: Array, shape: readonly number[], p: ReduceWindowParams): Array {
  if (ct.size === 0 || prod(shape) === 0) return zeros(shape, { dtype: ct.dtype, ...onBackendOf(ct) });
  const padding = vjpLhsPadding(
    shape,
    p.windowDimensions,
    p.windowStrides,
    ct.shape,
    p.padding,
    p.baseDilation,
    p.windowDilation,
  );
  const zero = zeros([], { dtype: ct.dtype, ...onBackendOf(ct) });
  // JAX pads the cotangent (interior stride − 1) and sums with strides = baseDilation; one
  // reduce_window does both (its base dilation and padding are that pad). The window of ones
  // is its own reversal, so it needs no flip.
  return bind1("reduce_window", [ct, zero], {
    op: "sum",
    windowDimensions: p.windowDimensions,
    windowStrides: p.baseDilation,
    padding,
    baseDilation: p.windowStrides,
    windowDilation: p.windowDilation,
  });
}

/**
 * Linear in (operand, init): out = Σ (window elements) + (holes and padding in the window + 1)·init.
 * The init's cotangent is Σ ct · that count, the count being the same windowed sum of zeros with init 1.
 */
export const reduceWindowTranspose: TransposeRule<"reduce_window"> = ([ct], [x, init], p) => {
  if (p.op !== "sum") throw new Error(`internal: reduce_window ${p.op} is not linear`);
  if (ct == null) return [null, null];
  const xAval = isLinearInput(x) ? x.aval : known(x, "reduce_window").aval;
  const ctX = isLinearInput(x) ? reduceWindowSumTranspose(ct, xAval.shape, p) : null;
  let ctInit: Tangent = null;
  if (isLinearInput(init)) {
    const one = array(1, { dtype: ct.dtype, ...onBackendOf(ct) });
    const counts = bind1("reduce_window", [zerosOf({ ...xAval, dtype: ct.dtype }, ct), one], p);
    ctInit = bind1("reduce_sum", [multiply(ct, counts)], { axes: range(ct.ndim) });
  }
  return [ctX, ctInit];
};

/**
 * For window element w (row-major over the window) of each output o: the flat index of the
 * operand element it reads, or −1 for padding and base-dilation holes. Shape [W, ...out].
 */
function windowSources(shape: readonly number[], outShape: readonly number[], p: ReduceWindowParams): Int32Array {
  const r = shape.length;
  const win = p.windowDimensions;
  const numWin = prod(win);
  const table = new Int32Array(numWin * prod(outShape));
  // Per dim d, window offset a and output position b: that dim's term of the flat index, or −1.
  const terms = range(r).map((d) => {
    const [n, m, bd] = [shape[d] as number, outShape[d] as number, p.baseDilation[d] as number];
    const inner = prod(shape.slice(d + 1));
    const lo = (p.padding[d] as readonly [number, number])[0];
    const t = new Int32Array((win[d] as number) * m);
    for (let a = 0; a < (win[d] as number); a++) {
      for (let b = 0; b < m; b++) {
        const pos = b * (p.windowStrides[d] as number) + a * (p.windowDilation[d] as number) - lo;
        const ok = pos >= 0 && pos % bd === 0 && pos / bd < n;
        t[a * m + b] = ok ? (pos / bd) * inner : -1;
      }
    }
    return t;
  });
  let k = 0;
  const w = new globalThis.Array<number>(r).fill(0);
  const walk = (d: number, acc: number): void => {
    if (d === r) {
      table[k++] = acc;
      return;
    }
    const m = outShape[d] as number;
    const t = terms[d] as Int32Array;
    for (let b = 0; b < m; b++) {
      const term = t[(w[d] as number) * m + b] as number;
      walk(d + 1, acc < 0 || term < 0 ? -1 : acc + term);
    }
  };
  for (let wi = 0; wi < numWin; wi++) {
    // w = the multi-index of window element wi (row-major).
    for (let d = r - 1, f = wi; d >= 0; d--) {
      w[d] = f % (win[d] as number);
      f = Math.floor(f / (win[d] as number));
    }
    walk(0, 0);
  }
  return table;
}

/**
 * max/min: out[o] takes the tangent of the first window element (row-major over the window)
 * equal to it (NaN matching NaN), or the init's tangent when no element of the window attains
 * it (the init, or padding/holes that read it, chose the result). The choice is made on the
 * primal values (a one-hot M[w, o] from a gather of the window elements by a static index
 * table); the tangent path is linear: the tangent's window patches — a convolution with an
 * identity kernel of W = prod(window) output features, which transposes to a convolution;
 * O(W²) work per output, fine for pooling windows — weighted by M and summed over w. Ties pick the first element in window order (JAX's
 * select-and-gather-add also gives the whole tangent to one tied element, which one being up to
 * XLA's reduction order). JAX's max/min pooling primitives have no init operand; the init's
 * tangent here follows from out = op(init, window elements) with the same tie rule.
 */
function chooserJvp(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  p: ReduceWindowParams,
): [Array[], Tangent[]] {
  const [x, init] = primals as [Array, Array];
  const [tx, tInit] = [tangents[0] ?? null, tangents[1] ?? null];
  const out = bind1("reduce_window", [x, init], p);
  if (out.size === 0) return [[out], [zerosOf(out.aval, out)]];
  const r = x.ndim;
  const outShape = out.shape;
  const numWin = prod(p.windowDimensions);
  const patchShape = [numWin, ...outShape];
  const sources = windowSources(x.shape, outShape, p);
  const opts = onBackendOf(x);
  const valid = array(
    Uint8Array.from(sources, (s) => (s >= 0 ? 1 : 0)),
    { shape: patchShape, dtype: "bool", ...opts },
  );
  const at = array(
    Int32Array.from(sources, (s) => Math.max(s, 0)),
    { shape: [sources.length], dtype: "int32", ...opts },
  );
  const flatX = bind1("reshape", [x], { newShape: [x.size] });
  const values = bind1("reshape", [bind1("take_along_axis", [flatX, at], { axis: 0 })], { newShape: patchShape });
  const target = bind1("broadcast_in_dim", [out], {
    shape: patchShape,
    broadcastDimensions: range(r).map((d) => d + 1),
  });
  const isNan = (a: Array) => notEqual(a, a);
  const hit = logicalAnd(valid, logicalOr(equal(values, target), logicalAnd(isNan(values), isNan(target))));
  const hitInt = cast(hit, "int32");
  const first = bind1("argmax", [hitInt], { axis: 0 });
  const any = bind1("reduce_max", [hitInt], { axes: [0] });
  const iota = bind1("broadcast_in_dim", [array(Int32Array.from(range(numWin)), { dtype: "int32", ...opts })], {
    shape: patchShape,
    broadcastDimensions: [0],
  });
  const expand = (a: Array) =>
    bind1("broadcast_in_dim", [a], { shape: patchShape, broadcastDimensions: range(r).map((d) => d + 1) });
  const chosen = cast(logicalAnd(equal(iota, expand(first)), notEqual(expand(any), 0)), x.dtype);
  let tOut: Tangent = null;
  if (tx !== null) {
    const patches = windowPatches(tx, p, numWin);
    tOut = bind1("reduce_sum", [multiply(patches, chosen)], { axes: [0] });
  }
  if (tInit !== null) {
    const initWins = cast(equal(any, 0), x.dtype);
    const spread = bind1("broadcast_in_dim", [tInit], { shape: outShape, broadcastDimensions: [] });
    tOut = addT(tOut, multiply(spread, initWins));
  }
  return [[out], [tOut]];
}

/**
 * The window patches of `t` as [W, ...out]: patches[w, o] = the element window position w of
 * output o reads (0 in padding and holes). A convolution of t (one batch, one feature, every dim
 * spatial) with the identity kernel [W, 1, ...window], so it is linear and transposes to a conv.
 */
function windowPatches(t: Array, p: ReduceWindowParams, numWin: number): Array {
  const r = t.ndim;
  const canon = range(r + 2);
  const kernel = bind1("reshape", [eye(numWin, undefined, { dtype: t.dtype, ...onBackendOf(t) })], {
    newShape: [numWin, 1, ...p.windowDimensions],
  });
  const lhs = bind1("reshape", [t], { newShape: [1, 1, ...t.shape] });
  const patches = bind1("conv_general_dilated", [lhs, kernel], {
    windowStrides: p.windowStrides,
    padding: p.padding,
    lhsDilation: p.baseDilation,
    rhsDilation: p.windowDilation,
    dimensionNumbers: { lhs: canon, rhs: canon, out: canon },
    featureGroupCount: 1,
  });
  return bind1("reshape", [patches], { newShape: patches.shape.slice(1) });
}

/**
 * A windowed product (`lax.reduceWindow(x, init, "mul", …)`): out = init · Π_w (x at window
 * position w, or init in padding and holes), from the window patches and a reduce_prod over the
 * window. Built of differentiable primitives (a convolution, a select, a product), so its
 * derivatives are exact at zeros to every order; O(W²) work per output, as the patches are.
 */
export function windowProduct(x: Array, init: Array, p: ReduceWindowParams): Array {
  const outShape = bind1("reduce_window", [x, init], { ...p, op: "sum" }).shape;
  const numWin = prod(p.windowDimensions);
  const patchShape = [numWin, ...outShape];
  const sources = windowSources(x.shape, outShape, p);
  const valid = array(
    Uint8Array.from(sources, (s) => (s >= 0 ? 1 : 0)),
    {
      shape: patchShape,
      dtype: "bool",
      ...onBackendOf(x),
    },
  );
  const spread = bind1("broadcast_in_dim", [init], { shape: patchShape, broadcastDimensions: [] });
  const factors = bind1("select", [valid, windowPatches(x, p, numWin), spread], {});
  const product = bind1("reduce_prod", [factors], { axes: [0] });
  return multiply(product, bind1("broadcast_in_dim", [init], { shape: outShape, broadcastDimensions: [] }));
}

export const reduceWindowJvp: JvpRule<"reduce_window"> = (primals, tangents, p) =>
  p.op === "sum" ? linearJvp("reduce_window")(primals, tangents, p) : chooserJvp(primals, tangents, p);

// ---------------------------------------------------------------------------------------------
// conv_general_dilated

const spatialOf = (a: { shape: readonly number[] }, spec: readonly number[]): number[] =>
  spec.slice(2).map((d) => a.shape[d] as number);
/** JAX's _conv_spec_transpose: swap the first two entries (batch ↔ feature, out ↔ in feature). */
const swapSpec = (spec: readonly number[]): number[] => [spec[1] as number, spec[0] as number, ...spec.slice(2)];

function conv(lhs: Array, rhs: Array, p: ConvParams): Array {
  return bind1("conv_general_dilated", [lhs, rhs], p);
}

/**
 * JAX's _conv_general_dilated_transpose_lhs: convolve the cotangent with the spatially reversed
 * kernel, its in/out features swapped (with G groups, the kernel's G output-feature groups are
 * moved into its input features first); strides and lhs dilation trade places.
 */
function convTransposeLhs(ct: Array, lhs: Aval, rhs: Array, p: ConvParams): Array {
  if (ct.size === 0 || prod(lhs.shape) === 0) return zerosOf(lhs, ct);
  const dn = p.dimensionNumbers;
  const s = p.windowStrides.length;
  const g = p.featureGroupCount;
  // The kernel as [O, I, spatial…].
  let k = bind1("transpose", [rhs], { perm: dn.rhs });
  const [o, i, ...ks] = k.shape as [number, number, ...number[]];
  if (g > 1) {
    k = bind1("reshape", [k], { newShape: [g, o / g, i, ...ks] });
    k = bind1("transpose", [k], { perm: [1, 0, ...range(s + 1).map((d) => d + 2)] });
    k = bind1("reshape", [k], { newShape: [o / g, g * i, ...ks] });
  }
  k = bind1("rev", [k], { dimensions: range(s).map((d) => d + 2) });
  const padding = vjpLhsPadding(
    spatialOf(lhs, dn.lhs),
    ks,
    p.windowStrides,
    spatialOf(ct, dn.out),
    p.padding,
    p.lhsDilation,
    p.rhsDilation,
  );
  const dims: ConvDimensionNumbers = { lhs: dn.out, rhs: [1, 0, ...range(s).map((d) => d + 2)], out: dn.lhs };
  return conv(ct, k, {
    windowStrides: p.lhsDilation,
    padding,
    lhsDilation: p.windowStrides,
    rhsDilation: p.rhsDilation,
    dimensionNumbers: dims,
    featureGroupCount: g,
  });
}

/**
 * JAX's _conv_general_dilated_transpose_rhs: a convolution of the input with the cotangent
 * (batch and feature roles swapped, contracting over the batch); strides and rhs dilation trade
 * places. JAX turns feature groups into batch groups there; we have no batch groups, so the G
 * feature groups of the input move into its batch dim instead ([G·N, C/G, …]) and the
 * convolution keeps G feature groups, which pairs group g of the input with group g of the
 * cotangent's features, as batch groups would.
 */
function convTransposeRhs(ct: Array, lhs: Array, rhs: Aval, p: ConvParams): Array {
  if (ct.size === 0 || prod(rhs.shape) === 0) return zerosOf(rhs, ct);
  const dn = p.dimensionNumbers;
  const s = p.windowStrides.length;
  const g = p.featureGroupCount;
  let l = lhs;
  let lhsSpec = swapSpec(dn.lhs);
  if (g > 1) {
    l = bind1("transpose", [l], { perm: dn.lhs });
    const [n, c, ...xs] = l.shape as [number, number, ...number[]];
    l = bind1("reshape", [l], { newShape: [n, g, c / g, ...xs] });
    l = bind1("transpose", [l], { perm: [1, 0, ...range(s + 1).map((d) => d + 2)] });
    l = bind1("reshape", [l], { newShape: [g * n, c / g, ...xs] });
    lhsSpec = [1, 0, ...range(s).map((d) => d + 2)];
  }
  const padding = vjpRhsPadding(
    spatialOf(lhs, dn.lhs),
    spatialOf(rhs, dn.rhs),
    p.windowStrides,
    spatialOf(ct, dn.out),
    p.padding,
    p.lhsDilation,
    p.rhsDilation,
  );
  return conv(l, ct, {
    windowStrides: p.rhsDilation,
    padding,
    lhsDilation: p.lhsDilation,
    rhsDilation: p.windowStrides,
    dimensionNumbers: { lhs: lhsSpec, rhs: swapSpec(dn.out), out: swapSpec(dn.rhs) },
    featureGroupCount: g,
  });
}

/** Bilinear: d conv(l, r) = conv(dl, r) + conv(l, dr). */
export const convJvp: JvpRule<"conv_general_dilated"> = jvp1("conv_general_dilated", ([l, r], [tl, tr], _out, p) =>
  addT(tl == null ? null : conv(tl, r as Array, p), tr == null ? null : conv(l as Array, tr, p)),
);

export const convTranspose: TransposeRule<"conv_general_dilated"> = ([ct], [l, r], p) => {
  if (ct == null) return [null, null];
  return [
    isLinearInput(l) ? convTransposeLhs(ct, l.aval, known(r, "conv_general_dilated"), p) : null,
    isLinearInput(r) ? convTransposeRhs(ct, known(l, "conv_general_dilated"), r.aval, p) : null,
  ];
};
