/**
 * Property tests of numpy broadcasting: binary ops and where over random broadcast-compatible
 * shapes (rank 0-4, dims 0-4), broadcastTo, and the ShapeError of incompatible shapes.
 * Expected values come from refBroadcast and scalar JS arithmetic on the generated inputs.
 */
import { type Array, np, ShapeError } from "@webjax/core";
import { refBroadcast } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  dimArb,
  expectExact,
  floatArb,
  fmt,
  makeArray,
  type NumDType,
  shapeArb,
  size,
  storeAs,
  withArrays,
} from "./helpers.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS) || 80;
const TIMEOUT = 60_000;

// ---------------------------------------------------------------------------------------------
// Independent references.

/** numpy's broadcast of several shapes, or null when they are incompatible. */
function broadcastShape(shapes: readonly (readonly number[])[]): number[] | null {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let j = 0; j < nd; j++) {
    const dims = shapes.map((s) => s[s.length - nd + j]).filter((d): d is number => d !== undefined);
    const big = [...new Set(dims.filter((d) => d !== 1))];
    if (big.length > 1) return null;
    out.push(big[0] ?? 1);
  }
  return out;
}

type BinOp = "add" | "subtract" | "multiply" | "maximum";

/** One binary op on two values already stored in `dtype`; the result stored in `dtype`. */
function scalarOp(op: BinOp, a: number, b: number, dtype: NumDType): number {
  if (dtype === "int32") {
    switch (op) {
      case "add":
        return (a + b) | 0;
      case "subtract":
        return (a - b) | 0;
      case "multiply":
        return Math.imul(a, b);
      case "maximum":
        return Math.max(a, b);
    }
  }
  switch (op) {
    case "add":
      return Math.fround(a + b);
    case "subtract":
      return Math.fround(a - b);
    case "multiply":
      return Math.fround(a * b);
    case "maximum":
      return Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b);
  }
}

const resultDType = (a: NumDType, b: NumDType): NumDType => (a === "float32" || b === "float32" ? "float32" : "int32");

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** Values of a dtype: mostly small integers, plus extremes (full int32 range; any float32 incl. ±Inf, NaN). */
function valueArb(dtype: NumDType): fc.Arbitrary<number> {
  if (dtype === "int32") {
    return fc.oneof(
      { arbitrary: fc.integer({ min: -20, max: 20 }), weight: 3 },
      { arbitrary: fc.integer({ min: -2147483648, max: 2147483647 }), weight: 1 },
    );
  }
  return fc.oneof(
    { arbitrary: fc.integer({ min: -20, max: 20 }), weight: 4 },
    { arbitrary: floatArb(), weight: 1 },
    { arbitrary: fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY), weight: 1 },
  );
}

const dtypeArb: fc.Arbitrary<NumDType> = fc.constantFrom("float32", "int32");

/**
 * `count` shapes that broadcast together: each is a suffix of a random target shape with
 * some dims replaced by 1 (the broadcast result may be smaller than the target).
 */
function compatibleShapesArb(count: number): fc.Arbitrary<number[][]> {
  return shapeArb(4).chain((target) =>
    fc.array(
      fc
        .tuple(fc.integer({ min: 0, max: target.length }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }))
        .map(([rank, ones]) => target.slice(target.length - rank).map((d, i) => (ones[i] ? 1 : d))),
      { minLength: count, maxLength: count },
    ),
  );
}

interface Operand {
  shape: number[];
  dtype: NumDType;
  values: number[];
}

function operandArb(shape: number[], dtype: NumDType): fc.Arbitrary<Operand> {
  return fc
    .array(valueArb(dtype), { minLength: size(shape), maxLength: size(shape) })
    .map((vs) => ({ shape, dtype, values: vs.map((v) => storeAs(v, dtype)) }));
}

function operandsArb(count: number): fc.Arbitrary<Operand[]> {
  return fc
    .tuple(compatibleShapesArb(count), fc.array(dtypeArb, { minLength: count, maxLength: count }))
    .chain(([shapes, dtypes]) => fc.tuple(...shapes.map((s, i) => operandArb(s, dtypes[i] as NumDType))));
}

/** Shapes that cannot broadcast: one aligned axis holds two different sizes, neither 1. */
const incompatiblePairArb: fc.Arbitrary<[number[], number[]]> = fc
  .tuple(
    shapeArb(3),
    shapeArb(3),
    fc.constantFrom<[number, number]>([2, 3], [3, 2], [0, 2], [4, 0], [2, 4], [3, 4]),
    fc.boolean(),
  )
  .map(([restA, restB, [p, q], swapRanks]) => {
    // Put the clash at the same distance from the end in both shapes.
    const tail = Math.min(restA.length, restB.length);
    const tailA = restA.slice(restA.length - tail);
    const lead = swapRanks ? restB.slice(0, restB.length - tail) : restA.slice(0, restA.length - tail);
    const a = swapRanks ? [p, ...tailA] : [...lead, p, ...tailA];
    const b = swapRanks ? [...lead, q, ...tailA] : [q, ...tailA];
    return [a, b];
  });

// ---------------------------------------------------------------------------------------------

describe("binary ops broadcast like numpy", () => {
  const ops: BinOp[] = ["add", "subtract", "multiply", "maximum"];

  test.each(ops)(
    "np.%s over random broadcast-compatible shapes and dtypes",
    async (op) => {
      await fc.assert(
        fc.asyncProperty(operandsArb(2), fc.boolean(), async ([x, y], asMethod) => {
          if (!x || !y) throw new Error("unreachable");
          await withArrays(async (A) => {
            const outShape = broadcastShape([x.shape, y.shape]);
            expect(outShape).not.toBeNull();
            const shape = outShape as number[];
            const dtype = resultDType(x.dtype, y.dtype);
            const xb = refBroadcast(x.values, x.shape, shape).map((v) => storeAs(v, dtype));
            const yb = refBroadcast(y.values, y.shape, shape).map((v) => storeAs(v, dtype));
            const want = xb.map((a, i) => scalarOp(op, a, yb[i] as number, dtype));
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const b = A.t(makeArray(y.values, y.shape, y.dtype));
            const method = { add: "add", subtract: "sub", multiply: "mul", maximum: "maximum" } as const;
            const r = A.t(asMethod ? a[method[op]](b) : np[op](a, b));
            await expectExact(r, shape, dtype, want, `${op}(${x.dtype}${fmt(x.shape)}, ${y.dtype}${fmt(y.shape)})`);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test.each(ops)(
    "np.%s with a JS number on either side (a weak rank-0 operand)",
    async (op) => {
      await fc.assert(
        fc.asyncProperty(
          shapeArb(4).chain((s) => dtypeArb.chain((d) => operandArb(s, d))),
          fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom(0.5, -2.25, 16777217)),
          fc.boolean(),
          async (x, k, left) => {
            await withArrays(async (A) => {
              const a = A.t(makeArray(x.values, x.shape, x.dtype));
              const r = A.t(left ? np[op](k, a) : np[op](a, k));
              // A weak integer takes the array's dtype; a weak non-integer makes int32 float32 (JAX).
              const dtype: NumDType = Number.isInteger(k) ? x.dtype : "float32";
              const kk = storeAs(k, dtype);
              const want = x.values.map((v) => {
                const vv = storeAs(v, dtype);
                return left ? scalarOp(op, kk, vv, dtype) : scalarOp(op, vv, kk, dtype);
              });
              await expectExact(
                r,
                x.shape,
                dtype,
                want,
                `${op}(${left ? `${k}, x` : `x, ${k}`}) with x ${x.dtype}${fmt(x.shape)}`,
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
    "three-way chains: (x + y) * z over three broadcast-compatible shapes",
    async () => {
      await fc.assert(
        fc.asyncProperty(operandsArb(3), async ([x, y, z]) => {
          if (!x || !y || !z) throw new Error("unreachable");
          await withArrays(async (A) => {
            const shape = broadcastShape([x.shape, y.shape, z.shape]) as number[];
            const d1 = resultDType(x.dtype, y.dtype);
            const dtype = resultDType(d1, z.dtype);
            const xb = refBroadcast(x.values, x.shape, shape).map((v) => storeAs(v, d1));
            const yb = refBroadcast(y.values, y.shape, shape).map((v) => storeAs(v, d1));
            const zb = refBroadcast(z.values, z.shape, shape).map((v) => storeAs(v, dtype));
            const want = xb.map((a, i) =>
              scalarOp("multiply", storeAs(scalarOp("add", a, yb[i] as number, d1), dtype), zb[i] as number, dtype),
            );
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const b = A.t(makeArray(y.values, y.shape, y.dtype));
            const c = A.t(makeArray(z.values, z.shape, z.dtype));
            const s = A.t(np.add(a, b));
            const r = A.t(np.multiply(s, c));
            await expectExact(r, shape, dtype, want);
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("where broadcasts all three operands", () => {
  test(
    "np.where(cond, x, y) over three broadcast-compatible shapes",
    async () => {
      const arb = fc
        .tuple(
          compatibleShapesArb(3),
          dtypeArb,
          dtypeArb,
          fc.constantFrom<"bool" | "float32" | "int32">("bool", "float32", "int32"),
        )
        .chain(([[cs, xs, ys], dx, dy, dc]) =>
          fc.tuple(
            fc.constant(dc),
            fc.array(
              dc === "bool"
                ? fc.constantFrom(0, 1)
                : dc === "int32"
                  ? fc.integer({ min: -2, max: 2 })
                  : fc.constantFrom(0, -0, 1, -2.5, Number.NaN),
              { minLength: size(cs as number[]), maxLength: size(cs as number[]) },
            ),
            fc.constant(cs as number[]),
            operandArb(xs as number[], dx),
            operandArb(ys as number[], dy),
          ),
        );
      await fc.assert(
        fc.asyncProperty(arb, async ([condDType, condValues, condShape, x, y]) => {
          await withArrays(async (A) => {
            const shape = broadcastShape([condShape, x.shape, y.shape]) as number[];
            const dtype = resultDType(x.dtype, y.dtype);
            const cb = refBroadcast(condValues, condShape, shape);
            const xb = refBroadcast(x.values, x.shape, shape).map((v) => storeAs(v, dtype));
            const yb = refBroadcast(y.values, y.shape, shape).map((v) => storeAs(v, dtype));
            // Truthiness as numpy's bool(): nonzero (NaN included) is true.
            const want = cb.map((c, i) => (c !== 0 ? (xb[i] as number) : (yb[i] as number)));
            const c = A.t(makeArray(condValues, condShape, condDType));
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const b = A.t(makeArray(y.values, y.shape, y.dtype));
            const r = A.t(np.where(c, a, b));
            await expectExact(
              r,
              shape,
              dtype,
              want,
              `where(${condDType}${fmt(condShape)}, ${fmt(x.shape)}, ${fmt(y.shape)})`,
            );
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("where with JS numbers", () => {
  test(
    "np.where(cond, x, k) and np.where(cond, k, x): the number broadcasts as a weak scalar",
    async () => {
      const arb = compatibleShapesArb(2).chain(([cs, xs]) =>
        fc.tuple(
          fc.constant(cs as number[]),
          fc.array(fc.constantFrom(0, 1), { minLength: size(cs as number[]), maxLength: size(cs as number[]) }),
          dtypeArb.chain((d) => operandArb(xs as number[], d)),
          fc.integer({ min: -5, max: 5 }),
          fc.boolean(),
        ),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([cs, cv, x, k, numberFirst]) => {
          await withArrays(async (A) => {
            const shape = broadcastShape([cs, x.shape]) as number[];
            const cb = refBroadcast(cv, cs, shape);
            const xb = refBroadcast(x.values, x.shape, shape);
            const want = cb.map((c, i) => (numberFirst ? (c ? k : (xb[i] as number)) : c ? (xb[i] as number) : k));
            const c = A.t(makeArray(cv, cs, "bool"));
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const r = A.t(numberFirst ? np.where(c, k, a) : np.where(c, a, k));
            await expectExact(
              r,
              shape,
              x.dtype,
              want,
              `where(bool${fmt(cs)}, ${numberFirst ? `${k}, x` : `x, ${k}`}) with x ${x.dtype}${fmt(x.shape)}`,
            );
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("broadcastTo", () => {
  test(
    "matches refBroadcast for every compatible target, and ops read the broadcast view",
    async () => {
      const arb = shapeArb(4).chain((from) =>
        // The target: `from` with each 1 possibly widened (to 0..4), and possibly more leading dims.
        fc
          .tuple(
            fc.array(dimArb, { minLength: from.length, maxLength: from.length }),
            fc.array(dimArb, { minLength: 0, maxLength: 4 - from.length }),
            dtypeArb,
          )
          .chain(([widen, lead, dtype]) => {
            const to = [...lead, ...from.map((d, i) => (d === 1 ? (widen[i] as number) : d))];
            return fc.tuple(fc.constant(to), operandArb(from, dtype));
          }),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([to, x]) => {
          await withArrays(async (A) => {
            const want = refBroadcast(x.values, x.shape, to);
            const a = A.t(makeArray(x.values, x.shape, x.dtype));
            const b = A.t(np.broadcastTo(a, to));
            await expectExact(b, to, x.dtype, want, `broadcastTo(${fmt(x.shape)} → ${fmt(to)})`);
            const m = A.t(a.broadcastTo(to));
            await expectExact(m, to, x.dtype, want, "method form");
            // An elementwise op over the stride-0 view.
            const plus = A.t(b.add(1));
            await expectExact(
              plus,
              to,
              x.dtype,
              want.map((v) => scalarOp("add", v, storeAs(1, x.dtype), x.dtype)),
              "view + 1",
            );
            // Broadcasting it again to its own shape is the same values.
            const again = A.t(b.broadcastTo(to));
            await expectExact(again, to, x.dtype, want, "broadcastTo twice");
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "an incompatible target raises ShapeError naming both shapes",
    async () => {
      // Either a dim that is neither 1 nor the target's, or more dims than the target has.
      const arb = fc.oneof(
        incompatiblePairArb,
        fc
          .tuple(shapeArb(3), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }))
          .filter(([, d, t]) => d !== 1 && d !== t)
          .map(([rest, d, t]): [number[], number[]] => [
            [d, ...rest],
            [t, ...rest],
          ]),
        fc
          .tuple(shapeArb(3), fc.array(dimArb, { minLength: 1, maxLength: 2 }))
          .map(([to, lead]): [number[], number[]] => [[...lead, ...to], to]),
      );
      await fc.assert(
        fc.asyncProperty(arb, async ([from, to]) => {
          await withArrays(async (A) => {
            const a = A.t(np.zeros(from));
            let err: unknown;
            try {
              A.t(np.broadcastTo(a, to));
            } catch (e) {
              err = e;
            }
            expect(err, `broadcastTo(${fmt(from)} → ${fmt(to)}) should throw`).toBeInstanceOf(ShapeError);
            const msg = (err as Error).message;
            expect(msg).toContain(fmt(from));
            expect(msg).toContain(fmt(to));
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("incompatible shapes", () => {
  const binary: [string, (a: Array, b: Array) => Array][] = [
    ["add", np.add],
    ["subtract", np.subtract],
    ["multiply", np.multiply],
    ["maximum", np.maximum],
  ];

  test.each(binary)(
    "np.%s raises ShapeError naming both shapes",
    async (name, f) => {
      await fc.assert(
        fc.asyncProperty(incompatiblePairArb, fc.boolean(), async ([sa, sb], swap) => {
          const [s1, s2] = swap ? [sb, sa] : [sa, sb];
          expect(broadcastShape([s1, s2]), "generator: shapes must clash").toBeNull();
          await withArrays(async (A) => {
            const a = A.t(np.ones(s1));
            const b = A.t(np.ones(s2, { dtype: "int32" }));
            let err: unknown;
            try {
              A.t(f(a, b));
            } catch (e) {
              err = e;
            }
            expect(err, `${name}(${fmt(s1)}, ${fmt(s2)}) should throw`).toBeInstanceOf(ShapeError);
            const msg = (err as Error).message;
            expect(msg).toContain(name);
            expect(msg).toContain(fmt(s1));
            expect(msg).toContain(fmt(s2));
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "np.where raises ShapeError naming the clashing shapes",
    async () => {
      await fc.assert(
        fc.asyncProperty(incompatiblePairArb, fc.integer({ min: 0, max: 2 }), async ([sa, sb], where) => {
          await withArrays(async (A) => {
            // Two operands clash; the third is a scalar-like shape that broadcasts with anything.
            const shapes = [
              [sa, sb, [1]],
              [sa, [], sb],
              [[1, 1], sa, sb],
            ][where] as number[][];
            const [cs, xs, ys] = shapes as [number[], number[], number[]];
            const c = A.t(np.ones(cs, { dtype: "bool" }));
            const x = A.t(np.ones(xs));
            const y = A.t(np.zeros(ys));
            let err: unknown;
            try {
              A.t(np.where(c, x, y));
            } catch (e) {
              err = e;
            }
            expect(err, `where(${fmt(cs)}, ${fmt(xs)}, ${fmt(ys)}) should throw`).toBeInstanceOf(ShapeError);
            const msg = (err as Error).message;
            expect(msg).toContain(fmt(sa));
            expect(msg).toContain(fmt(sb));
          });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
