/**
 * In-place donated updates (issue 23): a jitted program writes an output over a donated input
 * when the kernel that last reads it reads it only at the element it writes — elementwise
 * kernels, multi-output ones (an Adam update's new parameter, mu and nu), and matmul
 * epilogues. Everything else (a transposed or reversed read, a matmul operand, a reduction, a
 * size change) keeps a fresh buffer. Each case: the program's values against the same
 * function run eagerly, and whether the output took the donated slot.
 */
import { getBackend, type Array as JArray, jit, np, random } from "@webjax/core";
import { type ConcreteArray, pointwiseInputs } from "@webjax/core/internal";
import { testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const slotOf = (x: JArray) => (x as unknown as ConcreteArray).buffer.slot;
const tol = testBackend === "webgpu" ? 2e-6 : 0;

/**
 * Runs `f` jitted with every argument donated for three calls; returns its last outputs and
 * whether output i took input i's slot (an optimiser's new parameter over the old one).
 */
async function donatedRuns(
  f: (...xs: JArray[]) => JArray[],
  make: () => JArray[],
  calls = 3,
): Promise<{ got: number[][]; want: number[][]; kept: boolean[] }> {
  const g = jit(f, { donateArgnums: make().map((_, i) => i) });
  let xs = make();
  let ys = make();
  let kept: boolean[] = [];
  for (let c = 0; c < calls; c++) {
    const slots = xs.map(slotOf);
    const next = g(...xs);
    kept = next.map((y, i) => slotOf(y) === slots[i]);
    xs = next;
    const eager = f(...ys);
    for (const y of ys) y.dispose();
    ys = eager;
  }
  const got = await Promise.all(xs.map(async (x) => Array.from(await x.data(), Number)));
  const want = await Promise.all(ys.map(async (y) => Array.from(await y.data(), Number)));
  for (const x of [...xs, ...ys]) x.dispose();
  return { got, want, kept };
}

function expectClose(got: number[][], want: number[][]): void {
  expect(got.map((a) => a.length)).toEqual(want.map((a) => a.length));
  got.forEach((a, i) =>
    a.forEach((v, j) => {
      const w = (want[i] as number[])[j] as number;
      expect(Math.abs(v - w)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
    }),
  );
}

describe(`in-place donated updates on ${testBackend}`, () => {
  const key = random.key(7);
  const normal = (i: number, shape: number[]) => random.normal(random.foldIn(key, i), shape);

  test("an Adam update's new parameter, mu and nu are written over the old, in one kernel: equal to eager", async () => {
    // The kernel's outputs come in its own order (mu, nu, then the parameter): each still goes
    // over the input it reads nearest its root.
    const [b1, b2, lr, eps] = [0.9, 0.999, 0.01, 1e-8];
    const adam = (p: JArray, m: JArray, v: JArray, g: JArray) => {
      const m2 = m.mul(b1).add(g.mul(1 - b1));
      const v2 = v.mul(b2).add(g.mul(g).mul(1 - b2));
      return [p.sub(m2.div(np.sqrt(v2).add(eps)).mul(lr)), m2, v2, g.mul(0.5)];
    };
    const make = () => [normal(1, [33, 17]), normal(2, [33, 17]), np.abs(normal(3, [33, 17])), normal(4, [33, 17])];
    const { got, want, kept } = await donatedRuns(adam, make);
    expectClose(got, want);
    expect(kept).toEqual([true, true, true, true]);
  });

  test("several orders of the outputs: each sibling reads inputs another overwrites", async () => {
    // Output j reads input (j + 1) mod 3 and input j: whichever is stored first, the others must
    // still read the old values.
    const rotate = (a: JArray, b: JArray, c: JArray) => [a.add(b.mul(2)), b.sub(c), c.mul(a).add(1)];
    const make = () => [normal(5, [1027]), normal(6, [1027]), normal(7, [1027])];
    const { got, want, kept } = await donatedRuns(rotate, make);
    expectClose(got, want);
    expect(kept).toEqual([true, true, true]);
  });

  test("a matmul epilogue updates its weight in place; the operand side never does", async () => {
    const sgd = (w: JArray, x: JArray) => [w.sub(x.T.matmul(x.matmul(w)).mul(0.01)), x.mul(1)];
    const make = () => [normal(8, [24, 24]), normal(9, [16, 24])];
    const { got, want, kept } = await donatedRuns(sgd, make);
    expectClose(
      got,
      want.map((a) => a),
    );
    expect(kept[0]).toBe(true);
    // w read as a matmul operand and in the epilogue: the operand reads other elements.
    const selfMul = (w: JArray) => [w.sub(w.matmul(w).mul(0.1))];
    const r = await donatedRuns(selfMul, () => [normal(10, [20, 20]).mul(0.3)]);
    expectClose(r.got, r.want);
    expect(r.kept).toEqual([false]);
  });

  test("reads at other elements never go in place: a transpose, a reversal", async () => {
    // mean is a reduction kernel of its own, and roll a concatenate of slices: each reads x
    // before the elementwise kernel after it, which reads x only pointwise and may write over it.
    const cases: [string, (x: JArray) => JArray[], number[], boolean][] = [
      ["x + x.T", (x) => [x.add(x.T)], [19, 19], false],
      ["x * flip(x)", (x) => [x.mul(np.flip(x))], [301], false],
      ["x - mean(x)", (x) => [x.sub(x.mean())], [257], true],
      ["x + roll(x, 1)", (x) => [np.roll(x, 1).add(x)], [300], true],
    ];
    for (const [name, f, shape, inPlace] of cases) {
      const r = await donatedRuns(f, () => [normal(11, shape)]);
      expectClose(r.got, r.want);
      expect(r.kept, name).toEqual([inPlace]);
    }
  });

  test("a donated input read by two kernels: the last one writes over it after the first has read it", async () => {
    const f = (x: JArray) => {
      const s = np.sum(np.exp(x)); // a reduction reads x first
      return [x.sub(np.log(s)), s];
    };
    const r = await donatedRuns(
      (x, _s) => f(x),
      () => [normal(12, [500]), np.zeros([])],
    );
    expectClose(r.got, r.want);
    expect(r.kept[0]).toBe(true);
  });
});

describe("pointwiseInputs", () => {
  test("an elementwise kernel's contiguous loads are pointwise; broadcast, offset and transposed ones are not", () => {
    const load = (input: number, offset: number, strides: number[]) => ({ input, offset, strides });
    const k = {
      kind: "fused" as const,
      label: "k",
      inputs: ["float32", "float32", "float32", "float32", "float32"] as const,
      outputs: ["float32"] as const,
      outRank: 2,
      loops: [3, 4],
      loads: [load(0, 0, [4, 1]), load(1, 0, [0, 1]), load(2, 1, [4, 1]), load(3, 0, [1, 3]), load(4, 0, [4, 1])],
      expr: { op: "const", value: 0, dtype: "float32" } as never,
    };
    expect(pointwiseInputs(k as never, [])).toEqual([true, false, false, false, true]);
    // The same input also read transposed: not pointwise. A reduction: none.
    const twice = { ...k, loads: [...k.loads, load(0, 0, [1, 3])] };
    expect(pointwiseInputs(twice as never, [])[0]).toBe(false);
    expect(pointwiseInputs({ ...k, outRank: 1, reduce: "sum" } as never, [])).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
});

test(`the backend offers in-place kernels (${testBackend})`, () => {
  expect(typeof getBackend(testBackend).inPlace).toBe("function");
});
