/**
 * Generators for the random-configuration gradient properties (rule-properties.test.ts):
 * seeded input values, window/convolution/gather/scatter/cumulative configurations.
 */
import { type Array as JArray, lax, np } from "@webjax/core";
import { rng } from "@webjax/test-utils";
import fc from "fast-check";

export const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 20);
export const TIMEOUT = 120_000;

export type Pair = [number, number];
export type Order = 1 | 2;
export const range = (n: number): number[] => globalThis.Array.from({ length: n }, (_, i) => i);
export const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);
export const dilate = (n: number, d: number): number => (n - 1) * d + 1;
export const int = (min: number, max: number) => fc.integer({ min, max });
export const seedArb = fc.integer({ min: 0, max: 0x7fffffff });
/** Second order in about one run of four (it costs several times a first-order check). */
export const orderArb = fc.constantFrom<Order>(1, 1, 1, 2);

export const fromValues = (vals: number[], shape: readonly number[]): JArray => np.array(vals).reshape([...shape]);

/** Uniform values in [−scale, scale]. */
export function uniform(shape: readonly number[], seed: number, scale = 1): JArray {
  const next = rng(seed);
  return fromValues(
    range(prod(shape)).map(() => scale * (2 * next() - 1)),
    shape,
  );
}

/** `n` distinct values 0.37 apart (a seeded permutation), so max/min never tie. */
export function distinctValues(n: number, seed: number): number[] {
  const next = rng(seed);
  const vals = range(n).map((i) => (i - n / 2) * 0.37 + 0.05);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [vals[i], vals[j]] = [vals[j] as number, vals[i] as number];
  }
  return vals;
}

export const distinct = (shape: readonly number[], seed: number): JArray =>
  fromValues(distinctValues(prod(shape), seed), shape);

/** ±[0.5, 1.5] with zeros at rate `zeros`: products stay moderate, and zeros are exercised. */
export function factors(shape: readonly number[], seed: number, zeros = 1 / 6): JArray {
  const next = rng(seed);
  return fromValues(
    range(prod(shape)).map(() => {
      const u = next();
      return u < zeros ? 0 : (next() < 0.5 ? -1 : 1) * (0.5 + next());
    }),
    shape,
  );
}

// ---------------------------------------------------------------------------------------------
// Window geometry shared by conv and reduce_window

export type PadMode = "pairs" | "SAME" | "VALID";

/** One spatial dim: input size, window, stride, padding, base (lhs) and window (rhs) dilation. */
export interface WindowDim {
  size: number;
  window: number;
  stride: number;
  pad: Pair;
  baseDilation: number;
  windowDilation: number;
}

/**
 * `rank` dims whose padded, base-dilated size holds the dilated window (so every output dim has
 * size ≥ 1): the input size is the least that fits plus 0…maxExtra. "SAME" always fits.
 */
export function windowDimsArb(
  mode: PadMode,
  rank: number,
  maxWindow: number,
  maxExtra: number,
): fc.Arbitrary<WindowDim[]> {
  const dim = fc
    .record({
      window: int(1, maxWindow),
      stride: int(1, 3),
      lo: int(-1, 2),
      hi: int(-1, 2),
      baseDilation: int(1, 2),
      windowDilation: int(1, 2),
      extra: int(0, maxExtra),
    })
    .map((d): WindowDim => {
      const pad: Pair = mode === "pairs" ? [d.lo, d.hi] : [0, 0];
      // (n − 1)·bd + 1 + lo + hi ≥ (w − 1)·wd + 1.
      const need = dilate(d.window, d.windowDilation) - pad[0] - pad[1];
      const least = mode === "SAME" ? 1 : Math.max(1, 1 + Math.ceil((need - 1) / d.baseDilation));
      return {
        size: least + d.extra,
        window: d.window,
        stride: d.stride,
        pad,
        baseDilation: d.baseDilation,
        windowDilation: d.windowDilation,
      };
    });
  return fc.array(dim, { minLength: rank, maxLength: rank });
}

export const padModeArb = fc.constantFrom<PadMode>("pairs", "pairs", "pairs", "SAME", "VALID");
export const paddingOf = (mode: PadMode, dims: readonly WindowDim[]): lax.Padding =>
  mode === "pairs" ? dims.map((d) => d.pad) : mode;

// ---------------------------------------------------------------------------------------------
// 1. conv_general_dilated

export const SPATIAL = ["W", "HW"];

export const permArb = (r: number) => fc.shuffledSubarray(range(r), { minLength: r, maxLength: r });

export const convArb = fc
  .record({ s: int(1, 2), mode: padModeArb })
  .chain(({ s, mode }) =>
    fc.record({
      s: fc.constant(s),
      mode: fc.constant(mode),
      dims: windowDimsArb(mode, s, 3, 3),
      batch: int(1, 2),
      groups: int(1, 2),
      inPerGroup: int(1, 2),
      outPerGroup: int(1, 2),
      perms: fc.tuple(permArb(s + 2), permArb(s + 2), permArb(s + 2)),
      seed: seedArb,
      order: orderArb,
    }),
  )
  .map((c) => {
    const sp = SPATIAL[c.s - 1] as string;
    // Logical letters in canonical order, shuffled into physical layouts.
    const specs = [`NC${sp}`, `OI${sp}`, `NC${sp}`].map((l, i) =>
      (c.perms[i] as number[]).map((j) => l[j]).join(""),
    ) as [string, string, string];
    // The spatial dims are ordered as the kernel spec names them (strides and padding follow it).
    const order = [...specs[1]].filter((ch) => sp.includes(ch));
    const place = (spec: string, letters: string[], sizes: number[]) => {
      const shape = new globalThis.Array<number>(c.s + 2);
      letters.forEach((ch, j) => {
        shape[spec.indexOf(ch)] = sizes[j] as number;
      });
      return shape;
    };
    const g = c.groups;
    return {
      lhsShape: place(specs[0], ["N", "C", ...order], [c.batch, g * c.inPerGroup, ...c.dims.map((d) => d.size)]),
      rhsShape: place(
        specs[1],
        ["O", "I", ...order],
        [g * c.outPerGroup, c.inPerGroup, ...c.dims.map((d) => d.window)],
      ),
      strides: c.dims.map((d) => d.stride),
      padding: paddingOf(c.mode, c.dims),
      opts: {
        lhsDilation: c.dims.map((d) => d.baseDilation),
        rhsDilation: c.dims.map((d) => d.windowDilation),
        dimensionNumbers: specs,
        featureGroupCount: g,
      },
      seed: c.seed,
      order: c.order,
    };
  });

// ---------------------------------------------------------------------------------------------
// 2. reduce_window

export const poolArb = fc
  .record({ r: int(1, 3), mode: padModeArb })
  .chain(({ r, mode }) =>
    fc.record({
      op: fc.constantFrom<"sum" | "max" | "min">("sum", "max", "min"),
      mode: fc.constant(mode),
      dims: windowDimsArb(mode, r, r === 3 ? 2 : 3, r === 3 ? 1 : 2),
      seed: seedArb,
      order: orderArb,
    }),
  )
  .map((c) => ({
    op: c.op,
    shape: c.dims.map((d) => d.size),
    window: c.dims.map((d) => d.window),
    strides: c.dims.map((d) => d.stride),
    padding: paddingOf(c.mode, c.dims),
    opts: { baseDilation: c.dims.map((d) => d.baseDilation), windowDilation: c.dims.map((d) => d.windowDilation) },
    seed: c.seed,
    order: c.order,
  }));

// ---------------------------------------------------------------------------------------------
// 3. gather and scatter_general

export interface GatherCase {
  shape: number[];
  indices: number[][];
  batch: number[];
  dims: lax.GatherDimensionNumbers;
  sliceSizes: number[];
  mode: "clip" | "fill";
  fillValue: number;
  seed: number;
  order: Order;
}

export const shapeArb = (maxRank: number, maxDim: number) =>
  fc.array(int(1, maxDim), { minLength: 1, maxLength: maxRank });
/** Index batch dims: mostly one or two (several starts, so duplicates and overlaps), sometimes none. */
export const batchArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant<number[]>([]) },
  { weight: 4, arbitrary: fc.array(int(1, 4), { minLength: 1, maxLength: 2 }) },
);

/** For each batch position, a start per mapped dim in [−2, n − size + 2] (in range and out of range). */
export const startsArb = (count: number, his: readonly number[]) =>
  fc.array(fc.tuple(...his.map((hi) => int(-2, hi + 2))), { minLength: count, maxLength: count });

export const gatherArb: fc.Arbitrary<GatherCase> = fc
  .record({ shape: shapeArb(3, 4), batch: batchArb })
  .chain(({ shape, batch }) => {
    const r = shape.length;
    return fc
      .record({
        startIndexMap: fc.shuffledSubarray(range(r), { minLength: 1 }),
        sliceSizes: fc.tuple(...shape.map((n) => int(1, n))),
        collapse: fc.array(fc.boolean(), { minLength: r, maxLength: r }),
        mode: fc.constantFrom<GatherCase["mode"]>("clip", "fill"),
        fillValue: fc.constantFrom(0, 2.5, -7),
        seed: seedArb,
        order: orderArb,
      })
      .chain((c) => {
        const collapsed = range(r).filter((d) => c.sliceSizes[d] === 1 && c.collapse[d]);
        const kept = r - collapsed.length;
        const his = c.startIndexMap.map((d) => (shape[d] as number) - (c.sliceSizes[d] as number));
        return fc
          .record({
            // A subarray keeps the order of range(): offsetDims come out sorted, as XLA wants.
            offsetDims: fc.subarray(range(batch.length + kept), { minLength: kept, maxLength: kept }),
            indices: startsArb(prod(batch), his),
          })
          .map(
            (d): GatherCase => ({
              shape,
              batch,
              indices: d.indices,
              dims: { offsetDims: d.offsetDims, collapsedSliceDims: collapsed, startIndexMap: c.startIndexMap },
              sliceSizes: c.sliceSizes,
              mode: c.mode,
              fillValue: c.fillValue,
              seed: c.seed,
              order: c.order,
            }),
          );
      });
  });

export type ScatterMode = "set" | "add" | "mul" | "min" | "max";

export interface ScatterCase {
  mode: ScatterMode;
  shape: number[];
  updateShape: number[];
  indices: number[][];
  batch: number[];
  dims: lax.ScatterDimensionNumbers;
  seed: number;
  order: Order;
}

export const scatterArb: fc.Arbitrary<ScatterCase> = fc
  .record({ shape: shapeArb(3, 4), batch: batchArb })
  .chain(({ shape, batch }) => {
    const r = shape.length;
    return fc
      .record({
        mode: fc.constantFrom<ScatterMode>("set", "add", "mul", "min", "max"),
        inserted: fc.subarray(range(r)),
        scatterDims: fc.shuffledSubarray(range(r), { minLength: 1 }),
        windowSizes: fc.tuple(...shape.map((n) => int(1, n))),
        seed: seedArb,
        order: orderArb,
      })
      .chain((c) => {
        const windowed = range(r).filter((d) => !c.inserted.includes(d));
        const size = (d: number) => (c.inserted.includes(d) ? 1 : (c.windowSizes[d] as number));
        const updRank = batch.length + windowed.length;
        const his = c.scatterDims.map((d) => (shape[d] as number) - size(d));
        return fc
          .record({
            updateWindowDims: fc.subarray(range(updRank), { minLength: windowed.length, maxLength: windowed.length }),
            indices: startsArb(prod(batch), his),
          })
          .map((d): ScatterCase => {
            const updateShape: number[] = [];
            let [b, w] = [0, 0];
            for (let i = 0; i < updRank; i++) {
              updateShape.push(d.updateWindowDims.includes(i) ? size(windowed[w++] as number) : (batch[b++] as number));
            }
            return {
              mode: c.mode,
              shape,
              updateShape,
              indices: d.indices,
              batch,
              dims: {
                updateWindowDims: d.updateWindowDims,
                insertedWindowDims: c.inserted,
                scatterDimsToOperandDims: c.scatterDims,
              },
              seed: c.seed,
              order: c.order,
            };
          });
      });
  });

/**
 * Points only (every operand dim inserted) and 4–10 starts over at most 9 elements: many
 * elements receive three or more updates, which the windowed cases above rarely reach (mul's
 * rule splits on the number of zeros among the others). Always to second order.
 */
export const crowdedScatterArb: fc.Arbitrary<ScatterCase> = fc
  .record({ shape: shapeArb(2, 3), count: int(4, 10) })
  .chain(({ shape, count }) =>
    fc.record({
      shape: fc.constant(shape),
      mode: fc.constantFrom<ScatterMode>("set", "add", "mul", "mul", "min", "max"),
      scatterDims: fc.shuffledSubarray(range(shape.length), { minLength: shape.length, maxLength: shape.length }),
      indices: fc.array(fc.tuple(...shape.map((n) => int(-1, n))), { minLength: count, maxLength: count }),
      seed: seedArb,
    }),
  )
  .map((c) => ({
    mode: c.mode,
    shape: c.shape,
    updateShape: [c.indices.length],
    // Index vector entry k addresses operand dim scatterDims[k].
    indices: c.indices.map((v) => c.scatterDims.map((d) => v[d] as number)),
    batch: [c.indices.length],
    dims: {
      updateWindowDims: [],
      insertedWindowDims: range(c.shape.length),
      scatterDimsToOperandDims: c.scatterDims,
    },
    seed: c.seed,
    order: 2 as const,
  }));

/** Operand and updates on which `mode` is differentiable (see the module comment). */
export function scatterInputs(c: ScatterCase): [JArray, JArray] {
  if (c.mode === "min" || c.mode === "max") {
    // Distinct across the operand and the updates: no ties among the contributors.
    const [n, m] = [prod(c.shape), prod(c.updateShape)];
    const vals = distinctValues(n + m, c.seed);
    return [fromValues(vals.slice(0, n), c.shape), fromValues(vals.slice(n), c.updateShape)];
  }
  // mul: many zero updates, so elements get one, two or more of them (the cases of the rule).
  if (c.mode === "mul") return [factors(c.shape, c.seed), factors(c.updateShape, c.seed + 1, 0.4)];
  return [uniform(c.shape, c.seed), uniform(c.updateShape, c.seed + 1)];
}

export const scatterFns = {
  set: lax.scatter,
  add: lax.scatterAdd,
  mul: lax.scatterMul,
  min: lax.scatterMin,
  max: lax.scatterMax,
} as const;

export const indexArray = (indices: number[][], batch: readonly number[], k: number): JArray =>
  np.array(indices.flat(), { dtype: "int32" }).reshape([...batch, k]);

// ---------------------------------------------------------------------------------------------
// 4. cumulative reductions

export type CumOp = "cumsum" | "cumprod" | "cummax" | "cummin";

export interface CumCase {
  op: CumOp;
  shape: number[];
  axis: number;
  reverse: boolean;
  api: "lax" | "np" | "np-flat";
  seed: number;
  order: Order;
}

export const cumArb: fc.Arbitrary<CumCase> = shapeArb(3, 5).chain((shape) =>
  fc.record({
    op: fc.constantFrom<CumOp>("cumsum", "cumprod", "cummax", "cummin"),
    shape: fc.constant(shape),
    axis: int(-shape.length, shape.length - 1),
    reverse: fc.boolean(),
    api: fc.constantFrom<CumCase["api"]>("lax", "lax", "np", "np-flat"),
    seed: seedArb,
    order: orderArb,
  }),
);

export function cumulative(c: Pick<CumCase, "op" | "axis" | "reverse" | "api">): (x: JArray) => JArray {
  if (c.api === "lax") return (x) => lax[c.op](x, { axis: c.axis, reverse: c.reverse });
  const axis = c.api === "np" ? c.axis : null;
  return (x) => np[c.op](x, { axis, reverse: c.reverse });
}

/** Inputs on which `op` is differentiable and well scaled. */
export function cumInput(op: CumOp, shape: readonly number[], seed: number): JArray {
  if (op === "cumprod") return factors(shape, seed);
  return op === "cumsum" ? uniform(shape, seed) : distinct(shape, seed);
}

// ---------------------------------------------------------------------------------------------
// 5. sorting and gathers along an axis
