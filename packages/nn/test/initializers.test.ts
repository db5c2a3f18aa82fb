/**
 * Initialisers by sampling: the empirical variance of a 400×200 kernel matches the table
 * (Glorot 2/(fan_in + fan_out), He 2/fan_in, LeCun 1/fan_in) within 5%, uniform and truncated
 * forms alike (Flax's truncation correction); fans of conv kernels; orthogonal QᵀQ = I.
 */
import { type Array as JArray, np, random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const { initializers: init } = nn;
const key = random.key(7);

async function moments(x: JArray): Promise<{ mean: number; variance: number; max: number }> {
  const v = Array.from(await x.data());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
  return { mean, variance, max: Math.max(...v.map(Math.abs)) };
}

describe("variance scaling", () => {
  const fanIn = 400;
  const fanOut = 200;
  const cases: Array<[string, nn.Initializer, number, number]> = [
    // name, initialiser, target variance, max |x| (∞ for an untruncated normal)
    ["glorotUniform", init.glorotUniform(), 2 / (fanIn + fanOut), Math.sqrt(6 / (fanIn + fanOut))],
    [
      "glorotNormal",
      init.glorotNormal(),
      2 / (fanIn + fanOut),
      (2 * Math.sqrt(2 / (fanIn + fanOut))) / 0.8796256610342398,
    ],
    ["heUniform", init.heUniform(), 2 / fanIn, Math.sqrt(6 / fanIn)],
    ["heNormal", init.heNormal(), 2 / fanIn, (2 * Math.sqrt(2 / fanIn)) / 0.8796256610342398],
    ["lecunUniform", init.lecunUniform(), 1 / fanIn, Math.sqrt(3 / fanIn)],
    ["lecunNormal", init.lecunNormal(), 1 / fanIn, (2 * Math.sqrt(1 / fanIn)) / 0.8796256610342398],
    ["varianceScaling normal fanOut", init.varianceScaling(3, "fanOut", "normal"), 3 / fanOut, Infinity],
  ];
  test.each(cases)("%s: variance within 5% of the table", async (_name, f, want, bound) => {
    const w = f(key, [fanIn, fanOut]);
    expect(w.shape).toEqual([fanIn, fanOut]);
    expect(w.dtype).toBe("float32");
    const m = await moments(w);
    expect(Math.abs(m.variance / want - 1)).toBeLessThan(0.05);
    expect(Math.abs(m.mean)).toBeLessThan(0.05 * Math.sqrt(want));
    expect(m.max).toBeLessThanOrEqual(bound * (1 + 1e-6));
  });

  test("fans of a conv kernel [3, 3, 16, 32] include the receptive field", () => {
    expect(init.computeFans([3, 3, 16, 32])).toEqual([144, 288]);
    expect(init.computeFans([5, 10], { inAxis: 1, outAxis: 0 })).toEqual([10, 5]);
  });

  test("names in camelCase or Keras' snake_case; an unknown name lists the valid ones", () => {
    expect(typeof init.get("he_normal")).toBe("function");
    expect(() => init.get("glorot")).toThrow(/unknown initialiser "glorot"; valid names: zeros, ones/);
  });
});

describe("the simple initialisers", () => {
  test("zeros, ones, constant", async () => {
    await expectClose(init.zeros(key, [2]), [0, 0]);
    await expectClose(init.ones(key, [2]), [1, 1]);
    await expectClose(init.constant(0.25)(key, [2]), [0.25, 0.25]);
  });

  test("normal(0.5), uniform(2), truncatedNormal(1) by their moments", async () => {
    const n = await moments(init.normal(0.5)(key, [200, 100]));
    expect(Math.abs(n.variance / 0.25 - 1)).toBeLessThan(0.05);
    const u = init.uniform(2)(key, [200, 100]);
    const um = await moments(u);
    expect(Math.abs(um.mean - 1)).toBeLessThan(0.03);
    expect(Math.abs(um.variance / (4 / 12) - 1)).toBeLessThan(0.05);
    expect(Math.min(...Array.from(await u.data()))).toBeGreaterThanOrEqual(0);
    const t = await moments(init.truncatedNormal(1)(key, [200, 100]));
    // A unit normal cut at ±2 has variance 0.7737 (1 − 4φ(2)/(2Φ(2) − 1)).
    expect(Math.abs(t.variance / 0.7737413 - 1)).toBeLessThan(0.05);
    expect(t.max).toBeLessThanOrEqual(2);
  });
});

describe("orthogonal", () => {
  test.each([[[64, 32]], [[32, 64]], [[3, 3, 8, 16]]] as Array<[number[]]>)(
    "QᵀQ = I for %j (columns or rows orthonormal)",
    async (shape) => {
      const w = init.orthogonal()(key, shape);
      expect(w.shape).toEqual(shape);
      const cols = shape[shape.length - 1] as number;
      const m = w.reshape([-1, cols]);
      const [r, c] = m.shape as [number, number];
      const g = r >= c ? m.T.matmul(m) : m.matmul(m.T);
      const n = Math.min(r, c);
      await expectClose(g, Array.from(await np.eye(n).data()), { atol: 1e-5 });
    },
  );

  test("scale multiplies; deltaOrthogonal is orthogonal at the centre and zero elsewhere", async () => {
    const w = init.orthogonal(2)(key, [8, 8]);
    await expectClose(w.T.matmul(w), Array.from(await np.eye(8).mul(4).data()), { atol: 2e-5 });
    const d = init.deltaOrthogonal()(key, [3, 3, 4, 6]);
    const centre = d.slice(1, 1);
    await expectClose(centre.matmul(centre.T), Array.from(await np.eye(4).data()), { atol: 1e-5 });
    const total = await np.square(d).sum().item();
    expect(total).toBeCloseTo(4, 4);
    expect(() => init.deltaOrthogonal()(key, [3, 3, 8, 4])).toThrow(/in ≤ out/);
  });
});
