/**
 * `lax` windowed routines: `reduceWindow` (pooling) and `convGeneralDilated`/`conv` (N-d
 * convolution), with XLA's semantics: explicit or "SAME"/"VALID" padding, strides, dilations,
 * dimension numbers and feature groups. Each runs as one fused reduction per output element.
 */
import { Array } from "./array.js";
import { scoped } from "./core/scope.js";
import { abstractEval, bind1 } from "./core/trace.js";
import type { DType } from "./dtype.js";
import { DTypeError, fmtShape, ShapeError } from "./errors.js";
import { backendOf, convert, promoteOnly, scalar } from "./numpy/convert.js";
import { checkOptions } from "./numpy/options.js";
import {
  type ConvDimensionNumbers,
  type ConvParams,
  checkPerm,
  checkPositiveInts,
  dilateDim,
  type PadPairs,
  type ReduceWindowParams,
} from "./primitives/window.js";
import { windowProduct } from "./primitives/window-ad.js";

export type { ConvDimensionNumbers };

/** "SAME" (output size ⌈n/stride⌉), "VALID" (no padding), or a [low, high] pair per spatial dim. */
export type Padding = "SAME" | "VALID" | PadPairs;

export interface ReduceWindowOptions {
  /** Dilation of the operand: `baseDilation − 1` holes (holding `init`) between elements. Default 1s. */
  readonly baseDilation?: readonly number[];
  /** Dilation of the window: it reads every `windowDilation`-th element. Default 1s. */
  readonly windowDilation?: readonly number[];
}

export interface ConvOptions {
  /** Dilation of the input (`lhsDilation − 1` zeros between elements: a transposed conv). Default 1s. */
  readonly lhsDilation?: readonly number[];
  /** Dilation of the kernel (atrous convolution). Default 1s. */
  readonly rhsDilation?: readonly number[];
  /**
   * Layouts as JAX's strings, e.g. `["NHWC", "HWIO", "NHWC"]` (the default for every rank) or
   * `["NCHW", "OIHW", "NCHW"]`: N batch, C feature, O/I output/input feature, any other letter
   * a spatial dim, matched by letter across the three (the kernel's order gives the order of
   * `windowStrides` and `padding`); or the dims directly as {@link ConvDimensionNumbers}.
   */
  readonly dimensionNumbers?: readonly [string, string, string] | ConvDimensionNumbers;
  /** Splits the input features into G groups, each convolved with its O/G kernels (G = C: depthwise). Default 1. */
  readonly featureGroupCount?: number;
}

const ones = (n: number): number[] => globalThis.Array.from({ length: n }, () => 1);
const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);

/**
 * Explicit [low, high] padding per dim. "SAME" splits as XLA does: total = max((⌈n/s⌉ − 1)·s +
 * w − n, 0), low = ⌊total/2⌋ (the extra element goes high); `w` is the dilated window size.
 */
function resolvePadding(
  op: string,
  inShape: readonly number[],
  window: readonly number[],
  strides: readonly number[],
  padding: Padding,
): PadPairs {
  if (padding === "VALID") return inShape.map(() => [0, 0] as const);
  if (padding === "SAME") {
    return inShape.map((n, d) => {
      const s = strides[d] as number;
      const total = Math.max((Math.ceil(n / s) - 1) * s + (window[d] as number) - n, 0);
      const lo = Math.floor(total / 2);
      return [lo, total - lo] as const;
    });
  }
  const ok =
    globalThis.Array.isArray(padding) &&
    padding.length === inShape.length &&
    padding.every((p) => globalThis.Array.isArray(p) && p.length === 2 && p.every((v) => Number.isSafeInteger(v)));
  if (!ok) {
    throw new ShapeError(
      `${op}: padding must be "SAME", "VALID" or ${inShape.length} [low, high] integer pairs, got ${JSON.stringify(padding)}`,
    );
  }
  return padding.map(([lo, hi]) => [lo, hi] as const);
}

/** `init` as a scalar of `dtype`; ±Infinity means the lowest/highest value of an integer dtype. */
function initScalar(op: string, init: number | Array, x: Array): Array {
  if (init instanceof Array) {
    if (init.ndim !== 0) throw new ShapeError(`${op}: init must be a scalar, got shape ${fmtShape(init.shape)}`);
    return convert(init, x.dtype, false);
  }
  const d: DType = x.dtype;
  let v = init;
  if (d === "int32" || d === "uint32") {
    const [min, max] = d === "int32" ? [-2147483648, 2147483647] : [0, 4294967295];
    if (v === Number.NEGATIVE_INFINITY) v = min;
    else if (v === Number.POSITIVE_INFINITY) v = max;
    else if (!Number.isInteger(v) || v < min || v > max) {
      throw new DTypeError(`${op}: init ${init} is not a ${d} value (±Infinity stand for the ${d} extremes)`);
    }
  }
  return scalar(v, d, false, backendOf([x]));
}

/** Zeros or `fill` in the output shape, for inputs with no elements (no kernel reads an empty buffer). */
function filled(fill: Array, shape: readonly number[]): Array {
  const b = bind1("broadcast_in_dim", [fill], { shape, broadcastDimensions: [] });
  return bind1("copy", [b], {});
}

/**
 * Reduces each window of `x` with `op` (XLA's ReduceWindow, lax.reduce_window): out[i] =
 * init ⊕ (⊕ over window positions w of x[i·stride + w·windowDilation − padLow]), where padding
 * and base-dilation holes read `init`. Output size per dim: max(0, ⌊(padded − window)/stride⌋ + 1)
 * with padded = dilate(n, baseDilation) + low + high and window = dilate(w, windowDilation),
 * dilate(n, d) = (n − 1)·d + 1. max/min propagate NaN; integer sums wrap.
 *
 * @example 2×2 max pooling with stride 2 of an NHWC image:
 *   `lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID")`
 */
export function reduceWindow(
  x: Array,
  init: number | Array,
  op: "add" | "sum" | "mul" | "prod" | "max" | "min",
  windowDimensions: readonly number[],
  windowStrides: readonly number[],
  padding: Padding,
  opts: ReduceWindowOptions = {},
): Array {
  return scoped(() => {
    const name = "reduceWindow";
    if (!(x instanceof Array)) throw new DTypeError(`${name}: x must be an Array`);
    const names = { add: "sum", sum: "sum", mul: "mul", prod: "mul", max: "max", min: "min" } as const;
    const kind = names[op as keyof typeof names] as (typeof names)[keyof typeof names] | undefined;
    if (kind === undefined) {
      throw new ShapeError(
        `${name}: op must be "add" (or "sum"), "mul" (or "prod"), "max" or "min" (lax.add, lax.mul, lax.max, lax.min), got ${JSON.stringify(op)}`,
      );
    }
    checkOptions(name, opts, ["baseDilation", "windowDilation"]);
    const r = x.ndim;
    const baseDilation = opts.baseDilation ?? ones(r);
    const windowDilation = opts.windowDilation ?? ones(r);
    const where = `for x of shape ${fmtShape(x.shape)}`;
    checkPositiveInts(name, "windowDimensions", windowDimensions, r, where);
    checkPositiveInts(name, "windowStrides", windowStrides, r, where);
    checkPositiveInts(name, "baseDilation", baseDilation, r, where);
    checkPositiveInts(name, "windowDilation", windowDilation, r, where);
    const window = windowDimensions.map((w, d) => dilateDim(w, windowDilation[d] as number));
    const params: ReduceWindowParams = {
      op: kind === "mul" ? "sum" : kind,
      windowDimensions: [...windowDimensions],
      windowStrides: [...windowStrides],
      padding: resolvePadding(name, x.shape, window, windowStrides, padding),
      baseDilation: [...baseDilation],
      windowDilation: [...windowDilation],
    };
    const fill = initScalar(name, init, x);
    if (x.size === 0) {
      const out = abstractEval("reduce_window", [x.aval, fill.aval], params)[0];
      return filled(fill, out?.shape ?? []);
    }
    return kind === "mul" ? windowProduct(x, fill, params) : bind1("reduce_window", [x, fill], params);
  });
}

/** JAX's conv_general_permutations: the dims of each spec as [batch/out-feature, feature/in-feature, spatial…]. */
function parseDimensionNumbers(
  op: string,
  specs: readonly [string, string, string],
  rank: number,
): ConvDimensionNumbers {
  const pairs = [
    ["N", "C"],
    ["O", "I"],
    ["N", "C"],
  ] as const;
  const names = ["lhs", "rhs", "out"];
  const spatialSets = specs.map((spec, i) => {
    const [a, b] = pairs[i] as readonly [string, string];
    const chars = [...spec];
    if (chars.length !== rank) {
      throw new ShapeError(
        `${op}: ${names[i]} spec "${spec}" has ${chars.length} letters for operands of rank ${rank}`,
      );
    }
    if (new Set(chars).size !== chars.length || chars.filter((c) => c === a).length !== 1 || !chars.includes(b)) {
      throw new ShapeError(
        `${op}: ${names[i]} spec "${spec}" must name each dim once, with exactly one "${a}" and one "${b}"`,
      );
    }
    return chars.filter((c) => c !== a && c !== b);
  });
  const rhsSpatial = spatialSets[1] as string[];
  for (const set of spatialSets) {
    if (set.length !== rhsSpatial.length || set.some((c) => !rhsSpatial.includes(c))) {
      throw new ShapeError(`${op}: dimension numbers ${JSON.stringify(specs)} must share the same spatial letters`);
    }
  }
  const perm = (spec: string, [a, b]: readonly [string, string]) => [
    spec.indexOf(a),
    spec.indexOf(b),
    ...rhsSpatial.map((c) => spec.indexOf(c)),
  ];
  return {
    lhs: perm(specs[0], pairs[0]),
    rhs: perm(specs[1], pairs[1]),
    out: perm(specs[2], pairs[2]),
  };
}

/** NHWC / HWIO / NHWC for any number of spatial dims. */
/** JAX's default layouts: NCHW input, OIHW kernel, NCHW output (in any rank: N C spatial…). */
function defaultDimensionNumbers(rank: number): ConvDimensionNumbers {
  const all = range(rank);
  return { lhs: all, rhs: all, out: all };
}

/**
 * N-d convolution (lax.conv_general_dilated, XLA's Convolution), as a cross-correlation:
 * out[n, o, x…] = Σ_{k…, c} lhs[n, g·C/G + c, x·stride + k·rhsDilation − padLow] · rhs[o, c, k…]
 * with g = ⌊o / (O/G)⌋ and G = featureGroupCount, positions counted in the lhs-dilated input,
 * zero padding. Layouts default to JAX's NCHW input, OIHW kernel, NCHW output; Flax's NHWC
 * is `dimensionNumbers: ["NHWC", "HWIO", "NHWC"]`. "SAME" padding
 * uses the undilated input and the dilated kernel size, as JAX. Operands are promoted to a
 * common dtype; integer convolutions wrap. Not supported: batch groups, preferred element type.
 *
 * @example 16 filters of 3×3 over RGB images: images [8,3,32,32], kernel [16,3,3,3] give [8,16,32,32]:
 *   `lax.convGeneralDilated(images, kernel, [1, 1], "SAME")`
 *   (NHWC images [8,32,32,3] and an HWIO kernel [3,3,3,16]: `{ dimensionNumbers: ["NHWC", "HWIO", "NHWC"] }`)
 */
export function convGeneralDilated(
  lhs: Array,
  rhs: Array,
  windowStrides: readonly number[],
  padding: Padding,
  opts: ConvOptions = {},
): Array {
  return scoped(() => {
    const name = "convGeneralDilated";
    if (!(lhs instanceof Array) || !(rhs instanceof Array)) throw new DTypeError(`${name}: lhs and rhs must be Arrays`);
    checkOptions(name, opts, ["lhsDilation", "rhsDilation", "dimensionNumbers", "featureGroupCount"]);
    const [a, b] = promoteOnly([lhs, rhs]) as [Array, Array];
    const r = a.ndim;
    const where = `for lhs of shape ${fmtShape(a.shape)} and rhs of shape ${fmtShape(b.shape)}`;
    if (r < 2 || b.ndim !== r) {
      throw new ShapeError(`${name}: lhs and rhs must have the same rank ≥ 2 (batch, feature, spatial…), ${where}`);
    }
    const s = r - 2;
    const dn = opts.dimensionNumbers;
    const dims =
      dn === undefined
        ? defaultDimensionNumbers(r)
        : globalThis.Array.isArray(dn)
          ? parseDimensionNumbers(name, dn as readonly [string, string, string], r)
          : (dn as ConvDimensionNumbers);
    checkPerm(name, "lhs", dims.lhs, r);
    checkPerm(name, "rhs", dims.rhs, r);
    checkPerm(name, "out", dims.out, r);
    const lhsDilation = opts.lhsDilation ?? ones(s);
    const rhsDilation = opts.rhsDilation ?? ones(s);
    checkPositiveInts(name, "windowStrides", windowStrides, s, where);
    checkPositiveInts(name, "lhsDilation", lhsDilation, s, where);
    checkPositiveInts(name, "rhsDilation", rhsDilation, s, where);
    const lhsSpatial = range(s).map((i) => a.shape[dims.lhs[2 + i] as number] as number);
    const window = range(s).map((i) =>
      dilateDim(b.shape[dims.rhs[2 + i] as number] as number, rhsDilation[i] as number),
    );
    const params: ConvParams = {
      windowStrides: [...windowStrides],
      padding: resolvePadding(name, lhsSpatial, window, windowStrides, padding),
      lhsDilation: [...lhsDilation],
      rhsDilation: [...rhsDilation],
      dimensionNumbers: { lhs: [...dims.lhs], rhs: [...dims.rhs], out: [...dims.out] },
      featureGroupCount: opts.featureGroupCount ?? 1,
    };
    if (a.size === 0 || b.size === 0) {
      const out = abstractEval("conv_general_dilated", [a.aval, b.aval], params)[0];
      return filled(scalar(0, a.dtype, a.weakType && b.weakType, backendOf([a])), out?.shape ?? []);
    }
    return bind1("conv_general_dilated", [a, b], params);
  });
}

/**
 * JAX's `lax.conv`: convolution of an NCHW input with an OIHW kernel (any number of spatial
 * dims), no dilation, one feature group — `convGeneralDilated(lhs, rhs, windowStrides,
 * padding)` with its default dimension numbers. For NHWC/HWIO pass `dimensionNumbers` to
 * {@link convGeneralDilated}.
 */
export function conv(lhs: Array, rhs: Array, windowStrides: readonly number[], padding: Padding): Array {
  return convGeneralDilated(lhs, rhs, windowStrides, padding);
}
