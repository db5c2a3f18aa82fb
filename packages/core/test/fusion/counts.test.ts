/**
 * Kernel counts of fused programs (docs/architecture.md, "Fusion"), on every backend, each
 * with its values checked against the same function run eagerly.
 */
import {
  configureJit,
  getBackend,
  type Array as JArray,
  jit,
  lax,
  makeJaxpr,
  np,
  random,
  tree,
  valueAndGrad,
} from "@webjax/core";
import { fuse } from "@webjax/core/internal";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

type Params = Record<string, JArray>;

async function sameAsEager(got: JArray, want: JArray, tol = 1e-5): Promise<void> {
  await expectClose(got, (await want.toArray()) as number[], { rtol: tol, atol: tol });
}

function mlpParams(sizes: readonly number[]): Params {
  const p: Params = {};
  sizes.slice(1).forEach((n, i) => {
    const m = sizes[i] as number;
    p[`w${i}`] = random.normal(random.key(i), [m, n]).mul(Math.sqrt(2 / m));
    p[`b${i}`] = random.normal(random.key(100 + i), [n]).mul(0.1);
  });
  return p;
}

function forward(p: Params, x: JArray, layers: number): JArray {
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = h.matmul(p[`w${i}`] as JArray).add(p[`b${i}`] as JArray);
    if (i < layers - 1) h = np.maximum(h, 0);
  }
  return h;
}

function loss(p: Params, x: JArray, y: JArray, layers: number): JArray {
  const h = forward(p, x, layers);
  return h
    .sub(np.logsumexp(h, { axis: -1, keepdims: true }))
    .mul(y)
    .sum(-1)
    .mean()
    .neg();
}

interface Adam {
  p: Params;
  m: Params;
  v: Params;
  t: JArray;
}

/** Adam (Kingma & Ba) written out: μ, ν, bias corrections, the step. */
function adamUpdate(s: Adam, g: Params): Adam {
  const t = s.t.add(1);
  const m = tree.map((m: JArray, g: JArray) => m.mul(0.9).add(g.mul(0.1)), s.m, g) as Params;
  const v = tree.map((v: JArray, g: JArray) => v.mul(0.999).add(g.mul(g).mul(0.001)), s.v, g) as Params;
  const c1 = np.subtract(1, np.power(0.9, t));
  const c2 = np.subtract(1, np.power(0.999, t));
  const p = tree.map(
    (p: JArray, m: JArray, v: JArray) =>
      p.sub(
        m
          .div(c1)
          .mul(1e-3)
          .div(np.sqrt(v.div(c2)).add(1e-8)),
      ),
    s.p,
    m,
    v,
  ) as Params;
  return { p, m, v, t };
}

const zerosOf = (p: Params) => tree.map((a: JArray) => np.zerosLike(a), p) as Params;

describe("fusion: kernel counts", () => {
  test("relu(x * a + b) is one kernel", async () => {
    const f = (x: JArray, a: JArray, b: JArray) => np.maximum(x.mul(a).add(b), 0);
    const x = random.normal(random.key(0), [64, 32]);
    const a = random.normal(random.key(1), [32]);
    const b = np.array(0.5);
    const lowered = jit(f).lower(x, a, b);
    expect(lowered.kernels.length).toBe(1);
    expect(lowered.kernels[0]?.covers.map((c) => c.split(" = ")[1]?.split(" ")[0])).toEqual(["mul", "add", "max"]);
    await sameAsEager(jit(f)(x, a, b), f(x, a, b), 0);
  });

  test("a costly value broadcast into a larger kernel is computed once (rule 3b): optax's per-leaf bias corrections", async () => {
    // Each leaf divides by its own 1 − β^t, as optax's Adam does: without rule 3b every element
    // of the leaf would compute the power again. (The first leaf's kernel reads the first
    // correction, so the second correction, after it, is a kernel of its own.)
    const f = (m0: JArray, m1: JArray, t: JArray) => [
      m0.div(np.subtract(1, np.power(0.9, t))),
      m1.div(np.subtract(1, np.power(0.9, t))),
    ];
    const m0 = random.normal(random.key(0), [64, 32]);
    const m1 = random.normal(random.key(1), [64, 32]);
    const t = np.array(3);
    const lowered = jit(f).lower(m0, m1, t);
    expect(
      lowered.kernels.map((k) => k.covers.length),
      lowered.text(),
    ).toEqual([2, 1, 2, 1]);
    // A cheap one (cost ≤ 2) stays inline.
    expect(jit((m: JArray, s: JArray) => m.mul(s.mul(2).add(1))).lower(m0, t).kernels.length).toBe(1);
    const got = jit(f)(m0, m1, t);
    const want = f(m0, m1, t);
    await sameAsEager(got[0] as JArray, want[0] as JArray, 1e-6);
    await sameAsEager(got[1] as JArray, want[1] as JArray, 1e-6);
  });

  test("a dense layer's bias, activation, scaling and a residual add are the matmul's epilogue", async () => {
    const f = (x: JArray, w: JArray, b: JArray, r: JArray) => np.tanh(x.matmul(w).add(b)).mul(2).add(r);
    const x = random.normal(random.key(0), [16, 24]);
    const w = random.normal(random.key(1), [24, 8]);
    const b = random.normal(random.key(2), [8]);
    const r = random.normal(random.key(3), [16, 8]);
    const lowered = jit(f).lower(x, w, b, r);
    expect(lowered.kernels.map((k) => k.kind)).toEqual(["matmul"]);
    await sameAsEager(jit(f)(x, w, b, r), f(x, w, b, r));
  });

  test("an MLP forward of k dense layers (bias + relu) is k kernels; the log-softmax loss head adds 5", async () => {
    const sizes = [20, 16, 12, 10];
    const p = mlpParams(sizes);
    const x = random.normal(random.key(7), [8, 20]);
    const y = np.oneHot(np.mod(np.arange(8), 10), 10);
    const fwd = (q: Params, xx: JArray) => forward(q, xx, 3);
    expect(
      jit(fwd)
        .lower(p, x)
        .kernels.map((k) => k.kind),
    ).toEqual(["matmul", "matmul", "matmul"]);
    await sameAsEager(jit(fwd)(p, x), fwd(p, x), 1e-5);
    const l = (q: Params, xx: JArray, yy: JArray) => loss(q, xx, yy, 3);
    // The head: the row max, logsumexp's guard of an infinite max, exp-sum (its prologue
    // subtracts the max), log + max (a costly value broadcast over the row: rule 3b), subtract
    // + mask-sum, the mean's division and negation as a post.
    const kernels = jit(l).lower(p, x, y).kernels;
    expect(kernels.length, String(jit(l).lower(p, x, y))).toBe(3 + 6);
    await sameAsEager(jit(l)(p, x, y), l(p, x, y), 1e-5);
  });

  test("an Adam update over n leaves: n + 1 kernels (μ, ν and the parameter of a leaf are one three-output kernel; the step count and both bias corrections are one)", async () => {
    const p = mlpParams([6, 5, 4, 3]);
    const g = tree.map((a: JArray) => np.sin(a), p) as Params;
    const s: Adam = { p, m: zerosOf(p), v: zerosOf(p), t: np.array(0) };
    const upd = (st: Adam, gr: Params) => adamUpdate(st, gr);
    const n = Object.keys(p).length;
    // A leaf's kernel binds 9 buffers: it reads μ, ν, p, g and the two corrections, writes 3.
    const limit = getBackend().maxKernelInputs ?? Number.POSITIVE_INFINITY;
    const lowered = jit(upd).lower(s, g);
    expect(lowered.kernels.length, lowered.text()).toBe(limit + 1 >= 9 ? n + 1 : 2 * n + 1);
    // Every kernel writes 3 buffers: a leaf's reads 6; the step count's reads t.
    if (limit + 1 >= 9)
      expect(lowered.kernels.map((k) => [k.inputs.length, k.outputs.length]).sort()).toEqual([
        [1, 3],
        ...Array.from({ length: n }, () => [6, 3]),
      ]);
    // With 8 buffers a kernel, the parameter's update no longer fits: μ and ν stay one kernel.
    const closed = makeJaxpr(upd)(s, g);
    expect(fuse(closed.jaxpr, 7).kernels).toBe(2 * n + 1);
    expect(fuse(closed.jaxpr, 8).kernels).toBe(n + 1);
    closed.dispose();
    const got = jit(upd)(s, g);
    const want = upd(s, g);
    for (const k of Object.keys(p)) {
      await sameAsEager(got.p[k] as JArray, want.p[k] as JArray, 1e-6);
      await sameAsEager(got.m[k] as JArray, want.m[k] as JArray, 1e-6);
      await sameAsEager(got.v[k] as JArray, want.v[k] as JArray, 1e-6);
    }
  });

  test("the MLP 784-512-512-10 batch-128 Adam training step: 30 fused kernels (162 unfused), same loss and parameters", async () => {
    const sizes = [784, 512, 512, 10];
    const x = random.normal(random.key(1), [128, 784]);
    const y = np.oneHot(np.mod(np.arange(128), 10), 10);
    const step = (s: Adam, xx: JArray, yy: JArray) => {
      const [l, g] = valueAndGrad((q: Params) => loss(q, xx, yy, 3))(s.p);
      return [l, adamUpdate(s, g as Params)] as const;
    };
    const p = mlpParams(sizes);
    const s: Adam = { p, m: zerosOf(p), v: zerosOf(p), t: np.array(0) };
    const f = jit(step);
    const lowered = f.lower(s, x, y);
    const kinds = lowered.kernels.map((k) => k.kind);
    expect(kinds.length, lowered.text()).toBe(30);
    // Forward: 3 matmuls with bias epilogues, each hidden relu the next matmul's prologue (and
    // again the prologue of its weight gradient's matmul); backward: 5 matmuls (no gradient for
    // x), two with the relu mask as an epilogue; the weight gradients come in the weights' order.
    expect(kinds.filter((k) => k === "matmul").length).toBe(8);
    configureJit({ fusion: false });
    try {
      expect(jit(step).lower(s, x, y).kernels.length).toBe(162);
    } finally {
      configureJit({ fusion: true });
    }
    const [l1, s1] = f(s, x, y);
    const [l0, s0] = step(s, x, y);
    await sameAsEager(l1, l0, 1e-5);
    for (const k of Object.keys(p)) await sameAsEager(s1.p[k] as JArray, s0.p[k] as JArray, 1e-5);
  }, 60_000);

  test("a kernel reads at most the backend's maxKernelInputs buffers: a long sum is split", async () => {
    const xs = Array.from({ length: 12 }, (_, i) => np.full([4, 4], i + 1));
    const f = (...a: JArray[]) => a.reduce((s, x) => s.mul(x).add(x), np.zeros([4, 4]));
    const limit = getBackend().maxKernelInputs;
    const closed = makeJaxpr(f)(...xs);
    // The partition with a limit of 3: every kernel reads at most 3 buffers.
    const fused = fuse(closed.jaxpr, 3);
    const kernelStages = fused.stages.filter((s) => s.kind === "kernel");
    expect(kernelStages.length).toBeGreaterThan(4);
    for (const st of kernelStages) if (st.kind === "kernel") expect(st.reads.length).toBeLessThanOrEqual(3);
    const lowered = jit(f).lower(...xs);
    // Unbounded (CPU): one kernel. Bounded: each kernel but the first reads one earlier result.
    expect(lowered.kernels.length).toBe(limit === undefined ? 1 : Math.ceil((12 - 1) / (limit - 1)));
    for (const k of lowered.kernels) expect(k.inputs.length).toBeLessThanOrEqual(limit ?? Number.POSITIVE_INFINITY);
    await sameAsEager(jit(f)(...xs), f(...xs), 1e-6);
    closed.dispose();
  });
});

describe("fusion: movement ops inside a kernel are index maps", () => {
  const weights = np.array([1, -2, 3, 0.5]);
  test.each([
    [
      "a merging reshape of a transposed value (div/mod indices)",
      (x: JArray) => np.tanh(x).transpose().reshape([-1]).mul(2),
    ],
    ["a splitting reshape", (x: JArray) => np.exp(x.mul(0.5)).reshape([3, 2, 4]).add(1)],
    ["a strided slice and a reversal", (x: JArray) => np.flip(lax.slice(np.sin(x), [1, 0], [5, 4], [2, 3]), 1).mul(3)],
    [
      "a broadcast of an unmaterialised row",
      (x: JArray) => np.broadcastTo(lax.slice(x, [0, 0], [1, 4]).mul(2).add(1), [6, 4]).add(x),
    ],
    [
      "a squeeze and a rev inside a reduction's prologue",
      (x: JArray) => np.sum(np.flip(np.square(x.reshape([6, 1, 4])).squeeze(1), 0).mul(weights), 0),
    ],
  ])("%s: one kernel, equal to eager bit for bit on the CPU", async (_, f) => {
    const x = np.array(Array.from({ length: 24 }, (_, i) => Math.sin(i * 0.7) * 2)).reshape([6, 4]);
    const jf = jit(f as (x: JArray) => JArray);
    expect(jf.lower(x).kernels.length, String(jf.lower(x))).toBe(1);
    const got = Array.from((await jf(x).data()) as Float32Array);
    const want = Array.from((await (f as (x: JArray) => JArray)(x).data()) as Float32Array);
    if (getBackend().name === "cpu") expect(got).toEqual(want);
    else got.forEach((v, i) => expect(v).toBeCloseTo(want[i] as number, 5));
  });
});

describe("jit(f).lower", () => {
  test("prints each kernel with the equations it covers, and its code on request", () => {
    const f = jit(function affine(x: JArray) {
      return np.tanh(x.mul(3).add(1)).sum();
    });
    const x = np.ones([8]);
    const lowered = f.lower(x);
    const text = String(lowered);
    expect(text).toMatch(/^jit\(affine\): 1 kernel\n/);
    expect(text).toContain("kernel 0: fused(mul,add,tanh,reduce_sum) (fused) (float32) -> float32");
    expect(text).toContain("reduce_sum[axes=(0,)]");
    expect(text).toContain("sum over loops 0");
    const code = lowered.text({ code: true });
    expect(code.length).toBeGreaterThan(text.length + 40);
    expect(code).toMatch(getBackend().name === "webgpu" ? /@compute/ : /function|for \(/);
  });
});
