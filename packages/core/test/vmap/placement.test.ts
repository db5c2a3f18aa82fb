/**
 * Where each batch rule puts the batch dim: rules move it only where their primitive needs it
 * (JAX's batchers), so a batch dim in the middle stays there through elementwise ops,
 * reductions, scans, sorts, views and one-sided dots and takes. Called on the registry directly.
 */
import { type Array as JArray, np } from "@webjax/core";
import { registry } from "@webjax/core/internal";
import { describe, expect, test } from "vitest";

type Dims = (number | null)[];
const B = 7;
const f32 = (...shape: number[]) => np.ones(shape);
const i32 = (...shape: number[]) => np.zeros(shape, "int32");

function run(prim: keyof typeof registry, args: JArray[], dims: Dims, params: object): [JArray[], Dims] {
  const rule = registry[prim].batch as (a: JArray[], d: Dims, p: object, s: number) => [JArray[], Dims];
  return rule(args, dims, params, B);
}

interface Row {
  prim: keyof typeof registry;
  args: () => JArray[];
  dims: Dims;
  params: object;
  want: Dims;
}

const rows: Row[] = [
  { prim: "sin", args: () => [f32(3, B, 4)], dims: [1], params: {}, want: [1] },
  { prim: "add", args: () => [f32(3, B), f32(3)], dims: [1, null], params: {}, want: [1] },
  { prim: "mul", args: () => [f32(B, 3), f32(3, B)], dims: [0, 1], params: {}, want: [0] },
  { prim: "reduce_sum", args: () => [f32(3, B, 4)], dims: [1], params: { axes: [0] }, want: [0] },
  { prim: "reduce_max", args: () => [f32(3, B, 4)], dims: [1], params: { axes: [1] }, want: [1] },
  { prim: "argmax", args: () => [f32(3, 4, B)], dims: [2], params: { axis: 0 }, want: [1] },
  { prim: "cumsum", args: () => [f32(3, B, 4)], dims: [1], params: { axis: 1, reverse: false }, want: [1] },
  { prim: "sort", args: () => [f32(3, B)], dims: [1], params: { axis: 0, descending: false }, want: [1, 1] },
  { prim: "top_k", args: () => [f32(B, 5)], dims: [0], params: { k: 2 }, want: [0, 0] },
  { prim: "top_k", args: () => [f32(5, B)], dims: [1], params: { k: 2 }, want: [0, 0] },
  { prim: "transpose", args: () => [f32(3, B, 4)], dims: [1], params: { perm: [1, 0] }, want: [1] },
  {
    prim: "slice",
    args: () => [f32(4, B)],
    dims: [1],
    params: { start: [1], limit: [3], strides: [1] },
    want: [1],
  },
  { prim: "rev", args: () => [f32(B, 4)], dims: [0], params: { dimensions: [0] }, want: [0] },
  { prim: "squeeze", args: () => [f32(1, 3, B)], dims: [2], params: { dimensions: [0] }, want: [1] },
  { prim: "concatenate", args: () => [f32(2, B), f32(3)], dims: [1, null], params: { dimension: 0 }, want: [1] },
  // One-sided dots: the batch dim is a free dim, nothing moves.
  {
    prim: "dot_general",
    args: () => [f32(2, 3, B), f32(3, 4)],
    dims: [2, null],
    params: { contracting: [[1], [0]], batch: [[], []] },
    want: [1],
  },
  {
    prim: "dot_general",
    args: () => [f32(2, 3), f32(3, B, 4)],
    dims: [null, 1],
    params: { contracting: [[1], [0]], batch: [[], []] },
    want: [1],
  },
  {
    prim: "dot_general",
    args: () => [f32(B, 2, 3), f32(3, 4, B)],
    dims: [0, 2],
    params: { contracting: [[1], [0]], batch: [[], []] },
    want: [0],
  },
  { prim: "take", args: () => [f32(5, B, 3), i32(4)], dims: [1, null], params: { axis: 0 }, want: [1] },
  { prim: "take", args: () => [f32(5, 3), i32(4, B)], dims: [null, 1], params: { axis: 0 }, want: [1] },
  {
    prim: "searchsorted",
    args: () => [f32(5), f32(3, B)],
    dims: [null, 1],
    params: { side: "left" },
    want: [1],
  },
  {
    prim: "reduce_window",
    args: () => [f32(4, B), np.zeros([])],
    dims: [1, null],
    params: {
      op: "sum",
      windowDimensions: [2],
      windowStrides: [1],
      padding: [[0, 0]],
      baseDilation: [1],
      windowDilation: [1],
    },
    want: [1],
  },
];

describe("batch dims stay where they are", () => {
  for (const r of rows) {
    test(`${r.prim} batched at ${JSON.stringify(r.dims)} → ${JSON.stringify(r.want)}`, () => {
      const args = r.args();
      const [outs, dims] = run(r.prim, args, r.dims, r.params);
      expect(dims).toEqual(r.want);
      outs.forEach((o, i) => {
        const d = dims[i];
        if (d !== null && d !== undefined) expect(o.shape[d]).toBe(B);
      });
      for (const x of [...args, ...outs]) x.dispose();
    });
  }
});
