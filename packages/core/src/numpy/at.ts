import type { Array, ArrayLike, AtIndexer, AtUpdateOptions } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { broadcastTo, convert, fresh, prepare } from "./convert.js";
import type { NestedInput } from "./creation.js";
import { add, maximum, minimum, multiply, where } from "./elementwise.js";
import {
  checkMode,
  defaultFill,
  filled,
  type IndexMode,
  intIndices,
  isMask,
  maskArray,
  normalizeIndices,
} from "./indices.js";
import { maskPositions, type SizeOptions } from "./masks.js";
import { checkOptions } from "./options.js";
import { reshape } from "./shape.js";

type Mode = "set" | "add" | "mul" | "min" | "max";

/** Options of `x.at(i).get()`. */
export interface AtGetOptions extends SizeOptions {
  /** Out-of-range reads (default "promise_in_bounds": negatives count from the end, the rest clamp, as x[i]). */
  mode?: IndexMode;
}

function checkUpdateMode(op: string, opts: AtUpdateOptions): AtUpdateOptions["mode"] {
  checkOptions(op, opts, ["mode"]);
  const mode = opts.mode ?? "drop";
  if (mode !== "drop" && mode !== "clip" && mode !== "promise_in_bounds") {
    throw new DTypeError(`${op}: mode must be "drop", "clip" or "promise_in_bounds", got ${JSON.stringify(mode)}`);
  }
  return mode;
}

/** The update along axis 0 at integer indices: a scatter. */
function scatterUpdate(
  x: Array,
  indices: Array | NestedInput,
  values: ArrayLike,
  mode: Mode,
  opts: AtUpdateOptions,
): Array {
  return scoped(() => {
    const op = `at(…).${mode}`;
    const m = checkUpdateMode(op, opts);
    if (x.ndim === 0) throw new ShapeError(`${op}: a scalar ${fmtAval(x.aval)} has no axis to index`);
    let idx = intIndices(op, indices, x);
    if (m === "clip") idx = normalizeIndices(idx, x.shape[0] as number, "clip").idx;
    const shape = [...idx.shape, ...x.shape.slice(1)];
    const v = prepare(op, [values])[0] as Array;
    const upd = broadcastTo(convert(v, x.dtype, false), shape, op);
    return bind1("scatter", [x, idx, upd], { axis: 0, mode });
  });
}

/** A boolean mask over x's leading dims, broadcast to x's shape. */
function fullMask(x: Array, mask: Array, op: string): Array {
  if (mask.ndim > x.ndim || mask.shape.some((n, d) => n !== x.shape[d])) {
    throw new ShapeError(
      `${op}: a boolean mask must have the shape of x or of its leading dims, got mask ${fmtAval(mask.aval)} for ${fmtAval(x.aval)}`,
    );
  }
  return bind1("broadcast_in_dim", [mask], { shape: x.shape, broadcastDimensions: mask.shape.map((_, d) => d) });
}

/** The update where a boolean mask is true: a `where`, so it works under every transform. */
function maskUpdate(
  x: Array,
  indices: Array | NestedInput,
  values: ArrayLike,
  mode: Mode,
  opts: AtUpdateOptions,
): Array {
  return scoped(() => {
    const op = `at(mask).${mode}`;
    checkUpdateMode(op, opts);
    const mask = maskArray(indices, x);
    const m = fullMask(x, mask, op);
    const v0 = prepare(op, [values])[0] as Array;
    const v = convert(v0, x.dtype, false);
    // JAX writes values in selection order; a where agrees with that exactly when the values
    // broadcast to one selected element (x's dims after the mask's), so only those are taken.
    const rest = x.shape.slice(mask.ndim);
    if (v.ndim > rest.length || !v.shape.every((n, d) => n === 1 || n === rest[rest.length - v.ndim + d])) {
      throw new ShapeError(
        `${op}: the values ${fmtAval(v.aval)} must broadcast to one selected element, shape [${rest}] of x ${fmtAval(x.aval)}; ` +
          "to write one value per selected element, use x.at(np.flatnonzero(mask)) on x.reshape([-1]), or np.where(mask, values, x)",
      );
    }
    const updated =
      mode === "set"
        ? v
        : mode === "add"
          ? add(x, v)
          : mode === "mul"
            ? multiply(x, v)
            : mode === "min"
              ? minimum(x, v)
              : maximum(x, v);
    return where(m, broadcastTo(convert(updated, x.dtype, false), x.shape, op), x);
  });
}

/** x[mask]: the selected elements (rows, for a mask over leading dims), eagerly or with `size`. */
function maskGet(x: Array, indices: Array | NestedInput, opts: AtGetOptions): Array {
  return scoped(() => {
    const mask = maskArray(indices, x);
    if (mask.ndim > x.ndim || mask.shape.some((n, d) => n !== x.shape[d])) {
      throw new ShapeError(
        `at(mask).get: a boolean mask must have the shape of x or of its leading dims, got mask ${fmtAval(mask.aval)} for ${fmtAval(x.aval)}`,
      );
    }
    const k = mask.ndim;
    const rows = mask.size;
    const rest = x.shape.slice(k);
    const { positions, valid } = maskPositions("at(mask).get", reshape(mask, [rows]), opts);
    if (rows === 0)
      return bind1("broadcast_in_dim", [convert(prepare("at", [opts.fillValue ?? 0])[0] as Array, x.dtype, false)], {
        shape: [positions.size, ...rest],
        broadcastDimensions: [],
      });
    const picked = bind1("take", [reshape(x, [rows, ...rest]), positions], { axis: 0 });
    return filled(picked, valid, opts.fillValue ?? 0, [0]);
  });
}

/** x[i] along axis 0 for integer indices, with `mode`. */
function indexGet(x: Array, indices: Array | NestedInput, opts: AtGetOptions): Array {
  return scoped(() => {
    checkOptions("at(…).get", opts, ["mode", "fillValue"]);
    if (x.ndim === 0) throw new ShapeError(`at(…).get: a scalar ${fmtAval(x.aval)} has no axis to index`);
    const mode = checkMode("at(…).get", opts.mode ?? "promise_in_bounds");
    const { idx, valid } = normalizeIndices(intIndices("at(…).get", indices, x), x.shape[0] as number, mode);
    const taken = bind1("take", [x, idx], { axis: 0 });
    if (!valid) return fresh(taken, x);
    return filled(
      taken,
      valid,
      opts.fillValue ?? defaultFill(x.dtype),
      idx.shape.map((_, i) => i),
    );
  });
}

/**
 * JAX's functional index update, `x.at(idx).set(v)` for `x.at[idx].set(v)`, along axis 0.
 * - Integer indices (JS or int Arrays): a scatter. Duplicates combine (`add` sums them, `set`
 *   keeps the last); out-of-range ones are dropped (or clamped with `{ mode: "clip" }`) and
 *   negative ones count from the end. `get()` reads like `x[i]` (`{ mode, fillValue }` as take).
 * - A boolean mask (of x's shape or its leading dims): the update applies where it is true (a
 *   `where`, so it works under grad and vmap); `get()` selects the true elements, eagerly or with
 *   `{ size, fillValue }` under a transform.
 * Float indices are a DTypeError.
 */
export function at(x: Array, indices: Array | NestedInput): AtIndexer {
  const mask = isMask(indices);
  const upd = mask ? maskUpdate : scatterUpdate;
  return {
    get: (opts = {}) => (mask ? maskGet(x, indices, opts) : indexGet(x, indices, opts)),
    set: (v, opts = {}) => upd(x, indices, v, "set", opts),
    add: (v, opts = {}) => upd(x, indices, v, "add", opts),
    mul: (v, opts = {}) => upd(x, indices, v, "mul", opts),
    multiply: (v, opts = {}) => upd(x, indices, v, "mul", opts),
    min: (v, opts = {}) => upd(x, indices, v, "min", opts),
    max: (v, opts = {}) => upd(x, indices, v, "max", opts),
  };
}
