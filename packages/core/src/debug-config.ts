/** `configure` (issue 25): library-wide settings; today the NaN/Inf checker's (core/debug-nans.ts). */
import { configureDebug, type DebugOptions, FloatingPointError, withDebugNans } from "./core/debug-nans.js";
import { checkOptions } from "./numpy/options.js";

export { type DebugOptions, FloatingPointError, withDebugNans };

/**
 * Sets library-wide options: `debugNans` and `debugInfs` turn on the NaN/Inf checker (JAX's
 * `jax_debug_nans` / `jax_debug_infs`), which names the first op that produced one.
 *
 * @example configure({ debugNans: true })
 */
export function configure(opts: DebugOptions): void {
  checkOptions("configure", opts, ["debugNans", "debugInfs"], "configure({ debugNans, debugInfs })");
  configureDebug(opts);
}
