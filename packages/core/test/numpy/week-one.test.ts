/**
 * The functions a NumPy user reaches for in the first week, against NumPy's own results
 * (fixtures/numpy_week_one.py, float64, compared at float32 tolerance): diag/diagonal/trace,
 * meshgrid, diff, isclose/allclose, median/quantile/percentile, the nan-reductions, the stacks,
 * bincount, digitize, cross, linalg.norm, histogram, interp, cov and corrcoef.
 */
import { type Array as JArray, np } from "@webjax/core";
import { hasFloat64 } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";
import golden from "./fixtures/numpy_week_one.json" with { type: "json" };

interface Dense {
  shape: number[];
  data: (number | null)[];
}
const cases = golden.cases as Record<string, Dense | Dense[]>;

const f32 = (rows: number[][] | number[]) => np.array(rows as number[][]);
const A = () =>
  f32([
    [3, -1, 2],
    [0.5, 4, -2],
    [1, 1, 0],
  ]);
const V = () => f32([4, 1, 3, 3, -2, 7]);
const N = () => f32([1, Number.NaN, 3, -4, Number.NaN, 2]);
const M = () =>
  f32([
    [1, 2, Number.NaN],
    [Number.NaN, Number.NaN, Number.NaN],
    [5, -1, 0.5],
  ]);
const M02 = () =>
  f32([
    [1, 2, Number.NaN],
    [5, -1, 0.5],
  ]);
const B = () =>
  f32([
    [0, 2, 7, 1],
    [3, 3, -1, 8],
  ]);
const I = () => np.array(Int32Array.of(0, 3, 1, 3, 3, 5, 0));
const X = () => f32([0.2, 6.4, 3, 1.6, -1, 10]);
const BINS = () => f32([0, 1, 2.5, 4, 10]);
const F = [0, 2, 3, 5, 4];

const calls: Record<string, () => JArray | JArray[]> = {
  "diag(V)": () => np.diag(V()),
  "diag(V, 2)": () => np.diag(V(), 2),
  "diag(V, -1)": () => np.diag(V(), -1),
  "diag(A)": () => np.diag(A()),
  "diag(A, 1)": () => np.diag(A(), 1),
  "diag(B, -1)": () => np.diag(B(), -1),
  "diagonal(B, offset=1)": () => np.diagonal(B(), { offset: 1 }),
  "diagonal(arange(24).reshape(2,3,4), axis1=1, axis2=2)": () =>
    np.diagonal(np.arange(24).astype("float32").reshape([2, 3, 4]), { axis1: 1, axis2: 2 }),
  "trace(A)": () => np.trace(A()),
  "trace(B, offset=2)": () => np.trace(B(), { offset: 2 }),
  "meshgrid(x3, y2)": () => np.meshgrid([1, 2, 3], [10, 20]),
  "meshgrid(x3, y2, ij)": () => np.meshgrid([1, 2, 3], [10, 20], { indexing: "ij" }),
  "diff(V)": () => np.diff(V()),
  "diff(V, 2)": () => np.diff(V(), 2),
  "diff(B, axis=0)": () => np.diff(B(), { axis: 0 }),
  "diff(V, prepend=0, append=[1, 2])": () => np.diff(V(), { prepend: 0, append: [1, 2] }),
  "isclose(a, b)": () =>
    np.isclose([1, 1e10, Number.NaN, Infinity, 1, 1], [1.000005, 1.000005e10, Number.NaN, Infinity, 1.1, 1.00003]),
  "isclose(a, b, equal_nan)": () =>
    np.isclose([1, Number.NaN, -Infinity], [1, Number.NaN, Infinity], { equalNan: true }),
  "allclose(A, A+1e-9)": () => np.allclose(A(), A().add(1e-9)),
  "median(V)": () => np.median(V()),
  "median(A, axis=0)": () => np.median(A(), 0),
  "median(B, axis=1, keepdims)": () => np.median(B(), 1, { keepdims: true }),
  "median(N)": () => np.median(N()),
  "quantile(V, 0.3)": () => np.quantile(V(), 0.3),
  "quantile(V, [0, 0.25, 0.5, 1])": () => np.quantile(V(), [0, 0.25, 0.5, 1]),
  "quantile(B, [0.1, 0.9], axis=1)": () => np.quantile(B(), [0.1, 0.9], { axis: 1 }),
  "quantile(V, 0.4, lower)": () => np.quantile(V(), 0.4, { method: "lower" }),
  "quantile(V, 0.4, higher)": () => np.quantile(V(), 0.4, { method: "higher" }),
  "quantile(V, 0.4, midpoint)": () => np.quantile(V(), 0.4, { method: "midpoint" }),
  "quantile(V, 0.5, nearest)": () => np.quantile(V(), 0.5, { method: "nearest" }),
  "percentile(A, 75)": () => np.percentile(A(), 75),
  "nanmax(N)": () => np.nanmax(N()),
  "nanmin(M, axis=1)": () => np.nanmin(M(), 1),
  "nanmax(M, axis=0)": () => np.nanmax(M(), 0),
  "nanargmax(N)": () => np.nanargmax(N()),
  "nanargmin(M[[0, 2]], axis=1)": () => np.nanargmin(M02(), 1),
  "nanvar(N)": () => np.nanvar(N()),
  "nanstd(N, ddof=1)": () => np.nanstd(N(), { ddof: 1 }),
  "nanvar(M[[0, 2]], axis=1)": () => np.nanvar(M02(), 1),
  "hstack(V2, V2)": () => np.hstack([V().slice([0, 2]), V().slice([0, 2])]),
  "vstack(V3, V3)": () => np.vstack([V().slice([0, 3]), V().slice([3, null])]),
  "dstack(B, B)": () => np.dstack([B(), B()]),
  "column_stack(V3, V3)": () => np.columnStack([V().slice([0, 3]), V().slice([3, null])]),
  "bincount(I)": () => np.bincount(I(), { length: 6 }),
  "bincount(I, minlength=8)": () => np.bincount(I(), { length: 8 }),
  "bincount(I, weights)": () => np.bincount(I(), { weights: np.arange(7).astype("float32").div(2), length: 6 }),
  "digitize(X, BINS)": () => np.digitize(X(), BINS()),
  "digitize(X, BINS, right)": () => np.digitize(X(), BINS(), { right: true }),
  "digitize(X, BINS[::-1])": () => np.digitize(X(), np.flip(BINS())),
  "cross(a3, b3)": () => np.cross([1, 2, 3], [4, 5, 7]),
  "cross(rows)": () =>
    np.cross(
      [
        [1, 0, 0],
        [0, 1, 2],
      ],
      [
        [0, 1, 0],
        [3, -1, 1],
      ],
    ),
  "cross(a2, b2)": () => np.cross([1, 2], [3, 5]),
  "norm(V)": () => np.linalg.norm(V()),
  "norm(V, 1)": () => np.linalg.norm(V(), 1),
  "norm(V, inf)": () => np.linalg.norm(V(), Infinity),
  "norm(V, -inf)": () => np.linalg.norm(V(), -Infinity),
  "norm(V, 0)": () => np.linalg.norm(V(), 0),
  "norm(V, 3)": () => np.linalg.norm(V(), 3),
  "norm(A, fro)": () => np.linalg.norm(A(), "fro"),
  "norm(A, 1)": () => np.linalg.norm(A(), 1),
  "norm(A, inf)": () => np.linalg.norm(A(), Infinity),
  "norm(A, -1)": () => np.linalg.norm(A(), -1),
  "norm(B, axis=1)": () => np.linalg.norm(B(), { axis: 1 }),
  "histogram(X)": () => np.histogram(X()),
  "histogram(X, bins=3, range=(0, 6))": () => np.histogram(X(), { bins: 3, range: [0, 6] }),
  "histogram(X, BINS)": () => np.histogram(X(), { bins: BINS() }),
  "histogram(X, BINS, density)": () => np.histogram(X(), { bins: BINS(), density: true }),
  "interp(X, BINS, f)": () => np.interp(X(), BINS(), F),
  "interp(X, BINS, f, left, right)": () => np.interp(X(), BINS(), F, { left: -1, right: -2 }),
  "interp(periodic)": () =>
    np.interp([-180, -170, 95, 270, 360], [190, -190, 350, -350], [5, 10, 3, 4], { period: 360 }),
  "cov(B)": () => np.cov(B()),
  "cov(B, bias)": () => np.cov(B(), { bias: true }),
  "cov(A, rowvar=False)": () => np.cov(A(), { rowvar: false }),
  "cov(V, y=X)": () => np.cov(V(), { y: X() }),
  "corrcoef(B)": () => np.corrcoef(B()),
  "corrcoef(A, rowvar=False)": () => np.corrcoef(A(), { rowvar: false }),
};

async function expectDense(got: JArray, want: Dense, name: string): Promise<void> {
  expect(got.shape, `${name}: shape`).toEqual(want.shape);
  const values = Array.from(await got.data());
  values.forEach((g, i) => {
    const w = want.data[i];
    if (w === null || w === undefined) expect(Number.isNaN(g), `${name}[${i}]: expected NaN, got ${g}`).toBe(true);
    else if (Math.abs(g - w) > 2e-5 + 2e-5 * Math.abs(w)) expect.fail(`${name}[${i}]: got ${g}, numpy gives ${w}`);
  });
}

describe("week-one functions against NumPy", () => {
  test("every fixture case has a call and every call a fixture case", () => {
    expect(Object.keys(calls).sort()).toEqual(Object.keys(cases).sort());
  });

  for (const [name, call] of Object.entries(calls)) {
    test(name, async () => {
      const want = cases[name] as Dense | Dense[];
      const got = call();
      if (globalThis.Array.isArray(want)) {
        expect(globalThis.Array.isArray(got), `${name} returns a list`).toBe(true);
        const list = got as JArray[];
        expect(list.length).toBe(want.length);
        for (const [i, g] of list.entries()) await expectDense(g, want[i] as Dense, `${name}[${i}]`);
      } else await expectDense(got as JArray, want, name);
    });
  }

  test("float64 inputs stay float64 where the backend has it", async () => {
    if (!hasFloat64) return;
    using x = np.array(Float64Array.of(1, 1 + 2 ** -40, 3), { dtype: "float64" });
    using m = np.median(x);
    expect(m.dtype).toBe("float64");
    expect(await m.item()).toBe(1 + 2 ** -40);
  });
});
