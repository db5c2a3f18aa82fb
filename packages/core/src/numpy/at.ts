import { Array, type ArrayLike, type AtIndexer } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { backendOf, broadcastTo, convert, fresh, prepare } from "./convert.js";
import { array, type NestedInput } from "./creation.js";
import { take } from "./join.js";

type Mode = "set" | "add" | "mul" | "min" | "max";

/** The int32 index array (and whether it was a single number) for x.at(indices), along axis 0. */
function indexArray(x: Array, indices: Array | NestedInput, op: string): Array {
  if (x.ndim === 0) throw new ShapeError(`${op}: a scalar ${fmtAval(x.aval)} has no axis to index`);
  if (indices instanceof Array) {
    if (indices.dtype !== "int32" && indices.dtype !== "uint32" && indices.dtype !== "bool") {
      throw new DTypeError(`${op}: indices must be integers, got ${fmtAval(indices.aval)}`);
    }
    return convert(indices, "int32", false);
  }
  return array(indices, { dtype: "int32", backend: backendOf([x]).name });
}

function update(x: Array, indices: Array | NestedInput, values: ArrayLike, mode: Mode): Array {
  return scoped(() => {
    const op = `at(…).${mode}`;
    const idx = indexArray(x, indices, op);
    const shape = [...idx.shape, ...x.shape.slice(1)];
    const v = prepare(op, [values])[0] as Array;
    const upd = broadcastTo(convert(v, x.dtype, false), shape, op);
    return bind1("scatter", [x, idx, upd], { axis: 0, mode });
  });
}

/**
 * JAX's functional index update, `x.at(idx).set(v)` for `x.at[idx].set(v)`: a new array with
 * the elements of `x` along axis 0 at `idx` replaced, added to, multiplied, or min/max-ed with
 * `v` (broadcast to the indexed shape). Duplicate indices combine (`add` sums them; `set` keeps
 * the last); out-of-range indices are dropped and negative ones count from the end, as JAX's
 * default scatter mode. `get()` gathers the same elements.
 */
export function at(x: Array, indices: Array | NestedInput): AtIndexer {
  return {
    get: () => fresh(take(x, indices, { axis: 0 }), x),
    set: (v) => update(x, indices, v, "set"),
    add: (v) => update(x, indices, v, "add"),
    mul: (v) => update(x, indices, v, "mul"),
    multiply: (v) => update(x, indices, v, "mul"),
    min: (v) => update(x, indices, v, "min"),
    max: (v) => update(x, indices, v, "max"),
  };
}
