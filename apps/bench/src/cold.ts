/**
 * Cold start and peak memory, one library per process: `node dist/cold.js <library>` imports
 * only that library, times import → the first result of a 256×256 matmul, then runs twenty
 * 1024×1024 matmuls and reports the process's peak resident set. Prints one JSON line.
 */
import { randomData } from "./timing.js";

type Lib = "webjax" | "tfjs-wasm" | "tfjs-cpu" | "jax-js";

async function setup(lib: Lib): Promise<(n: number, a: Float32Array, b: Float32Array) => Promise<void>> {
  if (lib === "webjax") {
    const { np } = await import("@webjax/core");
    return async (n, a, b) => {
      using x = np.array(a, { shape: [n, n] });
      using y = np.array(b, { shape: [n, n] });
      using z = x.matmul(y);
      await z.data();
    };
  }
  if (lib === "jax-js") {
    const jaxjs = await import("@jax-js/jax");
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    return async (n, a, b) => {
      const z = jaxjs.numpy.matmul(jaxjs.numpy.array(a).reshape([n, n]), jaxjs.numpy.array(b).reshape([n, n]));
      await z.data();
    };
  }
  const tf = await import("@tensorflow/tfjs-core");
  if (lib === "tfjs-wasm") await import("@tensorflow/tfjs-backend-wasm");
  else await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend(lib === "tfjs-wasm" ? "wasm" : "cpu");
  await tf.ready();
  return async (n, a, b) => {
    const z = tf.tidy(() => tf.matMul(tf.tensor2d(a, [n, n]), tf.tensor2d(b, [n, n])));
    await z.data();
    z.dispose();
  };
}

const lib = process.argv[2] as Lib;
const small = [randomData(256 * 256, 1), randomData(256 * 256, 2)] as const;
const t0 = performance.now();
const matmul = await setup(lib);
await matmul(256, small[0], small[1]);
const coldMs = performance.now() - t0;
const big = [randomData(1024 * 1024, 3), randomData(1024 * 1024, 4)] as const;
for (let i = 0; i < 20; i++) await matmul(1024, big[0], big[1]);
const peakMB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ lib, coldMs, peakMB })}\n`);
process.exit(0);
