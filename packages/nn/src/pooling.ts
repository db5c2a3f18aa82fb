/**
 * Pooling on `lax.reduceWindow`, channels last: `maxPool`, `avgPool` (Keras' average: a window
 * cut by "same" padding averages only the elements it covers), `globalAvgPool`, `globalMaxPool`.
 * Inputs [N, ...spatial, C] or one example [...spatial, C].
 */
import { type Array, lax, np } from "@webjax/core";
import { laxPadding, type PaddingArg, withBatch } from "./conv.js";
import { checkInput, tupleOf } from "./layer-options.js";
import { type Module, module } from "./module.js";

export interface PoolOptions {
  /** Strides per spatial dim (default: the window, as Keras). */
  readonly strides?: number | readonly number[];
  /** Default "valid". */
  readonly padding?: PaddingArg;
  readonly name?: string;
}

type Kind = "maxPool" | "avgPool";

function pool(kind: Kind, window: number | readonly number[], opts: PoolOptions): Module {
  const w = typeof window === "number" ? [window, window] : [...window];
  const s = w.length;
  tupleOf(kind, "window", w, s);
  const strides = tupleOf(kind, "strides", opts.strides ?? w, s);
  const padding = laxPadding(kind, opts.padding ?? "valid", s);
  const dims = [1, ...w, 1];
  const steps = [1, ...strides, 1];
  const pads: lax.Padding = typeof padding === "string" ? padding : [[0, 0], ...padding, [0, 0]];
  const expected = `[N, ${w.map(() => "…").join(", ")}, C] or one example`;
  return module({
    kind,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { window: w, strides, padding },
    init: (_key, x) => {
      checkInput(x, { ranks: [s + 1, s + 2], expected });
      return { params: {}, state: {} };
    },
    apply: (vars, x) => {
      checkInput(x, { ranks: [s + 1, s + 2], expected });
      const run = (b: Array): Array => {
        if (kind === "maxPool") return lax.reduceWindow(b, -Infinity, "max", dims, steps, pads);
        const sum = lax.reduceWindow(b, 0, "sum", dims, steps, pads);
        if (padding === "VALID") return sum.div(w.reduce((a, c) => a * c, 1));
        // Keras divides by the number of real elements under the window.
        const ones = np.onesLike(b.slice(null, ...w.map(() => null), [0, 1]));
        const count = lax.reduceWindow(ones, 0, "sum", dims, steps, pads);
        return sum.div(count);
      };
      return [withBatch(x, s, run), vars.state];
    },
  });
}

/** Max pooling over a window (a number means a square 2-D window): `maxPool(2)`. */
export function maxPool(window: number | readonly number[], opts: PoolOptions = {}): Module {
  return pool("maxPool", window, opts);
}

/** Average pooling over a window (a number means a square 2-D window). */
export function avgPool(window: number | readonly number[], opts: PoolOptions = {}): Module {
  return pool("avgPool", window, opts);
}

function globalPool(kind: "globalAvgPool" | "globalMaxPool", opts: { name?: string; keepDims?: boolean }): Module {
  return module({
    kind,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: {},
    init: (_key, x) => {
      checkInput(x, { minRank: 2, expected: "[N, ...spatial, C]" });
      return { params: {}, state: {} };
    },
    apply: (vars, x) => {
      checkInput(x, { minRank: 2, expected: "[N, ...spatial, C]" });
      const axes = globalThis.Array.from({ length: x.ndim - 2 }, (_, i) => i + 1);
      const keepdims = opts.keepDims ?? false;
      const y = kind === "globalAvgPool" ? x.mean(axes, { keepdims }) : x.max(axes, { keepdims });
      return [y, vars.state];
    },
  });
}

/** The mean over the spatial axes of [N, ...spatial, C] → [N, C] (Keras' GlobalAveragePooling). */
export function globalAvgPool(opts: { name?: string; keepDims?: boolean } = {}): Module {
  return globalPool("globalAvgPool", opts);
}

/** The max over the spatial axes of [N, ...spatial, C] → [N, C]. */
export function globalMaxPool(opts: { name?: string; keepDims?: boolean } = {}): Module {
  return globalPool("globalMaxPool", opts);
}
