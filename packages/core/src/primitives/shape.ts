import type { Array } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { fmtShape, ShapeError } from "../errors.js";
import { broadcastInDimView, reshapeView, revView, sliceView, transposeView } from "../ir/view.js";
import { zeros } from "../numpy/creation.js";
import { sizeOf } from "../shape.js";
import { linearJvp, unaryTranspose } from "./ad-util.js";
import { afterRemoving, front, only, shiftAxis } from "./batch-util.js";
import { checkArity } from "./checks.js";
import type { PrimitiveTable, ViewPrimitive } from "./types.js";

const one = (op: string, avals: readonly Aval[]): Aval => {
  checkArity(op, avals, 1);
  return avals[0] as Aval;
};

function checkPermutation(op: string, perm: readonly number[], ndim: number): void {
  const ok = perm.length === ndim && [...perm].sort((a, b) => a - b).every((p, i) => p === i);
  if (!ok) throw new ShapeError(`${op}: ${JSON.stringify(perm)} is not a permutation of the ${ndim} axes`);
}

/** Movement primitives. Eagerly each is a strided view over the same buffer (no copy). */
export const viewPrimitives: PrimitiveTable<ViewPrimitive> = {
  reshape: {
    abstractEval(avals, { newShape }) {
      const x = one("reshape", avals);
      if (sizeOf(newShape) !== sizeOf(x.shape)) {
        throw new ShapeError(
          `reshape: cannot reshape ${fmtAval(x)} (${sizeOf(x.shape)} elements) to ${fmtShape(newShape)}`,
        );
      }
      return [aval(newShape, x.dtype, x.weakType)];
    },
    lowering: { kind: "view", view: (v, p) => reshapeView(v, p.newShape) },
    batch: (args, dims, p, size) => {
      const [x, d] = only(args, dims);
      return [[bind1("reshape", [front(x, d, size)], { newShape: [size, ...p.newShape] })], [0]];
    },
    jvp: linearJvp("reshape"),
    transpose: unaryTranspose("reshape", (ct, x) => bind1("reshape", [ct], { newShape: x.shape })),
  },
  transpose: {
    abstractEval(avals, { perm }) {
      const x = one("transpose", avals);
      checkPermutation("transpose", perm, x.shape.length);
      return [
        aval(
          perm.map((p) => x.shape[p] as number),
          x.dtype,
          x.weakType,
        ),
      ];
    },
    lowering: { kind: "view", view: (v, p) => transposeView(v, p.perm) },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      const perm = p.perm.map((a) => shiftAxis(a, d));
      perm.splice(d, 0, d);
      return [[bind1("transpose", [x], { perm })], [d]];
    },
    jvp: linearJvp("transpose"),
    transpose: unaryTranspose("transpose", (ct, _x, p) => bind1("transpose", [ct], { perm: inversePerm(p.perm) })),
  },
  broadcast_in_dim: {
    abstractEval(avals, { shape, broadcastDimensions: dims }) {
      const x = one("broadcast_in_dim", avals);
      const bad =
        dims.length !== x.shape.length ||
        dims.some(
          (d, i) => !Number.isInteger(d) || d < 0 || d >= shape.length || (i > 0 && d <= (dims[i - 1] as number)),
        ) ||
        x.shape.some((n, i) => n !== 1 && n !== shape[dims[i] as number]);
      if (bad) {
        throw new ShapeError(
          `broadcast_in_dim: cannot broadcast ${fmtAval(x)} to ${fmtShape(shape)} with dimensions ${JSON.stringify(dims)}`,
        );
      }
      return [aval(shape, x.dtype, x.weakType)];
    },
    lowering: { kind: "view", view: (v, p) => broadcastInDimView(v, p.shape, p.broadcastDimensions) },
    batch: (args, dims, p, size) => {
      const [x, d] = only(args, dims);
      const params = {
        shape: [size, ...p.shape],
        broadcastDimensions: [0, ...p.broadcastDimensions.map((b) => b + 1)],
      };
      return [[bind1("broadcast_in_dim", [front(x, d, size)], params)], [0]];
    },
    jvp: linearJvp("broadcast_in_dim"),
    transpose: unaryTranspose("broadcast_in_dim", (ct, x, p) => {
      // Sum over every output axis that is not an operand axis of size > 1, then restore the operand's shape.
      const kept = p.broadcastDimensions.filter((_, i) => x.shape[i] !== 1);
      const axes = p.shape.map((_, i) => i).filter((i) => !kept.includes(i));
      const summed = axes.length > 0 ? bind1("reduce_sum", [ct], { axes }) : ct;
      return bind1("reshape", [summed], { newShape: x.shape });
    }),
  },
  squeeze: {
    abstractEval(avals, { dimensions }) {
      const x = one("squeeze", avals);
      for (const d of dimensions) {
        if (x.shape[d] !== 1) throw new ShapeError(`squeeze: axis ${d} of ${fmtAval(x)} has size ${x.shape[d]}, not 1`);
      }
      return [
        aval(
          x.shape.filter((_, i) => !dimensions.includes(i)),
          x.dtype,
          x.weakType,
        ),
      ];
    },
    lowering: {
      kind: "view",
      view: (v, p) => ({
        shape: v.shape.filter((_, i) => !p.dimensions.includes(i)),
        strides: v.strides.filter((_, i) => !p.dimensions.includes(i)),
        offset: v.offset,
      }),
    },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      const dimensions = p.dimensions.map((a) => shiftAxis(a, d));
      return [[bind1("squeeze", [x], { dimensions })], [afterRemoving(d, dimensions)]];
    },
    jvp: linearJvp("squeeze"),
    transpose: unaryTranspose("squeeze", (ct, x) => bind1("reshape", [ct], { newShape: x.shape })),
  },
  slice: {
    abstractEval(avals, { start, limit, strides }) {
      const x = one("slice", avals);
      const n = x.shape.length;
      const bad =
        start.length !== n ||
        limit.length !== n ||
        strides.length !== n ||
        x.shape.some(
          (d, i) =>
            !((start[i] as number) >= 0 && (start[i] as number) <= (limit[i] as number) && (limit[i] as number) <= d) ||
            !((strides[i] as number) >= 1),
        );
      if (bad) {
        throw new ShapeError(
          `slice: start ${JSON.stringify(start)}, limit ${JSON.stringify(limit)}, strides ${JSON.stringify(strides)} ` +
            `do not fit ${fmtAval(x)}; expected 0 ≤ start ≤ limit ≤ size and strides ≥ 1 on every axis`,
        );
      }
      const shape = x.shape.map((_, i) =>
        Math.ceil(((limit[i] as number) - (start[i] as number)) / (strides[i] as number)),
      );
      return [aval(shape, x.dtype, x.weakType)];
    },
    lowering: { kind: "view", view: (v, p) => sliceView(v, p.start, p.limit, p.strides) },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      const ins = (v: readonly number[], k: number) => [...v.slice(0, d), k, ...v.slice(d)];
      const params = { start: ins(p.start, 0), limit: ins(p.limit, x.shape[d] as number), strides: ins(p.strides, 1) };
      return [[bind1("slice", [x], params)], [d]];
    },
    jvp: linearJvp("slice"),
    transpose: unaryTranspose("slice", (ct, x, p) => padZeros(ct, x.shape, p.start, p.strides)),
  },
  rev: {
    abstractEval(avals, { dimensions }) {
      const x = one("rev", avals);
      for (const d of dimensions) {
        if (!Number.isInteger(d) || d < 0 || d >= x.shape.length) {
          throw new ShapeError(`rev: axis ${d} is out of bounds for ${fmtAval(x)}`);
        }
      }
      return [x];
    },
    lowering: { kind: "view", view: (v, p) => revView(v, p.dimensions) },
    batch: (args, dims, p) => {
      const [x, d] = only(args, dims);
      return [[bind1("rev", [x], { dimensions: p.dimensions.map((a) => shiftAxis(a, d)) })], [d]];
    },
    jvp: linearJvp("rev"),
    transpose: unaryTranspose("rev", (ct, _x, p) => bind1("rev", [ct], p)),
  },
};

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new globalThis.Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/**
 * The transpose of `slice`: `x` placed at `start` with `strides − 1` zeros between its elements,
 * inside zeros of `shape` (XLA's pad with low, high and interior padding).
 */
export function padZeros(
  x: Array,
  shape: readonly number[],
  start: readonly number[],
  strides: readonly number[],
): Array {
  const opts = { dtype: x.dtype, ...(x.backendHint() ? { backend: x.backendHint()?.name } : {}) };
  if (x.size === 0) return zeros(shape, opts);
  let r = x;
  shape.forEach((n, ax) => {
    const s = strides[ax] as number;
    const m = r.shape[ax] as number;
    if (s > 1) {
      // [.., m, ..] → [.., m, s, ..] with zeros after each element → [.., m·s, ..] → keep (m − 1)·s + 1.
      const withAxis = (dims: readonly number[], k: number) => [...dims.slice(0, ax + 1), k, ...dims.slice(ax + 1)];
      const e = bind1("reshape", [r], { newShape: withAxis(r.shape, 1) });
      const z = zeros(withAxis(r.shape, s - 1), opts);
      const inter = bind1("concatenate", [e, z], { dimension: ax + 1 });
      const merged = bind1("reshape", [inter], {
        newShape: r.shape.map((d, i) => (i === ax ? d * s : d)),
      });
      r = bind1("slice", [merged], {
        start: r.shape.map(() => 0),
        limit: merged.shape.map((d, i) => (i === ax ? (m - 1) * s + 1 : d)),
        strides: r.shape.map(() => 1),
      });
    }
    const lo = start[ax] as number;
    const hi = n - lo - (r.shape[ax] as number);
    const piece = (w: number) =>
      zeros(
        r.shape.map((d, i) => (i === ax ? w : d)),
        opts,
      );
    const parts = [...(lo > 0 ? [piece(lo)] : []), r, ...(hi > 0 ? [piece(hi)] : [])];
    if (parts.length > 1) r = bind1("concatenate", parts, { dimension: ax });
  });
  return r;
}
