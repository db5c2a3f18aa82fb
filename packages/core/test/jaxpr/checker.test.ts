/**
 * The jaxpr type checker rejects corrupted programs naming the equation; dead-code elimination
 * drops what no output reads and keeps the program well typed and equal in value.
 */
import { customVjp, type Array as JArray, makeJaxpr, np, ShapeDtypeStruct } from "@webjax/core";
import { ClosedJaxpr, checkJaxpr, dce, evalJaxpr, Var } from "@webjax/core/internal";
import { expectClose } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const f32 = (...shape: number[]) => new ShapeDtypeStruct(shape);
const av = (shape: number[], dtype: "float32" | "int32" = "float32") => ({ shape, dtype, weakType: false });

/** `closed` with its equation k replaced by `change(eqn)`. */
function corrupt(closed: ClosedJaxpr, k: number, change: (e: ClosedJaxpr["jaxpr"]["eqns"][number]) => object) {
  const eqns = closed.jaxpr.eqns.map((e, i) => (i === k ? (change(e) as typeof e) : e));
  return new ClosedJaxpr({ ...closed.jaxpr, eqns }, closed.consts);
}

describe("checkJaxpr", () => {
  const good = makeJaxpr((x: JArray) => np.sin(x).add(x).sum())(f32(3));

  test("accepts what staging makes; equation params are typed by the primitive", () => {
    expect(() => checkJaxpr(good)).not.toThrow();
    const sum = good.jaxpr.eqns[2];
    // `prim` discriminates the union: params.axes type-checks only for reductions.
    if (sum?.prim !== "reduce_sum") throw new Error("expected a reduce_sum");
    expect(sum.params.axes).toEqual([0]);
  });

  test("an output declared with the wrong type names the equation", () => {
    const bad = corrupt(good, 1, (e) => ({ ...e, outputs: [new Var(av([4]))] }));
    expect(() => checkJaxpr(bad, "the test program")).toThrow(
      /the test program is ill-typed at equation 1 \(c:f32\[4\] = add b a\): output 0 is declared float32\[4\]; its inputs give float32\[3\]/,
    );
  });

  test("a variable read before it is bound", () => {
    const stray = new Var(av([3]));
    const bad = corrupt(good, 1, (e) => ({ ...e, inputs: [e.inputs[0], stray] }));
    expect(() => checkJaxpr(bad)).toThrow(
      /equation 1 .*reads a variable of type float32\[3\] that is not bound before it/,
    );
  });

  test("params that abstract evaluation rejects", () => {
    const bad = corrupt(good, 2, (e) => ({ ...e, params: { axes: [3] } }));
    expect(() => checkJaxpr(bad)).toThrow(
      /equation 2 \(d:f32\[\] = reduce_sum\[axes=\(3,\)\] c\): abstract evaluation rejects it/,
    );
  });

  test("a variable bound twice, and a const of the wrong type", () => {
    const j = good.jaxpr;
    const twice = corrupt(good, 1, (e) => ({ ...e, outputs: j.eqns[0]?.outputs }));
    expect(() => checkJaxpr(twice)).toThrow(/equation 1 .*bound twice/);
    const c = new Var(av([3]));
    const constBad = new ClosedJaxpr({ ...j, constvars: [c] }, [np.zeros([2])]);
    expect(() => checkJaxpr(constBad)).toThrow(/constvar 0: declared float32\[3\] but its const is float32\[2\]/);
  });

  test("a corrupted sub-program of a custom call", () => {
    const f = customVjp(
      (x: JArray) => np.exp(x),
      (x: JArray) => [np.exp(x), np.exp(x)] as const,
      (r: JArray, g: JArray) => [r.mul(g)],
    );
    const outer = makeJaxpr((x: JArray) => f(x))(f32(2));
    const bad = corrupt(outer, 0, (e) => {
      const call = (e.params as { call: ClosedJaxpr }).call;
      const inner = corrupt(call, 0, (ie) => ({ ...ie, outputs: [new Var(av([2], "int32"))] }));
      return { ...e, params: { ...e.params, call: inner } };
    });
    expect(() => checkJaxpr(bad)).toThrow(/in custom_vjp_call's program is ill-typed at equation 0/);
  });
});

describe("dce", () => {
  test("drops equations and consts that no kept output reads; the result checks and evaluates the same", async () => {
    const c = np.array([1, 2, 3]);
    const d = np.array([10, 20, 30]);
    const closed = makeJaxpr((x: JArray) => {
      const unused = np.exp(x).mul(d); // dead
      void unused;
      return [x.mul(c).sum(), np.cos(x).add(d)];
    })(f32(3));
    expect(closed.jaxpr.eqns).toHaveLength(6);
    const both = dce(closed);
    expect(both.jaxpr.eqns.map((e) => e.prim)).toEqual(["mul", "reduce_sum", "cos", "add"]);
    const first = dce(closed, [true, false]);
    expect(first.jaxpr.eqns.map((e) => e.prim)).toEqual(["mul", "reduce_sum"]);
    expect(first.consts).toHaveLength(1);
    expect(first.jaxpr.invars).toHaveLength(1);
    checkJaxpr(first);
    const x = np.array([0.5, 1, 2]);
    closed.dispose(); // the pruned program holds its own handles on its consts
    await expectClose(evalJaxpr(first, [x])[0] as JArray, 0.5 + 2 + 6);
    await expectClose(evalJaxpr(both, [x])[1] as JArray, [10 + Math.cos(0.5), 20 + Math.cos(1), 30 + Math.cos(2)]);
  });
});
