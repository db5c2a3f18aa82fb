/**
 * random.permutation against real JAX (fixtures/jax_permutation.py): 60,000 elements (three
 * rounds of stable sorts by random bits) for three keys, bit for bit, and permutations of
 * rows and independent rows of a small array.
 */
import { createHash } from "node:crypto";
import { np, random } from "@webjax/core";
import { describe, expect, test } from "vitest";
import golden from "./fixtures/jax_permutation.json" with { type: "json" };

const sha256 = (values: Int32Array) => createHash("sha256").update(new Uint8Array(values.buffer)).digest("hex");

describe("permutation equals JAX's", () => {
  for (const [seed, want] of Object.entries(golden.keys)) {
    test(`permutation(key(${seed}), 60000)`, { timeout: 120_000 }, async () => {
      using k = random.key(Number(seed));
      using p = random.permutation(k, golden.n);
      const got = Int32Array.from(await p.data());
      expect(Array.from(got.subarray(0, 16))).toEqual(want.head);
      expect(Array.from(got.subarray(-16))).toEqual(want.tail);
      expect(sha256(got)).toBe(want.sha256);
    });
  }

  test("rows of an array, and each row independently", async () => {
    using k = random.key(7);
    using x = np.arange(24).reshape([4, 6]);
    using rows = random.permutation(k, x);
    expect(await rows.toArray()).toEqual(golden["rows(key(7), arange(24).reshape(4, 6))"]);
    using ind = random.permutation(k, x, { axis: 1, independent: true });
    expect(await ind.toArray()).toEqual(golden["independent(key(7), arange(24).reshape(4, 6), axis=1)"]);
  });
});
