/**
 * Property tests of reductions: sum, prod, max, min, mean over every subset of axes (as sorted
 * lists, shuffled lists with negative axes, bare numbers, undefined/null), with and without
 * keepdims, in the three call forms; argmax/argmin along every axis (numpy: first index on
 * ties, NaN is the extreme); the empty-axis rules. Expected values come from refReduce.
 */
import { type Array, type Axis, np, type ReduceOptions, ShapeError } from "@webjax/core";
import { expectClose, refReduce } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  expectExact,
  floatArb,
  fmt,
  makeArray,
  type NumDType,
  shapeArb,
  size,
  storeAs,
  subsets,
  withArrays,
} from "./helpers.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 50;
const TIMEOUT = 60_000;

type ValueOp = "sum" | "prod" | "max" | "min" | "mean";

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;
const specials = fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0);

/** Values per op and dtype, chosen so that float32 results are exact (or, for mean, correctly rounded). */
function valueArb(op: ValueOp | "arg", dtype: NumDType): fc.Arbitrary<number> {
  const small = fc.integer({ min: -9, max: 9 });
  const full = fc.integer({ min: I32_MIN, max: I32_MAX });
  switch (op) {
    case "sum":
      // int32 sums wrap (order-independent mod 2^32); float32 small-int sums are exact.
      return dtype === "int32"
        ? fc.oneof({ arbitrary: small, weight: 3 }, { arbitrary: full, weight: 1 })
        : fc.oneof({ arbitrary: small, weight: 8 }, { arbitrary: specials, weight: 1 });
    case "prod":
      // int32 products wrap exactly (Math.imul); float32 ±2^k products are exact for ≤ 120 factors.
      return dtype === "int32"
        ? fc.oneof({ arbitrary: fc.integer({ min: -3, max: 3 }), weight: 4 }, { arbitrary: full, weight: 1 })
        : fc.constantFrom(0, 1, -1, 2, -2, 0.5, -0.5);
    case "max":
    case "min":
      return dtype === "int32"
        ? fc.oneof(
            { arbitrary: small, weight: 2 },
            { arbitrary: full, weight: 1 },
            { arbitrary: fc.constantFrom(I32_MIN, I32_MAX), weight: 1 },
          )
        : fc.oneof(
            { arbitrary: small, weight: 6 },
            { arbitrary: floatArb({ noNaN: true }), weight: 1 },
            { arbitrary: specials, weight: 1 },
          );
    case "mean":
      return dtype === "int32" ? fc.integer({ min: -1000, max: 1000 }) : small;
    case "arg":
      // Few distinct values: many ties. NaN only for floats.
      return dtype === "int32"
        ? fc.oneof(
            { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 4 },
            { arbitrary: fc.constantFrom(I32_MIN, I32_MAX), weight: 1 },
          )
        : fc.oneof(
            { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 6 },
            {
              arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
              weight: 1,
            },
          );
  }
}

interface Input {
  shape: number[];
  dtype: NumDType;
  values: number[];
}

function inputArb(op: ValueOp | "arg", shape: fc.Arbitrary<number[]> = shapeArb(4)): fc.Arbitrary<Input> {
  return fc
    .tuple(shape, fc.constantFrom<NumDType>("float32", "int32"))
    .chain(([s, dtype]) =>
      fc
        .array(valueArb(op, dtype), { minLength: size(s), maxLength: size(s) })
        .map((vs) => ({ shape: s, dtype, values: vs.map((v) => storeAs(v, dtype)) })),
    );
}

// ---------------------------------------------------------------------------------------------
// The ways to name a set of axes and to call a reduction.

interface AxisForm {
  arg: Axis;
  /** True when `arg` is omitted entirely (x.sum()). */
  omit: boolean;
  desc: string;
}

/** A random spelling of `axes` (sorted, distinct) for an array of rank `rank`, picked by `seed`. */
function axisForm(axes: readonly number[], rank: number, seed: number): AxisForm {
  const all = axes.length === rank;
  const choice = seed % (all ? 6 : 3);
  if (choice === 0) return { arg: [...axes], omit: false, desc: JSON.stringify(axes) };
  if (choice === 1) {
    // Shuffled, each axis negative or not (by the bits of the seed).
    const list = axes.map((a, i) => ((seed >> (i + 3)) & 1 ? a - rank : a));
    for (let i = list.length - 1; i > 0; i--) {
      const j = (seed >> (i + 8)) % (i + 1);
      [list[i], list[j]] = [list[j] as number, list[i] as number];
    }
    return { arg: list, omit: false, desc: JSON.stringify(list) };
  }
  if (choice === 2) {
    if (axes.length === 1) {
      const a = (seed >> 3) & 1 ? (axes[0] as number) - rank : (axes[0] as number);
      return { arg: a, omit: false, desc: String(a) };
    }
    return { arg: [...axes].reverse(), omit: false, desc: JSON.stringify([...axes].reverse()) };
  }
  if (choice === 3) return { arg: undefined, omit: false, desc: "undefined" };
  if (choice === 4) return { arg: null, omit: false, desc: "null" };
  return { arg: undefined, omit: true, desc: "(omitted)" };
}

type ReduceFn = (x: Array, axis?: Axis | ReduceOptions, opts?: ReduceOptions) => Array;
const npFns: Record<ValueOp, ReduceFn> = { sum: np.sum, prod: np.prod, max: np.max, min: np.min, mean: np.mean };

/** Calls reduction `op` on `x` in one of four spellings, picked by `seed`. */
function callReduce(op: ValueOp, x: Array, form: AxisForm, keepdims: boolean, seed: number): [Array, string] {
  const m = (a?: Axis | ReduceOptions, o?: ReduceOptions): Array => x[op](a, o);
  const kd = `keepdims: ${keepdims}`;
  if (form.omit) {
    if (!keepdims && seed % 2 === 0) return [m(), `x.${op}()`];
    return [m({ keepdims }), `x.${op}({ ${kd} })`];
  }
  switch (seed % 4) {
    case 0:
      return [m(form.arg, { keepdims }), `x.${op}(${form.desc}, { ${kd} })`];
    case 1:
      return [m({ axis: form.arg, keepdims }), `x.${op}({ axis: ${form.desc}, ${kd} })`];
    case 2:
      return [npFns[op](x, form.arg, { keepdims }), `np.${op}(x, ${form.desc}, { ${kd} })`];
    default:
      return keepdims
        ? [m(form.arg, { keepdims }), `x.${op}(${form.desc}, { ${kd} })`]
        : [m(form.arg), `x.${op}(${form.desc})`];
  }
}

// ---------------------------------------------------------------------------------------------
// References.

function refOp(op: Exclude<ValueOp, "mean">, dtype: NumDType): [(a: number, b: number) => number, number] {
  const nanMax = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
  const nanMin = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));
  if (dtype === "int32") {
    switch (op) {
      case "sum":
        return [(a, b) => (a + b) | 0, 0];
      case "prod":
        return [Math.imul, 1];
      case "max":
        return [Math.max, I32_MIN];
      case "min":
        return [Math.min, I32_MAX];
    }
  }
  switch (op) {
    case "sum":
      return [(a, b) => a + b, 0];
    case "prod":
      return [(a, b) => a * b, 1];
    case "max":
      return [nanMax, Number.NEGATIVE_INFINITY];
    case "min":
      return [nanMin, Number.POSITIVE_INFINITY];
  }
}

const keptShape = (shape: readonly number[], axes: readonly number[]) =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d));

/** Checks `op` over every subset of axes, both keepdims, random spellings (from `seeds`). */
async function checkEveryAxisSet(op: ValueOp, x: Input, seeds: readonly number[]): Promise<void> {
  const rank = x.shape.length;
  await withArrays(async (A) => {
    const a = A.t(makeArray(x.values, x.shape, x.dtype));
    let k = 0;
    for (const axes of subsets(rank)) {
      for (const keepdims of [false, true]) {
        const seed = seeds[k++ % seeds.length] as number;
        const form = axisForm(axes, rank, seed);
        const emptyAxis = axes.some((d) => x.shape[d] === 0);
        const ctx = `${x.dtype}${fmt(x.shape)}`;
        if ((op === "max" || op === "min") && emptyAxis) {
          let err: unknown;
          let desc = "";
          try {
            const [r, d] = callReduce(op, a, form, keepdims, seed >> 12);
            desc = d;
            A.t(r);
          } catch (e) {
            err = e;
          }
          expect(err, `${op} over empty axes ${JSON.stringify(axes)} of ${ctx} should throw ${desc}`).toBeInstanceOf(
            ShapeError,
          );
          continue;
        }
        const [r, desc] = callReduce(op, a, form, keepdims, seed >> 12);
        A.t(r);
        const what = `${desc} on ${ctx} = ${JSON.stringify(x.values)}`;
        if (op === "mean") {
          const [sums, outShape] = refReduce(x.values, x.shape, axes, (p, q) => p + q, 0);
          const count = axes.reduce((n, d) => n * (x.shape[d] as number), 1);
          expect(r.shape, `shape of ${what}`).toEqual(keepdims ? keptShape(x.shape, axes) : outShape);
          expect(r.dtype, `dtype of ${what}`).toBe("float32");
          await expectClose(
            r,
            sums.map((s) => Math.fround(s / count)),
            { rtol: 1e-6, atol: 0 },
          );
          continue;
        }
        const [f, init] = refOp(op, x.dtype);
        const [want, outShape] = refReduce(x.values, x.shape, axes, f, init);
        await expectExact(
          r,
          keepdims ? keptShape(x.shape, axes) : outShape,
          x.dtype,
          want.map((v) => storeAs(v, x.dtype)),
          what,
        );
      }
    }
  });
}

const seedsArb = fc.array(fc.nat(), { minLength: 32, maxLength: 32 });

describe.each<ValueOp>(["sum", "prod", "max", "min", "mean"])("%s over every axis subset", (op) => {
  // Float products stay exact only up to ~120 factors of ±2^±1.
  const shapes = op === "prod" ? shapeArb(4).filter((s) => size(s) <= 120) : shapeArb(4);

  test(
    "matches refReduce for all subsets of axes, keepdims on and off, float32 and int32",
    async () => {
      await fc.assert(
        fc.asyncProperty(inputArb(op, shapes), seedsArb, async (x, seeds) => {
          await checkEveryAxisSet(op, x, seeds);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("sum of arbitrary float32 values", () => {
  test(
    "is close to the float64 sum (rtol 1e-5)",
    async () => {
      const arb = fc
        .tuple(shapeArb(4), fc.array(fc.nat(), { minLength: 1, maxLength: 1 }))
        .chain(([s, seed]) =>
          fc.tuple(
            fc.constant(s),
            fc.array(floatArb({ min: -1000, max: 1000, noNaN: true }), { minLength: size(s), maxLength: size(s) }),
            fc.subarray(s.map((_, i) => i)),
            fc.constant(seed[0] as number),
          ),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ([shape, vs, axes, seed]) => {
          await withArrays(async (A) => {
            const values = vs.map(Math.fround);
            const x = A.t(makeArray(values, shape, "float32"));
            const form = axisForm(axes, shape.length, seed);
            const [r, desc] = callReduce("sum", x, form, false, seed >> 12);
            A.t(r);
            const [want, outShape] = refReduce(values, shape, axes, (p, q) => p + q, 0);
            const [absSums] = refReduce(values, shape, axes, (p, q) => p + Math.abs(q), 0);
            expect(r.shape, desc).toEqual(outShape);
            // Cancellation: the error bound scales with Σ|x|, not with |Σx|.
            await expectClose(r, want, { rtol: 1e-5, atol: 1e-5 * Math.max(0, ...absSums) + 1e-30 });
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("empty axes", () => {
  /** A shape with at least one zero dim, and a subset of axes containing one of them. */
  const emptyArb = fc
    .tuple(shapeArb(3), fc.nat(3), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
    .map(([rest, at, pick]) => {
      const pos = at % (rest.length + 1);
      const shape = [...rest.slice(0, pos), 0, ...rest.slice(pos)];
      const axes = shape.map((_, i) => i).filter((i) => i === pos || pick[i]);
      return { shape, axes };
    });

  test(
    "sum of an empty axis is 0, prod is 1, mean is NaN (with the right shape)",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          emptyArb,
          fc.constantFrom<NumDType>("float32", "int32"),
          fc.boolean(),
          async ({ shape, axes }, dtype, keepdims) => {
            await withArrays(async (A) => {
              const x = A.t(np.zeros(shape, { dtype }));
              const outShape = keepdims ? keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
              const n = size(outShape);
              await expectExact(
                A.t(x.sum(axes, { keepdims })),
                outShape,
                dtype,
                new globalThis.Array(n).fill(0),
                "sum",
              );
              await expectExact(
                A.t(x.prod(axes, { keepdims })),
                outShape,
                dtype,
                new globalThis.Array(n).fill(1),
                "prod",
              );
              await expectExact(
                A.t(x.mean(axes, { keepdims })),
                outShape,
                "float32",
                new globalThis.Array(n).fill(Number.NaN),
                "mean",
              );
            });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "sum/prod/mean over all axes of an empty array (axis undefined and null)",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          emptyArb,
          fc.constantFrom<NumDType>("float32", "int32"),
          fc.constantFrom(undefined, null),
          async ({ shape }, dtype, axis) => {
            await withArrays(async (A) => {
              const x = A.t(np.zeros(shape, { dtype }));
              await expectExact(A.t(x.sum(axis)), [], dtype, [0], "sum");
              await expectExact(A.t(x.prod(axis)), [], dtype, [1], "prod");
              await expectExact(A.t(x.mean(axis)), [], "float32", [Number.NaN], "mean");
              await expectExact(
                A.t(np.sum(x, { axis, keepdims: true })),
                shape.map(() => 1),
                dtype,
                [0],
                "sum keepdims",
              );
            });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test.each(["max", "min"] as const)(
    "%s over an empty axis throws ShapeError; over other axes it works",
    async (op) => {
      await fc.assert(
        fc.asyncProperty(
          emptyArb,
          fc.constantFrom<NumDType>("float32", "int32"),
          fc.constantFrom(0, 1, 2),
          async ({ shape, axes }, dtype, how) => {
            await withArrays(async (A) => {
              const x = A.t(np.zeros(shape, { dtype }));
              const arg: Axis = how === 0 ? axes : how === 1 ? undefined : null;
              let err: unknown;
              try {
                A.t(x[op](arg));
              } catch (e) {
                err = e;
              }
              expect(err, `${op}(${JSON.stringify(arg)}) of ${fmt(shape)}`).toBeInstanceOf(ShapeError);
              expect((err as Error).message).toContain(op);
              // Reducing only non-empty axes of an empty array is fine: an empty result.
              const nonEmpty = shape.map((_, i) => i).filter((i) => shape[i] !== 0);
              const r = A.t(x[op](nonEmpty));
              await expectExact(
                r,
                shape.filter((d) => d === 0),
                dtype,
                [],
                `${op}(${JSON.stringify(nonEmpty)})`,
              );
            });
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("invalid axes", () => {
  const reducers = ["sum", "prod", "max", "min", "mean", "argmax", "argmin"] as const;
  test.each(reducers)(
    "%s: an out-of-bounds, repeated or non-integer axis raises ShapeError",
    async (op) => {
      await fc.assert(
        fc.asyncProperty(shapeArb(4), fc.nat(), async (shape, seed) => {
          await withArrays(async (A) => {
            const rank = shape.length;
            const x = A.t(np.ones(shape));
            const bad: (number | number[])[] = [rank + (seed % 3), -rank - 1 - (seed % 3), 0.5];
            if (rank > 0 && op !== "argmax" && op !== "argmin") bad.push([0, -rank], [rank - 1, rank - 1]);
            for (const axis of bad) {
              let err: unknown;
              try {
                if (op === "argmax" || op === "argmin") A.t(x[op](axis as number));
                else A.t(x[op](axis));
              } catch (e) {
                err = e;
              }
              expect(err, `${op}(axis ${JSON.stringify(axis)}) on ${fmt(shape)}`).toBeInstanceOf(ShapeError);
            }
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// argmax / argmin.

/** numpy's argmax/argmin along `axis` (null: of the flattened array): first index; first NaN wins. */
function refArg(kind: "argmax" | "argmin", x: Input, axis: number | null): [number[], number[]] {
  const better = (cand: number, best: number) => {
    if (Number.isNaN(best)) return false;
    if (Number.isNaN(cand)) return true;
    return kind === "argmax" ? cand > best : cand < best;
  };
  // Reduce flat positions: refReduce visits them in row-major order, so along one axis in increasing index order.
  const flat = x.values.map((_, i) => i);
  const shape = axis === null ? [x.values.length] : x.shape;
  const ax = axis ?? 0;
  const [bestFlat, outShape] = refReduce(
    flat,
    shape,
    [ax],
    (best, cand) => (best < 0 || better(x.values[cand] as number, x.values[best] as number) ? cand : best),
    -1,
  );
  const stride = shape.slice(ax + 1).reduce((p, q) => p * q, 1);
  return [bestFlat.map((f) => Math.floor(f / stride) % (shape[ax] as number)), outShape];
}

describe.each(["argmax", "argmin"] as const)("%s", (kind) => {
  test(
    "first index of the extreme along every axis (negative too) and of the flattened array",
    async () => {
      await fc.assert(
        fc.asyncProperty(inputArb("arg"), fc.boolean(), async (x, useNp) => {
          await withArrays(async (A) => {
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const rank = x.shape.length;
            const axes: (number | null | undefined)[] = [undefined, null];
            for (let d = 0; d < rank; d++) axes.push(d, d - rank);
            for (const axis of axes) {
              for (const keepdims of [false, true]) {
                const norm = axis === undefined || axis === null ? null : axis < 0 ? axis + rank : axis;
                const empty = norm === null ? x.values.length === 0 : x.shape[norm] === 0;
                const desc = `${kind}(${x.dtype}${fmt(x.shape)} = ${JSON.stringify(x.values)}, axis ${axis}, keepdims ${keepdims})`;
                const call = () =>
                  useNp ? np[kind](a, axis, { keepdims }) : keepdims ? a[kind](axis, { keepdims }) : a[kind](axis);
                if (empty) {
                  let err: unknown;
                  try {
                    A.t(call());
                  } catch (e) {
                    err = e;
                  }
                  expect(err, `${desc} should throw`).toBeInstanceOf(ShapeError);
                  continue;
                }
                const r = A.t(call());
                const [want, outShape] = refArg(kind, x, norm);
                const shape = keepdims
                  ? norm === null
                    ? x.shape.map(() => 1)
                    : keptShape(x.shape, [norm])
                  : norm === null
                    ? []
                    : outShape;
                await expectExact(r, shape, "int32", want, desc);
              }
            }
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "ties give the first index; NaN is the extreme (first NaN wins)",
    async () => {
      // A 1-D vector of one repeated value with NaNs and a second extreme sprinkled in.
      const arb = fc.tuple(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(11), { maxLength: 3 }),
        fc.array(fc.nat(11), { maxLength: 3 }),
        fc.constantFrom(0, 5, -1.5),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([n, extremes, nans, base]) => {
          await withArrays(async (A) => {
            const ext = kind === "argmax" ? base + 1 : base - 1;
            const values = new globalThis.Array<number>(n).fill(base);
            for (const i of extremes) if (i < n) values[i] = ext;
            for (const i of nans) if (i < n) values[i] = Number.NaN;
            const firstNaN = values.findIndex(Number.isNaN);
            const firstExt = values.indexOf(ext);
            const want = firstNaN >= 0 ? firstNaN : Math.max(firstExt, 0);
            const x = A.t(makeArray(values, [n], "float32"));
            const r = A.t(x[kind]());
            await expectExact(r, [], "int32", [want], `${kind}(${JSON.stringify(values)})`);
            // The same along axis 1 of a [2, n] stack of it and its negation-free copy.
            const two = A.t(makeArray([...values, ...values], [2, n], "float32"));
            await expectExact(A.t(two[kind](1)), [2], "int32", [want, want], `${kind}(axis 1) of two rows`);
            await expectExact(A.t(two[kind](-1, { keepdims: true })), [2, 1], "int32", [want, want], "keepdims");
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
