import { type Aval, aval, fmtAval } from "../core/aval.js";
import { fmtShape, ShapeError } from "../errors.js";
import { broadcastInDimView, reshapeView, revView, sliceView, transposeView } from "../ir/view.js";
import { sizeOf } from "../shape.js";
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
  },
};
