/**
 * The NaN/Inf checker (issue 25): an eager op's NaN names the op and the caller's line; inside a
 * jitted MLP training step a planted log(x − 1) is found by running the program again op by op,
 * the error naming `log`, its equation and this file's line; ±Inf with debugInfs; off, nothing
 * is checked. On a backend that reads asynchronously the same error comes from debug.barrier().
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  configure,
  debug,
  FloatingPointError,
  getBackend,
  grad,
  type Array as JArray,
  jit,
  lax,
  np,
  random,
  tree,
  withDebugNans,
} from "@webjax/core";
import { afterEach, describe, expect, test, vi } from "vitest";

/** The line of this file holding `marker`. */
const lineOf = (marker: string) =>
  readFileSync(fileURLToPath(import.meta.url), "utf8")
    .split("\n")
    .findIndex((l) => l.includes(marker) && !l.includes("lineOf(")) + 1;

/** The checker's error from `f`: thrown now where reads are synchronous, else at the barrier. */
async function nanError(f: () => unknown): Promise<FloatingPointError> {
  const quiet = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    try {
      const out = f();
      await debug.barrier();
      void out;
    } catch (e) {
      if (e instanceof FloatingPointError) return e;
      throw e;
    }
    throw new Error("no FloatingPointError");
  } finally {
    quiet.mockRestore();
  }
}

afterEach(() => configure({ debugNans: false, debugInfs: false }));

const params = () => {
  const [k1, k2] = random.split(random.key(0), 2) as unknown as [JArray, JArray];
  return { w1: random.normal(k1, [4, 8]).mul(0.5), b1: np.zeros([8]), w2: random.normal(k2, [8, 1]).mul(0.5) };
};
type P = ReturnType<typeof params>;
const x = np.linspace(-1, 1, 16).reshape([4, 4]);
const y = np.array([[1], [0], [1], [0]]);

function trainStep(p: P, planted: boolean) {
  const loss = (q: P) => {
    let h = np.maximum(x.matmul(q.w1).add(q.b1), 0);
    if (planted) h = np.log(h.sub(1)); // planted: log(x - 1)
    return h.matmul(q.w2).sub(y).square().mean();
  };
  const g = grad(loss)(p);
  return tree.map((a: JArray, b: JArray) => a.sub(b.mul(0.1)), p, g);
}

describe("debugNans", () => {
  test("an eager op's NaN names the op and the line that called it", async () => {
    const e = await nanError(() => withDebugNans(() => np.sqrt(np.array([4, -1])))); // eager sqrt
    expect(e.message).toMatch(/debugNans: sqrt produced NaN \(its output float32\[2\]\)/);
    expect(e.message).toContain(`debug-nans.test.ts:${lineOf("// eager sqrt")}:`);
  });

  test("a jitted MLP step: the planted log(x − 1) found op by op, with its equation and line", async () => {
    configure({ debugNans: true });
    const step = jit((p: P) => trainStep(p, true));
    const e = await nanError(() => step(params()));
    expect(e.message).toMatch(/jit\(.*\) produced NaN; run again op by op, the first NaN came from 'log'/);
    expect(e.message).toMatch(/in the equation `\w+:f32\[4,8\] = log \w+`/);
    expect(e.message).toContain(`debug-nans.test.ts:${lineOf("// planted: log")}:`);
    // The same step without the plant passes the checker and trains.
    const clean = jit((p: P) => trainStep(p, false))(params());
    await debug.barrier();
    expect(Number.isFinite((await clean.w2.data())[0] as number)).toBe(true);
  });

  test("inside a scan or a cond the search runs the body op by op, to the equation and step inside it", async () => {
    configure({ debugNans: true });
    const e = await nanError(() =>
      jit((xs: JArray) => lax.scan((c: JArray, x: JArray) => [c.add(np.log(x)), null] as const, np.array(0), xs)[0])(
        np.array([1, -1, 2]),
      ),
    );
    // Where reads are synchronous the search descends into bodies; elsewhere it names the loop.
    if (getBackend().canReadSync) expect(e.message).toMatch(/from 'log' .* \(in step 1 of lax\.scan\)/);
    else expect(e.message).toMatch(/from 'scan'/);
    const c = await nanError(() =>
      jit((v: JArray) =>
        lax.cond(
          v.greater(0),
          (a: JArray) => np.sqrt(a.sub(5)),
          (a: JArray) => a,
          v,
        ),
      )(np.array(2)),
    );
    if (getBackend().canReadSync) expect(c.message).toMatch(/from 'sqrt' .* \(in branch 1 of lax\.cond\)/);
    else expect(c.message).toMatch(/from '(cond|sqrt)'/);
  });

  test("debugInfs names log(0) = −Inf; with the checker off nothing is checked", async () => {
    configure({ debugInfs: true });
    const e = await nanError(() => jit((v: JArray) => np.log(v.sub(1)).sum())(np.array([1, 2])));
    expect(e.message).toMatch(/^debugInfs: .* produced -Inf; .* from 'log'/);
    configure({ debugInfs: false });
    const out = await jit((v: JArray) => np.log(v.sub(1)))(np.array([0, 1])).data();
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBe(-Infinity);
    await debug.barrier();
  });
});
