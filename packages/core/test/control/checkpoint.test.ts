/**
 * checkpoint (issue 24): a 10-layer MLP whose layers are checkpointed has the plain gradient,
 * runs its forward matmuls twice under grad (counted at the eager dot kernel), and its
 * gradient's peak live bytes are at most half of the plain one's.
 */
import {
  checkpoint,
  grad,
  type Array as JArray,
  jit,
  makeJaxpr,
  memoryStats,
  np,
  random,
  resetMemoryPeak,
  ShapeDtypeStruct,
  vmap,
} from "@webjax/core";
import { checkJaxpr, registry } from "@webjax/core/internal";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test, vi } from "vitest";

/** z = h·W; tanh(z)·σ(z)·cos(z): several intermediates per layer for the plain gradient to keep. */
const layer = (h: JArray, w: JArray) => {
  const z = h.matmul(w);
  return np
    .tanh(z)
    .mul(np.reciprocal(np.exp(z.neg()).add(1)))
    .mul(np.cos(z));
};
const mlp = (step: (h: JArray, w: JArray) => JArray) => (ws: JArray[], x: JArray) => {
  let h = x;
  for (const w of ws) h = step(h, w);
  return h.square().sum();
};

/** Forward matmuls (h·W: contracting lhs dim 1 with rhs dim 0) run eagerly while f runs. */
function forwardMatmuls(f: () => unknown): number {
  const dot = registry.dot_general.lowering as { kind: "dot"; dims: (p: unknown) => unknown };
  let n = 0;
  const spy = vi.spyOn(dot, "dims").mockImplementation((p) => {
    const d = p as { contracting: [number[], number[]]; batch: [number[], number[]] };
    if (d.contracting[0][0] === 1 && d.contracting[1][0] === 0 && d.batch[0].length === 0) n++;
    return p;
  });
  try {
    f();
  } finally {
    spy.mockRestore();
  }
  return n;
}

describe("checkpoint", () => {
  const ws = Array.from({ length: 10 }, (_, i) => random.normal(random.key(i), [64, 64]).mul(0.2));
  const x = random.normal(random.key(10), [32, 64]);
  const plain = mlp(layer);
  const remat = mlp(checkpoint(layer));

  test("the same values and gradients as the plain function", async () => {
    await expectClose(remat(ws, x), await plain(ws, x).toArray(), { rtol: 1e-6, atol: 1e-6 });
    const gp = grad(plain)(ws, x);
    const gr = grad(remat)(ws, x);
    for (let i = 0; i < 10; i++)
      await expectClose(gr[i] as JArray, await (gp[i] as JArray).toArray(), { rtol: 1e-5, atol: 1e-6 });
    const gj = jit(grad(remat))(ws, x);
    await expectClose(gj[0] as JArray, await (gp[0] as JArray).toArray(), { rtol: 1e-5, atol: 1e-6 });
  });

  test("grad recomputes: the forward matmuls run twice", async () => {
    const once = forwardMatmuls(() => grad(plain)(ws, x));
    const twice = forwardMatmuls(() => grad(remat)(ws, x));
    expect(once).toBe(10);
    expect(twice).toBe(20);
    // everythingSaveable saves what the plain gradient saves.
    expect(forwardMatmuls(() => grad(mlp(checkpoint(layer, { policy: "everythingSaveable" })))(ws, x))).toBe(10);
  });

  test("the gradient's peak live bytes are at most half of the plain gradient's", async () => {
    const backend = Object.keys(memoryStats())[0];
    const peak = async (f: () => JArray[]) => {
      await Promise.all(ws.map((w) => w.blockUntilReady()));
      resetMemoryPeak();
      const base = memoryStats()[backend as string]?.liveBytes ?? 0;
      const g = f();
      await Promise.all(g.map((a) => a.blockUntilReady()));
      const top = (memoryStats()[backend as string]?.peakBytes ?? 0) - base;
      for (const a of g) a.dispose();
      return top;
    };
    const p = await peak(() => grad(plain)(ws, x));
    const r = await peak(() => grad(remat)(ws, x));
    expect(r).toBeLessThanOrEqual(0.5 * p);
  });

  test("vmap of a checkpointed function, and its programs type-check", async () => {
    const f = checkpoint((a: JArray) => np.sin(a).mul(a));
    await expectClose(vmap(f)(np.array([1, 2])), [Math.sin(1), 2 * Math.sin(2)], { rtol: 1e-6, atol: 1e-6 });
    const s = new ShapeDtypeStruct([3], "float32");
    for (const g of [(a: JArray) => f(a).sum(), grad((a: JArray) => f(a).sum())])
      checkJaxpr(makeJaxpr(g)(s), "checkpoint");
    expect(String(makeJaxpr(grad((a: JArray) => f(a).sum()))(s))).toContain("checkpoint[");
  });
});
