/**
 * Zero-size arrays through fused kernels: a reshape of a computed value folds into its
 * consumer's loads, and for a zero-size shape that fold once looped forever (CI hung on an
 * einsum of 0×0 operands under jit). Every chain below runs jitted and must give numpy's
 * shapes and values: an empty result, or the identity of a reduction over an empty axis.
 */
import { type Array as JArray, jit, np } from "@webjax/core";
import { describe, expect, test } from "vitest";

const chains: [string, number[], (x: JArray) => JArray, number[], number[]][] = [
  // [name, input shape, function, result shape, result values]
  ["neg ∘ reshape ∘ neg", [0, 3], (x) => np.negative(np.reshape(np.negative(x), [0, 3])), [0, 3], []],
  ["reshape [0,3] → [3,0]", [0, 3], (x) => np.negative(np.reshape(np.negative(x), [3, 0])), [3, 0], []],
  ["reshape [2,0,3] → [0,6]", [2, 0, 3], (x) => np.exp(np.reshape(x.mul(2), [0, 6])), [0, 6], []],
  [
    "reshape [0,3] → [0] and back",
    [0, 3],
    (x) => np.reshape(np.reshape(x.add(1), [0]), [3, 0]).mul(x.sum()),
    [3, 0],
    [],
  ],
  ["transpose and reshape", [4, 0], (x) => np.reshape(np.transpose(x.mul(x), [1, 0]), [0, 2, 2]).add(1), [0, 2, 2], []],
  ["sum over an empty axis after a reshape", [0, 3], (x) => np.reshape(x.mul(3), [0, 3]).sum(0).add(1), [3], [1, 1, 1]],
  ["prod over an empty axis", [2, 0], (x) => np.prod(np.reshape(x.neg(), [2, 0]), { axis: 1 }), [2], [1, 1]],
  [
    "a broadcast of an empty row sum",
    [0, 2],
    (x) => np.broadcastTo(x.add(1).sum(0), [3, 2]).mul(2),
    [3, 2],
    [0, 0, 0, 0, 0, 0],
  ],
];

describe("fused kernels over zero-size arrays", () => {
  test.each(chains)("%s, jitted, equals numpy", { timeout: 20_000 }, async (_name, shape, fn, wantShape, want) => {
    using x = np.zeros(shape);
    using r = jit(fn)(x);
    expect(r.shape).toEqual(wantShape);
    expect(Array.from(await r.data())).toEqual(want);
    using e = fn(x);
    expect(e.shape).toEqual(wantShape);
    expect(Array.from(await e.data())).toEqual(want);
  });

  test("einsum of three 0×0 operands under jit (the case CI hung on)", { timeout: 20_000 }, async () => {
    using a = np.zeros([0, 0]);
    using r = jit((x: JArray, y: JArray, z: JArray) => np.einsum("ij,ij,ij->ij", x, y, z))(a, a, a);
    expect(r.shape).toEqual([0, 0]);
    expect((await r.data()).length).toBe(0);
  });
});
