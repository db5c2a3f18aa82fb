/**
 * Multi-output kernels (docs/architecture.md, "Fusion", rule 7): elementwise kernels of one
 * shape that share a read, or read one another's roots, run as one kernel writing several
 * buffers. Each case checks the kernel count, what the kernel writes, and the values against the
 * same function run eagerly: exactly on the CPU (every op rounds as its own kernel did), within
 * float32 tolerance on WebGPU. Sizes are odd so the Wasm kernels' 4-lane loops have a tail.
 */
import { type Array as JArray, jit, np, random } from "@webjax/core";
import { testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

async function sameAsEager(got: readonly JArray[], want: readonly JArray[]): Promise<void> {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    const g = got[i] as JArray;
    const w = want[i] as JArray;
    expect(g.shape).toEqual(w.shape);
    expect(g.dtype).toBe(w.dtype);
    const gv = Array.from((await g.data()) as ArrayLike<number>, Number);
    const wv = Array.from((await w.data()) as ArrayLike<number>, Number);
    if (testBackend === "cpu") expect(gv).toEqual(wv);
    else
      gv.forEach((x, j) =>
        expect(Math.abs(x - (wv[j] as number))).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(wv[j] as number)),
      );
  }
}

const x = random.normal(random.key(0), [7, 5]);
const y = random.normal(random.key(1), [7, 5]);

describe("fusion: multi-output kernels", () => {
  test("siblings reading one buffer are one kernel writing each (an Adam leaf's μ and ν)", async () => {
    const f = (m: JArray, g: JArray) => [m.mul(0.9).add(g.mul(0.1)), g.mul(g).mul(0.001)];
    const lowered = jit(f).lower(x, y);
    expect(lowered.kernels.length, lowered.text()).toBe(1);
    expect(lowered.kernels[0]?.outputs).toEqual(["float32", "float32"]);
    expect(lowered.text()).toMatch(/out0 = .*; out1 = /);
    await sameAsEager(jit(f)(x, y), f(x, y));
  });

  test("a member reading another's root computes it inline; a root read only inside is not written", async () => {
    // tanh(x) is shared by two kernels and costly: a buffer by rule 3, then a member of their group.
    const f = (a: JArray) => {
      const t = np.tanh(a);
      return [t.add(1), t.mul(t).mul(2)];
    };
    const lowered = jit(f).lower(x);
    expect(lowered.kernels.length, lowered.text()).toBe(1);
    expect(lowered.kernels[0]?.outputs).toEqual(["float32", "float32"]);
    await sameAsEager(jit(f)(x), f(x));
  });

  test("outputs of several dtypes, returned in any order, on vector and scalar paths", async () => {
    const f = (a: JArray, b: JArray) => [np.greater(a, b), a.add(b), a.astype("int32"), a.sub(b)];
    const sizes = [[7, 5], [1001], [3], [64]];
    for (const shape of sizes) {
      const u = random.normal(random.key(2), shape).mul(5);
      const v = random.normal(random.key(3), shape);
      const lowered = jit(f).lower(u, v);
      expect(lowered.kernels.length, lowered.text()).toBe(1);
      expect([...(lowered.kernels[0]?.outputs ?? [])].sort()).toEqual(["bool", "float32", "float32", "int32"]);
      await sameAsEager(jit(f)(u, v), f(u, v));
    }
  });

  test("a stage reading a group's root closes the group: the kernels keep program order", async () => {
    // The sum reads 2x, so x + 1 (after it) cannot join 2x's kernel, which must be written first.
    const f = (a: JArray) => {
      const d = a.mul(2);
      const s = d.sum();
      return [d, s, a.add(1).add(s)];
    };
    const lowered = jit(f).lower(x);
    expect(
      lowered.kernels.map((k) => k.outputs.length),
      lowered.text(),
    ).toEqual([1, 1, 1]);
    await sameAsEager(jit(f)(x), f(x));
  });

  test("kernels of different shapes, and float16 kernels, stay apart", async () => {
    const row = random.normal(random.key(4), [5]);
    const f = (a: JArray, r: JArray) => [a.add(r), r.mul(3)];
    expect(jit(f).lower(x, row).kernels.length).toBe(2);
    await sameAsEager(jit(f)(x, row), f(x, row));
    const h = x.astype("float16");
    const g = (a: JArray) => [a.add(1), a.mul(2)];
    expect(jit(g).lower(h).kernels.length).toBe(2);
    await sameAsEager(jit(g)(h), g(h));
  });

  test("a chain of members, each returned: one kernel writing all three", async () => {
    const f = (a: JArray, b: JArray) => {
      const p = a.mul(b);
      const q = p.add(a);
      const r = q.mul(p).sub(b);
      return [r, q, p];
    };
    const lowered = jit(f).lower(x, y);
    expect(lowered.kernels.length, lowered.text()).toBe(1);
    expect(lowered.kernels[0]?.outputs.length).toBe(3);
    await sameAsEager(jit(f)(x, y), f(x, y));
  });
});
