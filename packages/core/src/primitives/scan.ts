/**
 * Cumulative reductions (`cumsum`, `cumprod`, `cummax`, `cummin`) along one axis, optionally
 * reversed. Each is ONE fused reduction kernel per call, on every backend:
 *
 *   out[…, i, …] = ⊕_{j ∈ [0, n)} select(j ≤ i, x[…, j, …], identity)     (j ≥ i when reversed)
 *
 * That is O(n²) work per row, but deterministic (no atomics, the backend's fixed reduction order)
 * and a single dispatch. A log-depth (Blelloch / Hillis–Steele) scan over several kernels is
 * future performance work for long axes.
 */
import type { Array } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import { ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, load, select } from "../ir/expr.js";
import type { IntExpr, ReduceOp } from "../ir/kernel.js";
import { arange, full, onBackendOf, zeros } from "../numpy/creation.js";
import { add, multiply, notEqual, where } from "../numpy/elementwise.js";
import { jvp1, linearJvp, unaryTranspose } from "./ad-util.js";
import { ALL, checkArity, checkDTypeIn, NUMERIC } from "./checks.js";
import type { LoweringInput, Params, PrimitiveDef, PrimitiveTable, ScanPrimitive, Tangent } from "./types.js";

/** The identity of `op` in `dtype`: sum 0, prod 1, max −Inf (the least value), min +Inf (the greatest). */
export function identityOf(op: "sum" | "prod" | "max" | "min", dtype: DType): Expr {
  if (op === "sum") return constant(0, dtype);
  if (op === "prod") return constant(1, dtype);
  const least = op === "max";
  switch (dtype) {
    case "float32":
    case "float64":
    case "float16":
      return constant(least ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY, dtype);
    case "int32":
      return constant(least ? -2147483648 : 2147483647, dtype);
    case "uint32":
      return constant(least ? 0 : 4294967295, dtype);
    case "bool":
      return constant(least ? 0 : 1, dtype);
  }
}

/** Checks `axis` against the rank of `x` (primitives take normalised, non-negative axes). */
export function checkAxis(op: string, x: Aval, axis: number): void {
  if (!Number.isInteger(axis) || axis < 0 || axis >= x.shape.length) {
    throw new ShapeError(`${op}: axis ${axis} is out of bounds for ${fmtAval(x)}`);
  }
}

function cumulative<P extends ScanPrimitive>(
  name: P,
  op: "sum" | "prod" | "max" | "min",
  allowed: readonly DType[],
  ad: Pick<PrimitiveDef<P>, "jvp" | "transpose">,
): PrimitiveDef<P> {
  return {
    ...ad,
    abstractEval(avals, { axis }) {
      checkArity(name, avals, 1);
      const x = avals[0] as Aval;
      checkDTypeIn(name, x, allowed);
      checkAxis(name, x, axis);
      return [aval(x.shape, x.dtype, x.weakType)];
    },
    lowering: {
      kind: "loads",
      kernel(inputs, { axis, reverse }, out) {
        const x = inputs[0] as LoweringInput;
        const r = x.aval.shape.length;
        // Loops: the output's r dims, then j (loop r) running along `axis`; x is read at j there.
        const strides: IntExpr[] = [...x.strides.map((s, d) => (d === axis ? 0 : s)), x.strides[axis] ?? 0];
        const inWindow = binary(reverse ? "ge" : "le", index(r), index(axis));
        return {
          loads: [{ input: 0, offset: x.offset, strides }],
          expr: select(inWindow, load(0, out.dtype), identityOf(op, out.dtype)),
          reduce: { op: op satisfies ReduceOp, sizes: [x.dims[axis] ?? 0] },
        };
      },
    },
  };
}

export const scanPrimitives: PrimitiveTable<ScanPrimitive> = {
  cumsum: cumulative("cumsum", "sum", NUMERIC, {
    jvp: linearJvp("cumsum"),
    // The transpose of a prefix sum is the suffix sum (JAX's cumsum transpose): flip `reverse`.
    transpose: unaryTranspose("cumsum", (ct, _x, p) => bind1("cumsum", [ct], { axis: p.axis, reverse: !p.reverse })),
  }),
  cumprod: cumulative("cumprod", "prod", NUMERIC, { jvp: jvp1("cumprod", cumprodTangent) }),
  cummax: cumulative("cummax", "max", ALL, { jvp: jvp1("cummax", runningExtremumTangent) }),
  cummin: cumulative("cummin", "min", ALL, { jvp: jvp1("cummin", runningExtremumTangent) }),
};

type ScanParams = Params[ScanPrimitive];

/** int32 positions `from, from + 1, …` along `axis`, broadcast to `shape`. */
function iotaAlong(shape: readonly number[], axis: number, like: Array, from = 0): Array {
  const n = shape[axis] as number;
  const iota = arange(from, from + n, 1, { dtype: "int32", ...onBackendOf(like) });
  return bind1("broadcast_in_dim", [iota], { shape, broadcastDimensions: [axis] });
}

/** `x[start:limit]` along `axis`. */
function sliceAlong(x: Array, axis: number, start: number, limit: number): Array {
  return bind1("slice", [x], {
    start: x.shape.map((_, d) => (d === axis ? start : 0)),
    limit: x.shape.map((n, d) => (d === axis ? limit : n)),
    strides: x.shape.map(() => 1),
  });
}

/**
 * The tangent of cumprod as JAX gets it, by differentiating a log-depth (Hillis–Steele) prefix
 * product: for d = 1, 2, 4, … each step multiplies y_i by y_{i−d}, and its tangent is
 * ty_i·y_{i−d} + y_i·ty_{i−d}. Only products, slices and concatenations of known values meet
 * the tangent, so the rule is exact at zeros to every order (no division, no case split) and
 * transposes through mul, slice and concatenate. O(n log n) along the axis.
 */
function cumprodTangent(primals: readonly Array[], tangents: readonly Tangent[], _out: Array, p: ScanParams): Tangent {
  const t0 = tangents[0] ?? null;
  if (t0 === null) return null;
  const { axis, reverse } = p;
  const flip = (v: Array) => (reverse ? bind1("rev", [v], { dimensions: [axis] }) : v);
  let y = flip(primals[0] as Array);
  let t = flip(t0);
  const n = y.shape[axis] as number;
  const opts = { dtype: y.dtype, ...onBackendOf(y) };
  // v shifted by d along the axis, the first d entries filled with `fill`.
  const shifted = (v: Array, d: number, fill: number) =>
    bind1(
      "concatenate",
      [
        full(
          v.shape.map((m, k) => (k === axis ? d : m)),
          fill,
          opts,
        ),
        sliceAlong(v, axis, 0, n - d),
      ],
      {
        dimension: axis,
      },
    );
  for (let d = 1; d < n; d *= 2) {
    const ys = shifted(y, d, 1);
    t = add(multiply(t, ys), multiply(y, shifted(t, d, 0)));
    y = multiply(y, ys);
  }
  return flip(t);
}

/**
 * cummax/cummin: out_i takes the tangent of the element the scan took its value from, the first
 * element (in scan order) attaining it: the start of the run of equal outputs containing i.
 * Starts are where out changes (out_j ≠ out_{j−1}; a NaN output counts as a change, so a NaN
 * takes its own tangent); a running max of the start positions gives each output its source
 * index, and the tangent is gathered there (take_along_axis: linear in t, and transposable).
 * JAX differentiates its associative scan instead, which splits ties by halves in an order
 * set by the scan's tree; away from ties the rules agree.
 */
function runningExtremumTangent(
  primals: readonly Array[],
  tangents: readonly Tangent[],
  out: Array,
  { axis, reverse }: ScanParams,
): Tangent {
  const t = tangents[0] ?? null;
  if (t === null) return null;
  const n = out.shape[axis] as number;
  if (n <= 1 || primals[0]?.size === 0) return t;
  // Work in scan order (flip a reverse scan), then flip the gathered tangent back.
  const flip = (a: Array) => (reverse ? bind1("rev", [a], { dimensions: [axis] }) : a);
  const o = flip(out);
  const changed = notEqual(sliceAlong(o, axis, 1, n), sliceAlong(o, axis, 0, n - 1));
  const starts = where(changed, iotaAlong(changed.shape, axis, o, 1), 0);
  const first = zeros(
    o.shape.map((d, i) => (i === axis ? 1 : d)),
    { dtype: "int32", ...onBackendOf(o) },
  );
  const marks = bind1("concatenate", [first, starts], { dimension: axis });
  const source = bind1("cummax", [marks], { axis, reverse: false });
  return flip(bind1("take_along_axis", [flip(t), source], { axis }));
}
