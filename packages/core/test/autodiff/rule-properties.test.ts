/**
 * Property tests of the autodiff rules of the windowed, indexing and scan primitives: random
 * configurations of conv_general_dilated (layouts, groups, strides, padding, dilations),
 * reduce_window (sum/max/min), XLA's gather (clip/fill) and scatter (every mode), and the
 * cumulative reductions, plus random pipelines mixing them with elementwise ops. Each case is
 * checked both ways by checkGrads: jvp against central differences in float64 on the CPU, and
 * the vjp/jvp dot-product identity in float32 (to second order in some runs).
 *
 * Where a function is not differentiable at ties (max/min choices), the inputs are distinct,
 * well-separated values; duplicate scatter indices are kept in every mode, since with distinct
 * values they leave every mode differentiable (set is piecewise constant in the indices only).
 */
import { type Array as JArray, lax, np } from "@webjax/core";
import { checkGrads } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, test } from "vitest";
import { convNhwc } from "../window/reference.js";
import {
  type CumOp,
  convArb,
  crowdedScatterArb,
  cumArb,
  cumInput,
  cumulative,
  distinct,
  gatherArb,
  indexArray,
  int,
  type Order,
  orderArb,
  poolArb,
  prod,
  RUNS,
  range,
  scatterArb,
  scatterFns,
  scatterInputs,
  seedArb,
  shapeArb,
  TIMEOUT,
  uniform,
} from "./rule-arbitraries.js";

type SortCase =
  | { kind: "sort"; shape: number[]; axis: number | null; descending: boolean; seed: number; order: Order }
  | { kind: "topK"; shape: number[]; k: number; seed: number; order: Order }
  | {
      kind: "takeAlongAxis";
      shape: number[];
      axis: number;
      indexShape: number[];
      indices: number[];
      seed: number;
      order: Order;
    };

const sortArb: fc.Arbitrary<SortCase> = fc
  .record({ shape: shapeArb(3, 6), seed: seedArb, order: orderArb })
  .chain(({ shape, seed, order }) => {
    const r = shape.length;
    const last = shape[r - 1] as number;
    return fc.oneof(
      fc.record({
        kind: fc.constant("sort" as const),
        shape: fc.constant(shape),
        axis: fc.option(int(-r, r - 1), { nil: null }),
        descending: fc.boolean(),
        seed: fc.constant(seed),
        order: fc.constant(order),
      }),
      fc.record({
        kind: fc.constant("topK" as const),
        shape: fc.constant(shape),
        k: int(0, last),
        seed: fc.constant(seed),
        order: fc.constant(order),
      }),
      fc.record({ axis: int(0, r - 1), m: int(1, 4) }).chain(({ axis, m }) => {
        const indexShape = shape.map((n, d) => (d === axis ? m : n));
        const n = shape[axis] as number;
        // Negative indices wrap, out-of-range ones clamp (numpy's take_along_axis in JAX's "clip" mode).
        return fc
          .array(int(-n - 1, n), { minLength: prod(indexShape), maxLength: prod(indexShape) })
          .map((indices): SortCase => ({ kind: "takeAlongAxis", shape, axis, indexShape, indices, seed, order }));
      }),
    );
  });

function sortFn(c: SortCase): (x: JArray) => JArray {
  if (c.kind === "sort") return (x) => np.sort(x, { axis: c.axis, descending: c.descending });
  if (c.kind === "topK") return (x) => lax.topK(x, c.k)[0];
  const idx = np.array(c.indices, { dtype: "int32" }).reshape(c.indexShape);
  return (x) => np.takeAlongAxis(x, idx, c.axis);
}

// ---------------------------------------------------------------------------------------------
// 6. compositions: conv → random steps → (sum)

type Step =
  | { kind: "unary"; f: "tanh" | "sin" | "logistic" | "affine" }
  | { kind: "pool"; op: "sum" | "max" | "min"; window: number; stride: number; same: boolean }
  | { kind: "cum"; op: CumOp; axis: number; reverse: boolean }
  | { kind: "take"; axis: number; indices: number[] }
  | { kind: "scatter"; mode: "set" | "add" | "mul"; indices: number[]; sources: number[] }
  | { kind: "sort"; axis: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("unary" as const), f: fc.constantFrom("tanh", "sin", "logistic", "affine" as const) }),
  fc.record({
    kind: fc.constant("pool" as const),
    op: fc.constantFrom("sum", "max", "min" as const),
    window: int(1, 2),
    stride: int(1, 2),
    same: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("cum" as const),
    op: fc.constantFrom<CumOp>("cumsum", "cumprod", "cummax", "cummin"),
    axis: int(0, 3),
    reverse: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant("take" as const),
    axis: int(0, 3),
    indices: fc.array(int(-4, 4), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant("scatter" as const),
    mode: fc.constantFrom("set", "add", "mul" as const),
    indices: fc.array(int(-3, 3), { minLength: 1, maxLength: 3 }),
    sources: fc.array(int(-3, 3), { minLength: 3, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant("sort" as const), axis: int(0, 3) }),
);

const pipelineArb = fc.record({
  s: int(1, 2),
  batch: int(1, 2),
  size: int(3, 5),
  inC: int(1, 2),
  outC: int(1, 2),
  kernel: int(1, 3),
  stride: int(1, 2),
  same: fc.boolean(),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
  sum: fc.boolean(),
  seed: seedArb,
});

/** Applies one step to y (NHWC-like, every dim ≥ 1), keeping every dim ≥ 1. */
function applyStep(y: JArray, step: Step): JArray {
  const ax = (a: number) => a % y.ndim;
  switch (step.kind) {
    case "unary":
      if (step.f === "tanh") return np.tanh(y);
      if (step.f === "sin") return np.sin(y);
      if (step.f === "logistic") return lax.logistic(y);
      return y.mul(0.7).add(0.1);
    case "pool": {
      // Spatial dims only (not batch or channels); VALID only where the window fits.
      const spatial = (d: number) => d > 0 && d < y.ndim - 1;
      const window = y.shape.map((n, d) => (spatial(d) ? Math.min(step.window, n) : 1));
      const strides = y.shape.map((_, d) => (spatial(d) ? step.stride : 1));
      const init = step.op === "sum" ? 0 : step.op === "max" ? -Infinity : Infinity;
      return lax.reduceWindow(y, init, step.op, window, strides, step.same ? "SAME" : "VALID");
    }
    case "cum":
      return lax[step.op](step.op === "cumprod" ? np.tanh(y) : y, { axis: ax(step.axis), reverse: step.reverse });
    case "take":
      return np.take(y, np.array(step.indices, { dtype: "int32" }), { axis: ax(step.axis), mode: "promise_in_bounds" });
    case "scatter": {
      // Updates read rows of y itself (clamped), so both sides of the scatter carry tangents.
      const rows = step.sources.slice(0, step.indices.length);
      const u = np.take(y, np.array(rows, { dtype: "int32" }), { axis: 0, mode: "promise_in_bounds" }).mul(0.5);
      return y.at(step.indices)[step.mode](u);
    }
    case "sort":
      return np.sort(y, { axis: ax(step.axis) });
  }
}

// ---------------------------------------------------------------------------------------------

describe("gradient rules on random configurations (checkGrads both ways)", () => {
  test(
    "conv_general_dilated: random layouts, groups, strides, padding and dilations, in both operands",
    async () => {
      await fc.assert(
        fc.asyncProperty(convArb, async (c) => {
          const x = uniform(c.lhsShape, c.seed);
          const k = uniform(c.rhsShape, c.seed + 1, 0.5);
          await checkGrads((a, b) => convNhwc(a, b as JArray, c.strides, c.padding, c.opts), [x, k], {
            order: c.order,
            seed: c.seed,
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "reduce_window sum/max/min: random windows, strides, padding and dilations, in the operand and the init",
    async () => {
      await fc.assert(
        fc.asyncProperty(poolArb, async (c) => {
          // max/min: distinct values, and a finite init far from them (padding-only windows stay
          // finite for the finite differences, and never tie with an element).
          const x = c.op === "sum" ? uniform(c.shape, c.seed) : distinct(c.shape, c.seed);
          const init = np.array(c.op === "sum" ? 0.7 : c.op === "max" ? -100 : 100);
          await checkGrads(
            (v, i) => lax.reduceWindow(v, i as JArray, c.op, c.window, c.strides, c.padding, c.opts),
            [x, init],
            { order: c.order, seed: c.seed },
          );
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "gather (clip and fill): random dimension numbers, slice sizes, in-range and out-of-range starts",
    async () => {
      await fc.assert(
        fc.asyncProperty(gatherArb, async (c) => {
          const idx = indexArray(c.indices, c.batch, c.dims.startIndexMap.length);
          const opts = { mode: c.mode, fillValue: c.fillValue };
          await checkGrads((x) => lax.gather(x, idx, c.dims, c.sliceSizes, opts), [uniform(c.shape, c.seed)], {
            order: c.order,
            seed: c.seed,
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "scatter (set/add/mul/min/max): random dimension numbers, windows, duplicate and dropped starts",
    async () => {
      await fc.assert(
        fc.asyncProperty(scatterArb, async (c) => {
          const idx = indexArray(c.indices, c.batch, c.dims.scatterDimsToOperandDims.length);
          const [x, u] = scatterInputs(c);
          await checkGrads((a, b) => scatterFns[c.mode](a, idx, b as JArray, c.dims), [x, u], {
            order: c.order,
            seed: c.seed,
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "scatter (every mode) of many points onto few elements, to second order",
    async () => {
      await fc.assert(
        fc.asyncProperty(crowdedScatterArb, async (c) => {
          const idx = indexArray(c.indices, c.batch, c.dims.scatterDimsToOperandDims.length);
          const [x, u] = scatterInputs(c);
          await checkGrads((a, b) => scatterFns[c.mode](a, idx, b as JArray, c.dims), [x, u], {
            order: 2,
            seed: c.seed,
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "cumsum/cumprod/cummax/cummin: random shapes, axes (negative too), reverse, flattened",
    async () => {
      await fc.assert(
        fc.asyncProperty(cumArb, async (c) => {
          await checkGrads(cumulative(c), [cumInput(c.op, c.shape, c.seed)], { order: c.order, seed: c.seed });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "sort/topK (distinct values) and takeAlongAxis (wrapped and clamped indices): random shapes and axes",
    async () => {
      await fc.assert(
        fc.asyncProperty(sortArb, async (c) => {
          const x = c.kind === "takeAlongAxis" ? uniform(c.shape, c.seed) : distinct(c.shape, c.seed);
          await checkGrads(sortFn(c), [x], { order: c.order, seed: c.seed });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "compositions: conv → random elementwise, pooling, scans, takes, scatters and sorts → (sum)",
    async () => {
      await fc.assert(
        fc.asyncProperty(pipelineArb, async (c) => {
          const spatial = range(c.s).map(() => c.size);
          const x = uniform([c.batch, ...spatial, c.inC], c.seed);
          const w = uniform([...range(c.s).map(() => c.kernel), c.inC, c.outC], c.seed + 1, 0.5);
          const f = (a: JArray, b: JArray) => {
            const strides = range(c.s).map(() => c.stride);
            let y = convNhwc(a, b, strides, c.same ? "SAME" : "VALID");
            for (const step of c.steps) y = applyStep(y, step);
            return c.sum ? y.sum() : y;
          };
          await checkGrads((a, b) => f(a, b as JArray), [x, w], { seed: c.seed, fdTol: { rtol: 1e-5, atol: 1e-5 } });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
