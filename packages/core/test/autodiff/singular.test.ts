/**
 * Gradients at singular points equal JAX's (values from JAX's rules: lax.py's jvp definitions,
 * checked with jax 0.4–0.7): abs and sqrt at 0, maximum/minimum ties, the double-where trick,
 * logsumexp at ±1000, and x·log(x)-style 0·inf cases.
 */
import { grad, type Array as JArray, np } from "@webjax/core";
import { expectClose } from "@webjax/test-utils";
import { describe, test } from "vitest";

const g1 = (f: (x: JArray) => JArray) => (x: number | number[]) => grad((v: JArray) => f(v).sum())(np.array(x));

describe("JAX's values at singular points", () => {
  test("abs: jax.grad(jnp.abs)(0.) == 1 (select(x >= 0, g, -g))", async () => {
    await expectClose(g1(np.abs)([0, -0.5, 2]), [1, -1, 1]);
  });

  test("sqrt: jax.grad(jnp.sqrt)(0.) == inf", async () => {
    await expectClose(g1(np.sqrt)([0, 4]), [Number.POSITIVE_INFINITY, 0.25]);
  });

  test("maximum/minimum ties: each side gets 0.5 (jax's _balanced_eq)", async () => {
    const [gx, gy] = grad((x: JArray, y: JArray) => np.maximum(x, y).sum(), { argnums: [0, 1] })(
      np.array([1, 2, 3]),
      np.array([1, 5, 0]),
    );
    await expectClose(gx, [0.5, 0, 1]);
    await expectClose(gy, [0.5, 1, 0]);
    const [hx, hy] = grad((x: JArray, y: JArray) => np.minimum(x, y).sum(), { argnums: [0, 1] })(
      np.array([2, 2]),
      np.array([2, 1]),
    );
    await expectClose(hx, [0.5, 0]);
    await expectClose(hy, [0.5, 1]);
    // relu via maximum(x, 0) at 0: jax.grad(lambda x: jnp.maximum(x, 0.))(0.) == 0.5
    await expectClose(g1((x) => np.maximum(x, 0))([0, -1, 1]), [0.5, 0, 1]);
  });

  test("the double-where trick gives finite gradients; the naive where gives NaN", async () => {
    // jnp.where(x > 0, jnp.sqrt(x), 0.) at 0: grad = 0 * inf = nan in JAX
    await expectClose(g1((x) => np.where(np.greater(x, 0), np.sqrt(x), 0))(0), Number.NaN);
    // safe: sqrt(where(x > 0, x, 1)) inside → grad 0 at 0
    const safe = (x: JArray) => np.where(np.greater(x, 0), np.sqrt(np.where(np.greater(x, 0), x, 1)), 0);
    await expectClose(g1(safe)([0, 4]), [0, 0.25]);
  });

  test("logsumexp at ±1000: the softmax, no overflow (jax.grad gives [0.5, 0.5])", async () => {
    await expectClose(g1(np.logsumexp)([1000, 1000]), [0.5, 0.5]);
    await expectClose(g1(np.logsumexp)([-1000, -1000]), [0.5, 0.5]);
    const e = Math.exp(-1);
    await expectClose(g1(np.logsumexp)([1000, 999]), [1 / (1 + e), e / (1 + e)], { rtol: 1e-6 });
  });

  test("power at 0: d/dx x² = 0, d/dy 0^y = 0 (jax's _replace_zero)", async () => {
    const [gx, gy] = grad((x: JArray, y: JArray) => np.power(x, y).sum(), { argnums: [0, 1] })(
      np.array([0, 0]),
      np.array([2, 0.5]),
    );
    await expectClose(gx, [0, Number.POSITIVE_INFINITY]);
    await expectClose(gy, [0, 0]);
  });
});
