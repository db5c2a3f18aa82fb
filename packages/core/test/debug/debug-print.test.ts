/**
 * debug.print and debug.callback (issue 25): the runtime values, in program order — eagerly,
 * once per call inside jit, once per member under vmap, primal values under grad, once per
 * iteration inside a scan (eager and jitted, where the scan is one loop step) — on every
 * backend (`debug.barrier()` awaits the ones a backend that reads asynchronously still owes).
 */
import { debug, getBackend, grad, type Array as JArray, jit, lax, np, vmap } from "@webjax/core";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(" "));
  });
});
afterEach(() => vi.restoreAllMocks());

describe("debug.print", () => {
  test("eagerly and inside jit: once per call, with that call's values", async () => {
    const f = (x: JArray) => {
      debug.print("x = {}, total {total}", x, { total: x.sum() });
      return x.mul(2);
    };
    f(np.array([1, 2]));
    const jf = jit(f);
    await jf(np.array([1, 2])).data();
    await jf(np.array([3, 4])).data();
    await jf(np.array([5, 6])).data();
    await debug.barrier();
    expect(lines).toEqual([
      "x = [1. 2.], total 3.0",
      "x = [1. 2.], total 3.0",
      "x = [3. 4.], total 7.0",
      "x = [5. 6.], total 11.0",
    ]);
  });

  test("under vmap once per member, under grad the primal values, braces escaped", async () => {
    const f = (x: JArray) => {
      debug.print("{{x}} = {0}", x);
      return x.square().sum();
    };
    vmap(f)(
      np.array([
        [1, 2],
        [3, 4],
      ]),
    );
    await grad(f)(np.array([1.5, -2])).data();
    await debug.barrier();
    expect(lines).toEqual(["{x} = [1. 2.]", "{x} = [3. 4.]", "{x} = [ 1.5 -2. ]"]);
  });

  test("inside a scan: once per iteration, eagerly and jitted (a loop step), in order", async () => {
    const run = (xs: JArray) =>
      lax.scan(
        (c: JArray, x: JArray) => {
          debug.print("c={} x={}", c, x);
          return [c.add(x), null] as const;
        },
        np.array(0),
        xs,
      )[0];
    const xs = np.array([1, 2, 3]);
    const want = ["c=0.0 x=1.0", "c=1.0 x=2.0", "c=3.0 x=3.0"];
    await run(xs).data();
    const jr = jit(run);
    await jr(xs).data();
    await jr(xs).data();
    await debug.barrier();
    expect(lines).toEqual([...want, ...want, ...want]);
  });

  test.runIf(getBackend().name === "webgpu")(
    "on WebGPU the prints of a jitted scan share its submit (no readback submit per print)",
    async () => {
      const run = jit(
        (xs: JArray) =>
          lax.scan(
            (c: JArray, x: JArray) => {
              debug.print("{}", c);
              return [c.add(x), null] as const;
            },
            np.array(0),
            xs,
          )[0],
      );
      const xs = np.arange(10).astype("float32");
      await run(xs).data();
      await debug.barrier();
      const counters = (getBackend() as unknown as { counters: { submits: number } }).counters;
      const before = counters.submits;
      await run(xs).data();
      await debug.barrier();
      // The program's submit and the result's read; not one per print.
      expect(counters.submits - before).toBeLessThanOrEqual(3);
      expect(lines.slice(-10)).toEqual(["0.0", "0.0", "1.0", "3.0", "6.0", "10.0", "15.0", "21.0", "28.0", "36.0"]);
    },
  );

  test("a placeholder without a value is an error at trace time", () => {
    expect(() => debug.print("{} and {}", np.array(1))).toThrow(
      /debug\.print: "\{\} and \{\}" needs positional value 1, but got 1/,
    );
    expect(() => debug.print("{loss}", np.array(1))).toThrow(
      /debug\.print: "\{loss\}" names 'loss', but no object of names/,
    );
    expect(() => debug.print("{}", np.array(1), np.array(2))).toThrow(/uses 1 of the 2 positional values/);
    expect(() => debug.print("{0} {}", 1, 2)).toThrow(/mixes automatic/);
    expect(() => debug.print("a { b")).toThrow(/single '\{'/);
    expect(() => debug.print("{:.2f}", np.ones([2]))).toThrow(/formats a number or a scalar array, not float32\[2\]/);
  });
});

describe("debug.callback", () => {
  test("gets CPU arrays of the values as a pytree, in order with prints; its error reaches the barrier", async () => {
    const seen: [readonly number[], JArray][] = [];
    const f = jit((x: JArray) => {
      debug.callback((a: JArray, t: { b: JArray }) => seen.push([a.shape, t.b]), x, { b: x.sum() }, { ordered: true });
      return x.add(1);
    });
    await f(np.array([1, 2, 3])).data();
    await f(np.array([4, 5, 6])).data();
    await debug.barrier();
    // The arrays live on the CPU backend (read asynchronously where it runs deferred).
    expect(await Promise.all(seen.map(async ([shape, b]) => [shape, Array.from(await b.data())]))).toEqual([
      [[3], [6]],
      [[3], [15]],
    ]);
    const err = vi.spyOn(console, "error").mockImplementation(() => {});
    debug.callback(() => {
      throw new Error("boom");
    });
    await expect(debug.barrier()).rejects.toThrow("boom");
    expect(err).toHaveBeenCalled();
  });
});

describe("debug.print formats as numpy's str and Python's format", () => {
  test("arrays of every rank, scalars, specs, strings, pytrees, non-finite values", () => {
    debug.print("{}", np.zeros([2, 2, 2]));
    debug.print(
      "{} | {:.2f} | {:>6} | {} | {}",
      np.array([0.25, -3, 100.125]),
      np.array(3.14659),
      np.array(2),
      "text",
      5,
    );
    debug.print("{t}", { t: { a: np.array([1, 2], { dtype: "int32" }), b: [np.array(true), null] } });
    debug.print("{} {} {:e}", np.array([Number.NaN, Number.NEGATIVE_INFINITY]), np.array([1e-8]), np.array(1234.5));
    return debug
      .barrier()
      .then(() =>
        expect(lines).toEqual([
          "[[[0. 0.]\n  [0. 0.]]\n\n [[0. 0.]\n  [0. 0.]]]",
          "[  0.25   -3.    100.125] | 3.15 |    2.0 | text | 5",
          "{a: [1 2], b: [True, null]}",
          "[ nan -inf] [1.e-08] 1.234500e+03",
        ]),
      );
  });
});

describe("debug.print in cond branches", () => {
  test("only the branch taken prints: eagerly, and inside jit, where every branch runs and one is selected", async () => {
    const f = (x: JArray) =>
      lax.cond(
        x.sum().greater(0),
        (v: JArray) => {
          debug.print("positive {}", v);
          return v.mul(2);
        },
        (v: JArray) => {
          debug.print("not positive {}", v);
          return v.neg();
        },
        x,
      );
    f(np.array([1, 2]));
    f(np.array([-1, -2]));
    const jf = jit(f);
    await jf(np.array([3, 4])).data();
    await jf(np.array([-3, -4])).data();
    await jf(np.array([5, 6])).data();
    await debug.barrier();
    expect(lines).toEqual([
      "positive [1. 2.]",
      "not positive [-1. -2.]",
      "positive [3. 4.]",
      "not positive [-3. -4.]",
      "positive [5. 6.]",
    ]);
  });
});

describe("debug.print: rehearsals and order", () => {
  test("compile and lower print nothing; a nested scan prints once per inner step, in program order, on every call", async () => {
    const f = (xs: JArray) => {
      debug.print("before");
      const [c] = lax.scan(
        (acc: JArray, x: JArray) => {
          const [inner] = lax.scan(
            (d: JArray, k: JArray) => {
              debug.print("inner {}", k);
              return [d.add(k.mul(x)), null] as const;
            },
            acc,
            np.arange(2).astype("float32"),
          );
          return [inner, null] as const;
        },
        np.array(0),
        xs,
      );
      debug.print("after {}", c);
      return c;
    };
    const xs = np.array([1, 2]);
    const jf = jit(f);
    await jf.compile(xs);
    jf.lower(xs);
    await debug.barrier();
    expect(lines).toEqual([]);
    const once = ["before", "inner 0.0", "inner 1.0", "inner 0.0", "inner 1.0", "after 3.0"];
    for (let call = 0; call < 3; call++) await jf(xs).data();
    await debug.barrier();
    expect(lines).toEqual([...once, ...once, ...once]);
  });
});
