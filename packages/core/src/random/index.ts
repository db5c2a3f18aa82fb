/**
 * `random`: JAX's counter-based PRNG (`jax.random`) on Threefry-2x32, with JAX's default
 * partitionable scheme. Keys are uint32 arrays of shape [2]; the same key gives the same
 * numbers on every backend, and JAX's numbers for the same seed.
 *
 * ```ts
 * const key = random.key(0);
 * using keys = random.split(key, 3);
 * using w = random.normal(random.keyAt(keys, 0), [784, 128]);
 * ```
 */
export {
  bernoulli,
  type CategoricalOptions,
  categorical,
  type FloatOptions,
  gumbel,
  normal,
  type RandintOptions,
  type RandomFloat,
  randint,
  truncatedNormal,
  type UniformOptions,
  uniform,
} from "./distributions.js";
export { bits, foldIn, key, keyAt, keyData, split } from "./keys.js";
export { type ChoiceOptions, choice, type PermutationOptions, permutation, shuffle } from "./permutation.js";
export { threefry2x32 } from "./threefry.js";
