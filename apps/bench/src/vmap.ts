/**
 * Per-example gradients of a 784-64-10 MLP's cross-entropy with integer labels, batch 128:
 * webjax's vmap(grad) (one batched program), the explicit loop of 128 grads, and jax-js's
 * vmap(grad) in the same run (one-hot labels there). Eager, CPU. Ratios are ÷ webjax vmap.
 */
import * as jaxjs from "@jax-js/jax";
import { grad, np, vmap, type Array as WArray } from "@webjax/core";
import { medianMs, randomData } from "./timing.js";

const [D, H, C, B] = [784, 64, 10, 128];

export async function benchPerExample(): Promise<void> {
  console.log(`\nper-example gradients: ${D}-${H}-${C} MLP, batch ${B}, ms per batch`);
  const p = {
    w1: np.array(randomData(D * H, 1), { shape: [D, H] }).mul(0.05),
    w2: np.array(randomData(H * C, 2), { shape: [H, C] }).mul(0.05),
  };
  const xs = np.array(randomData(B * D, 3), { shape: [B, D] });
  const labels = np.array(Int32Array.from({ length: B }, (_, i) => i % C));
  const loss = (q: typeof p, x: WArray, label: WArray) => {
    const logits = np.tanh(x.matmul(q.w1)).matmul(q.w2);
    return logits
      .sub(np.log(np.exp(logits).sum()))
      .at(label)
      .get()
      .neg();
  };
  const perExample = vmap(grad(loss), { inAxes: [null, 0, 0] });
  const tv = await medianMs(
    async () => {
      const g = perExample(p, xs, labels);
      await g.w1.blockUntilReady();
      g.w1.dispose();
      g.w2.dispose();
    },
    { warmup: 2, reps: 7 },
  );
  const rows = [...xs];
  const ls = [...labels];
  const tl = await medianMs(
    async () => {
      for (let b = 0; b < B; b++) {
        const g = grad(loss)(p, rows[b] as WArray, ls[b] as WArray);
        if (b === B - 1) await g.w1.blockUntilReady();
        g.w1.dispose();
        g.w2.dispose();
      }
    },
    { warmup: 1, reps: 3 },
  );
  let tj: number | undefined;
  try {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const jnp = jaxjs.numpy;
    const w1 = jnp.multiply(jnp.array(randomData(D * H, 1)).reshape([D, H]), 0.05);
    const w2 = jnp.multiply(jnp.array(randomData(H * C, 2)).reshape([H, C]), 0.05);
    const jx = jnp.array(randomData(B * D, 3)).reshape([B, D]);
    const oh = new Float32Array(B * C);
    for (let i = 0; i < B; i++) oh[i * C + (i % C)] = 1;
    const jy = jnp.array(oh).reshape([B, C]);
    const jloss = (q: { w1: jaxjs.Array; w2: jaxjs.Array }, x: jaxjs.Array, y: jaxjs.Array) => {
      const logits = jnp.matmul(jnp.tanh(jnp.matmul(x, q.w1)), q.w2);
      return jnp.negative(jnp.sum(jnp.multiply(jaxjs.nn.logSoftmax(logits, -1), y)));
    };
    const jper = jaxjs.vmap(jaxjs.grad(jloss), [null, 0, 0]);
    const params = { w1, w2 };
    tj = await medianMs(
      async () => {
        const g = jper(jaxjs.tree.ref(params), jx.ref, jy.ref);
        await g.w1.blockUntilReady();
        jaxjs.tree.dispose(g);
      },
      { warmup: 2, reps: 7 },
    );
  } catch (e) {
    console.log(`  jax-js vmap(grad): failed: ${(e as Error).message.split("\n")[0]}`);
  }
  console.log(`  webjax vmap(grad)     ${tv.toFixed(1)} ms`);
  console.log(`  webjax loop of grads  ${tl.toFixed(1)} ms  (${(tl / tv).toFixed(1)}× vmap)`);
  if (tj !== undefined)
    console.log(`  jax-js vmap(grad)     ${tj.toFixed(1)} ms  (${(tj / tv).toFixed(2)}× webjax vmap)`);
}
