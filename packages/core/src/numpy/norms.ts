/**
 * `np.linalg.norm` (vector and matrix norms), `np.cov` and `np.corrcoef`, as compositions of
 * reductions and one matmul.
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { floatResult } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { normalizeAxes } from "../shape.js";
import { atleast2d, diag } from "./assemble.js";
import { outer } from "./contractions.js";
import { convert, prepare } from "./convert.js";
import { abs, clip, divide, multiply, notEqual, power, sqrt, subtract } from "./elementwise.js";
import { concatenate } from "./join.js";
import { matmul } from "./linalg.js";
import { checkOptions } from "./options.js";
import { max, mean, min, sum } from "./reduce.js";
import { reshape, squeeze, transpose } from "./shape.js";

export type NormOrder = number | "fro" | "nuc" | null;

export interface NormOptions {
  /** The norm (numpy's ord): for vectors 2 (default), 1, Infinity, −Infinity, 0 or any p; for matrices "fro" (default), 1, −1, Infinity, −Infinity. */
  ord?: NormOrder;
  /** One axis (vector norms) or two (matrix norms); default: the whole array as a vector, or a 2-D array as a matrix. */
  axis?: number | readonly [number, number] | null;
  keepdims?: boolean;
}

/**
 * numpy's linalg.norm: `norm(x)`, `norm(x, ord)`, `norm(x, ord, axis)` or
 * `norm(x, { ord, axis, keepdims })`. Matrix norms 2, −2 and "nuc" need singular values, which
 * webjax does not compute yet: they are an error naming the alternatives.
 */
export function norm(
  x: ArrayLike,
  ord?: NormOrder | NormOptions,
  axis?: NormOptions["axis"],
  more: { keepdims?: boolean } = {},
): Array {
  return scoped(() => {
    const inline = ord !== null && typeof ord === "object";
    const o: NormOptions = inline ? ord : { ord: ord ?? null, axis: axis ?? null, keepdims: more.keepdims ?? false };
    checkOptions("norm", inline ? ord : more, inline ? ["ord", "axis", "keepdims"] : ["keepdims"]);
    const a0 = prepare("norm", [x])[0] as Array;
    const a = convert(a0, floatResult(a0.dtype));
    const keepdims = o.keepdims ?? false;
    const p = o.ord ?? null;
    let axes: number[];
    if (o.axis === null || o.axis === undefined) {
      if (p === null) {
        // The 2-norm of everything (numpy: Frobenius for 2-D, the same number).
        const r = sqrt(sum(multiply(abs(a), abs(a)), null, { keepdims }));
        return r;
      }
      if (a.ndim > 2) throw new ShapeError(`norm: ord ${String(p)} needs an axis for an array of rank ${a.ndim}`);
      axes = a.ndim === 0 ? [] : a.shape.map((_, d) => d);
    } else axes = normalizeAxes(o.axis as number | readonly number[], a.ndim, "norm");
    const m = abs(a);
    if (axes.length === 1 || a.ndim <= 1) {
      if (typeof p === "string")
        throw new ShapeError(`norm: ord "${p}" is a matrix norm; a vector norm takes a number`);
      const vp = p ?? 2;
      if (vp === Number.POSITIVE_INFINITY) return max(m, axes, { keepdims });
      if (vp === Number.NEGATIVE_INFINITY) return min(m, axes, { keepdims });
      if (vp === 0) return convert(sum(notEqual(a, 0), axes, { keepdims }), a.dtype);
      if (vp === 1) return sum(m, axes, { keepdims });
      if (vp === 2) return sqrt(sum(multiply(m, m), axes, { keepdims }));
      return power(sum(power(m, vp), axes, { keepdims }), 1 / vp);
    }
    if (axes.length !== 2) throw new ShapeError(`norm: axis must name one or two axes, got ${JSON.stringify(o.axis)}`);
    const [r, c] = axes as [number, number];
    const keep = (t: Array) =>
      keepdims
        ? reshape(
            t,
            a.shape.map((n, d) => (d === r || d === c ? 1 : n)),
          )
        : t;
    switch (p) {
      case null:
      case "fro":
        return sqrt(sum(multiply(m, m), axes, { keepdims }));
      case 1:
      case -1: {
        const cols = sum(m, r, { keepdims: true });
        return keep(squeezeBoth((p === 1 ? max : min)(cols, c, { keepdims: true }), r, c));
      }
      case Number.POSITIVE_INFINITY:
      case Number.NEGATIVE_INFINITY: {
        const rows = sum(m, c, { keepdims: true });
        return keep(squeezeBoth((p > 0 ? max : min)(rows, r, { keepdims: true }), r, c));
      }
      default:
        throw new ShapeError(
          `norm: the matrix norm ord=${JSON.stringify(p)} needs singular values, which webjax does not compute yet; ` +
            'use "fro", 1, -1, Infinity or -Infinity',
        );
    }
  });
}

function squeezeBoth(x: Array, r: number, c: number): Array {
  return squeeze(x, [r, c]);
}

export interface CovOptions {
  /** A second set of variables (rows, or columns with rowvar false), joined to the first. */
  y?: ArrayLike;
  /** Each row is a variable and each column an observation (default true). */
  rowvar?: boolean;
  /** Normalise by N instead of N − 1 (default false). */
  bias?: boolean;
  /** The delta degrees of freedom (overrides bias). */
  ddof?: number;
}

function variables(op: string, m: ArrayLike, rowvar: boolean): Array {
  const a0 = prepare(op, [m])[0] as Array;
  if (a0.ndim > 2) throw new ShapeError(`${op}: expects 1-D or 2-D data, got ${fmtAval(a0.aval)}`);
  const a = convert(atleast2d(a0), floatResult(a0.dtype));
  return !rowvar && a.shape[0] !== 1 ? transpose(a) : a;
}

/**
 * The covariance matrix of the variables in `m` (numpy's cov): Σ (x − x̄)(y − ȳ) / (N − ddof)
 * over the N observations. One variable gives a scalar.
 */
export function cov(m: ArrayLike, opts: CovOptions = {}): Array {
  return scoped(() => {
    checkOptions("cov", opts, ["y", "rowvar", "bias", "ddof"]);
    const rowvar = opts.rowvar ?? true;
    let x = variables("cov", m, rowvar);
    if (opts.y !== undefined) x = concatenate([x, variables("cov", opts.y, rowvar)], 0);
    const n = x.shape[1] as number;
    const ddof = opts.ddof ?? (opts.bias ? 0 : 1);
    const centered = subtract(x, mean(x, 1, { keepdims: true }));
    const c = divide(matmul(centered, transpose(centered)), Math.max(n - ddof, 0));
    return c.size === 1 ? reshape(c, []) : c;
  });
}

/** The Pearson correlation coefficients (numpy's corrcoef): cov / √(var_i · var_j), clipped to [−1, 1]. */
export function corrcoef(x: ArrayLike, opts: Omit<CovOptions, "bias" | "ddof"> = {}): Array {
  return scoped(() => {
    checkOptions("corrcoef", opts, ["y", "rowvar"]);
    const c = cov(x, opts);
    if (c.ndim === 0) return divide(c, c);
    const d = sqrt(diag(c));
    return clip(divide(c, outer(d, d)), -1, 1);
  });
}
