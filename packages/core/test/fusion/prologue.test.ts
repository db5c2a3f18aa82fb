/**
 * Matmul prologues (docs/architecture.md, "Fusion", rule 5b): an elementwise operand of a
 * float32 dot_general is computed inside the dot's kernel. Each case counts the kernels and
 * checks the values against the same function run eagerly; one against a float64 reference.
 */
import { grad, type Array as JArray, jit, lax, np, random } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

async function sameAsEager(got: JArray, want: JArray, tol = 1e-5): Promise<void> {
  await expectClose(got, (await want.toArray()) as number[], { rtol: tol, atol: tol });
}

const prologues = (f: (...a: JArray[]) => JArray, ...args: JArray[]) =>
  jit(f)
    .lower(...args)
    .kernels.map((k) => k.kind);

describe("fusion: matmul prologues (rule 5b)", () => {
  const x = random.normal(random.key(0), [24, 40]);
  const w = random.normal(random.key(1), [40, 16]);
  const s = random.uniform(random.key(2), [40], { minval: 0.5, maxval: 1.5 });
  const t = random.normal(random.key(3), [40]);

  test("a normalised, activated input is the matmul's lhs prologue: one kernel, equal to a float64 reference", async () => {
    const f = (xx: JArray, ww: JArray, ss: JArray, tt: JArray) => np.maximum(xx.mul(ss).add(tt), 0).matmul(ww);
    const lowered = jit(f).lower(x, w, s, t);
    expect(lowered.kernels.map((k) => k.kind)).toEqual(["matmul"]);
    expect(lowered.text()).toContain("lhs prologue max(add(mul(");
    const got = jit(f)(x, w, s, t);
    await sameAsEager(got, f(x, w, s, t), 1e-6);
    // Reference: the same sums in float64 over the host values.
    const [X, W, S, T] = (await Promise.all([x, w, s, t].map((a) => a.toArray()))) as [
      number[][],
      number[][],
      number[],
      number[],
    ];
    const want = X.map((row) =>
      W[0]?.map((_, j) =>
        row.reduce(
          (acc, v, k) => acc + Math.max(v * (S[k] as number) + (T[k] as number), 0) * (W[k]?.[j] as number),
          0,
        ),
      ),
    );
    await expectClose(got, want as number[][], { rtol: 1e-5, atol: 1e-5 });
  });

  test("a scaled, transposed weight is the rhs prologue; with a bias epilogue still one kernel", async () => {
    const v = random.normal(random.key(4), [16, 40]);
    const b = random.normal(random.key(5), [16]);
    const f = (xx: JArray, vv: JArray, bb: JArray) => np.tanh(xx.matmul(vv.mul(0.5).transpose())).add(bb);
    const lowered = jit(f).lower(x, v, b);
    expect(lowered.kernels.map((k) => k.kind)).toEqual(["matmul"]);
    expect(lowered.text()).toContain("rhs prologue mul(");
    await sameAsEager(jit(f)(x, v, b), f(x, v, b), 1e-6);
  });

  test("both operands computed from one buffer (x.T · relu(x)): the buffer is bound for each", async () => {
    const f = (xx: JArray) => np.abs(xx).transpose().matmul(np.maximum(xx, 0));
    expect(prologues(f, x)).toEqual(["matmul"]);
    await sameAsEager(jit(f)(x), f(x), 1e-6);
  });

  test("an epilogue that reads a prologue's buffer (a residual of the input)", async () => {
    const sq = random.normal(random.key(6), [40, 40]);
    const f = (xx: JArray, ww: JArray) => np.maximum(xx, 0).matmul(ww).add(xx);
    expect(prologues(f, x, sq)).toEqual(["matmul"]);
    await sameAsEager(jit(f)(x, sq), f(x, sq), 1e-6);
  });

  test("a batched matmul takes a prologue on a broadcast operand", async () => {
    const a = random.normal(random.key(7), [3, 8, 12]);
    const m = random.normal(random.key(8), [12, 5]);
    const f = (aa: JArray, mm: JArray) => np.einsum("bij,bjk->bik", aa, np.broadcastTo(mm.mul(2), [3, 12, 5]));
    expect(prologues(f, a, m)).toEqual(["matmul"]);
    await sameAsEager(jit(f)(a, m), f(a, m), 1e-6);
  });

  test("a costly operand (two transcendentals, cost 8 > 4), an operand with a reduction, and one reading no buffer are buffers", async () => {
    const dear = (xx: JArray, ww: JArray) => np.exp(np.tanh(xx)).matmul(ww);
    expect(prologues(dear, x, w)).toEqual(["fused", "matmul"]);
    await sameAsEager(jit(dear)(x, w), dear(x, w), 1e-6);
    const centred = (xx: JArray, ww: JArray) => xx.sub(xx.mean(0)).matmul(ww);
    // The column mean, then the subtraction as the prologue.
    expect(prologues(centred, x, w)).toEqual(["fused", "matmul"]);
    await sameAsEager(jit(centred)(x, w), centred(x, w), 1e-5);
    const constant = (ww: JArray) => np.full([24, 40], 2).mul(3).matmul(ww);
    await sameAsEager(jit(constant)(w), constant(w), 1e-5);
  });

  test("a cheap operand read by two dots is recomputed in both (rule 3); a dot reading a prologue's dot is not fused", async () => {
    const w2 = random.normal(random.key(9), [40, 16]);
    const two = (xx: JArray, a: JArray, b: JArray) => {
      const h = np.maximum(xx, 0);
      return [h.matmul(a), h.matmul(b)];
    };
    expect(jit(two).lower(x, w, w2).kernels.length).toBe(2);
    const [g0, g1] = jit(two)(x, w, w2) as JArray[];
    const [e0, e1] = two(x, w, w2) as JArray[];
    await sameAsEager(g0 as JArray, e0 as JArray, 1e-6);
    await sameAsEager(g1 as JArray, e1 as JArray, 1e-6);
    // A dot inside an operand's cone: that dot keeps its epilogue up to the operand.
    const w3 = random.normal(random.key(10), [16, 8]);
    const chain = (xx: JArray, a: JArray, b: JArray) => np.maximum(xx.matmul(a), 0).matmul(b);
    const lowered = jit(chain).lower(x, w, w3);
    expect(lowered.kernels.map((k) => k.kind)).toEqual(["matmul", "matmul"]);
    expect(lowered.text()).not.toContain("prologue");
    await sameAsEager(jit(chain)(x, w, w3), chain(x, w, w3), 1e-5);
  });

  test("jit(grad) of a loss through a prologue matmul equals eager grad", async () => {
    const loss = (ww: JArray, xx: JArray) => np.tanh(np.maximum(xx.mul(s), 0).matmul(ww)).sum();
    const g = jit(grad(loss))(w, x);
    await sameAsEager(g, grad(loss)(w, x), 1e-5);
    const viaDot = (xx: JArray, ww: JArray) =>
      lax.dotGeneral(np.abs(xx), ww, { contracting: [[1], [0]], batch: [[], []] }).mul(3);
    expect(prologues(viaDot, x, w)).toEqual(["matmul"]);
    await sameAsEager(jit(viaDot)(x, w), viaDot(x, w), 1e-6);
  });
});
