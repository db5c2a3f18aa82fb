/** numpy's constants (`jnp.pi`, `jnp.e`, `jnp.inf`, `jnp.nan`, `jnp.euler_gamma`) as JS numbers. */
export const pi: number = Math.PI;
export const e: number = Math.E;
export const inf: number = Number.POSITIVE_INFINITY;
export const nan: number = Number.NaN;
/** The Euler–Mascheroni constant γ. */
export const eulerGamma = 0.5772156649015329;
