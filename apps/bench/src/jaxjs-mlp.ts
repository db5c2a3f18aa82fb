/**
 * The MLP data every contender shares, and jax-js' MLP step — in a file of their own so the
 * GPU bench (webgpu.ts, packed for a machine without a registry) needs only jax-js, not
 * TensorFlow.js.
 */
import * as jaxjs from "@jax-js/jax";
import { randomData } from "./timing.js";

type Timed = Promise<{ run: () => Promise<void>; done: () => void }>;

/** Deterministic MLP weights (scaled like He init), inputs and one-hot labels, shared by every contender. */
export function mlpData(sizes: readonly number[], batch: number) {
  const layers = sizes.slice(1).map((n, i) => {
    const m = sizes[i] as number;
    return { w: randomData(m * n, 10 + i).map((v) => v * Math.sqrt(2 / m)), b: new Float32Array(n), m, n };
  });
  const x = randomData(batch * (sizes[0] as number), 3);
  const classes = sizes[sizes.length - 1] as number;
  const y = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) y[i * classes + (i % classes)] = 1;
  return { layers, x, y, classes };
}

/** jax-js' MLP step, eager or under its `jit`. */
export async function jaxjsMlp(
  sizes: readonly number[],
  batch: number,
  jit: boolean,
  device: "wasm" | "webgpu" = "wasm",
): Timed {
  {
    await jaxjs.init(device);
    jaxjs.defaultDevice(device);
    const jnp = jaxjs.numpy;
    const d = mlpData(sizes, batch);
    const params = d.layers.map((l) => ({ w: jnp.array(l.w).reshape([l.m, l.n]), b: jnp.array(l.b) }));
    const x = jnp.array(d.x).reshape([batch, sizes[0] as number]);
    const y = jnp.array(d.y).reshape([batch, d.classes]);
    // jax-js arrays are consumed by ops: each value is used once, and `.ref`/tree.ref keep ours alive.
    const loss = (ps: { w: jaxjs.Array; b: jaxjs.Array }[], xs: jaxjs.Array, ys: jaxjs.Array) => {
      let h = xs;
      ps.forEach((p, i) => {
        const z = jnp.add(jnp.matmul(h, p.w), p.b);
        h = i < ps.length - 1 ? jaxjs.nn.relu(z) : z;
      });
      return jnp.negative(jnp.mean(jnp.sum(jnp.multiply(jaxjs.nn.logSoftmax(h, -1), ys), -1)));
    };
    const step = jit ? jaxjs.jit(jaxjs.valueAndGrad(loss)) : jaxjs.valueAndGrad(loss);
    return {
      run: async () => {
        const [l, g] = step(jaxjs.tree.ref(params), x.ref, y.ref);
        for (const p of g) await p.w.blockUntilReady();
        jaxjs.tree.dispose(g);
        l.dispose();
      },
      done: () => {
        jaxjs.tree.dispose(params);
        x.dispose();
        y.dispose();
      },
    };
  }
}

/** jax-js with its `jit`, for the rows where a user would reach for it. */
export const jaxjsJitMlp = (sizes: readonly number[], batch: number, device: "wasm" | "webgpu" = "wasm"): Timed =>
  jaxjsMlp(sizes, batch, true, device);
