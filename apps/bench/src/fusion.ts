/**
 * Fusion on the CPU backend (issue 22): the MLP 784-512-512-10 batch-128 Adam training step
 * eager, jitted unfused and jitted fused, beside jax-js' jitted step in the same run; and a
 * chain of 20 cheap elementwise ops on 1e6 elements, eager against jitted.
 */
import { configureJit, getBackend, jit, np, random, tree, valueAndGrad, type Array as WArray } from "@webjax/core";
import { jaxjsJitMlp } from "./jaxjs-mlp.js";
import { medianMs } from "./timing.js";

type Params = Record<string, WArray>;
interface Adam {
  p: Params;
  m: Params;
  v: Params;
  t: WArray;
}

function mlpParams(sizes: readonly number[]): Params {
  const p: Params = {};
  sizes.slice(1).forEach((n, i) => {
    const m = sizes[i] as number;
    p[`w${i}`] = random.normal(random.key(i), [m, n]).mul(Math.sqrt(2 / m));
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

const adamStep = (layers: number) => (s: Adam, x: WArray, y: WArray) => {
  const [l, g] = valueAndGrad((q: Params) => loss(q, x, y, layers))(s.p);
  const t = s.t.add(1);
  const m = tree.map((m: WArray, g: WArray) => m.mul(0.9).add(g.mul(0.1)), s.m, g) as Params;
  const v = tree.map((v: WArray, g: WArray) => v.mul(0.999).add(g.mul(g).mul(0.001)), s.v, g) as Params;
  const c1 = np.subtract(1, np.power(0.9, t));
  const c2 = np.subtract(1, np.power(0.999, t));
  const p = tree.map(
    (p: WArray, m: WArray, v: WArray) =>
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
  return [l, { p, m, v, t }] as const;
};

const SIZES = [784, 512, 512, 10];
const BATCH = 128;

/** The MLP Adam step eager, jitted unfused and jitted fused on the current backend, in ms a step. */
export async function mlpStepTimes(reps: { warmup: number; reps: number }) {
  const x = random.normal(random.key(1), [BATCH, 784]);
  const y = np.oneHot(np.mod(np.arange(BATCH), 10), 10);
  const step = adamStep(SIZES.length - 1);
  const fresh = (): Adam => {
    const p = mlpParams(SIZES);
    const z = (q: Params) => tree.map((a: WArray) => np.zerosLike(a), q) as Params;
    return { p, m: z(p), v: z(p), t: np.array(0) };
  };
  const timeSteps = async (f: typeof step) => {
    let s = fresh();
    const ms = await medianMs(async () => {
      const [l, next] = f(s, x, y);
      await l.item();
      l.dispose();
      s = next;
    }, reps);
    tree.map((a: WArray) => a.dispose(), s);
    return ms;
  };
  const eager = await timeSteps(step);
  configureJit({ fusion: false });
  const unfused = await timeSteps(jit(step, { donateArgnums: 0 }));
  configureJit({ fusion: true });
  const fused = await timeSteps(jit(step, { donateArgnums: 0 }));
  x.dispose();
  y.dispose();
  return { eager, unfused, fused };
}

/**
 * The same step on WebGPU (in Node: Dawn; on this machine SwiftShader, which proves correctness,
 * not speed). Run last: it makes WebGPU the default backend until it shuts the device down.
 */
export async function benchFusionWebGPU(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const { init, shutdown } = await import("@webjax/webgpu/node");
  // A software adapter (SwiftShader) is taken too: the CPU-only machines' only WebGPU.
  await init({ powerPreference: "high-performance", allowSoftware: true });
  try {
    const backend = getBackend();
    heading(`\nfusion: Adam step of an MLP ${SIZES.join("-")}, batch ${BATCH} (${backend.name} backend)`);
    if (backend.name !== "webgpu") {
      console.log("  no WebGPU adapter here: left out");
      return;
    }
    const { eager, unfused, fused } = await mlpStepTimes({ warmup: 2, reps: 5 });
    report({ "webjax eager": eager, "webjax jit, unfused": unfused, "webjax jit, fused": fused }, "ms/step");
    console.log(`  fused vs eager ${(eager / fused).toFixed(2)}×; fused vs unfused ${(unfused / fused).toFixed(2)}×`);
  } finally {
    shutdown();
  }
}

export async function benchFusion(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const sizes = SIZES;
  const batch = BATCH;
  heading(`\nfusion: Adam step of an MLP ${sizes.join("-")}, batch ${batch} (cpu backend)`);
  const { eager, unfused, fused } = await mlpStepTimes({ warmup: 3, reps: 15 });
  const peer = await jaxjsJitMlp(sizes, batch);
  const jaxjsMs = await medianMs(peer.run, { warmup: 3, reps: 15 });
  peer.done();
  report(
    {
      "webjax eager": eager,
      "webjax jit, unfused": unfused,
      "webjax jit, fused": fused,
      "jax-js jit (fwd + bwd, no update)": jaxjsMs,
    },
    "ms/step",
  );
  console.log(
    `  fused vs eager ${(eager / fused).toFixed(2)}×; fused vs unfused ${(unfused / fused).toFixed(2)}×; ` +
      `fused / jax-js jit ${(fused / jaxjsMs).toFixed(2)}`,
  );

  heading("\nfusion: 20 cheap elementwise ops (mul, add, tanh, max) on 1e6 float32 (cpu backend)");
  const a = random.uniform(random.key(3), [1_000_000]);
  const chain = (v: WArray) => {
    let r = v;
    for (let i = 0; i < 5; i++) r = np.maximum(np.tanh(r.mul(1.5).add(0.1)), -0.5);
    return r;
  };
  const jchain = jit(chain);
  const timeChain = (f: (v: WArray) => WArray) =>
    medianMs(
      async () => {
        const r = f(a);
        await r.blockUntilReady();
        r.dispose();
      },
      { warmup: 2, reps: 9 },
    );
  const chainEager = await timeChain(chain);
  const chainJit = await timeChain(jchain);
  report({ "webjax eager": chainEager, "webjax jit, fused": chainJit }, "ms");
  console.log(`  fused vs eager ${(chainEager / chainJit).toFixed(2)}×`);
  // The same length without tanh: what fusion saves in memory traffic and dispatches alone
  // (tanh, correctly rounded, costs ~2 ns an element and bounds the row above).
  const cheap = (v: WArray) => {
    let r = v;
    for (let i = 0; i < 5; i++) r = np.maximum(r.mul(1.5).add(0.1).mul(0.5), -0.5);
    return r;
  };
  const cheapEager = await timeChain(cheap);
  const cheapJit = await timeChain(jit(cheap));
  heading("\nfusion: 20 ops (mul, add, mul, max) on 1e6 float32, no transcendental (cpu backend)");
  report({ "webjax eager": cheapEager, "webjax jit, fused": cheapJit }, "ms");
  console.log(`  fused vs eager ${(cheapEager / cheapJit).toFixed(2)}×`);
}
