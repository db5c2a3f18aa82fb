/**
 * Random chains of primitives for property tests (the vmap and jit compositions): `values`
 * makes reproducible small-grid data, `steps` the links, each keeping a [3, 4] operand [3, 4];
 * the shared values they close over are unbatched under vmap and consts under jit.
 */
import { type Array as JArray, lax, np } from "@webjax/core";
import { rng } from "@webjax/test-utils";

export const values = (seed: number, ...shape: number[]) => {
  const next = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return np.array(
    Float32Array.from({ length: n }, () => Math.round((next() * 2 - 1) * 16) / 16),
    { shape },
  );
};

/** The links (see the file comment). */
export function steps(seed: number): ((x: JArray) => JArray)[] {
  const w = values(seed + 1, 4, 4).mul(0.5);
  const c = values(seed + 2, 3, 4);
  const idx = np.array(Int32Array.of(2, 0, -1));
  return [
    np.sin,
    (x) => x.mul(x).mul(0.5),
    (x) => x.add(c),
    (x) => np.cumsum(x, 1).mul(0.25),
    (x) => np.sort(x, { axis: 0 }),
    (x) => x.matmul(w),
    (x) => np.flip(x, 1),
    (x) => x.T.reshape([3, 4]),
    (x) => np.take(x, idx, { axis: 0 }),
    (x) => x.sub(x.max(1, { keepdims: true })),
    (x) => lax.reduceWindow(x, 0, "add", [1, 2], [1, 1], "SAME").mul(0.5),
    (x) => np.where(x.greater(0), x, x.mul(0.1)),
    (x) => x.at([1]).add(x.slice([0, 1]).reshape([1, 4])),
  ];
}
