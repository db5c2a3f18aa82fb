/**
 * flatten/ravel, moveaxis/swapaxes, flip, roll, split/arraySplit, tile, repeat, pad, oneHot,
 * triu/tril: values worked out by hand (numpy's documented examples), JS index-map references,
 * and round-trip properties (flip twice, roll back, slice the padding off, split and rejoin).
 */
import { type Array, checkLeaks, np, ShapeError } from "@webjax/core";
import { forEachIndex, stridesOf } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 60);
const TIMEOUT = 60_000;

const iota = (shape: readonly number[]) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Float32Array.from({ length: n }, (_, i) => i),
    { shape },
  );
};
const values = async (x: Array) => globalThis.Array.from(await x.data());

describe("flatten, ravel, moveaxis, swapaxes", () => {
  test("flatten and ravel give row-major order, also of transposed views", async () => {
    using x = iota([2, 3]);
    using t = x.T;
    using f = np.flatten(t);
    using r = np.ravel(x);
    expect(await f.toArray()).toEqual([0, 3, 1, 4, 2, 5]);
    expect(await r.toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    using s = np.flatten(3);
    expect(s.shape).toEqual([1]);
  });

  test("moveaxis moves single axes and lists; swapaxes exchanges two", async () => {
    using x = iota([2, 3, 4]);
    using a = np.moveaxis(x, 0, -1);
    expect(a.shape).toEqual([3, 4, 2]);
    using b = np.moveaxis(x, -1, 0);
    expect(b.shape).toEqual([4, 2, 3]);
    using c = np.moveaxis(x, [0, 1], [-1, -2]);
    expect(c.shape).toEqual([4, 3, 2]);
    using ref = np.transpose(x, [2, 1, 0]);
    expect(await values(c)).toEqual(await values(ref));
    using s = np.swapaxes(x, 0, 2);
    expect(await values(s)).toEqual(await values(ref));
    using b2 = np.transpose(x, [2, 0, 1]);
    expect(await values(b)).toEqual(await values(b2));
    expect(() => np.moveaxis(x, [0, 1], [0])).toThrow(ShapeError);
    expect(() => np.moveaxis(x, [0, 0], [1, 2])).toThrow("moveaxis: repeated axis");
    expect(() => np.swapaxes(x, 0, 3)).toThrow("swapaxes: axis 3 is out of bounds for an array of rank 3");
  });
});

describe("flip and roll", () => {
  test("flip reverses one axis, several, or all", async () => {
    using x = iota([2, 3]);
    using f0 = np.flip(x, 0);
    using f1 = np.flip(x, -1);
    using fa = np.flip(x);
    expect(await f0.toArray()).toEqual([
      [3, 4, 5],
      [0, 1, 2],
    ]);
    expect(await f1.toArray()).toEqual([
      [2, 1, 0],
      [5, 4, 3],
    ]);
    expect(await fa.toArray()).toEqual([
      [5, 4, 3],
      [2, 1, 0],
    ]);
  });

  test("roll matches numpy's examples", async () => {
    using x = iota([10]);
    using r2 = np.roll(x, 2);
    using rm2 = np.roll(x, -2);
    expect(await r2.toArray()).toEqual([8, 9, 0, 1, 2, 3, 4, 5, 6, 7]);
    expect(await rm2.toArray()).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    using x2 = np.reshape(x, [2, 5]);
    using flat = np.roll(x2, 1);
    expect(await flat.toArray()).toEqual([
      [9, 0, 1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    using a0 = np.roll(x2, 1, 0);
    expect(await a0.toArray()).toEqual([
      [5, 6, 7, 8, 9],
      [0, 1, 2, 3, 4],
    ]);
    using a1 = np.roll(x2, -1, 1);
    expect(await a1.toArray()).toEqual([
      [1, 2, 3, 4, 0],
      [6, 7, 8, 9, 5],
    ]);
    using both = np.roll(x2, [1, 1], [1, 0]);
    expect(await both.toArray()).toEqual([
      [9, 5, 6, 7, 8],
      [4, 0, 1, 2, 3],
    ]);
    using big = np.roll(x2, 12, 1);
    using same = np.roll(x2, 2, 1);
    expect(await big.toArray()).toEqual(await same.toArray());
    using none = np.roll(x2, 0, 1);
    expect(await none.toArray()).toEqual(await x2.toArray());
    expect(() => np.roll(x2, [1, 2, 3], [0, 1])).toThrow(ShapeError);
  });

  test(
    "property: flip twice and roll there and back are the identity; roll matches an index map",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
            fc.record({
              shape: fc.constant(shape),
              axis: fc.integer({ min: 0, max: shape.length - 1 }),
              shift: fc.integer({ min: -9, max: 9 }),
            }),
          ),
          async ({ shape, axis, shift }) => {
            using x = iota(shape);
            const xs = await values(x);
            using f = np.flip(x, axis);
            using ff = np.flip(f, axis);
            expect(await values(ff)).toEqual(xs);
            using r = np.roll(x, shift, axis);
            using back = np.roll(r, -shift, axis);
            expect(await values(back)).toEqual(xs);
            // out[i] = x[(i − shift) mod n] along the axis.
            const n = shape[axis] as number;
            const st = stridesOf(shape);
            const want: number[] = [];
            forEachIndex(shape, (idx) => {
              const src = [...idx];
              src[axis] = ((((idx[axis] as number) - shift) % n) + n) % n;
              want.push(xs[src.reduce((a, v, d) => a + v * (st[d] as number), 0)] as number);
            });
            expect(await values(r)).toEqual(want);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("split and arraySplit", () => {
  test("equal sections and index lists, as numpy", async () => {
    using x = iota([9]);
    const parts = np.split(x, 3);
    expect(await Promise.all(parts.map((p) => p.toArray()))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    for (const p of parts) p.dispose();
    using y = iota([8]);
    const at = np.split(y, [3, 5, 6, 10]);
    expect(await Promise.all(at.map((p) => p.toArray()))).toEqual([[0, 1, 2], [3, 4], [5], [6, 7], []]);
    for (const p of at) p.dispose();
    const neg = np.arraySplit(y, [-2, 1]);
    expect(await Promise.all(neg.map((p) => p.toArray()))).toEqual([[0, 1, 2, 3, 4, 5], [], [1, 2, 3, 4, 5, 6, 7]]);
    for (const p of neg) p.dispose();
  });

  test("arraySplit gives the first n mod k parts one more element", async () => {
    using x = iota([8]);
    const parts = np.arraySplit(x, 3);
    expect(await Promise.all(parts.map((p) => p.toArray()))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    for (const p of parts) p.dispose();
    using m = iota([2, 5]);
    const cols = np.arraySplit(m, 4, 1);
    expect(cols.map((p) => p.shape)).toEqual([
      [2, 2],
      [2, 1],
      [2, 1],
      [2, 1],
    ]);
    expect(await cols[0]?.toArray()).toEqual([
      [0, 1],
      [5, 6],
    ]);
    for (const p of cols) p.dispose();
    const many = np.arraySplit(m, 7, 1);
    expect(many.map((p) => p.shape[1])).toEqual([1, 1, 1, 1, 1, 0, 0]);
    for (const p of many) p.dispose();
  });

  test("unequal sections with split is a ShapeError naming the sizes", () => {
    using x = iota([2, 7]);
    expect(() => np.split(x, 3, 1)).toThrow(ShapeError);
    expect(() => np.split(x, 3, 1)).toThrow(
      "split: axis 1 of size 7 in float32[2,7] cannot be split into 3 equal sections",
    );
    expect(() => np.split(x, 0)).toThrow("split: the number of sections must be a positive integer, got 0");
  });

  test(
    "property: split then concatenate gives x back",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
            fc.record({
              shape: fc.constant(shape),
              axis: fc.integer({ min: 0, max: shape.length - 1 }),
              spec: fc.oneof(
                fc.integer({ min: 1, max: 6 }),
                fc.array(fc.integer({ min: -6, max: 7 }), { maxLength: 4 }).map((a) => a.sort((p, q) => p - q)),
              ),
            }),
          ),
          async ({ shape, axis, spec }) => {
            using x = iota(shape);
            const n = shape[axis] as number;
            const parts = np.arraySplit(x, spec, axis);
            try {
              expect(parts.length).toBe(typeof spec === "number" ? spec : spec.length + 1);
              // Sorted non-negative bounds tile the axis exactly; with negative or repeated ones it is a subset.
              const total = parts.reduce((a, p) => a + (p.shape[axis] as number), 0);
              const tiles =
                typeof spec === "number" || spec.every((v, i) => v >= 0 && (i === 0 || v >= (spec[i - 1] as number)));
              if (tiles) {
                expect(total).toBe(n);
                using back = np.concatenate(parts, axis);
                expect(await values(back)).toEqual(await values(x));
              }
              if (typeof spec === "number") {
                const sizes = parts.map((p) => p.shape[axis] as number);
                expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
              }
            } finally {
              for (const p of parts) p.dispose();
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("tile and repeat", () => {
  test("tile, as numpy's examples", async () => {
    using a = np.array([0, 1, 2]);
    using t2 = np.tile(a, 2);
    expect(await t2.toArray()).toEqual([0, 1, 2, 0, 1, 2]);
    using t22 = np.tile(a, [2, 2]);
    expect(await t22.toArray()).toEqual([
      [0, 1, 2, 0, 1, 2],
      [0, 1, 2, 0, 1, 2],
    ]);
    using t212 = np.tile(a, [2, 1, 2]);
    expect(t212.shape).toEqual([2, 1, 6]);
    using b = np.array([
      [1, 2],
      [3, 4],
    ]);
    using tb = np.tile(b, 2);
    expect(await tb.toArray()).toEqual([
      [1, 2, 1, 2],
      [3, 4, 3, 4],
    ]);
    using tb21 = np.tile(b, [2, 1]);
    expect(await tb21.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [1, 2],
      [3, 4],
    ]);
    using t0 = np.tile(b, [0, 3]);
    expect(t0.shape).toEqual([0, 6]);
  });

  test("repeat with a scalar count, a list of counts, and along axes", async () => {
    using x = np.array([
      [1, 2],
      [3, 4],
    ]);
    using r = np.repeat(x, 2);
    expect(await r.toArray()).toEqual([1, 1, 2, 2, 3, 3, 4, 4]);
    using r0 = np.repeat(x, 3, 1);
    expect(await r0.toArray()).toEqual([
      [1, 1, 1, 2, 2, 2],
      [3, 3, 3, 4, 4, 4],
    ]);
    using r1 = np.repeat(x, [1, 2], 0);
    expect(await r1.toArray()).toEqual([
      [1, 2],
      [3, 4],
      [3, 4],
    ]);
    using rz = np.repeat(x, 0, -1);
    expect(rz.shape).toEqual([2, 0]);
    using s = np.repeat(7, 3);
    expect(await s.toArray()).toEqual([7, 7, 7]);
    expect(() => np.repeat(x, [1, 2, 3], 0)).toThrow("repeat: 3 repeats for axis 0 of size 2");
    expect(() => np.repeat(x, -1)).toThrow(ShapeError);
  });
});

describe("pad", () => {
  test("constant padding in numpy's width forms, with per-axis values", async () => {
    using a = np.array([1, 2, 3, 4, 5]);
    using p = np.pad(a, [2, 3], { constantValues: [4, 6] });
    expect(await p.toArray()).toEqual([4, 4, 1, 2, 3, 4, 5, 6, 6, 6]);
    using m = np.array(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: "int32" },
    );
    using p1 = np.pad(m, 1);
    expect(p1.dtype).toBe("int32");
    expect(await p1.toArray()).toEqual([
      [0, 0, 0, 0],
      [0, 1, 2, 0],
      [0, 3, 4, 0],
      [0, 0, 0, 0],
    ]);
    // Corners take the last axis' value, as numpy pads axes in order.
    using p2 = np.pad(
      m,
      [
        [1, 0],
        [0, 1],
      ],
      {
        constantValues: [
          [7, 7],
          [9, 9],
        ],
      },
    );
    expect(await p2.toArray()).toEqual([
      [7, 7, 9],
      [1, 2, 9],
      [3, 4, 9],
    ]);
    using p3 = np.pad(m, [[0, 2]]);
    expect(p3.shape).toEqual([4, 4]);
    expect(() => np.pad(m, [1, 2, 3])).toThrow("pad: padWidth [1,2,3] does not fit an array of rank 2");
    expect(() => np.pad(m, -1)).toThrow(ShapeError);
  });

  test("edge, reflect, symmetric and wrap, as numpy's examples (also past the axis size)", async () => {
    using a = np.array([1, 2, 3, 4, 5]);
    using e = np.pad(a, [2, 3], { mode: "edge" });
    expect(await e.toArray()).toEqual([1, 1, 1, 2, 3, 4, 5, 5, 5, 5]);
    using r = np.pad(a, [2, 3], { mode: "reflect" });
    expect(await r.toArray()).toEqual([3, 2, 1, 2, 3, 4, 5, 4, 3, 2]);
    using s = np.pad(a, [2, 3], { mode: "symmetric" });
    expect(await s.toArray()).toEqual([2, 1, 1, 2, 3, 4, 5, 5, 4, 3]);
    using w = np.pad(a, [2, 3], { mode: "wrap" });
    expect(await w.toArray()).toEqual([4, 5, 1, 2, 3, 4, 5, 1, 2, 3]);
    using b = np.array([1, 2, 3]);
    using rb = np.pad(b, 5, { mode: "reflect" });
    expect(await rb.toArray()).toEqual([2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2]);
    using sb = np.pad(b, 5, { mode: "symmetric" });
    expect(await sb.toArray()).toEqual([2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2]);
    using one = np.array([5]);
    using r1 = np.pad(one, 2, { mode: "reflect" });
    expect(await r1.toArray()).toEqual([5, 5, 5, 5, 5]);
    using m = np.array([
      [1, 2],
      [3, 4],
    ]);
    using e2 = np.pad(
      m,
      [
        [1, 0],
        [0, 1],
      ],
      { mode: "edge" },
    );
    expect(await e2.toArray()).toEqual([
      [1, 2, 2],
      [1, 2, 2],
      [3, 4, 4],
    ]);
    using empty = np.zeros([0, 2]);
    expect(() => np.pad(empty, 1, { mode: "edge" })).toThrow(
      'pad: cannot extend the empty axis 0 of float32[0,2] with mode "edge"',
    );
    using ok = np.pad(
      empty,
      [
        [0, 0],
        [1, 1],
      ],
      { mode: "edge" },
    );
    expect(ok.shape).toEqual([0, 4]);
  });

  test(
    "property: slicing the padding off returns x, and every mode matches an index map",
    async () => {
      const modes = ["constant", "edge", "reflect", "symmetric", "wrap"] as const;
      const mapIndex = (mode: (typeof modes)[number], i: number, n: number): number | null => {
        if (i >= 0 && i < n) return i;
        switch (mode) {
          case "constant":
            return null;
          case "edge":
            return i < 0 ? 0 : n - 1;
          case "wrap":
            return ((i % n) + n) % n;
          case "reflect": {
            // Bounce off the ends without repeating them.
            let j = i;
            while (j < 0 || j >= n) j = n === 1 ? 0 : j < 0 ? -j : 2 * (n - 1) - j;
            return j;
          }
          case "symmetric": {
            let j = i;
            while (j < 0 || j >= n) j = j < 0 ? -j - 1 : 2 * n - 1 - j;
            return j;
          }
        }
      };
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }).chain((shape) =>
            fc.record({
              shape: fc.constant(shape),
              widths: fc.tuple(
                ...shape.map(() => fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 }))),
              ),
              mode: fc.constantFrom(...modes),
            }),
          ),
          async ({ shape, widths, mode }) => {
            using x = iota(shape);
            const xs = await values(x);
            using p = np.pad(x, widths, { mode, constantValues: -1 });
            const lo = (widths as [number, number][]).map(([b]) => b);
            const outShape = (widths as [number, number][]).map(([b, a], d) => b + (shape[d] as number) + a);
            expect(p.shape).toEqual(outShape);
            using inner = np.slice(
              p,
              shape.map((n, d) => [lo[d] as number, (lo[d] as number) + n] as const),
            );
            expect(await values(inner)).toEqual(xs);
            const st = stridesOf(shape);
            const want: number[] = [];
            forEachIndex(outShape, (idx) => {
              let flat = 0;
              for (let d = 0; d < shape.length; d++) {
                const j = mapIndex(mode, (idx[d] as number) - (lo[d] as number), shape[d] as number);
                if (j === null) {
                  flat = -1;
                  break;
                }
                flat += j * (st[d] as number);
              }
              want.push(flat < 0 ? -1 : (xs[flat] as number));
            });
            expect(await values(p)).toEqual(want);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe("oneHot", () => {
  test("matches jax.nn.one_hot: out-of-range, negative and fractional values give zeros", async () => {
    using x = np.array([0, 2, -1, 3, 1.5], { dtype: "float32" });
    using h = np.oneHot(x, 3);
    expect(h.dtype).toBe("float32");
    expect(await h.toArray()).toEqual([
      [1, 0, 0],
      [0, 0, 1],
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ]);
    using i = np.array(
      [
        [1, 0],
        [2, 2],
      ],
      { dtype: "int32" },
    );
    using hi = np.oneHot(i, 3, { dtype: "int32" });
    expect(hi.shape).toEqual([2, 2, 3]);
    expect(hi.dtype).toBe("int32");
    expect(await hi.toArray()).toEqual([
      [
        [0, 1, 0],
        [1, 0, 0],
      ],
      [
        [0, 0, 1],
        [0, 0, 1],
      ],
    ]);
    using h0 = np.oneHot(i, 3, { axis: 0 });
    expect(h0.shape).toEqual([3, 2, 2]);
    expect(await h0.toArray()).toEqual([
      [
        [0, 1],
        [0, 0],
      ],
      [
        [1, 0],
        [0, 0],
      ],
      [
        [0, 0],
        [1, 1],
      ],
    ]);
    using hb = np.oneHot(i, 3, { dtype: "bool" });
    expect(hb.dtype).toBe("bool");
  });
});

describe("triu and tril", () => {
  test("keep the triangle above/below diagonal k, on batches", async () => {
    using x = np.add(iota([2, 3, 4]), 1);
    using l = np.tril(x);
    using u = np.triu(x, 1);
    using lm = np.tril(x, -1);
    const ref = (b: number, i: number, j: number) => 1 + b * 12 + i * 4 + j;
    const make = (keep: (i: number, j: number) => boolean) =>
      [0, 1].map((b) => [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => (keep(i, j) ? ref(b, i, j) : 0))));
    expect(await l.toArray()).toEqual(make((i, j) => j <= i));
    expect(await u.toArray()).toEqual(make((i, j) => j >= i + 1));
    expect(await lm.toArray()).toEqual(make((i, j) => j <= i - 1));
    using b = np.array([
      [true, true],
      [true, true],
    ]);
    using tb = np.triu(b);
    expect(tb.dtype).toBe("bool");
    expect(await tb.toArray()).toEqual([
      [1, 1],
      [0, 1],
    ]);
    using v = np.ones([3]);
    expect(() => np.tril(v)).toThrow("tril: needs a matrix or a batch of them (rank ≥ 2), got float32[3]");
  });
});

test("manipulation functions release every temporary they make", async () => {
  using x = iota([3, 4]);
  const report = await checkLeaks(async () => {
    const results = [
      np.flatten(x),
      np.moveaxis(x, 0, 1),
      np.swapaxes(x, 0, 1),
      np.flip(x),
      np.roll(x, 1),
      np.roll(x, [1, -1], [0, 1]),
      ...np.split(x, 2, 1),
      ...np.arraySplit(x, [1, 5]),
      np.tile(x, [2, 1]),
      np.repeat(x, 2, 0),
      np.repeat(x, [1, 0, 2, 1], 1),
      np.pad(x, 1),
      np.pad(
        x,
        [
          [1, 2],
          [3, 0],
        ],
        { mode: "reflect" },
      ),
      np.oneHot(x, 5),
      np.triu(x),
      np.tril(x, 1),
    ];
    for (const r of results) {
      await r.data();
      r.dispose();
    }
  });
  expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
});
