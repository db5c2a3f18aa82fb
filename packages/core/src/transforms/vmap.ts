/**
 * vmap (JAX's): f mapped over an axis of its arguments, computed as one batched program — every
 * primitive runs its registry batch rule once, whatever the batch size (core/batching.ts).
 */
import { Array } from "../array.js";
import { BatchTrace } from "../core/batching.js";
import { nextArraySerial } from "../core/concrete.js";
import { transformScope } from "../core/scope.js";
import { withTrace } from "../core/trace.js";
import { ShapeError, TracerError } from "../errors.js";
import { checkOptions } from "../numpy/options.js";
import { batchAt } from "../primitives/batch-util.js";
import { classify } from "../tree/node.js";
import type { AnyFn } from "./autodiff.js";
import { arrayLeaves, checkSync, owned } from "./leaves.js";

/** An axis for every leaf below (a number, negative counting from the end, or null: not mapped), or a tree of them. */
export type AxisSpec = number | null | readonly AxisSpec[] | { readonly [key: string]: AxisSpec };

export interface VmapOptions {
  /** The mapped axis of each argument (default 0): a prefix of the argument list's tree. */
  inAxes?: AxisSpec;
  /** Where the mapped axis goes in each output (default 0); null: the output must not depend on it. */
  outAxes?: AxisSpec;
  /** The batch size, required when no argument is mapped. */
  axisSize?: number;
}

const isAxis = (a: unknown): a is number | null => a === null || typeof a === "number";

/**
 * One axis per leaf of `value`, from a prefix tree of axes (JAX's prefix rule: an axis given for
 * a subtree applies to each of its leaves). A mismatch names the path and both structures.
 */
export function axesFor(op: string, what: string, spec: AxisSpec, value: unknown): (number | null)[] {
  const out: (number | null)[] = [];
  const path: string[] = [];
  const walk = (s: unknown, v: unknown): void => {
    if (
      (typeof s === "number" && !Number.isInteger(s)) ||
      (s !== null && typeof s !== "number" && typeof s !== "object")
    ) {
      const where = path.length ? ` at ${path.join("")}` : "";
      throw new ShapeError(
        `${op}: the ${what.replace(/s$/, "")} axis${where} must be an integer (negative counts from the end) or null, got ${describe(s)}`,
      );
    }
    if (isAxis(s)) {
      const n = arrayLeaves(op, what, v).leaves.length;
      for (let i = 0; i < n; i++) out.push(s);
      return;
    }
    const sn = classify(s, op, path);
    const vn = classify(v, op, path);
    const same =
      sn.type.kind === vn.type.kind &&
      sn.children.length === vn.children.length &&
      (sn.keys === null || (vn.keys !== null && sn.keys.every((k, i) => k === vn.keys?.[i])));
    if (!same || sn.type.kind === "leaf") {
      const where = path.length ? ` at ${path.join("")}` : "";
      throw new ShapeError(
        `${op}: the ${what.replace(/s$/, "")} axes${where} are ${describe(s)} but the ${what}${where} are ${describe(v)}; ` +
          "give a number or null for a whole subtree, or a tree with the same structure",
      );
    }
    sn.children.forEach((c, i) => {
      path.push(sn.keys ? `.${sn.keys[i]}` : `[${i}]`);
      walk(c, vn.children[i]);
      path.pop();
    });
  };
  walk(spec, value);
  return out;
}

function describe(x: unknown): string {
  if (x instanceof Array) return `an array ${x.dtype}[${x.shape}]`;
  if (globalThis.Array.isArray(x)) return `a list of ${x.length}`;
  if (x !== null && typeof x === "object") return `an object with keys ${JSON.stringify(Object.keys(x).sort())}`;
  return JSON.stringify(x) ?? String(x);
}

/**
 * `f` mapped over axis `inAxes` of its arguments: the result stacks f's outputs along
 * `outAxes`. Nested vmaps, vmap of grad and grad of vmap compose.
 *
 * @example vmap((x: Array, w: Array) => x.matmul(w), { inAxes: [0, null] })(xs, w)
 */
export function vmap<F extends AnyFn>(f: F, opts: VmapOptions = {}): F {
  checkOptions("vmap", opts, ["inAxes", "outAxes", "axisSize"], "vmap(f, { inAxes, outAxes, axisSize })");
  if (typeof f !== "function") throw new TracerError(`vmap: the first argument must be a function, got ${typeof f}`);
  // null is an axis spec (not mapped), so only a missing option takes the default.
  const inSpec = opts.inAxes === undefined ? 0 : opts.inAxes;
  const outSpec = opts.outAxes === undefined ? 0 : opts.outAxes;
  const mapped = (...args: unknown[]) =>
    transformScope(
      () => {
        const mark = nextArraySerial();
        const { leaves, paths, def } = arrayLeaves("vmap", "an argument", args);
        const axes = axesFor("vmap", "arguments", inSpec, args);
        const size = batchSize(leaves, paths, axes, opts.axisSize);
        return withTrace(
          (l) => new BatchTrace(l, size),
          (t) => {
            const ins = leaves.map((x, i) => {
              const a = axes[i] ?? null;
              return a === null ? x : t.wrap(x, normAxis(a, x.ndim, `argument ${label(paths[i])}`));
            });
            const out = f(...(def.unflatten(ins) as unknown[]));
            checkSync("vmap", out);
            const o = arrayLeaves("vmap", "the function's output", out);
            const outAxes = axesFor("vmap", "outputs", outSpec, out);
            const res = o.leaves.map((y, i) => {
              const [v, d] = t.unwrap(y);
              const a = outAxes[i] ?? null;
              if (a === null) {
                if (d !== null) {
                  throw new ShapeError(
                    `vmap: output ${label(o.paths[i])} depends on the mapped axis, but its outAxes is null`,
                  );
                }
                return v;
              }
              return batchAt(v, d, normAxis(a, v.ndim + (d === null ? 1 : 0), `output ${label(o.paths[i])}`), size);
            });
            return o.def.unflatten(owned(res, mark));
          },
        );
      },
      (r) => arrayLeaves("vmap", "output", r).leaves,
    );
  return mapped as F;
}

const label = (path: string | undefined) => (path ? path : "(the only one)");

function normAxis(a: number, ndim: number, who: string): number {
  if (!Number.isInteger(a) || a < -ndim || a >= ndim) {
    throw new ShapeError(`vmap: axis ${a} is out of bounds for ${who}, which has ${ndim} dims`);
  }
  return a < 0 ? a + ndim : a;
}

function batchSize(
  leaves: readonly Array[],
  paths: readonly string[],
  axes: readonly (number | null)[],
  given?: number,
): number {
  const sizes: string[] = [];
  let size: number | undefined = given;
  let mismatch = false;
  leaves.forEach((x, i) => {
    const a = axes[i] ?? null;
    if (a === null) return;
    const d = normAxis(a, x.ndim, `argument ${label(paths[i])} (${x.dtype}[${x.shape}])`);
    const n = x.shape[d] as number;
    sizes.push(`argument ${label(paths[i])} has size ${n} at axis ${a} (shape [${x.shape}])`);
    if (size === undefined) size = n;
    else if (size !== n) mismatch = true;
  });
  if (mismatch) {
    throw new ShapeError(
      `vmap: the mapped axes have different sizes${given !== undefined ? ` (axisSize ${given})` : ""}: ${sizes.join("; ")}`,
    );
  }
  if (size === undefined) {
    throw new ShapeError("vmap: no argument is mapped (every inAxes is null), so give the batch size as { axisSize }");
  }
  if (!Number.isInteger(size) || size < 0)
    throw new ShapeError(`vmap: axisSize must be a non-negative integer, got ${size}`);
  return size;
}
