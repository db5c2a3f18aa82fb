/**
 * DESIGN decisions 7 and 11: lowerings read their inputs through `LoweringInput.at`, and
 * expressions are hash-consed (structural sharing gives CSE in every generator, and keys).
 */
import { np } from "@webjax/core";
import {
  type Aval,
  binary,
  constant,
  type Expr,
  ExprTable,
  exprKey,
  type FusedKernel,
  generateFused,
  hashCons,
  index,
  KernelLoads,
  kernelKey,
  load,
  param,
  unary,
} from "@webjax/core/internal";
import { describe, expect, test } from "vitest";

const i32 = (v: number) => constant(v, "int32");
const f32aval = (shape: number[]): Aval => ({ shape, dtype: "float32", weakType: false });
const P = (i: number) => ({ param: i });

/** A fresh `exp(x)·2 + 1` tree: no node shared with any other call's. */
const chain = (x: Expr): Expr =>
  binary("add", binary("mul", unary("exp", x), constant(2, "float32")), constant(1, "float32"));

describe("hash-consing", () => {
  test("structurally equal trees become one node; literals keep −0 and NaN apart from 0", () => {
    const t = new ExprTable();
    const a = t.intern(chain(load(0, "float32")));
    const b = t.intern(chain(load(0, "float32")));
    expect(a).toBe(b);
    expect(t.intern(chain(load(1, "float32")))).not.toBe(a);
    expect(t.intern(constant(-0, "float32"))).not.toBe(t.intern(constant(0, "float32")));
    expect(t.intern(constant(Number.NaN, "float32"))).toBe(t.intern(constant(Number.NaN, "float32")));
    expect(t.intern(constant(1, "int32"))).not.toBe(t.intern(constant(1, "float32")));
    // Inside one tree: both operands of the add become the same node.
    const sum = hashCons(binary("add", chain(load(0, "float32")), chain(load(0, "float32"))));
    expect(sum.op === "binary" && sum.x === sum.y).toBe(true);
  });

  test("keys are equal exactly for equal structure, and linear in a DAG's size", () => {
    expect(exprKey(chain(load(0, "float32")))).toBe(exprKey(chain(load(0, "float32"))));
    expect(exprKey(chain(load(0, "float32")))).not.toBe(exprKey(chain(load(0, "float16"))));
    expect(exprKey(binary("sub", index(0), index(1)))).not.toBe(exprKey(binary("sub", index(1), index(0))));
    // 40 doublings: a tree of 2^40 leaves, a DAG of 41 nodes; the key lists each node once.
    let e: Expr = load(0, "int32");
    for (let i = 0; i < 40; i++) e = binary("xor", e, e);
    expect(exprKey(e).split(";").length).toBe(41);
  });

  test("kernel keys come from the structure, not the label or the objects", () => {
    const kernel = (label: string, stride: number): FusedKernel => ({
      kind: "fused",
      label,
      inputs: ["float32"],
      outputs: ["float32"],
      outRank: 1,
      loops: [P(0)],
      loads: [{ input: 0, offset: 0, strides: [stride] }],
      expr: chain(load(0, "float32")),
    });
    expect(kernelKey(kernel("a", 1))).toBe(kernelKey(kernel("b", 1)));
    expect(kernelKey(kernel("a", 1))).not.toBe(kernelKey(kernel("a", 2)));
  });

  test("the generated JS computes a repeated sub-expression once (CSE)", () => {
    const kernel = (expr: Expr): FusedKernel => ({
      kind: "fused",
      label: "cse",
      inputs: ["float32"],
      outputs: ["float32"],
      outRank: 1,
      loops: [P(0)],
      loads: [{ input: 0, offset: 0, strides: [1] }],
      expr,
    });
    const statements = (e: Expr) =>
      generateFused(kernel(e))
        .source.split("\n")
        .filter((l) => /const v\d+ =/.test(l)).length;
    const once = chain(load(0, "float32"));
    const shared = statements(binary("add", once, once));
    const rebuilt = statements(binary("add", chain(load(0, "float32")), chain(load(0, "float32"))));
    expect(rebuilt).toBe(shared);
    // And exp's expansion is emitted once, not twice: one more statement than the chain alone.
    expect(shared).toBe(statements(once) + 1);
  });
});

describe("LoweringInput.at", () => {
  const layout = { offset: P(0), strides: [P(1), P(2)] };

  test("a dim read at a loop variable walks that loop; what remains is a gather term", () => {
    const reads = new KernelLoads();
    const x = reads.input(0, f32aval([3, 4]), layout, [param(3), param(4)], [P(3), P(4)]);
    const e = x.at([index(1), binary("add", index(0), param(7))]);
    expect(e).toEqual(load(0, "float32"));
    const [l] = reads.finish(3);
    expect(l).toEqual({
      input: 0,
      offset: P(0),
      strides: [P(2), P(1), 0],
      gather: [{ index: param(7), stride: P(2) }],
    });
  });

  test("a loop read by two dims (a diagonal) walks it once and gathers the other", () => {
    const reads = new KernelLoads();
    const x = reads.input(0, f32aval([4, 4]), layout, [i32(4), i32(4)], [4, 4]);
    x.at([index(0), index(0)]);
    const [l] = reads.finish(1);
    expect(l?.strides).toEqual([P(1)]);
    expect(l?.gather).toEqual([{ index: index(0), stride: P(2) }]);
  });

  test("constant strides: scaled loop terms stay affine; broadcast dims are not read", () => {
    const reads = new KernelLoads();
    const x = reads.input(0, f32aval([8, 5]), { offset: 3, strides: [0, 2] }, [i32(8), i32(5)], [8, 5]);
    x.at([binary("min", index(0), i32(7)), binary("mul", index(1), i32(3))]);
    expect(reads.finish(2)).toEqual([{ input: 0, offset: 3, strides: [0, 6] }]);
  });

  test("equal reads are one load; different reads are two", () => {
    const reads = new KernelLoads();
    const x = reads.input(0, f32aval([5]), { offset: P(0), strides: [P(1)] }, [param(2)], [P(2)]);
    const a = x.at([binary("sub", index(0), i32(1))]);
    const b = x.at([binary("sub", index(0), i32(1))]);
    const c = x.at([index(0)]);
    expect(a).toEqual(b);
    expect(c).toEqual(load(1, "float32"));
    expect(reads.finish(1)).toHaveLength(2);
  });

  test("misuse is a clear error", () => {
    const reads = new KernelLoads();
    const x = reads.input(0, f32aval([5]), { offset: 0, strides: [1] }, [i32(5)], [5]);
    expect(() => x.at([])).toThrow(/input 0 has rank 1 but was read at 0 indices/);
    expect(() => x.at([constant(1, "float32")])).toThrow(/index 0 of input 0 is float32, not int32/);
    x.at([index(3)]);
    expect(() => reads.finish(2)).toThrow(/input 0 is read at loop 3 of 2/);
  });

  test("loads lowerings read transposed and broadcast views without copies and agree with numpy's rules", async () => {
    // concatenate of a transposed view and a broadcast; take along a strided slice.
    using a = np.arange(6).astype("float32").reshape([2, 3]).T;
    using b = np.broadcastTo(np.array([[10, 20]], { dtype: "float32" }), [2, 2]);
    using c = np.concatenate([a, b], 0);
    expect(await c.toArray()).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
      [10, 20],
      [10, 20],
    ]);
    using s = np.arange(10).astype("float32").slice([1, null, 3]);
    using t = np.take(s, np.array([2, -1, 0, 1], { dtype: "int32" }));
    expect(await t.toArray()).toEqual([7, 7, 1, 4]);
  });
});
