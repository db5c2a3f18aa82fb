/**
 * In headless Chromium: navigator.gpu acquisition, and a smoke subset of ops read back from the
 * GPU, compared with hand-computed values (the full suite runs on Dawn in Node).
 */
import {
  BackendError,
  collect,
  collectionStats,
  currentBackend,
  evalShape,
  getBackend,
  grad,
  type Array as JArray,
  jacrev,
  jit,
  lax,
  makeJaxpr,
  memoryStats,
  np,
  random,
  registerBackend,
  ShapeDtypeStruct,
  setBackend,
  valueAndGrad,
  vmap,
} from "@webjax/core";
import { type ConcreteArray, CpuBackend, evalJaxpr } from "@webjax/core/internal";
import { adam, applyUpdates } from "@webjax/optax";
import { activeBackend, init, shutdown } from "@webjax/webgpu";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

beforeAll(async () => {
  expect(await init({ fallback: false, allowSoftware: true })).toBe("webgpu");
});
afterAll(() => shutdown());

describe("WebGPU in the browser", () => {
  test("navigator.gpu gives an adapter and a device with the adapter's limits", () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeDefined();
    expect(currentBackend()).toBe("webgpu");
    expect(activeBackend()?.limits.maxStorageBuffersPerShaderStage).toBeGreaterThanOrEqual(8);
  });

  test("elementwise ops, broadcasting and transcendentals read back", async () => {
    using x = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using b = np.array([10, 20, 30]);
    using y = x.add(b);
    expect(await y.toArray()).toEqual([
      [11, 22, 33],
      [14, 25, 36],
    ]);
    using t = np.tanh(np.array([100, -100, 0]));
    expect(Array.from(await t.data())).toEqual([1, -1, 0]);
  });

  test("reductions, argmax and matmul", async () => {
    using x = np.array([
      [1, 5, 2],
      [7, 0, 7],
    ]);
    using s = x.sum(1);
    using m = x.argmax(1);
    using xt = x.T;
    using g = x.matmul(xt);
    expect(await s.toArray()).toEqual([8, 14]);
    expect(await m.toArray()).toEqual([1, 0]);
    expect(await g.toArray()).toEqual([
      [30, 21],
      [21, 98],
    ]);
  });

  test("dataSync is an error naming the async read", () => {
    using x = np.ones([3]);
    expect(() => x.dataSync()).toThrow(BackendError);
    expect(() => x.dataSync()).toThrow(/await x\.data\(\)/);
  });

  test("the cpu backend still works beside it, its fused kernels in Wasm", async () => {
    setBackend("cpu");
    try {
      using c = np.arange(4);
      expect(await c.toArray()).toEqual([0, 1, 2, 3]);
      const cpu = getBackend("cpu") as unknown as { counters: { wasmKernels: number } };
      const before = cpu.counters.wasmKernels;
      // exp from the IR math library, in a four-lane loop with a tail (9 elements), and a sum.
      using x = np.arange(9).astype("float32").mul(0.5);
      using e = np.exp(x.neg());
      using s = np.sum(e);
      const want = Array.from({ length: 9 }, (_, i) => Math.exp(-i * 0.5));
      const got = (await e.toArray()) as number[];
      got.forEach((v, i) =>
        expect(Math.abs(v - (want[i] as number))).toBeLessThanOrEqual(2 ** -23 * (want[i] as number)),
      );
      expect(Math.abs(((await s.toArray()) as number) - want.reduce((a, b) => a + b))).toBeLessThan(1e-6);
      expect(cpu.counters.wasmKernels - before).toBeGreaterThanOrEqual(4);
    } finally {
      setBackend("webgpu");
    }
  });
  test("the cpu backend's conv (im2col + GEMM) and pooling (four-lane reductions) in the browser", async () => {
    setBackend("cpu");
    try {
      // A 2×2 all-ones kernel over a 3×3 NHWC image with 4 identical channels, and 2×2 max pooling.
      const img = Array.from({ length: 9 * 4 }, (_, i) => Math.floor(i / 4) + 1);
      using x = np.array(Float32Array.from(img), { shape: [1, 3, 3, 4] });
      using k = np.ones([2, 2, 4, 1]);
      using y = lax.convGeneralDilated(x, k, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] });
      expect(Array.from(await y.data())).toEqual([48, 64, 96, 112]);
      using p = lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 1, 1, 1], "VALID");
      expect(Array.from(await p.data())).toEqual([5, 5, 5, 5, 6, 6, 6, 6, 8, 8, 8, 8, 9, 9, 9, 9]);
    } finally {
      setBackend("webgpu");
    }
  });
  for (const name of ["cpu", "webgpu"] as const) {
    test(`jit on the ${name} backend: conv(relu(x)) + bias → relu is 2 kernels (patches with prologue, matmul with epilogue)`, async () => {
      setBackend(name);
      try {
        // The same image and kernel as above, shifted by −3 so the relu prologue matters.
        const img = Array.from({ length: 9 * 4 }, (_, i) => Math.floor(i / 4) + 1 - 3);
        using x = np.array(Float32Array.from(img), { shape: [1, 3, 3, 4] });
        using k = np.ones([2, 2, 4, 1]);
        using b = np.array([-20]);
        const f = jit((x: JArray, k: JArray, b: JArray) =>
          np.maximum(
            lax
              .convGeneralDilated(np.maximum(x, 0), k, [1, 1], "VALID", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] })
              .add(b),
            0,
          ),
        );
        expect(f.lower(x, k, b).kernels.map((kk) => kk.kind)).toEqual(["fused", "matmul"]);
        // relu(x) per pixel: 0 0 0 / 1 2 3 / 4 5 6; 2×2 window sums over 4 channels: 12, 20, 48,
        // 64; less 20, relu'd.
        using y = f(x, k, b);
        expect(Array.from(await y.data())).toEqual([0, 0, 28, 44]);
      } finally {
        setBackend("webgpu");
      }
    });
  }
  test("the cpu backend's worker pool: Web Workers over the shared heap, bit-identical to one thread", async () => {
    // The test server sends COOP/COEP, so the page may share memory with workers.
    expect(globalThis.crossOriginIsolated).toBe(true);
    const { options } = getBackend("cpu") as CpuBackend;
    registerBackend("cpu-two", () => new CpuBackend({ ...options, threads: 2 }, "cpu-two"));
    registerBackend("cpu-one", () => new CpuBackend({ ...options, threads: 1 }, "cpu-one"));
    const two = getBackend("cpu-two") as CpuBackend;
    expect([two.threads, two.threadsReason]).toEqual([2, null]);
    const pool = two.wasm?.pool;
    expect(pool).toBeTruthy();
    // Workers start asynchronously in a browser; until then kernels run whole on this thread.
    expect(await pool?.whenReady()).toBe(2);
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return (seed / 2 ** 31) * 2 - 1;
    };
    const da = Float32Array.from({ length: 190 * 300 }, next);
    const db = Float32Array.from({ length: 300 * 170 }, next);
    const dx = Float32Array.from({ length: 512 * 400 }, next);
    const run = async (backend: string) => {
      using a = np.array(da, { shape: [190, 300], backend });
      using b = np.array(db, { shape: [300, 170], backend });
      using x = np.array(dx, { shape: [512, 400], backend });
      using c = a.matmul(b);
      using t = np.tanh(x.mul(0.5)).exp().sum(1);
      return [new Uint8Array((await c.data()).buffer), new Uint8Array((await t.data()).buffer)];
    };
    const before = pool?.jobsRun()[0] ?? 0;
    const [c2, t2] = await run("cpu-two");
    expect((pool?.jobsRun()[0] ?? 0) - before).toBeGreaterThanOrEqual(2); // the GEMM's and the fused kernel's shares
    const [c1, t1] = await run("cpu-one");
    expect(c2).toEqual(c1);
    expect(t2).toEqual(t1);
    const c = new Float32Array((c2 as Uint8Array).buffer);
    let ref = 0;
    for (let k = 0; k < 300; k++) ref += (da[189 * 300 + k] as number) * (db[k * 170 + 169] as number);
    expect(Math.abs((c[189 * 170 + 169] as number) - ref)).toBeLessThan(1e-4);
  });

  test("grad and valueAndGrad run on the GPU: an MLP layer's gradients by hand", async () => {
    // loss = Σ tanh(x·w)²; ∂/∂w = xᵀ·(2·tanh(z)·(1 − tanh(z)²))
    using x = np.array([
      [1, 2],
      [0.5, -1],
    ]);
    using w = np.array([[0.3], [-0.2]]);
    const [loss, g] = valueAndGrad((v: JArray) => np.square(np.tanh(np.matmul(x, v))).sum())(w);
    const z = [1 * 0.3 + 2 * -0.2, 0.5 * 0.3 + -1 * -0.2];
    const d = z.map((v) => 2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
    expect(await loss.item()).toBeCloseTo(
      z.reduce((s, v) => s + Math.tanh(v) ** 2, 0),
      5,
    );
    const got = Array.from(await g.data());
    expect(got[0]).toBeCloseTo(1 * (d[0] as number) + 0.5 * (d[1] as number), 5);
    expect(got[1]).toBeCloseTo(2 * (d[0] as number) - 1 * (d[1] as number), 5);
    using d2 = grad(grad((v: JArray) => np.sin(v)))(np.array(0.5));
    expect(await d2.item()).toBeCloseTo(-Math.sin(0.5), 5);
    loss.dispose();
    g.dispose();
  });

  test("routines: a 5000-element sort, topK, cumsum, searchsorted and a scatter-add with duplicates", async () => {
    const n = 5000;
    const data = Float32Array.from({ length: n }, (_, i) => ((i * 7919) % n) - n / 2); // a permutation, shifted
    using x = np.array(data);
    using s = np.sort(x);
    using i = np.argsort(x, { descending: true });
    const sorted = Array.from(await s.data());
    expect(sorted).toEqual(Array.from({ length: n }, (_, k) => k - n / 2));
    const order = Array.from(await i.data());
    expect(order.slice(0, 3).map((k) => data[k])).toEqual([n / 2 - 1, n / 2 - 2, n / 2 - 3]);
    const [tv, ti] = lax.topK(x, 2);
    expect(await tv.toArray()).toEqual([n / 2 - 1, n / 2 - 2]);
    expect(await ti.toArray()).toEqual(order.slice(0, 2));
    tv.dispose();
    ti.dispose();
    using c = np.cumsum(np.ones([n], { dtype: "int32" }));
    expect((await c.data())[n - 1]).toBe(n);
    using where = np.searchsorted(s, np.array([-n, 0, n]));
    expect(await where.toArray()).toEqual([0, n / 2, n]);
    using z = np.zeros([4]);
    using added = z.at(np.array(Int32Array.of(1, 3, 1, -1))).add(np.array([1, 2, 3, 4]));
    expect(await added.toArray()).toEqual([0, 4, 0, 6]);
    using p = random.permutation(random.key(0), 100);
    expect(Array.from(await p.data()).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, k) => k));
  });

  test("week one: masks, index modes, unique and quantiles with size, iteration, collection", async () => {
    using v = np.array([10, 30, 20, 40]);
    using capped = v.at(v.greater(25)).set(25);
    expect(await capped.toArray()).toEqual([10, 25, 20, 25]);
    using big = np.extract(v.greater(25), v, { size: 3, fillValue: -1 });
    expect(await big.toArray()).toEqual([30, 40, -1]);
    const [nz] = np.nonzero(v.greater(15), { size: 4, fillValue: -1 });
    expect(await (nz as JArray).toArray()).toEqual([1, 2, 3, -1]);
    nz?.dispose();
    using t = np.take(v, [1, 9, -1]);
    expect(await t.toArray()).toEqual([30, Number.NaN, 40]);
    using g = v.at([9]).get();
    expect(await g.toArray()).toEqual([40]);
    expect(() => v.at(1.5).get()).toThrow(/indices must be integers/);
    using u = np.array([3, 1, 3, 2]);
    const [vals, counts] = np.unique(u, { returnCounts: true, size: 4, fillValue: 0 });
    expect(await (vals as JArray).toArray()).toEqual([1, 2, 3, 0]);
    expect(await (counts as JArray).toArray()).toEqual([1, 1, 2, 0]);
    vals?.dispose();
    counts?.dispose();
    using med = np.median(u);
    expect(await med.item()).toBe(2.5);
    using q = np.quantile(u, [0, 1]);
    expect(await q.toArray()).toEqual([1, 3]);
    const key = random.key(1);
    const [k1, k2] = random.split(key);
    using both = random.split(key);
    expect(await (k1 as JArray).toArray()).toEqual(((await both.toArray()) as number[][])[0]);
    for (const k of [key, k1, k2]) k?.dispose();
    using dt = np.where(np.array([true, false]), 1, 0);
    expect(dt.dtype).toBe("float32");
    using pooled = lax.reduceWindow(np.array([1, 2, 3, 4]), 1, "mul", [2], [2], "VALID");
    expect(await pooled.toArray()).toEqual([2, 12]);
    expect(() => np.pad(v, 1, { constantValue: 9 } as never)).toThrow(/did you mean "constantValues"/);
  });

  test("an eager loop without dispose stays bounded (the collector's browser path)", async () => {
    using w0 = np.ones([64, 16]);
    let w: JArray = w0.mul(1);
    const live = () => memoryStats().webgpu?.liveBytes ?? 0;
    const before = live();
    const { collections, reclaimed } = collectionStats;
    const steps = 900;
    let peak = 0;
    for (let step = 0; step < steps; step++) {
      const gw = grad((p: JArray) => np.square(p).sum())(w);
      w = w.sub(gw.mul(0.001));
      if (step % 50 === 49) {
        await w.data();
        if (step >= steps / 2) peak = Math.max(peak, live() - before);
      }
    }
    // Each step drops three 4 KiB arrays: 11 MB by the end without collections. In browsers the
    // collection is best effort (no script can force a GC), so this checks the bound, not zero.
    expect(peak).toBeLessThan(2.5e6);
    // …and the reads ran collections that reclaimed the dropped arrays.
    expect(collectionStats.collections).toBeGreaterThan(collections);
    expect(collectionStats.reclaimed - reclaimed).toBeGreaterThan(0);
    await collect();
    expect(live() - before).toBeLessThan(2.5e6);
    const first = (await w.data())[0] as number;
    expect(first).toBeCloseTo(0.998 ** steps, 4);
  });

  test("vmap, vmap(grad) and jacrev on the GPU", async () => {
    using xs = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using w = np.array([[1], [0], [-1]]);
    using y = vmap((r: JArray) => r.matmul(w))(xs);
    expect(await y.toArray()).toEqual([[-2], [-2]]);
    using g = vmap(grad((r: JArray) => np.square(r).sum()))(xs);
    expect(await g.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
    using labels = np.array(Int32Array.of(2, 0));
    using picked = vmap((r: JArray, l: JArray) => r.at(l).get())(xs, labels);
    expect(await picked.toArray()).toEqual([3, 4]);
    using j = jacrev((v: JArray) => np.sin(v))(np.array([0, 1]));
    const jv = (await j.toArray()) as number[][];
    expect(jv[0]?.[0]).toBeCloseTo(1, 6);
    expect(jv[1]?.[1]).toBeCloseTo(Math.cos(1), 6);
    expect(jv[0]?.[1]).toBe(0);
  });

  test("makeJaxpr prints a staged gradient, evalShape allocates nothing, a staged program runs on the GPU", async () => {
    const f = (x: JArray) => np.sin(x).mul(2).sum();
    const j = makeJaxpr(grad(f))(new ShapeDtypeStruct([3]));
    expect(String(j)).toContain("b:f32[3] = sin a");
    expect(j.consts).toEqual([]);
    const before = memoryStats().webgpu;
    const out = evalShape((a: JArray, b: JArray) => a.matmul(b).add(np.eye(4)))(
      new ShapeDtypeStruct([4, 8]),
      new ShapeDtypeStruct([8, 4]),
    );
    expect(out.shape).toEqual([4, 4]);
    expect(memoryStats().webgpu).toEqual(before);
    using x = np.array([0, 1, 2]);
    const [g] = evalJaxpr(j, [x]) as [JArray];
    const gv = (await g.toArray()) as number[];
    gv.forEach((v, i) => expect(v).toBeCloseTo(2 * Math.cos(i), 5));
    g.dispose();
  });

  test("jit on the GPU: a donated SGD step equals eager, and traces once", async () => {
    const loss = (w: JArray, xs: JArray) => np.tanh(xs.matmul(w)).square().sum();
    const step = jit((w: JArray, xs: JArray, lr: number) => w.sub(grad(loss)(w, xs).mul(lr)), { donateArgnums: 0 });
    using xs = np.array([
      [1, 2],
      [3, -1],
    ]);
    using w0 = np.array([[0.1], [-0.2]]);
    using want = w0.sub(grad(loss)(w0, xs).mul(0.5));
    let w = step(np.array([[0.1], [-0.2]]), xs, 0.5);
    const got = (await w.toArray()) as number[][];
    const exp = (await want.toArray()) as number[][];
    got.forEach((r, i) => expect(r[0]).toBeCloseTo(exp[i]?.[0] as number, 5));
    w = step(w, xs, 0.25);
    expect(step.traceCount).toBe(1);
    w.dispose();
  });

  test("fusion on the GPU: a jitted MLP training step runs as fused kernels and equals eager", async () => {
    const loss = (p: { w0: JArray; b0: JArray; w1: JArray }, xs: JArray, ys: JArray) => {
      const h = np.maximum(xs.matmul(p.w0).add(p.b0), 0);
      const z = h.matmul(p.w1);
      return z
        .sub(np.logsumexp(z, { axis: -1, keepdims: true }))
        .mul(ys)
        .sum(-1)
        .mean()
        .neg();
    };
    const sgd = (p: { w0: JArray; b0: JArray; w1: JArray }, xs: JArray, ys: JArray) => {
      const [l, g] = valueAndGrad(loss)(p, xs, ys);
      return [l, { w0: p.w0.sub(g.w0.mul(0.1)), b0: p.b0.sub(g.b0.mul(0.1)), w1: p.w1.sub(g.w1.mul(0.1)) }] as const;
    };
    const params = () => ({
      w0: np.sin(np.arange(24).reshape([6, 4])).mul(0.5),
      b0: np.array([0.1, -0.1, 0.2, 0]),
      w1: np.cos(np.arange(12).reshape([4, 3])).mul(0.5),
    });
    using xs = np.cos(np.arange(30).reshape([5, 6]));
    using ys = np.oneHot(np.array([0, 1, 2, 0, 1]), 3);
    const step = jit(sgd);
    const p0 = params();
    const lowered = step.lower(p0, xs, ys);
    // The dense layer's dot + bias is one matmul kernel with an epilogue.
    expect(lowered.kernels[0]?.label).toBe("fused(dot_general,add)");
    expect(lowered.kernels.length).toBeLessThan(40);
    const [l1, q1] = step(p0, xs, ys);
    const [l0, q0] = sgd(p0, xs, ys);
    expect((await l1.item()) as number).toBeCloseTo((await l0.item()) as number, 5);
    const a = (await q1.w0.toArray()) as number[][];
    const b = (await q0.w0.toArray()) as number[][];
    a.flat().forEach((v, i) => expect(v).toBeCloseTo(b.flat()[i] as number, 5));
  });

  test("fusion on the GPU: a matmul computes its normalised input and transposed weight as prologues", async () => {
    using x = np.sin(np.arange(30).reshape([5, 6]));
    using v = np.cos(np.arange(18).reshape([3, 6]));
    using s = np.array([1, 2, 0.5, 1, -1, 3]);
    const f = (a: JArray, b: JArray, c: JArray) => np.maximum(a.mul(c), 0).matmul(b.mul(0.5).transpose());
    const lowered = jit(f).lower(x, v, s);
    expect(lowered.kernels.map((k) => k.kind)).toEqual(["matmul"]);
    expect(lowered.text()).toContain("lhs prologue");
    expect(lowered.text()).toContain("rhs prologue");
    const got = (await jit(f)(x, v, s).toArray()) as number[][];
    // By hand: Σ_k max(x[i,k]·s[k], 0) · v[j,k] / 2.
    const X = (await x.toArray()) as number[][];
    const V = (await v.toArray()) as number[][];
    const S = (await s.toArray()) as number[];
    X.forEach((row, i) =>
      V.forEach((vr, j) => {
        const want = row.reduce((t, xv, k) => t + Math.max(xv * (S[k] as number), 0) * (vr[k] as number) * 0.5, 0);
        expect(got[i]?.[j] as number).toBeCloseTo(want, 5);
      }),
    );
  });

  test("optax: a jitted, donated Adam step on the GPU equals its first-step value", async () => {
    const tx = adam(0.1);
    let params = { w: np.array([1, -2, 3]) };
    let state = tx.init(params);
    const step = jit(
      (p: { w: JArray }, s: unknown) => {
        const [u, s2] = tx.update(grad((q: { w: JArray }) => np.square(q.w).sum())(p), s, p);
        return [applyUpdates(p, u), s2] as const;
      },
      { donateArgnums: [0, 1] },
    );
    [params, state] = step(params, state);
    // Adam's first step is −lr·sign(g) (m̂ = g, v̂ = g²): 1 − 0.1, −2 + 0.1, 3 − 0.1.
    const w = (await params.w.toArray()) as number[];
    [0.9, -1.9, 2.9].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 5));
    [params, state] = step(params, state);
    expect(step.traceCount).toBe(1);
  });
  test("program runs: a jitted program of more than 64 dispatches is one submit; reads reuse their buffers", async () => {
    const b = getBackend("webgpu") as unknown as {
      counters: { submits: number; dispatches: number };
      buffersCreated: number;
      sync(): Promise<void>;
    };
    const f = jit((x: JArray) => {
      let y = x;
      for (let i = 0; i < 40; i++) y = y.sub(y.mean()).mul(1.01);
      return y;
    });
    using x = np.arange(64).astype("float32");
    for (let i = 0; i < 2; i++) {
      using warm = f(x); // the first call traces; the second is the first program run
      await warm.data();
    }
    await b.sync();
    const before = { ...b.counters, created: b.buffersCreated };
    for (let i = 0; i < 3; i++) {
      using y = f(x);
      expect((await y.data())[0]).toBeCloseTo(-31.5 * 1.01 ** 40, 2);
    }
    expect(b.counters.dispatches - before.dispatches).toBeGreaterThan(3 * 64);
    expect(b.counters.submits - before.submits).toBe(3);
    expect(b.buffersCreated - before.created).toBe(0);
  });
  test("in-place donation: a jitted Adam-style update writes its parameter, mu and nu over the old ones", async () => {
    const upd = jit(
      (p: JArray, m: JArray, v: JArray, g: JArray) => {
        const m2 = m.mul(0.9).add(g.mul(0.1));
        const v2 = v.mul(0.999).add(g.mul(g).mul(0.001));
        return [p.sub(m2.div(np.sqrt(v2).add(1e-8)).mul(0.01)), m2, v2] as const;
      },
      { donateArgnums: [0, 1, 2] },
    );
    using g = np.linspace(-1, 1, 300);
    let state = [np.linspace(0, 1, 300), np.zeros([300]), np.zeros([300])] as const;
    const slot = (x: JArray) => (x as unknown as ConcreteArray).buffer.slot;
    let kept = false;
    for (let i = 0; i < 3; i++) {
      const before = state.map(slot);
      state = upd(state[0], state[1], state[2], g);
      kept = state.every((x, k) => slot(x) === before[k]);
    }
    expect(kept).toBe(true);
    // Three steps by hand, in float64 (tolerance 1e-5 covers float32).
    const gs = await g.data();
    const p = await state[0].data();
    gs.forEach((gi, i) => {
      let [pi, mi, vi] = [i / 299, 0, 0];
      for (let t = 0; t < 3; t++) {
        mi = 0.9 * mi + 0.1 * gi;
        vi = 0.999 * vi + 0.001 * gi * gi;
        pi -= (0.01 * mi) / (Math.sqrt(vi) + 1e-8);
      }
      expect(Math.abs((p[i] as number) - pi)).toBeLessThan(1e-5);
    });
    for (const x of state) x.dispose();
  });
});
