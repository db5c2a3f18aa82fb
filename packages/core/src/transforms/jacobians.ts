/**
 * Jacobians as JAX builds them: `jacfwd` pushes the standard basis of the inputs through `jvp`
 * under one `vmap`; `jacrev` pulls the basis of the outputs back through one `vjp` function
 * under `vmap`; `hessian` is `jacfwd(jacrev(f))`. No per-column loop: one batched program.
 *
 * Layout: for an output leaf of shape O and an input leaf of shape I the block is O + I. The
 * result has the output's structure, each leaf replaced by the input's structure (a tuple of
 * them for an argnums tuple), as in JAX.
 */
import type { Array } from "../array.js";
import { transformScope } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { isFloat } from "../dtype.js";
import { DTypeError, TracerError } from "../errors.js";
import { eye } from "../numpy/creation.js";
import { checkOptions } from "../numpy/options.js";
import { moveAxis } from "../primitives/batch-util.js";
import type { TreeDef } from "../tree/treedef.js";
import { type AnyFn, jvp, splitAux, vjp } from "./autodiff.js";
import { type Aux, type Grads, type Loss, normArgnums } from "./grad.js";
import { arrayLeaves, checkSync } from "./leaves.js";
import { vmap } from "./vmap.js";

export interface JacobianOptions {
  /** Which positional arguments to differentiate (default 0); a tuple gives a tuple of Jacobians. */
  argnums?: number | readonly number[];
  /** f returns [output, aux]: the result is [jacobian, aux]. */
  hasAux?: boolean;
}

/** The Jacobian's structure: `Out`'s structure with each leaf replaced by `G` (the inputs' structure). */
export type JacobianOf<Out, G> = Out extends Array | number
  ? G
  : Out extends readonly unknown[]
    ? { -readonly [K in keyof Out]: JacobianOf<Out[K], G> }
    : Out extends object
      ? { [K in keyof Out]: JacobianOf<Out[K], G> }
      : never;

/** What jacfwd/jacrev return for f with these options (a tuple of input structures for an argnums tuple). */
export type JacobianFn<F extends AnyFn, O> = (
  ...args: Parameters<F>
) => O extends { hasAux: true }
  ? [JacobianOf<Loss<F, O>, Grads<F, O>>, Aux<F>]
  : JacobianOf<ReturnType<F>, Grads<F, O>>;

/** What hessian returns: the inputs' structure of the inputs' structure. */
export type HessianFn<F extends AnyFn, O> = (
  ...args: Parameters<F>
) => O extends { hasAux: true } ? [JacobianOf<Grads<F, O>, Grads<F, O>>, Aux<F>] : JacobianOf<Grads<F, O>, Grads<F, O>>;

// biome-ignore lint/suspicious/noExplicitAny: the implementation builds the typed trees dynamically.
type Jac = any;

const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** The standard basis of the leaves' total size, split into one [N, …leaf] tangent per leaf. */
function basis(leaves: readonly Array[]): Array[] {
  const n = leaves.reduce((s, x) => s + x.size, 0);
  const backend = leaves[0]?.backendHint()?.name;
  const e = eye(n, undefined, backend ? { backend } : {});
  let off = 0;
  return leaves.map((x) => {
    const cols = bind1("slice", [e], { start: [0, off], limit: [n, off + x.size], strides: [1, 1] });
    off += x.size;
    const t = bind1("reshape", [cols], { newShape: [n, ...x.shape] });
    return x.dtype === "float32" ? t : bind1("convert_element_type", [t], { newDtype: x.dtype, weakType: false });
  });
}

/** Rows [off, off + I) of y ([N, …]) as a block of shape lead + I (rows last when `rowsLast`). */
function block(y: Array, off: number, inShape: readonly number[], rowsLast: boolean): Array {
  const rows = sizeOf(inShape);
  const part = bind1("slice", [y], {
    start: y.shape.map((_, i) => (i === 0 ? off : 0)),
    limit: y.shape.map((m, i) => (i === 0 ? off + rows : m)),
    strides: y.shape.map(() => 1),
  });
  const rest = y.shape.slice(1);
  if (!rowsLast) return bind1("reshape", [part], { newShape: [...inShape, ...rest] });
  return bind1("reshape", [moveAxis(part, 0, part.ndim - 1)], { newShape: [...rest, ...inShape] });
}

function splitArgs(op: string, f: AnyFn, args: unknown[], argnums: number | readonly number[]) {
  const nums = normArgnums(op, argnums, args.length);
  const picked = nums.map((i) => args[i]);
  const { leaves, def } = arrayLeaves(op, "a differentiated argument", picked);
  for (const x of leaves) {
    if (!isFloat(x.dtype)) {
      throw new TracerError(
        `${op}: differentiated inputs must be floats, got ${x.dtype}[${x.shape}]; cast with .astype("float32")`,
      );
    }
  }
  const call = (...sel: unknown[]) => {
    const full = [...args];
    nums.forEach((n, k) => {
      full[n] = sel[k];
    });
    const r = f(...full);
    checkSync(op, r);
    return r;
  };
  return { nums, picked, leaves, def, call };
}

/** Rebuilds out-structure ∘ in-structure from blocks[outLeaf][inLeaf]. */
function assemble(blocks: Array[][], outDef: TreeDef, inDef: TreeDef, tuple: boolean): Jac {
  const perOut = blocks.map((row) => {
    const picked = inDef.unflatten(row) as unknown[];
    return tuple ? picked : picked[0];
  });
  return outDef.unflatten(perOut);
}

/**
 * The Jacobian of f by forward mode (good when inputs are fewer than outputs).
 *
 * @example jacfwd((x: Array) => np.sin(x))(x)  // diag(cos x)
 */
export function jacfwd<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts: O = {} as O,
): JacobianFn<F, O> {
  checkOptions("jacfwd", opts, ["argnums", "hasAux"], "jacfwd(f, { argnums, hasAux })");
  return forward("jacfwd", f, opts) as JacobianFn<F, O>;
}

function forward(op: string, f: AnyFn, opts: JacobianOptions): AnyFn {
  return (...args: unknown[]) =>
    transformScope(
      () => {
        const { picked, leaves, def, call } = splitArgs(op, f, args, opts.argnums ?? 0);
        const tuple = typeof opts.argnums === "object";
        const checked = withAux(op, call, opts.hasAux);
        // One call of f per basis batch: with hasAux the aux is jvp's primal (unbatched: outAxes null).
        const push = (...ts: Array[]) => {
          const [p, t] = jvp(checked as AnyFn, picked as never, def.unflatten(ts) as never) as [unknown, unknown];
          return opts.hasAux ? [(t as unknown[])[0], (p as unknown[])[1]] : t;
        };
        const r = vmap(push, { outAxes: opts.hasAux ? [0, null] : 0 })(...basis(leaves));
        const [outs, aux] = opts.hasAux ? (r as [unknown, unknown]) : [r, undefined];
        const o = arrayLeaves(op, "the function's output", outs);
        const blocks = o.leaves.map((y) => {
          let off = 0;
          return leaves.map((x) => {
            const b = block(y, off, x.shape, true);
            off += x.size;
            return b;
          });
        });
        const jac = assemble(blocks, o.def, def, tuple);
        return opts.hasAux ? [jac, aux] : jac;
      },
      (r) => arrayLeaves(op, "output", r).leaves,
    );
}

/** With hasAux, `call` checked to return [output, aux] (the error names `op`). */
function withAux(op: string, call: AnyFn, hasAux: boolean | undefined): AnyFn {
  if (!hasAux) return call;
  return (...a: unknown[]) => {
    const r = call(...a);
    splitAux(op, r);
    return r;
  };
}

/**
 * The Jacobian of f by reverse mode (good when outputs are fewer than inputs).
 *
 * @example jacrev((x: Array) => x.mul(x).sum())(x)  // 2x
 */
export function jacrev<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts: O = {} as O,
): JacobianFn<F, O> {
  checkOptions("jacrev", opts, ["argnums", "hasAux"], "jacrev(f, { argnums, hasAux })");
  return reverse("jacrev", f, opts) as JacobianFn<F, O>;
}

function reverse(op: string, f: AnyFn, opts: JacobianOptions): AnyFn {
  return (...args: unknown[]) =>
    transformScope(
      () => {
        const { picked, def, call } = splitArgs(op, f, args, opts.argnums ?? 0);
        const tuple = typeof opts.argnums === "object";
        const checked = withAux(op, call, opts.hasAux);
        const r = vjp(checked, picked as never, { hasAux: opts.hasAux ?? false } as never) as unknown[];
        const [out, pull, aux] = r as [unknown, (ct: unknown) => unknown[], unknown];
        const o = arrayLeaves(op, "the function's output", out);
        o.leaves.forEach((y, i) => {
          if (!isFloat(y.dtype)) {
            throw new DTypeError(
              `${op}: outputs must be floats, but output ${o.paths[i] || "(the only one)"} is ${y.dtype}[${y.shape}] (as JAX, ${op} needs real-valued outputs); cast with .astype("float32")`,
            );
          }
        });
        const cts = basis(o.leaves);
        const pulled = vmap((...c: Array[]) => pull(o.def.unflatten(c)))(...cts) as unknown[];
        const ins = arrayLeaves(op, "a cotangent", pulled).leaves;
        let off = 0;
        const blocks = o.leaves.map((y) => {
          const row = ins.map((g) => block(g, off, y.shape, false));
          off += y.size;
          return row;
        });
        const jac = assemble(blocks, o.def, def, tuple);
        return opts.hasAux ? [jac, aux] : jac;
      },
      (res) => arrayLeaves(op, "output", res).leaves,
    );
}

/** The Hessian of a scalar function, `jacfwd(jacrev(f))`. */
export function hessian<F extends AnyFn, const O extends JacobianOptions = Record<string, never>>(
  f: F,
  opts: O = {} as O,
): HessianFn<F, O> {
  checkOptions("hessian", opts, ["argnums", "hasAux"], "hessian(f, { argnums, hasAux })");
  const inner = reverse("hessian", f, opts);
  return forward("hessian", inner, { argnums: opts.argnums ?? 0, hasAux: opts.hasAux ?? false }) as never;
}
