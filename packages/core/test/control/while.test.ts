/**
 * lax.whileLoop (issue 24): Newton's method against Math.sqrt, Collatz step counts against a JS
 * loop, vmap whose members stop at different steps against a loop of calls, forward mode through
 * the loop against the analytic derivative, jit across calls with different trip counts (one
 * loop step of the program, whose plan replays), and
 * reverse mode's error. On WebGPU the same tests run the loops on the device
 * (packages/webgpu/src/device-loop.ts); on a backend that neither reads back synchronously nor
 * runs loops (the CPU's deferred mode) the loop is a named error.
 */
import { getBackend, grad, type Array as JArray, jit, jvp, lax, np, vmap } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const syncBackend = getBackend().canReadSync;
/** A backend that reads synchronously or runs while loops on the device (WebGPU). */
const loops = syncBackend || Boolean(getBackend().runWhile);
const values = async (x: JArray) => Array.from(await x.data());

/** Newton's iteration for √a from x = a, until |x² − a| < 1e-5·a; also counts the steps. */
const newton = (a: JArray) =>
  lax.whileLoop(
    ([x]: [JArray, JArray]) => x.mul(x).sub(a).abs().greater(a.mul(1e-5)),
    ([x, n]: [JArray, JArray]) => [x.add(a.div(x)).mul(0.5), n.add(1)] as [JArray, JArray],
    [a, np.array(0, { dtype: "int32" })] as [JArray, JArray],
  );

/** Collatz steps from n to 1 (an integer carry). */
const collatz = (n: JArray) =>
  lax.whileLoop(
    ([v]: [JArray, JArray]) => v.greater(1),
    ([v, k]: [JArray, JArray]) =>
      [np.where(np.remainder(v, 2).equal(0), np.floorDivide(v, 2), v.mul(3).add(1)), k.add(1)] as [JArray, JArray],
    [n, np.array(0, { dtype: "int32" })] as [JArray, JArray],
  )[1];
const collatzJs = (n: number) => {
  let k = 0;
  for (let v = n; v > 1; v = v % 2 === 0 ? v / 2 : 3 * v + 1) k++;
  return k;
};

describe.runIf(loops)("lax.whileLoop", () => {
  test("Newton's method converges to √a; Collatz counts equal a JS loop", async () => {
    for (const a of [2, 10, 0.25]) {
      const [x, n] = newton(np.array(a));
      expect((await values(x))[0]).toBeCloseTo(Math.sqrt(a), 4);
      expect((await values(n))[0]).toBeGreaterThan(1);
    }
    for (const n of [6, 7, 27]) expect(await values(collatz(np.array(n, { dtype: "int32" })))).toEqual([collatzJs(n)]);
  });

  test("vmap: members that stop at different steps each keep their own value", async () => {
    const ns = [6, 7, 27, 1, 97];
    const out = vmap(collatz)(np.array(ns, { dtype: "int32" }));
    expect(await values(out)).toEqual(ns.map(collatzJs));
    const roots = vmap((a: JArray) => newton(a)[0])(np.array([2, 9, 100]));
    await expectClose(roots, [Math.SQRT2, 3, 10], { rtol: 1e-5, atol: 1e-5 });
  });

  test("forward mode through the loop: d√a/da = 1/(2√a); reverse mode is a named error", async () => {
    const [y, t] = jvp((a: JArray) => newton(a)[0], [np.array(4)], [np.array(1)]);
    expect((await values(y))[0]).toBeCloseTo(2, 5);
    expect((await values(t))[0]).toBeCloseTo(0.25, 4);
    expect(() => grad((a: JArray) => newton(a)[0])(np.array(4))).toThrow(
      /lax\.whileLoop: reverse-mode differentiation .* lax\.foriLoop with static bounds or lax\.scan/,
    );
    // A loop that does not depend on the differentiated value is fine.
    const g = grad((a: JArray) => a.mul(collatz(np.array(7, { dtype: "int32" })).astype("float32")))(np.array(1));
    expect(await values(g)).toEqual([collatzJs(7)]);
  });

  test("jit: one loop step of the program, replayed across calls with different trip counts, equal to eager", async () => {
    const f = jit(collatz);
    expect(await values(f(np.array(7, { dtype: "int32" })))).toEqual([collatzJs(7)]);
    const backend = getBackend();
    const run = backend.run?.bind(backend);
    let topLevel = 0;
    let depth = 0;
    if (run) {
      backend.run = (p, slots) => {
        if (depth === 0) topLevel++;
        depth++;
        try {
          run(p, slots);
        } finally {
          depth--;
        }
      };
    }
    try {
      for (const n of [27, 6, 97, 27]) expect(await values(f(np.array(n, { dtype: "int32" })))).toEqual([collatzJs(n)]);
    } finally {
      delete (backend as { run?: unknown }).run;
    }
    expect(f.traceCount).toBe(1);
    // After the first call (the recording) each call replays the plan: one top-level run (a
    // device loop's driver runs its body programs later, from the top level, too).
    if (run && syncBackend) expect(topLevel).toBe(4);
    // Newton's method jitted, and under vmap (members stop at different steps).
    const roots = jit(vmap((a: JArray) => newton(a)[0]));
    for (let k = 0; k < 2; k++)
      await expectClose(roots(np.array([2, 9, 100])), [Math.SQRT2, 3, 10], { rtol: 1e-5, atol: 1e-5 });
    // foriLoop with array bounds is a while loop.
    const sum = jit((lo: JArray, hi: JArray) =>
      lax.foriLoop(lo, hi, (i, acc: JArray) => acc.add(i), np.array(0, { dtype: "int32" })),
    );
    expect(await values(sum(np.array(3, { dtype: "int32" }), np.array(7, { dtype: "int32" })))).toEqual([
      3 + 4 + 5 + 6,
    ]);
  });
});

describe.runIf(!loops)("lax.whileLoop where reads are asynchronous", () => {
  test("is a named error that points to foriLoop, scan and the cpu backend", () => {
    expect(() => collatz(np.array(7, { dtype: "int32" }))).toThrow(
      /lax\.whileLoop: on the (webgpu|cpu) backend a while loop would read its predicate back .* lax\.foriLoop with static bounds or lax\.scan/,
    );
  });
});
