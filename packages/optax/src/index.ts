/**
 * @webjax/optax: DeepMind's optax in TypeScript — gradient transformations you compose
 * (`chain(clipByGlobalNorm(1), adam(1e-3))`), their aliases, combinators and schedules, over
 * webjax pytrees, jit-compatible (states are pytrees of arrays; schedules are traced).
 */

export * from "./adaptive.js";
export * from "./aliases.js";
export * from "./base.js";
export * from "./clipping.js";
export * from "./factored.js";
export * from "./inject.js";
export * as losses from "./losses/index.js";
export * from "./lr-range.js";
export * from "./masking.js";
export * from "./more.js";
export * from "./schedules.js";
export * from "./transforms.js";
export * from "./trust.js";
export * from "./wrappers.js";
