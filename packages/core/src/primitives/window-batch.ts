/**
 * vmap rules of the window primitives. reduce_window gains a window of 1 over the batch dim.
 * Convolutions fold the batch into an existing dim, as JAX's conv batch rule: a batched lhs into
 * its batch (N) dim, a batched kernel into its output features (O), both into the features
 * through feature groups (B·G groups: member b's channels only meet member b's kernels).
 */
import type { Array } from "../array.js";
import { bind1 } from "../core/trace.js";
import { TracerError } from "../errors.js";
import { moveAxis } from "./batch-util.js";
import type { BDim, Params } from "./types.js";

/** x (batched at bd) with the batch merged into its unbatched dim `target`, batch-major. */
function mergeInto(x: Array, bd: number, target: number): Array {
  const moved = moveAxis(x, bd, target);
  const shape = [...moved.shape];
  const [b, n] = shape.splice(target, 2) as [number, number];
  shape.splice(target, 0, b * n);
  return bind1("reshape", [moved], { newShape: shape });
}

/** y's dim `target` of size B·n split into (B, n): the batch dim lands at `target`. */
function splitFrom(y: Array, target: number, b: number): Array {
  const shape = [...y.shape];
  const n = (shape[target] as number) / b;
  shape.splice(target, 1, b, n);
  return bind1("reshape", [y], { newShape: shape });
}

export function reduceWindowBatch(
  args: readonly Array[],
  dims: readonly BDim[],
  p: Params["reduce_window"],
): [Array[], BDim[]] {
  if (dims[1] !== null) {
    throw new TracerError(
      "reduce_window: vmap over the init value is not supported (as in JAX); pass the same init to every member",
    );
  }
  const d = dims[0] as number;
  const ins = <T>(v: readonly T[], k: T): T[] => [...v.slice(0, d), k, ...v.slice(d)];
  const params = {
    op: p.op,
    windowDimensions: ins(p.windowDimensions, 1),
    windowStrides: ins(p.windowStrides, 1),
    padding: ins(p.padding, [0, 0] as const),
    baseDilation: ins(p.baseDilation, 1),
    windowDilation: ins(p.windowDilation, 1),
  };
  return [[bind1("reduce_window", args, params)], [d]];
}

export function convBatch(
  args: readonly Array[],
  dims: readonly BDim[],
  p: Params["conv_general_dilated"],
  size: number,
): [Array[], BDim[]] {
  const [lhs, rhs] = args as [Array, Array];
  const [dl, dr] = [dims[0] ?? null, dims[1] ?? null];
  const dn = p.dimensionNumbers;
  const [lb, lf] = dn.lhs as [number, number];
  const [ro] = dn.rhs as [number, number];
  const [ob, of] = dn.out as [number, number];
  const g = p.featureGroupCount;
  if (dr === null) {
    const out = bind1("conv_general_dilated", [mergeInto(lhs, dl as number, lb), rhs], p);
    return [[splitFrom(out, ob, size)], [ob]];
  }
  if (dl === null) {
    // Member b's kernels become output features; within each of the G groups they sit
    // batch-major, so every group keeps its own input channels.
    const moved = moveAxis(rhs, dr, ro); // [… B, O …] at ro
    const shape = [...moved.shape];
    const o = shape[ro + 1] as number;
    const grouped = bind1("reshape", [moved], {
      newShape: [...shape.slice(0, ro), size, g, o / g, ...shape.slice(ro + 2)],
    });
    const swapped = moveAxis(grouped, ro + 1, ro); // [… G, B, O/G …]
    const merged = bind1("reshape", [swapped], {
      newShape: [...shape.slice(0, ro), size * o, ...shape.slice(ro + 2)],
    });
    const out = bind1("conv_general_dilated", [lhs, merged], p);
    const os = [...out.shape];
    const split = bind1("reshape", [out], { newShape: [...os.slice(0, of), g, size, o / g, ...os.slice(of + 1)] });
    const back = moveAxis(split, of + 1, of); // [… B, G, O/G …]
    const res = bind1("reshape", [back], { newShape: [...os.slice(0, of), size, o, ...os.slice(of + 1)] });
    return [[res], [of]];
  }
  // Both batched: B·G feature groups.
  const l = mergeInto(lhs, dl, lf);
  const r = mergeInto(rhs, dr, ro);
  const out = bind1("conv_general_dilated", [l, r], { ...p, featureGroupCount: g * size });
  return [[splitFrom(out, of, size)], [of]];
}
