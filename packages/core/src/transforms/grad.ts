/** grad and valueAndGrad: reverse mode for scalar functions, over the arguments named by argnums. */
import type { Array } from "../array.js";
import { keepOutputs, linearizeFlat } from "../core/ad.js";
import { nextArraySerial } from "../core/concrete.js";
import { transformScope } from "../core/scope.js";
import { backwardPass } from "../core/transpose.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { onesLike } from "../numpy/creation.js";
import { checkOptions } from "../numpy/options.js";
import { flattenAs } from "../tree/flatten.js";
import type { TreeDef } from "../tree/treedef.js";
import { type AnyFn, splitAux } from "./autodiff.js";
import { arrayLeaves, type Cotangent, checkSync, orZeros, owned, requireFloat, zeroSpec } from "./leaves.js";

export interface GradOptions {
  /** Which positional arguments to differentiate: one index (default 0) or a list (a tuple of gradients). */
  argnums?: number | readonly number[];
  /** f returns `[loss, aux]`; aux is returned beside the gradient, not differentiated. */
  hasAux?: boolean;
}

type Argnums<O> = O extends { argnums: infer N } ? N : 0;
type GradsOf<F extends AnyFn, N> = N extends number
  ? Cotangent<Parameters<F>[N]>
  : N extends readonly number[]
    ? { -readonly [K in keyof N]: Cotangent<Parameters<F>[N[K] & number]> }
    : never;
export type Grads<F extends AnyFn, O> = GradsOf<F, Argnums<O>>;
export type Loss<F extends AnyFn, O> = O extends { hasAux: true }
  ? ReturnType<F> extends readonly [infer L, unknown]
    ? L
    : never
  : ReturnType<F>;
export type Aux<F extends AnyFn> = ReturnType<F> extends readonly [unknown, infer A] ? A : never;

export type GradFn<F extends AnyFn, O> = (
  ...args: Parameters<F>
) => O extends { hasAux: true } ? [Grads<F, O>, Aux<F>] : Grads<F, O>;
export type ValueAndGradFn<F extends AnyFn, O> = (
  ...args: Parameters<F>
) => O extends { hasAux: true } ? [[Loss<F, O>, Aux<F>], Grads<F, O>] : [Loss<F, O>, Grads<F, O>];

export function normArgnums(op: string, argnums: number | readonly number[], n: number): number[] {
  const list = typeof argnums === "number" ? [argnums] : [...argnums];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -n || a >= n) {
      throw new TracerError(
        `${op}: argnums ${JSON.stringify(argnums)} is out of range for ${n} positional argument(s)`,
      );
    }
  }
  const norm = list.map((a) => (a < 0 ? a + n : a));
  if (new Set(norm).size !== norm.length)
    throw new TracerError(`${op}: argnums ${JSON.stringify(argnums)} repeats an argument`);
  return norm;
}

/** The loss, aux and gradients of one call (the shared body of grad and valueAndGrad). */
function valueAndGradImpl(
  op: string,
  f: AnyFn,
  opts: GradOptions,
  args: unknown[],
  keepLoss: boolean,
): [unknown, unknown, unknown] {
  const argnums = opts.argnums ?? 0;
  const hasAux = opts.hasAux ?? false;
  return transformScope(
    () => {
      const mark = nextArraySerial();
      const nums = normArgnums(op, argnums, args.length);
      const diff = nums.map((i) => args[i]);
      const { leaves, paths, def } = arrayLeaves(op, "a differentiated argument", diff);
      leaves.forEach((x, i) => {
        requireFloat(op, `argument ${nums[Number((paths[i] ?? "0").split("/")[0])] ?? ""}${pathTail(paths[i])}`, x);
      });
      let auxDef: TreeDef | undefined;
      const flat = (xs: Array[]): Array[] => {
        const traced = def.unflatten(xs) as unknown[];
        const full = args.slice();
        nums.forEach((n, k) => {
          full[n] = traced[k];
        });
        let r = f(...full);
        checkSync(op, r);
        let aux: unknown = null;
        if (hasAux) [r, aux] = splitAux(op, r);
        const loss = checkLoss(op, r);
        const a = arrayLeaves(op, "aux", aux);
        auxDef = a.def;
        return [loss, ...a.leaves];
      };
      const [outs, all] = linearizeFlat(op, flat, leaves);
      // Only the loss is pulled back: the aux outputs' tangent code is dead.
      const lin = keepOutputs(all, 1);
      try {
        const cts = backwardPass(lin, [onesLike(outs[0] as Array), ...outs.slice(1).map(() => null)]);
        const grads = cts.map((c, i) => orZeros(c, zeroSpec(leaves[i] as Array)));
        // Owned before the Jaxpr (which may hold some of them as residuals) is released. grad
        // does not return the loss: the scope releases it if the function made it.
        const kept = owned(keepLoss ? outs : outs.slice(1), mark);
        const auxLeaves = keepLoss ? kept.slice(1) : kept;
        const g = def.unflatten(owned(grads, mark)) as unknown[];
        const gradOut = typeof argnums === "number" ? g[0] : g;
        const aux = hasAux ? (auxDef as TreeDef).unflatten(auxLeaves) : undefined;
        return [keepLoss ? kept[0] : undefined, aux, gradOut] as [unknown, unknown, unknown];
      } finally {
        lin.closed.dispose();
      }
    },
    ([loss, aux, g]) =>
      [...(loss === undefined ? [] : [loss as Array]), ...flattenAs(op, aux)[0], ...flattenAs(op, g)[0]] as Array[],
  );
}

function pathTail(p: string | undefined): string {
  const rest = (p ?? "").split("/").slice(1).join("/");
  return rest ? ` at ${rest}` : "";
}

function checkLoss(op: string, r: unknown): Array {
  const { leaves } = arrayLeaves(op, "the function's output", r);
  const x = leaves[0];
  if (leaves.length !== 1 || !x || x.ndim !== 0) {
    const what = leaves.length === 1 && x ? `${x.dtype}[${x.shape}]` : `a pytree of ${leaves.length} leaves`;
    throw new TracerError(
      `${op}: the function must return a scalar (shape []), got ${what}. ` +
        "Reduce it first (e.g. .sum() or .mean()), or use vjp for non-scalar outputs" +
        (op === "grad" ? "; with hasAux, return [loss, aux]" : ""),
    );
  }
  if (!isFloat(x.dtype)) {
    throw new TracerError(`${op}: the function's output is ${x.dtype}[]; gradients need a float output`);
  }
  return x;
}

/**
 * The gradient of a scalar function with respect to the arguments in `argnums` (default 0), as
 * pytrees shaped like them. `hasAux`: f returns `[loss, aux]` and the result is `[grads, aux]`.
 */
export function grad<F extends AnyFn, const O extends GradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): GradFn<F, O> {
  checkOptions("grad", opts, ["argnums", "hasAux"], "grad(f, { argnums, hasAux })");
  const o: GradOptions = opts ?? {};
  return ((...args: unknown[]) => {
    const [, aux, g] = valueAndGradImpl("grad", f, o, args, false);
    return o.hasAux ? [g, aux] : g;
  }) as GradFn<F, O>;
}

/** `[f(...args), grad(f)(...args)]` in one pass; with hasAux `[[loss, aux], grads]`. */
export function valueAndGrad<F extends AnyFn, const O extends GradOptions = Record<string, never>>(
  f: F,
  opts?: O,
): ValueAndGradFn<F, O> {
  checkOptions("valueAndGrad", opts, ["argnums", "hasAux"], "valueAndGrad(f, { argnums, hasAux })");
  const o: GradOptions = opts ?? {};
  return ((...args: unknown[]) => {
    const [loss, aux, g] = valueAndGradImpl("valueAndGrad", f, o, args, true);
    return o.hasAux ? [[loss, aux], g] : [loss, g];
  }) as unknown as ValueAndGradFn<F, O>;
}
