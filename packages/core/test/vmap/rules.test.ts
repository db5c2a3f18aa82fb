/**
 * Every primitive's batch rule against an explicit loop + stack (checkVmap), with in/out axes
 * drawn at random (negative and null included), on every backend; and each rule dispatches as
 * many kernels at batch 1 as at batch 64 (relayout copies aside, which a size-1 batch dim can
 * make free; with them the counts are equal from batch 2 on), so no rule hides a loop.
 */
import { grad, type Array as JArray, lax, np, random, stopGradient, vmap } from "@webjax/core";
import { checkVmap, countDispatches, rng } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) > 20 ? 6 : 3;

interface Arg {
  shape: number[];
  /** Float data (default), or int32 in [lo, hi), or a bool mask, or a PRNG key. */
  kind?: "float" | "int" | "bool" | "key" | "sorted";
  lo?: number;
  hi?: number;
}

interface Case {
  name: string;
  args: Arg[];
  f: (...a: JArray[]) => JArray;
  /** Arguments that must stay unbatched (e.g. reduce_window's init). */
  fixed?: number[];
  /**
   * Why the batched rule copies a relayout once the batch is over 1 (at batch 1 a moved size-1
   * dim stays a view): a merge of the batch into a dim that no strided view expresses.
   */
  relayout?: string;
}

const F = (...shape: number[]): Arg => ({ shape });
const I = (lo: number, hi: number, ...shape: number[]): Arg => ({ shape, kind: "int", lo, hi });

const cases: Case[] = [
  { name: "sin", args: [F(3, 4)], f: np.sin },
  { name: "floor, isfinite", args: [F(3)], f: (x) => np.where(np.isfinite(x), np.floor(x.mul(3)), 0) },
  { name: "add", args: [F(2, 3), F(2, 3)], f: np.add },
  { name: "mul broadcast", args: [F(2, 3), F(3)], f: np.multiply },
  { name: "pow", args: [F(4), F(4)], f: (x, y) => np.power(np.abs(x).add(0.5), y) },
  { name: "greater + select", args: [F(3, 2), F(3, 2), F(3, 2)], f: (c, x, y) => np.where(c.greater(0), x, y) },
  { name: "int and, shift", args: [I(0, 64, 5), I(0, 5, 5)], f: (x, y) => np.bitwiseAnd(np.leftShift(x, y), 255) },
  { name: "astype", args: [F(4)], f: (x) => x.mul(10).astype("int32") },
  { name: "bitcast", args: [F(3)], f: (x) => lax.bitcastConvertType(x, "uint32") },
  { name: "sum axis", args: [F(3, 4, 2)], f: (x) => x.sum(1) },
  { name: "max, prod", args: [F(3, 4)], f: (x) => np.max(x, 0).add(np.prod(x, 1).sum()) },
  { name: "argmax", args: [F(3, 5)], f: (x) => np.argmax(x, 1) },
  { name: "cumsum, cummax", args: [F(3, 4)], f: (x) => np.cumsum(x, 1).add(lax.cummax(x, { axis: 1 })) },
  { name: "matmul", args: [F(2, 3), F(3, 4)], f: np.matmul },
  { name: "batched matmul", args: [F(2, 2, 3), F(2, 3, 2)], f: np.matmul },
  { name: "dot vector", args: [F(3), F(3, 2)], f: np.dot },
  { name: "reshape", args: [F(2, 6)], f: (x) => x.reshape([3, 4]) },
  { name: "transpose", args: [F(2, 3, 4)], f: (x) => np.transpose(x, [2, 0, 1]) },
  { name: "broadcast", args: [F(3, 1)], f: (x) => np.broadcastTo(x, [2, 3, 4]) },
  { name: "squeeze, expand", args: [F(3, 1)], f: (x) => np.expandDims(np.squeeze(x, 1), 0) },
  { name: "slice, flip", args: [F(5, 4)], f: (x) => np.flip(x.slice([1, 4], [null, null, 2]), 0) },
  { name: "concatenate", args: [F(2, 3), F(1, 3)], f: (x, y) => np.concatenate([x, y, x], 0) },
  { name: "take", args: [F(5, 3), I(-5, 5, 4)], f: (x, i) => np.take(x, i, { axis: 0, mode: "clip" }) },
  { name: "take axis 1", args: [F(2, 5), I(0, 5, 3)], f: (x, i) => x.at(i.reshape([3])).get() },
  { name: "take along axis", args: [F(3, 4), I(-4, 4, 3, 2)], f: (x, i) => np.takeAlongAxis(x, i, 1) },
  { name: "sort", args: [F(3, 5)], f: (x) => np.sort(x, { axis: 1 }) },
  { name: "argsort", args: [F(6)], f: (x) => np.argsort(x) },
  { name: "topK", args: [F(3, 6)], f: (x) => lax.topK(x, 2)[0] as JArray },
  { name: "searchsorted", args: [{ shape: [7], kind: "sorted" }, F(4)], f: (a, v) => np.searchsorted(a, v) },
  {
    name: "searchsorted right",
    args: [{ shape: [8], kind: "sorted" }, F(3, 2)],
    f: (a, v) => np.searchsorted(a, v, { side: "right" }),
  },
  { name: "dynamicSlice", args: [F(6, 3), I(-2, 7, 1)], f: (x, s) => lax.dynamicSlice(x, [s.reshape([]), 0], [3, 2]) },
  {
    name: "dynamicUpdateSlice",
    args: [F(6), F(2), I(-1, 7, 1)],
    f: (x, u, s) => lax.dynamicUpdateSlice(x, u, [s.reshape([])]),
  },
  { name: "scatter add", args: [F(5, 2), I(-6, 6, 4), F(4, 2)], f: (x, i, u) => x.at(i).add(u) },
  { name: "scatter max", args: [F(5), I(0, 5, 3), F(3)], f: (x, i, u) => x.at(i).max(u) },
  {
    name: "grad through take and scatter (negative indices)",
    args: [F(5, 2), I(-6, 6, 4), F(4, 2)],
    f: (x, i, u) => grad((v: JArray) => np.square(v.at(i).add(u.mul(v.at(i).get()))).sum())(x),
  },
  {
    name: "gather",
    args: [F(4, 5), I(0, 4, 3, 2)],
    f: (x, i) =>
      lax.gather(x, i, { offsetDims: [1], collapsedSliceDims: [0], startIndexMap: [0, 1] }, [1, 2], { mode: "clip" }),
  },
  {
    name: "scatterAdd",
    args: [F(4, 3), I(0, 4, 2, 1), F(2, 3)],
    f: (x, i, u) =>
      lax.scatterAdd(x, i, u, { updateWindowDims: [1], insertedWindowDims: [0], scatterDimsToOperandDims: [0] }),
  },
  {
    name: "max pool",
    args: [F(5, 4), F(1)],
    f: (x, init) => lax.reduceWindow(x, init.reshape([]).mul(0).sub(1e9), "max", [2, 2], [1, 2], "VALID"),
    fixed: [1],
  },
  { name: "sum pool", args: [F(6)], f: (x) => lax.reduceWindow(x, 0, "add", [3], [2], "SAME") },
  {
    name: "conv",
    args: [F(1, 2, 5, 4), F(3, 2, 2, 2)],
    f: (x, w) => lax.convGeneralDilated(x, w, [1, 1], "SAME"),
  },
  {
    name: "conv feature groups",
    args: [F(2, 4, 5), F(6, 2, 3)],
    f: (x, w) => lax.convGeneralDilated(x, w, [2], [[1, 1]], { featureGroupCount: 2 }),
    relayout:
      "the batched kernel's batch merges into its grouped output features ([B, G, O/G] → [G, B·O/G], as JAX reshapes it)",
  },
  { name: "threefry (normal)", args: [{ shape: [2], kind: "key" }], f: (k) => random.normal(k, [3]) },
  { name: "stopGradient", args: [F(3)], f: (x) => stopGradient(x).mul(x) },
];

function makeArg(a: Arg, shape: number[], seed: number): JArray {
  const next = rng(seed);
  const n = shape.reduce((s, d) => s * d, 1);
  switch (a.kind) {
    case "int":
      return np.array(
        Int32Array.from({ length: n }, () => (a.lo ?? 0) + Math.floor(next() * ((a.hi ?? 2) - (a.lo ?? 0)))),
        {
          shape,
        },
      );
    case "key": {
      const keys = random.split(random.key(seed % 1000), n / 2);
      return keys.reshape(shape);
    }
    case "sorted": {
      // Rows sorted along the last dim, with repeats.
      const last = shape[shape.length - 1] as number;
      const rows = n / last;
      const data: number[] = [];
      for (let r = 0; r < rows; r++) {
        const row = Array.from({ length: last }, () => Math.round(next() * 8) / 4 - 1).sort((p, q) => p - q);
        data.push(...row);
      }
      return np.array(Float32Array.from(data), { shape });
    }
    default:
      return np.array(
        Float32Array.from({ length: n }, () => Math.round((next() * 4 - 2) * 8) / 8),
        { shape },
      );
  }
}

/** The batched shape of an argument with the batch of `size` at `axis` (which counts from the end when negative). */
function batchedShape(shape: number[], axis: number, size: number): number[] {
  const r = shape.length + 1;
  const at = axis < 0 ? axis + r : axis;
  return [...shape.slice(0, at), size, ...shape.slice(at)];
}

/** A random batch axis for an argument (or null); keys and sorted rows are batched at their front. */
function axisArb(a: Arg, fixed: boolean): fc.Arbitrary<number | null> {
  if (fixed) return fc.constant(null);
  if (a.kind === "key" || a.kind === "sorted") return fc.constantFrom(null, 0);
  const r = a.shape.length + 1;
  return fc.oneof(fc.constant(null), fc.integer({ min: -r, max: r - 1 }));
}

function build(c: Case, axes: readonly (number | null)[], size: number, seed: number): JArray[] {
  return c.args.map((a, i) => {
    const ax = axes[i] ?? null;
    const shape = ax === null ? a.shape : a.kind === "key" ? [size, ...a.shape] : batchedShape(a.shape, ax, size);
    return makeArg(a, shape, seed + i * 7919);
  });
}

describe("vmap against a loop, per primitive", () => {
  for (const c of cases) {
    test(c.name, async () => {
      const axesArb = fc
        .tuple(...c.args.map((a, i) => axisArb(a, (c.fixed ?? []).includes(i))))
        .filter((axes) => axes.some((a) => a !== null));
      await fc.assert(
        fc.asyncProperty(axesArb, fc.constantFrom(0, -1), fc.integer({ min: 1, max: 1e6 }), async (axes, out, seed) => {
          const inAxes = axes;
          const args = build(c, inAxes, 3, seed);
          try {
            await checkVmap(c.f, args, { inAxes, outAxes: out, rtol: 1e-4, atol: 1e-4 });
          } finally {
            for (const x of args) x.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }
});

describe("no rule hides a loop over the batch", () => {
  for (const c of cases) {
    test(`${c.name}: the same kernels at batch 1 and 64`, async () => {
      const inAxes = c.args.map((_, i) => ((c.fixed ?? []).includes(i) ? null : 0));
      const count = async (size: number, exceptCopies = false) => {
        const args = build(c, inAxes, size, 17);
        // One materialising op after, so view-only rules count a kernel too.
        const n = await countDispatches(() => np.add(vmap(c.f, { inAxes })(...args), 0), { exceptCopies });
        for (const x of args) x.dispose();
        return n;
      };
      const one = await count(1, true);
      expect(await count(64, true)).toBe(one);
      // Copies too: none at any batch size but the named relayouts, which copy once from batch 2.
      expect(await count(1)).toBe(one);
      expect(await count(64)).toBe(c.relayout ? one + 1 : one);
      expect(await count(64)).toBe(await count(2));
      expect(one).toBeGreaterThan(0);
    });
  }
});
