import { expect, test } from "vitest";
import { np } from "@webjax/core";

test("smoke", async () => {
  const x = np.array([[1, 2, 3], [4, 5, 6]]);
  const y = x.add(1).mul(2);
  expect(await y.toArray()).toEqual([[4, 6, 8], [10, 12, 14]]);
  expect(await x.sum(0).toArray()).toEqual([5, 7, 9]);
  expect(await x.T.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
  expect(await x.matmul(x.T).toArray()).toEqual([[14, 32], [32, 77]]);
  expect(await x.slice(null, [null, null, -1]).toArray()).toEqual([[3, 2, 1], [6, 5, 4]]);
  expect(await x.argmax(1).toArray()).toEqual([2, 2]);
  expect(await x.mean().item()).toBeCloseTo(3.5);
  console.log(x.toString(), String(x.exp()));
});
