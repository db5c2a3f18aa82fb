/**
 * Control flow (issue 24): an RNN over 100 steps (hidden 32, input 16, batch 8) as one
 * lax.scan against the same recurrence unrolled by a JS loop, both jitted, forward and
 * gradient: time per call and kernels dispatched per call, on the CPU and on WebGPU. No JS peer
 * has a scan (jax-js' was never merged), so there is no peer row. On WebGPU also a
 * data-dependent `whileLoop` on the device against a host loop reading a flag every step.
 */
import { getBackend, grad, jit, lax, np, random, type Array as WArray } from "@webjax/core";
import { medianMs } from "./timing.js";

const STEPS = 100;
const [HIDDEN, INPUT, BATCH] = [32, 16, 8];

interface Rnn {
  W: WArray;
  U: WArray;
  b: WArray;
}

const cell = (p: Rnn) => (h: WArray, x: WArray) => {
  const next = np.tanh(h.matmul(p.W).add(x.matmul(p.U)).add(p.b));
  return [next, next.square().mean()] as const;
};
const viaScan = (p: Rnn, xs: WArray) => lax.scan(cell(p), np.zeros([BATCH, HIDDEN]), xs)[1].sum();
const viaLoop = (p: Rnn, xs: WArray) => {
  let h = np.zeros([BATCH, HIDDEN]);
  let acc = np.zeros([]);
  for (let t = 0; t < STEPS; t++) {
    const [next, y] = cell(p)(h, lax.slice(xs, [t, 0, 0], [t + 1, BATCH, INPUT]).reshape([BATCH, INPUT]));
    acc = acc.add(y);
    h = next;
  }
  return acc;
};

/** Kernels a backend ran (CPU) or dispatched (WebGPU) so far. */
function kernelCount(): number {
  const b = getBackend() as unknown as { counters: { kernels?: number; dispatches?: number } };
  return b.counters.kernels ?? b.counters.dispatches ?? 0;
}

async function rows(report: (results: Record<string, number>, unit: string) => void, reps: number) {
  const p: Rnn = {
    W: random.normal(random.key(0), [HIDDEN, HIDDEN]).mul(0.2),
    U: random.normal(random.key(1), [INPUT, HIDDEN]).mul(0.2),
    b: np.zeros([HIDDEN]),
  };
  const xs = random.normal(random.key(2), [STEPS, BATCH, INPUT]);
  const fns = {
    "scan, forward": jit(viaScan),
    "unrolled loop, forward": jit(viaLoop),
    "scan, gradient": jit(grad(viaScan)),
    "unrolled loop, gradient": jit(grad(viaLoop)),
  };
  const times: Record<string, number> = {};
  const counts: Record<string, number> = {};
  for (const [name, f] of Object.entries(fns)) {
    const run = async () => {
      const out = f(p, xs) as WArray | Rnn;
      const leaves = out instanceof Object && "W" in out ? [out.W, out.U, out.b] : [out as WArray];
      await Promise.all(leaves.map((l) => l.data()));
      for (const l of leaves) l.dispose();
    };
    await run();
    const before = kernelCount();
    await run();
    counts[name] = kernelCount() - before;
    times[name] = await medianMs(run, { warmup: Math.max(1, reps), reps });
  }
  report(times, "ms/call");
  console.log(
    `  kernels per call: ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join("; ")}`,
  );
}

export async function benchControl(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  heading(`\ncontrol flow: an RNN over ${STEPS} steps (hidden ${HIDDEN}, batch ${BATCH}), jitted (cpu backend)`);
  await rows(report, 15);
  heading("\ncontrol flow: a jitted switch between one add and ten 64×64 matmuls, alternating (cpu backend)");
  await condRows(report);
}

/** A jitted `lax.switch`: one program step that runs only the chosen branch (the plan replays). */
async function condRows(report: (results: Record<string, number>, unit: string) => void) {
  const w = random.normal(random.key(4), [64, 64]).mul(0.1);
  const x = random.normal(random.key(5), [8, 64]);
  const heavy = (a: WArray) => {
    let h = a;
    for (let k = 0; k < 10; k++) h = np.tanh(h.matmul(w));
    return h;
  };
  const f = jit((i: WArray, a: WArray) => lax.switch(i, [(v: WArray) => v.add(1), heavy], a));
  const idx = [0, 1].map((i) => np.array(i, { dtype: "int32" }));
  const times: Record<string, number> = {};
  for (const [name, i] of [
    ["light branch", idx[0]],
    ["heavy branch", idx[1]],
  ] as const) {
    times[`switch, ${name}`] = await medianMs(
      async () => {
        const y = f(i as WArray, x);
        await y.data();
        y.dispose();
      },
      { warmup: 5, reps: 30 },
    );
  }
  report(times, "ms/call");
}

export async function benchControlWebGPU(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const { init, shutdown } = await import("@webjax/webgpu/node");
  await init({ powerPreference: "high-performance", allowSoftware: true });
  try {
    heading(
      `\ncontrol flow: an RNN over ${STEPS} steps (hidden ${HIDDEN}, batch ${BATCH}), jitted (${getBackend().name} backend)`,
    );
    if (getBackend().name !== "webgpu") {
      console.log("  no WebGPU adapter here: left out");
      return;
    }
    await rows(report, 3);
    heading(
      `\ncontrol flow: Newton's method for √a over ${NEWTON} values to a relative 1e-6, data-dependent steps (webgpu)`,
    );
    await whileRows(report);
  } finally {
    shutdown();
  }
}

const NEWTON = 4096;

/**
 * A data-dependent loop on WebGPU: `lax.whileLoop` on the device (jitted; its flag read once
 * per chunk of 32 steps) against the loop a user writes without it — a jitted step and a
 * host `while` that reads the flag back after every step.
 */
async function whileRows(report: (results: Record<string, number>, unit: string) => void) {
  const a = random.uniform(random.key(3), [NEWTON], { minval: 1, maxval: 1e6 });
  const unfinished = (x: WArray) => x.mul(x).sub(a).abs().greater(a.mul(1e-6)).any();
  const step = (x: WArray) => x.add(a.div(x)).mul(0.5);
  const device = jit(
    (x0: WArray) =>
      lax.whileLoop(
        ([x]: [WArray]) => unfinished(x),
        ([x]: [WArray]) => [step(x)] as [WArray],
        [x0] as [WArray],
      )[0],
  );
  const jStep = jit((x: WArray) => [step(x), unfinished(step(x))] as const);
  const host = async (x0: WArray) => {
    let x = x0;
    for (let go = true; go; ) {
      const [next, flag] = jStep(x);
      go = Boolean((await flag.data())[0]);
      flag.dispose();
      if (x !== x0) x.dispose();
      x = next;
    }
    return x;
  };
  const counters = (getBackend() as unknown as { counters: { loopReads: number } }).counters;
  const reads: Record<string, number> = {};
  const times: Record<string, number> = {};
  const fns: Record<string, () => Promise<WArray>> = {
    "whileLoop on the device": async () => device(a),
    "host loop, a read per step": () => host(a),
  };
  for (const [name, f] of Object.entries(fns)) {
    const run = async () => {
      const x = await f();
      await x.data();
      x.dispose();
    };
    await run();
    const before = counters.loopReads;
    await run();
    reads[name] = counters.loopReads - before;
    times[name] = await medianMs(run, { warmup: 1, reps: 5 });
  }
  report(times, "ms/call");
  console.log(`  device flag reads per call: ${reads["whileLoop on the device"]} (the host loop reads once per step)`);
}
