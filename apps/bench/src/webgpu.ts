/**
 * The WebGPU rows (`pnpm bench --backend webgpu`): n×n float32 matmuls, the MLP
 * 784-512-512-10 Adam step (ours) beside jax-js' jitted forward and backward, and a sum of 1e7
 * elements, each against jax-js' WebGPU backend in the same run (jax-js finds Dawn through
 * `globalThis.navigator.gpu`). On a real GPU the matmuls are 1024², 2048² and 4096²; on a
 * software adapter (SwiftShader: correctness, not speed) 256², 512² and 1024².
 */
import * as jaxjs from "@jax-js/jax";
import { getBackend, jit, np, type Array as WArray } from "@webjax/core";
import { mlpStepTimes } from "./fusion.js";
import { jaxjsJitMlp } from "./jaxjs-mlp.js";
import { medianMs, randomData } from "./timing.js";

type Report = (results: Record<string, number>, unit: string) => void;

/** The adapter's description, and whether it is a software one. */
async function adapterInfo(gpu: GPU): Promise<{ name: string; software: boolean }> {
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  const info = adapter?.info;
  const name = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(" ");
  return { name: name || "unknown adapter", software: /swiftshader|llvmpipe|software/i.test(name) };
}

async function jaxjsMatmul(n: number, a: Float32Array, b: Float32Array) {
  const jnp = jaxjs.numpy;
  const x = jnp.array(a).reshape([n, n]);
  const y = jnp.array(b).reshape([n, n]);
  return {
    run: async () => {
      const z = jnp.matmul(x.ref, y.ref);
      await z.blockUntilReady();
      z.dispose();
    },
    done: () => {
      x.dispose();
      y.dispose();
    },
  };
}

function webjaxMatmul(n: number, a: Float32Array, b: Float32Array) {
  const x = np.array(a, { shape: [n, n] });
  const y = np.array(b, { shape: [n, n] });
  const mm = jit((p: WArray, q: WArray) => p.matmul(q));
  return {
    run: async () => {
      const z = mm(x, y);
      await z.blockUntilReady();
      z.dispose();
    },
    done: () => {
      x.dispose();
      y.dispose();
    },
  };
}

export async function benchWebGPU(report: Report, heading: (t: string) => void): Promise<void> {
  const { init, nodeProvider, shutdown } = await import("@webjax/webgpu/node");
  await init({ powerPreference: "high-performance", allowSoftware: true });
  try {
    if (getBackend().name !== "webgpu") {
      heading("\nwebgpu: no WebGPU adapter here: left out");
      return;
    }
    // jax-js asks navigator.gpu for its adapter: the same Dawn instance ours uses.
    const gpu = await nodeProvider.gpu();
    Object.defineProperty(globalThis, "navigator", {
      value: { gpu, userAgent: `Node.js ${process.version}` },
      configurable: true,
    });
    // ...and the WebGPU flag globals a browser defines (the spec's values).
    const flags: Record<string, Record<string, number>> = {
      GPUBufferUsage: { MAP_READ: 1, MAP_WRITE: 2, COPY_SRC: 4, COPY_DST: 8, INDEX: 16, VERTEX: 32, UNIFORM: 64 },
      GPUMapMode: { READ: 1, WRITE: 2 },
      GPUShaderStage: { VERTEX: 1, FRAGMENT: 2, COMPUTE: 4 },
      GPUTextureUsage: { COPY_SRC: 1, COPY_DST: 2, TEXTURE_BINDING: 4, STORAGE_BINDING: 8, RENDER_ATTACHMENT: 16 },
    };
    Object.assign(flags.GPUBufferUsage as object, { STORAGE: 128, INDIRECT: 256, QUERY_RESOLVE: 512 });
    for (const [k, v] of Object.entries(flags)) if (!(k in globalThis)) Object.assign(globalThis, { [k]: v });
    const { name, software } = await adapterInfo(gpu);
    await jaxjs.init("webgpu");
    jaxjs.defaultDevice("webgpu");
    const reps = software ? { warmup: 1, reps: 3 } : { warmup: 3, reps: 10 };
    heading(`\nwebgpu: ${name}${software ? " (a software adapter: correctness, not speed)" : ""}`);
    for (const n of software ? [256, 512, 1024] : [1024, 2048, 4096]) {
      const a = randomData(n * n, 1);
      const b = randomData(n * n, 2);
      const ours = webjaxMatmul(n, a, b);
      const theirs = await jaxjsMatmul(n, a, b);
      const ms = { webjax: await medianMs(ours.run, reps), "jax-js": await medianMs(theirs.run, reps) };
      ours.done();
      theirs.done();
      heading(`matmul ${n}×${n} float32`);
      report(ms, "ms");
      const gflops = (t: number) => ((2 * n ** 3) / (t * 1e6)).toPrecision(3);
      console.log(
        `  webjax ${gflops(ms.webjax)} GFLOP/s, jax-js ${gflops(ms["jax-js"])} GFLOP/s; ` +
          `webjax / jax-js time ${(ms.webjax / ms["jax-js"]).toFixed(2)}`,
      );
    }
    heading("MLP 784-512-512-10, batch 128");
    const { fused } = await mlpStepTimes(software ? { warmup: 1, reps: 3 } : { warmup: 3, reps: 10 });
    const peer = await jaxjsJitMlp([784, 512, 512, 10], 128, "webgpu");
    const jaxjsMs = await medianMs(peer.run, reps);
    peer.done();
    report({ "webjax jit (fwd + bwd + Adam)": fused, "jax-js jit (fwd + bwd, no update)": jaxjsMs }, "ms/step");
    console.log(`  webjax / jax-js ${(fused / jaxjsMs).toFixed(2)}`);
    const size = software ? 1_000_000 : 10_000_000;
    heading(`sum of ${size.toExponential(0)} float32`);
    const data = randomData(size, 5);
    const x = np.array(data);
    const sum = jit((v: WArray) => v.sum());
    const ours = await medianMs(async () => {
      const s = sum(x);
      await s.blockUntilReady();
      s.dispose();
    }, reps);
    const jx = jaxjs.numpy.array(data);
    const theirs = await medianMs(async () => {
      const s = jaxjs.numpy.sum(jx.ref);
      await s.blockUntilReady();
      s.dispose();
    }, reps);
    x.dispose();
    jx.dispose();
    report({ webjax: ours, "jax-js": theirs }, "ms");
    console.log(`  webjax / jax-js ${(ours / theirs).toFixed(2)}`);
  } finally {
    shutdown();
  }
}
