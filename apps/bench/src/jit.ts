/**
 * jit against eager on the CPU backend: the MLP 784-512-512-10 training step (SGD, donated
 * params), the first call's trace-and-compile time, and the per-call overhead of a jitted no-op
 * and of a 10-op program.
 */
import { configure, jit, np, random, tree, valueAndGrad, type Array as WArray } from "@webjax/core";
import { medianMs } from "./timing.js";

type Params = Record<string, WArray>;

function mlpParams(sizes: readonly number[]): Params {
  const p: Params = {};
  let key = random.key(0);
  sizes.slice(1).forEach((n, i) => {
    const [k, next] = random.split(key, 2) as Iterable<WArray> as [WArray, WArray];
    key = next;
    const m = sizes[i] as number;
    p[`w${i}`] = random.normal(k, [m, n]).mul(Math.sqrt(2 / m));
    p[`b${i}`] = np.zeros([n]);
  });
  return p;
}

function loss(p: Params, x: WArray, y: WArray, layers: number): WArray {
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = h.matmul(p[`w${i}`] as WArray).add(p[`b${i}`] as WArray);
    if (i < layers - 1) h = np.maximum(h, 0);
  }
  return h
    .sub(np.logsumexp(h, { axis: -1, keepdims: true }))
    .mul(y)
    .sum(-1)
    .mean()
    .neg();
}

const sgd = (layers: number) => (p: Params, x: WArray, y: WArray) => {
  const [l, g] = valueAndGrad((q: Params) => loss(q, x, y, layers))(p);
  return [l, tree.map((a: WArray, b: WArray) => a.sub(b.mul(0.01)), p, g)] as const;
};

export async function benchJit(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const sizes = [784, 512, 512, 10];
  const batch = 128;
  heading(`\njit vs eager: SGD step of an MLP ${sizes.join("-")}, batch ${batch} (cpu backend)`);
  const x = random.normal(random.key(1), [batch, 784]);
  const y = np.oneHot(np.mod(np.arange(batch), 10), 10);
  const step = sgd(sizes.length - 1);
  let eagerParams = mlpParams(sizes);
  const eagerMs = await medianMs(
    async () => {
      const [l, next] = step(eagerParams, x, y);
      await l.item();
      eagerParams = next;
    },
    { warmup: 3, reps: 15 },
  );
  let params = mlpParams(sizes);
  const jitted = jit(step, { donateArgnums: 0 });
  const t0 = performance.now();
  const [l0, p0] = jitted(params, x, y);
  await l0.item();
  const firstMs = performance.now() - t0;
  params = p0;
  const jitMs = await medianMs(
    async () => {
      const [l, next] = jitted(params, x, y);
      await l.item();
      l.dispose();
      params = next;
    },
    { warmup: 3, reps: 15 },
  );
  // Run-ahead: 10 steps queued without awaiting, the last loss awaited (per step).
  const aheadMs =
    (await medianMs(
      async () => {
        let l: WArray | undefined;
        for (let i = 0; i < 10; i++) {
          l?.dispose();
          const [li, next] = jitted(params, x, y);
          l = li;
          params = next;
        }
        await l?.item();
        l?.dispose();
      },
      { warmup: 1, reps: 5 },
    )) / 10;
  // The NaN checker on: the outputs read back and checked each call, nothing donated.
  configure({ debugNans: true });
  const checkedMs = await medianMs(
    async () => {
      const [l, next] = jitted(params, x, y);
      await l.item();
      l.dispose();
      for (const a of tree.leaves(params)) (a as WArray).dispose();
      params = next;
    },
    { warmup: 3, reps: 15 },
  );
  configure({ debugNans: false });
  report(
    {
      "webjax eager": eagerMs,
      "webjax jit": jitMs,
      "jit, 10 queued steps": aheadMs,
      "jit, debugNans on": checkedMs,
      "jit first call (trace + run)": firstMs,
    },
    "ms/step",
  );
  // The step's work by costAnalysis, and the rate the jitted step achieves.
  const cost = jitted.lower(params, x, y).costAnalysis();
  console.log(
    `  costAnalysis: ${(cost.flops / 1e9).toFixed(3)} GFLOP and ${(cost.bytesAccessed / 1e6).toFixed(1)} MB a step ` +
      `(${cost.intensity.toFixed(1)} flop/byte, ${cost.kernels.length} kernels); ` +
      `achieved ${(cost.flops / (jitMs * 1e6)).toFixed(1)} GFLOP/s`,
  );

  heading("\njit per-call overhead (cpu backend): a no-op, and 10 chained adds of 16 floats");
  const small = np.ones([16]);
  const noop = jit((a: WArray) => a);
  const tenOps = (a: WArray) => {
    let r = a;
    for (let i = 0; i < 10; i++) r = r.add(1);
    return r;
  };
  const ten = jit(tenOps);
  const calls = 2000;
  const perCall = async (f: () => WArray) => {
    const ms = await medianMs(
      async () => {
        let last: WArray | undefined;
        for (let i = 0; i < calls; i++) {
          last?.dispose();
          last = f();
        }
        await last?.blockUntilReady();
        last?.dispose();
      },
      { warmup: 2, reps: 7 },
    );
    return (ms * 1000) / calls;
  };
  report(
    {
      "jit no-op": await perCall(() => noop(small)),
      "jit 10 ops": await perCall(() => ten(small)),
      "eager 10 ops": await perCall(() => tenOps(small)),
    },
    "µs/call",
  );
}
