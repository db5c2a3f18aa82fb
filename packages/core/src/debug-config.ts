/** `configure` (issue 25): library-wide settings; today the NaN/Inf checker's (core/debug-nans.ts). */

import { captureEagerSites } from "./core/call-sites.js";
import { configureDebug, type DebugOptions, FloatingPointError, withDebugNans } from "./core/debug-nans.js";
import { checkOptions } from "./numpy/options.js";

export { type DebugOptions, FloatingPointError, withDebugNans };

/**
 * Sets library-wide options: `debugNans` and `debugInfs` turn on the NaN/Inf checker (JAX's
 * `jax_debug_nans` / `jax_debug_infs`), which names the first op that produced one;
 * `callSites` makes every eager op note its caller (a stack per op), so a kernel that fails
 * names the line that called it — jitted programs always do (their sites are taken while
 * tracing).
 *
 * @example configure({ debugNans: true })
 */
export function configure(opts: DebugOptions & { callSites?: boolean }): void {
  checkOptions(
    "configure",
    opts,
    ["debugNans", "debugInfs", "callSites"],
    "configure({ debugNans, debugInfs, callSites })",
  );
  configureDebug(opts);
  if (opts.callSites !== undefined) captureEagerSites(opts.callSites);
}
