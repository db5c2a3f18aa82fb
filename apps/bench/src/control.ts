/**
 * Control flow (issue 24): an RNN over 100 steps (hidden 32, input 16, batch 8) as one
 * lax.scan against the same recurrence unrolled by a JS loop, both jitted, forward and
 * gradient: time per call and kernels dispatched per call, on the CPU and on WebGPU. No JS peer
 * has a scan (jax-js' was never merged), so there is no peer row.
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
  } finally {
    shutdown();
  }
}
