/**
 * A jitted, donated training loop as users write it: the loss read with `await` and disposed
 * each step, the params replaced by the step's output. Live bytes at step 10,000 equal those at
 * step 100 (to a read's few bytes): donated params are released, intermediates freed at their
 * last use.
 */
import { type Array as JArray, jit, memoryStats, np, random, tree, valueAndGrad } from "@webjax/core";
import { cpuMode, testBackend } from "@webjax/test-utils";
import { expect, test } from "vitest";

const liveBytes = () => memoryStats()[testBackend]?.liveBytes ?? 0;

// The default CPU path runs 10,000 steps; the other CPU modes and WebGPU (a readback per step
// on SwiftShader) run shorter loops of the same shape, which keeps the suite in its budget.
const gpu = testBackend === "webgpu";
const steps = gpu ? 300 : (({ normal: 10_000, deferred: 2000, js: 600 } as Record<string, number>)[cpuMode] ?? 200);
// The MLP 784-512-512-10 on the default path; a narrower one elsewhere.
const sizes = gpu ? [16, 32, 10] : cpuMode === "normal" ? [784, 512, 512, 10] : [784, 64, 10];

test(`${steps} jitted, donated SGD steps of a ${sizes.join("-")} MLP keep live bytes flat`, {
  timeout: 300_000,
}, async () => {
  const [kx, k1] = random.split(random.key(0), 2) as Iterable<JArray> as [JArray, JArray];
  const keys = [...(random.split(k1, sizes.length - 1) as Iterable<JArray>)];
  let params = sizes.slice(1).map((n, i) => ({
    w: random.normal(keys[i] as JArray, [sizes[i] as number, n]).mul(1 / Math.sqrt(sizes[i] as number)),
    b: np.zeros([n]),
  }));
  const classes = sizes[sizes.length - 1] as number;
  const x = random.normal(kx, [16, sizes[0] as number]);
  const y = np.oneHot(np.mod(np.arange(16).mul(7), classes), classes);
  const loss = (p: typeof params) => {
    let h = x;
    p.forEach((layer, i) => {
      h = h.matmul(layer.w).add(layer.b);
      if (i < p.length - 1) h = np.maximum(h, 0);
    });
    return h
      .sub(np.logsumexp(h, { axis: -1, keepdims: true }))
      .mul(y)
      .sum(-1)
      .mean()
      .neg();
  };
  const step = jit(
    (p: typeof params, lr: number) => {
      const [l, g] = valueAndGrad(loss)(p);
      return [l, tree.map((a: JArray, b: JArray) => a.sub(b.mul(lr)), p, g)] as const;
    },
    { donateArgnums: 0 },
  );
  let at100 = 0;
  let first = 0;
  let last = 0;
  for (let i = 1; i <= steps; i++) {
    const [l, next] = step(params, 0.1);
    params = next;
    last = await l.item();
    l.dispose();
    if (i === 1) first = last;
    if (i === 100) at100 = liveBytes();
  }
  // Equal on the default path; in deferred mode a read of step 100 may still hold a few bytes then.
  expect(liveBytes()).toBeLessThanOrEqual(at100);
  expect(liveBytes()).toBeGreaterThan(at100 - 1024);
  expect(last).toBeLessThan(first);
  expect(step.traceCount).toBe(1);
});
