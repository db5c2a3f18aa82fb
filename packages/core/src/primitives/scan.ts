/**
 * Cumulative reductions (`cumsum`, `cumprod`, `cummax`, `cummin`) along one axis, optionally
 * reversed: out[…, i, …] = x[…, 0, …] ⊕ … ⊕ x[…, i, …] (from the end when reversed). Each is
 * the `scan` routine (ir/routine.ts): linear work on the CPU (a running accumulator), a
 * log-depth blocked scan on WebGPU; deterministic on both (no atomics, a fixed order).
 */
import type { Array } from "../array.js";
import { type Aval, aval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import type { DType } from "../dtype.js";
import { arange, full, onBackendOf, zeros } from "../numpy/creation.js";
import { add, multiply, notEqual, where } from "../numpy/elementwise.js";
import { jvp1, linearJvp, unaryTranspose } from "./ad-util.js";
import { only, shiftAxis } from "./batch-util.js";
import { ALL, aroundAxis, checkArity, checkAxis, checkDTypeIn, NUMERIC } from "./checks.js";
import type { Params, PrimitiveDef, PrimitiveTable, ScanPrimitive, Tangent } from "./types.js";

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
      kind: "routine",
      routine: ([x], { axis, reverse }) => ({
        spec: { name: "scan", op, dtype: (x as Aval).dtype, reverse },
        params: aroundAxis((x as Aval).shape, axis),
      }),
    },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      return [[bind1(name, [x], { axis: shiftAxis(p.axis, d), reverse: p.reverse })], [d]];
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
