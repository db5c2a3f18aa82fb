/**
 * lax.conv / lax.convGeneralDilated: hand-checked convolutions (2-D image, 1-D with dilations,
 * 3-D, depthwise), layout equivalence, trace-time shape errors, and a property test against a
 * naive float64 reference over layouts, strides, padding, dilations and feature groups.
 */
import { type Array, DTypeError, lax, np, ShapeError } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { convNhwc, type Dense, type Layout, type Pads, refConv } from "./reference.js";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 40);
const TIMEOUT = 60_000;

const image = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
];

/** Two 3×3 HWIO filters: [[1,0,0],[0,1,0],[0,0,2]] and all ones, as a [3,3,1,2] kernel. */
function kernel3x3(): Array {
  const a = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 2],
  ];
  return np.array(a.map((row) => row.map((v) => [[v, 1]])));
}

describe("lax.conv by hand", () => {
  test("a 3×3 conv of an image with known kernels, SAME, VALID and strided", async () => {
    using x0 = np.array(image);
    using x = x0.reshape([1, 3, 3, 1]);
    using k = kernel3x3();
    // Filter 0: x[i−1][j−1] + x[i][j] + 2·x[i+1][j+1]; filter 1: the 3×3 neighbourhood sum.
    using same = convNhwc(x, k, [1, 1], "SAME");
    expect(same.shape).toEqual([1, 3, 3, 2]);
    expect(globalThis.Array.from(await same.data())).toEqual([
      11, 12, 14, 21, 3, 16, 20, 27, 24, 45, 8, 33, 7, 24, 12, 39, 14, 28,
    ]);
    using valid = convNhwc(x, k, [1, 1], "VALID");
    expect(valid.shape).toEqual([1, 1, 1, 2]);
    expect(globalThis.Array.from(await valid.data())).toEqual([24, 45]);
    // Stride 2 with SAME: ⌈3/2⌉ = 2 outputs per dim, padding [1, 1].
    using strided = convNhwc(x, k, [2, 2], "SAME");
    expect(strided.shape).toEqual([1, 2, 2, 2]);
    expect(globalThis.Array.from(await strided.data())).toEqual([11, 12, 3, 16, 7, 24, 14, 28]);
  });

  test("1-D: strides, kernel (rhs) dilation and input (lhs) dilation", async () => {
    using x = np.array([1, 2, 3, 4, 5]).reshape([1, 5, 1]);
    using k = np.array([1, -1]).reshape([2, 1, 1]);
    using y = convNhwc(x, k, [1], "VALID");
    expect(globalThis.Array.from(await y.data())).toEqual([-1, -1, -1, -1]);
    using s = convNhwc(x, k, [2], "VALID");
    expect(globalThis.Array.from(await s.data())).toEqual([-1, -1]);
    using rd = convNhwc(x, k, [1], "VALID", { rhsDilation: [2] });
    expect(globalThis.Array.from(await rd.data())).toEqual([-2, -2, -2]);
    // lhs dilation 2: [1,0,2,0,3,0,4,0,5] (a transposed convolution).
    using ld = convNhwc(x, k, [1], "VALID", { lhsDilation: [2] });
    expect(globalThis.Array.from(await ld.data())).toEqual([1, -2, 2, -3, 3, -4, 4, -5]);
    using padded = convNhwc(x, k, [1], [[2, -1]]);
    expect(globalThis.Array.from(await padded.data())).toEqual([0, -1, -1, -1, -1]);
  });

  test("3-D convolution", async () => {
    using x = np.arange(1, 28).reshape([1, 3, 3, 3, 1]);
    using k = np.ones([2, 2, 2, 1, 1]);
    using y = convNhwc(x, k, [1, 1, 1], "VALID");
    expect(y.shape).toEqual([1, 2, 2, 2, 1]);
    // Each 2×2×2 block sum of 1..27 (row-major 3×3×3): block at (a,b,c) = 8·x[a][b][c] + (9+3+1)·4.
    const want: number[] = [];
    for (let a = 0; a < 2; a++)
      for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) want.push(8 * (1 + 9 * a + 3 * b + c) + 52);
    expect(globalThis.Array.from(await y.data())).toEqual(want);
  });

  test("feature_group_count = channels is a depthwise convolution", async () => {
    using x0 = np.array(image).reshape([1, 3, 3, 1]);
    using x1 = x0.mul(10);
    using x = np.concatenate([x0, x1], 3); // [1,3,3,2]
    using k = kernel3x3(); // [3,3,1,2]: filter o applies to channel o
    using y = convNhwc(x, k, [1, 1], "SAME", { featureGroupCount: 2 });
    expect(y.shape).toEqual([1, 3, 3, 2]);
    // Channel 0 through filter 0, channel 1 (×10) through filter 1.
    const f0 = [11, 14, 3, 20, 24, 8, 7, 12, 14];
    const f1 = [12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v * 10);
    expect(globalThis.Array.from(await y.data())).toEqual(f0.flatMap((v, i) => [v, f1[i] as number]));
    // Depth multiplier 2: 4 filters over 2 channels, filters 0–1 read channel 0, 2–3 channel 1.
    using k4 = np.concatenate([k, k], 3); // [3,3,1,4]
    using y4 = convNhwc(x, k4, [1, 1], "VALID", { featureGroupCount: 2 });
    expect(globalThis.Array.from(await y4.data())).toEqual([24, 45, 240, 450]);
  });

  test("NCHW/OIHW gives the NHWC/HWIO result after transposes (strided views)", async () => {
    const vals = (n: number, seed: number) => globalThis.Array.from({ length: n }, (_, i) => ((i * seed) % 7) - 3);
    using x = np.array(Float32Array.from(vals(2 * 5 * 4 * 3, 5)), { shape: [2, 5, 4, 3] });
    using k = np.array(Float32Array.from(vals(3 * 2 * 3 * 4, 3)), { shape: [3, 2, 3, 4] });
    using nhwc = convNhwc(x, k, [2, 1], "SAME", { rhsDilation: [1, 2] });
    using xc = np.transpose(x, [0, 3, 1, 2]);
    using kc = np.transpose(k, [3, 2, 0, 1]);
    using nchw = convNhwc(xc, kc, [2, 1], "SAME", {
      rhsDilation: [1, 2],
      dimensionNumbers: ["NCHW", "OIHW", "NCHW"],
    });
    using back = np.transpose(nchw, [0, 2, 3, 1]);
    expect(back.shape).toEqual(nhwc.shape);
    await expectClose(back, await nhwc.data(), { rtol: 0, atol: 0 });
    // NCHW/OIHW is lax's default, as JAX's.
    using byDefault = lax.convGeneralDilated(xc, kc, [2, 1], "SAME", { rhsDilation: [1, 2] });
    await expectClose(byDefault, await nchw.data(), { rtol: 0, atol: 0 });
    using plain = lax.conv(xc, kc, [2, 1], "SAME");
    expect(plain.shape).toEqual([2, 4, 3, 4]);
  });

  test("one kernel, three memory layouts of it, one cache: the same result (im2col orders by strides)", async () => {
    const vals = (n: number, seed: number) => globalThis.Array.from({ length: n }, (_, i) => ((i * seed) % 7) - 3);
    using x = np.array(Float32Array.from(vals(2 * 6 * 5 * 4, 5)), { shape: [2, 6, 5, 4] });
    using hwio = np.array(Float32Array.from(vals(3 * 3 * 4 * 8, 3)), { shape: [3, 3, 4, 8] });
    using oihw = np.copy(np.transpose(hwio, [3, 2, 0, 1]));
    using fromOihw = np.transpose(oihw, [2, 3, 1, 0]);
    using ohwi = np.copy(np.transpose(hwio, [3, 0, 1, 2]));
    using fromOhwi = np.transpose(ohwi, [1, 2, 3, 0]);
    using want = convNhwc(x, hwio, [1, 1], "SAME");
    const expected = await want.data();
    for (const k of [fromOihw, fromOhwi, hwio]) {
      using y = convNhwc(x, k, [1, 1], "SAME");
      await expectClose(y, expected, { rtol: 0, atol: 0 });
    }
    const ref = refConv(
      { shape: [2, 6, 5, 4], data: vals(2 * 6 * 5 * 4, 5) },
      { shape: [3, 3, 4, 8], data: vals(3 * 3 * 4 * 8, 3) },
      [1, 1],
      [
        [1, 1],
        [1, 1],
      ],
      [1, 1],
      [1, 1],
      { lhs: [0, 3, 1, 2], rhs: [3, 2, 0, 1], out: [0, 3, 1, 2] },
      1,
    );
    await expectClose(want, ref.data, { rtol: 0, atol: 0 });
  });

  test("dtypes: int32 convolution, promotion, and NaN from zero padding times Inf", async () => {
    using xi = np.array(Int32Array.from([1, 2, 3])).reshape([1, 3, 1]);
    using ki = np.array(Int32Array.from([2, 1])).reshape([2, 1, 1]);
    using yi = convNhwc(xi, ki, [1], "VALID");
    expect(yi.dtype).toBe("int32");
    expect(globalThis.Array.from(await yi.data())).toEqual([4, 7]);
    using xf = np.array([1, 2, 3]).reshape([1, 3, 1]);
    using yf = convNhwc(xf, ki, [1], "VALID");
    expect(yf.dtype).toBe("float32");
    // XLA pads with zeros, so a padded position times an infinite weight is NaN.
    using kinf = np.array([Number.POSITIVE_INFINITY]).reshape([1, 1, 1]);
    using yn = convNhwc(xf, kinf, [1], [[1, 0]]);
    await expectClose(yn, [Number.NaN, Infinity, Infinity, Infinity]);
  });

  test("float16 operands compute in float32 and round once", async () => {
    using x = np.array([1, 2, 3, 4], { dtype: "float16" }).reshape([1, 4, 1]);
    using k = np.array([0.5, 0.25], { dtype: "float16" }).reshape([2, 1, 1]);
    using y = convNhwc(x, k, [1], "SAME");
    expect(y.dtype).toBe("float16");
    await expectClose(y, [1, 1.75, 2.5, 2]);
  });

  test("no spatial dims is a matrix product", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using k = np.array([
      [1, 0],
      [0, 1],
      [1, 1],
    ]); // IO
    using y = convNhwc(x, k, [], "VALID");
    expect(await y.toArray()).toEqual([
      [4, 5],
      [10, 11],
    ]);
  });

  test("empty operands", async () => {
    using x = np.ones([0, 4, 2]);
    using k = np.ones([2, 2, 3]);
    using y = convNhwc(x, k, [1], "VALID");
    expect(y.shape).toEqual([0, 3, 3]);
    using x0 = np.ones([2, 4, 0]);
    using k0 = np.ones([2, 0, 3]);
    using z = convNhwc(x0, k0, [1], "SAME");
    expect(z.shape).toEqual([2, 4, 3]);
    expect(globalThis.Array.from(await z.data())).toEqual(new globalThis.Array(24).fill(0));
  });

  test("shape errors name the op, the shapes and the dims", () => {
    using x = np.ones([1, 5, 5, 4]);
    using k = np.ones([3, 3, 3, 8]);
    expect(() => convNhwc(x, k, [1, 1], "SAME")).toThrow(ShapeError);
    expect(() => convNhwc(x, k, [1, 1], "SAME")).toThrow(
      /conv_general_dilated: lhs has 4 input features \(dim 3\) \/ featureGroupCount 1 = 4, but rhs has 3 \(dim 2\); lhs float32\[1,5,5,4\], rhs float32\[3,3,3,8\]/,
    );
    using k2 = np.ones([3, 3, 2, 6]);
    expect(() => convNhwc(x, k2, [1, 1], "SAME", { featureGroupCount: 3 })).toThrow(
      /the 4 input features of lhs \(dim 3\) are not divisible by featureGroupCount 3/,
    );
    using k3 = np.ones([3, 3, 2, 5]);
    expect(() => convNhwc(x, k3, [1, 1], "SAME", { featureGroupCount: 2 })).toThrow(
      /the 5 output features of rhs \(dim 3\) are not divisible by featureGroupCount 2/,
    );
    using big = np.ones([7, 3, 4, 2]);
    expect(() => convNhwc(x, big, [1, 1], "VALID")).toThrow(
      /spatial dim 0: the kernel spans 7 .* but the padded input only 5/,
    );
    expect(() =>
      convNhwc(
        x,
        big,
        [1, 1],
        [
          [1, 1],
          [0, 0],
        ],
      ),
    ).not.toThrow();
    using k4 = np.ones([3, 3, 4, 2]);
    expect(() => convNhwc(x, k4, [1], "SAME")).toThrow(/convGeneralDilated: windowStrides must be 2 positive integers/);
    expect(() => convNhwc(x, k4, [1, 1], [[1, 1]])).toThrow(/convGeneralDilated: padding must be/);
    using k5 = np.ones([3, 4, 2]);
    expect(() => convNhwc(x, k5, [1, 1], "SAME")).toThrow(/same rank/);
    expect(() => convNhwc(x, k4, [1, 1], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHW"] })).toThrow(
      /out spec "NHW" has 3 letters/,
    );
    expect(() => convNhwc(x, k4, [1, 1], "SAME", { dimensionNumbers: ["NHWC", "HXIO", "NHWC"] })).toThrow(
      /same spatial letters/,
    );
    using b = np.ones([1, 5, 5, 4], { dtype: "bool" });
    using kb = np.ones([3, 3, 4, 2], { dtype: "bool" });
    expect(() => convNhwc(b, kb, [1, 1], "SAME")).toThrow(DTypeError);
  });
});

interface ConvCase {
  lhs: Dense;
  rhs: Dense;
  layout: Layout;
  specs: [string, string, string];
  strides: number[];
  padding: "SAME" | "VALID" | Pads;
  lhsDilation: number[];
  rhsDilation: number[];
  groups: number;
}

const SPATIAL = ["W", "HW", "DHW"];

/** A random arrangement of the letters of `spec` and the dims that each logical dim lands on. */
function shuffled(letters: string, order: readonly number[]): string {
  return order.map((i) => letters[i]).join("");
}

const convArb: fc.Arbitrary<ConvCase> = fc.integer({ min: 1, max: 3 }).chain((s) => {
  const r = s + 2;
  const perm = fc.shuffledSubarray(
    globalThis.Array.from({ length: r }, (_, i) => i),
    { minLength: r, maxLength: r },
  );
  const perDim = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: s, maxLength: s });
  const pads = fc.array(fc.tuple(fc.integer({ min: -1, max: 2 }), fc.integer({ min: -1, max: 2 })), {
    minLength: s,
    maxLength: s,
  });
  return fc
    .record({
      n: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cg: fc.integer({ min: 1, max: 2 }),
      og: fc.integer({ min: 1, max: 2 }),
      spatial: perDim(1, s === 3 ? 4 : 6),
      kernel: perDim(1, 3),
      strides: perDim(1, 2),
      padding: fc.oneof(fc.constant("SAME" as const), fc.constant("VALID" as const), pads),
      lhsDilation: fc.oneof(perDim(1, 1), perDim(1, 2)),
      rhsDilation: fc.oneof(perDim(1, 1), perDim(1, 2)),
      perms: fc.tuple(perm, perm, perm),
    })
    .chain((c) => {
      const sp = SPATIAL[s - 1] as string;
      // Specs: logical letters in canonical order, then shuffled into a physical layout.
      const canon = [`NC${sp}`, `OI${sp}`, `NC${sp}`];
      const specs = canon.map((l, i) => shuffled(l, c.perms[i] as number[])) as [string, string, string];
      // Physical dim of each logical dim; spatial dims are ordered as the kernel spec names them (JAX).
      const order = [...specs[1]].filter((ch) => sp.includes(ch)).join("");
      const dimsOf = (spec: string, pair: string) => [...`${pair}${order}`].map((ch) => spec.indexOf(ch));
      const layout: Layout = { lhs: dimsOf(specs[0], "NC"), rhs: dimsOf(specs[1], "OI"), out: dimsOf(specs[2], "NC") };
      const place = (logical: number[], where: readonly number[]) => {
        const shape = new globalThis.Array<number>(r);
        where.forEach((p, j) => {
          shape[p] = logical[j] as number;
        });
        return shape;
      };
      const lhsShape = place([c.n, c.groups * c.cg, ...c.spatial], layout.lhs);
      const rhsShape = place([c.groups * c.og, c.cg, ...c.kernel], layout.rhs);
      const values = (shape: number[]) => {
        const n = shape.reduce((a, b) => a * b, 1);
        return fc.array(fc.integer({ min: -3, max: 3 }), { minLength: n, maxLength: n });
      };
      return fc.tuple(values(lhsShape), values(rhsShape)).map(([ld, rd]) => ({
        lhs: { shape: lhsShape, data: ld },
        rhs: { shape: rhsShape, data: rd },
        layout,
        specs,
        strides: c.strides,
        padding: c.padding,
        lhsDilation: c.lhsDilation,
        rhsDilation: c.rhsDilation,
        groups: c.groups,
      }));
    });
});

/** XLA's "SAME" split for convolutions: the undilated input, the dilated kernel. */
function explicitPads(c: ConvCase): Pads {
  const s = c.strides.length;
  return globalThis.Array.from({ length: s }, (_, i) => {
    if (c.padding !== "SAME" && c.padding !== "VALID") return c.padding[i] as readonly [number, number];
    if (c.padding === "VALID") return [0, 0] as const;
    const n = c.lhs.shape[c.layout.lhs[2 + i] as number] as number;
    const k = c.rhs.shape[c.layout.rhs[2 + i] as number] as number;
    const st = c.strides[i] as number;
    const w = (k - 1) * (c.rhsDilation[i] as number) + 1;
    const total = Math.max(0, (Math.ceil(n / st) - 1) * st + w - n);
    return [Math.floor(total / 2), total - Math.floor(total / 2)] as const;
  });
}

describe("lax.convGeneralDilated properties", () => {
  test(
    "matches the naive reference over layouts, strides, padding, dilations and groups (1-D to 3-D)",
    async () => {
      await fc.assert(
        fc.asyncProperty(convArb, fc.boolean(), async (c, useInt) => {
          const pads = explicitPads(c);
          const dtype = useInt ? "int32" : "float32";
          const mk = (d: Dense) =>
            np.array(useInt ? Int32Array.from(d.data) : Float32Array.from(d.data), {
              shape: d.shape,
              dtype,
            });
          using lhs = mk(c.lhs);
          using rhs = mk(c.rhs);
          const opts = {
            lhsDilation: c.lhsDilation,
            rhsDilation: c.rhsDilation,
            featureGroupCount: c.groups,
            dimensionNumbers: c.specs,
          };
          const tooBig = pads.some(([lo, hi], i) => {
            const n = c.lhs.shape[c.layout.lhs[2 + i] as number] as number;
            const k = c.rhs.shape[c.layout.rhs[2 + i] as number] as number;
            const padded = (n - 1) * (c.lhsDilation[i] as number) + 1 + lo + hi;
            return (k - 1) * (c.rhsDilation[i] as number) + 1 > padded;
          });
          if (tooBig) {
            expect(() => convNhwc(lhs, rhs, c.strides, c.padding, opts)).toThrow(ShapeError);
            return;
          }
          const want = refConv(c.lhs, c.rhs, c.strides, pads, c.lhsDilation, c.rhsDilation, c.layout, c.groups);
          using y = convNhwc(lhs, rhs, c.strides, c.padding, opts);
          expect(y.shape).toEqual(want.shape);
          expect(y.dtype).toBe(dtype);
          await expectClose(y, want.data, { rtol: 0, atol: 0 });
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
