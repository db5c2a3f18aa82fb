/**
 * Forward and reverse mode, the JAX way: `jvp` runs the primitives' jvp rules; `linearize` is
 * jvp with the tangents recorded into a linear program; `vjp`, `grad` and `valueAndGrad` run that
 * program backwards (its transpose). Inputs and outputs are pytrees.
 */
import { Array } from "../array.js";
import { evalLinear, jvpFlat, keepOutputs, type Linear, linearizeFlat } from "../core/ad.js";
import type { Aval } from "../core/aval.js";
import { nextArraySerial } from "../core/concrete.js";
import { transformScope } from "../core/scope.js";
import { backwardPass } from "../core/transpose.js";
import { isFloat } from "../dtype.js";
import { ShapeError, TracerError } from "../errors.js";
import { checkOptions } from "../numpy/options.js";
import { shapesEqual } from "../shape.js";
import type { TreeDef } from "../tree/treedef.js";
import {
  arrayLeaves,
  type Cotangent,
  type CotangentsOf,
  checkSync,
  leavesLike,
  orZeros,
  owned,
  type ZeroSpec,
  zeroSpec,
} from "./leaves.js";

const avals = (xs: readonly Array[]): Aval[] => xs.map((x) => x.aval);

// biome-ignore lint/suspicious/noExplicitAny: a transform accepts any function of pytrees.
export type AnyFn = (...args: any[]) => unknown;

/** The flat form of `f` applied to `args`: leaves in, output leaves out (records the output structure). */
function flatFn(op: string, f: AnyFn, argsDef: TreeDef, box: { out?: TreeDef }) {
  return (xs: Array[]): Array[] => {
    const out = f(...(argsDef.unflatten(xs) as unknown[]));
    checkSync(op, out);
    const { leaves, def } = arrayLeaves(op, "the function's output", out);
    box.out = def;
    return leaves;
  };
}

/** Each leaf of `got` has the shape of `want` (and its dtype, where that is a float). */
function checkLike(op: string, what: string, whose: string, want: readonly Aval[], got: readonly Array[]): void {
  got.forEach((t, i) => {
    const a = want[i];
    if (a && (!shapesEqual(a.shape, t.shape) || (isFloat(a.dtype) && t.dtype !== a.dtype))) {
      throw new ShapeError(`${op}: ${what} leaf ${i} is ${t.dtype}[${t.shape}]; ${whose} is ${a.dtype}[${a.shape}]`);
    }
  });
}

/**
 * Forward-mode differentiation: `[f(...primals), ∂f(primals)·tangents]`. `tangents` has the
 * structure of `primals`; tangents of integer inputs are ignored.
 */
export function jvp<F extends AnyFn>(
  f: F,
  primals: Parameters<F>,
  tangents: Parameters<F>,
): [ReturnType<F>, Cotangent<ReturnType<F>>] {
  checkArgList("jvp", "primals", primals, "jvp(f, [x], [t])");
  checkArgList("jvp", "tangents", tangents, "jvp(f, [x], [t])");
  return transformScope(
    () => {
      const mark = nextArraySerial();
      const { leaves: ps, def } = arrayLeaves("jvp", "primal", primals);
      const ts = leavesLike("jvp", "tangents differ from primals", def, tangents);
      checkLike("jvp", "tangent", "its primal", avals(ps), ts);
      const box: { out?: TreeDef } = {};
      const [outs, outTs] = jvpFlat(
        "jvp",
        flatFn("jvp", f, def, box),
        ps,
        ts.map((t, i) => (isFloat((ps[i] as Array).dtype) ? t : null)),
      );
      const ot = owned(
        outTs.map((t, i) => orZeros(t, zeroSpec(outs[i] as Array))),
        mark,
      );
      const o = owned(outs, mark);
      const outDef = box.out as TreeDef;
      return [outDef.unflatten(o), outDef.unflatten(ot)] as [ReturnType<F>, Cotangent<ReturnType<F>>];
    },
    ([o, t]) => [...arrayLeavesOf(o), ...arrayLeavesOf(t)],
  );
}

function arrayLeavesOf(t: unknown): Array[] {
  return arrayLeaves("transform", "output", t).leaves;
}

/** A function that owns saved values (residuals): `dispose()` releases them now; otherwise the GC does. */
export interface SavedFunction {
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * JAX's linearize: `[f(...primals), fJvp]`, where `fJvp(...tangents)` evaluates the linear map
 * ∂f(primals) without re-running f. fJvp keeps the residuals alive until it is disposed or collected.
 */
export function linearize<F extends AnyFn>(
  f: F,
  primals: Parameters<F>,
): [ReturnType<F>, ((...tangents: Parameters<F>) => Cotangent<ReturnType<F>>) & SavedFunction] {
  checkArgList("linearize", "primals", primals, "linearize(f, [x])");
  let linear: Linear | undefined;
  let inDef: TreeDef | undefined;
  let outDef: TreeDef | undefined;
  let primalLeaves: Array[] = [];
  let outZeros: ZeroSpec[] = [];
  const out = transformScope(
    () => {
      const mark = nextArraySerial();
      const { leaves, def } = arrayLeaves("linearize", "primal", primals);
      primalLeaves = leaves;
      inDef = def;
      const box: { out?: TreeDef } = {};
      const [outs, lp] = linearizeFlat("linearize", flatFn("linearize", f, def, box), leaves);
      linear = lp;
      outDef = box.out as TreeDef;
      outZeros = outs.map(zeroSpec);
      return outDef.unflatten(owned(outs, mark)) as ReturnType<F>;
    },
    (o) => arrayLeavesOf(o),
  );
  const lin = linear as Linear;
  const shapes = avals(primalLeaves);
  const fJvp = (...tangents: Parameters<F>) =>
    transformScope(
      () => {
        const mark = nextArraySerial();
        const ts = leavesLike("linearize", "tangents differ from primals", inDef as TreeDef, tangents);
        checkLike("linearize", "tangent", "its primal", shapes, ts);
        // An output whose tangent is a symbolic zero (a constant or integer output) gets zeros.
        const res = evalLinear(lin, ts).map((r, i) => orZeros(r, outZeros[i] as ZeroSpec));
        return (outDef as TreeDef).unflatten(owned(res, mark)) as Cotangent<ReturnType<F>>;
      },
      (o) => arrayLeavesOf(o),
    );
  return [out, withDispose(fJvp, lin)];
}

function withDispose<G extends AnyFn>(g: G, lin: Linear): G & SavedFunction {
  const h = g as G & SavedFunction;
  h.dispose = () => lin.closed.dispose();
  h[Symbol.dispose] = () => lin.closed.dispose();
  return h;
}

export interface VjpOptions {
  /** f returns `[output, aux]`; aux is returned as is, not differentiated. */
  hasAux?: boolean;
}

type VjpOut<F extends AnyFn, O> = O extends { hasAux: true }
  ? ReturnType<F> extends readonly [infer Out, unknown]
    ? Out
    : never
  : ReturnType<F>;
type AuxOf<F extends AnyFn> = ReturnType<F> extends readonly [unknown, infer A] ? A : never;
type VjpFn<F extends AnyFn, O> = ((ct: Cotangent<VjpOut<F, O>>) => CotangentsOf<Parameters<F>>) & SavedFunction;

/** Splits `[out, aux]` for hasAux functions, with a clear error otherwise. */
export function splitAux(op: string, r: unknown): [unknown, unknown] {
  if (!globalThis.Array.isArray(r) || r.length !== 2) {
    throw new TracerError(`${op}: with hasAux the function must return [output, aux]; it returned ${typeof r}`);
  }
  return [r[0], r[1]];
}

/**
 * Reverse mode: `[f(...primals), vjpFn]` (with hasAux `[out, vjpFn, aux]`), where `vjpFn(ct)`
 * returns the cotangents of the primals (one per argument, each shaped like it). vjpFn holds the
 * residuals until `vjpFn.dispose()` or until it is collected.
 */
export function vjp<F extends AnyFn, const O extends VjpOptions = Record<string, never>>(
  f: F,
  primals: Parameters<F>,
  opts?: O,
): O extends { hasAux: true } ? [VjpOut<F, O>, VjpFn<F, O>, AuxOf<F>] : [VjpOut<F, O>, VjpFn<F, O>] {
  checkArgList("vjp", "primals", primals, "vjp(f, [x])");
  checkOptions("vjp", opts, ["hasAux"], "vjp(f, [primals…], { hasAux })");
  const hasAux = opts?.hasAux ?? false;
  let linear: Linear | undefined;
  let inDef: TreeDef | undefined;
  let outDef: TreeDef | undefined;
  let primalLeaves: Array[] = [];
  let outLeaves: Array[] = [];
  const result = transformScope(
    () => {
      const mark = nextArraySerial();
      const { leaves, def } = arrayLeaves("vjp", "primal", primals);
      primalLeaves = leaves;
      inDef = def;
      let auxDef: TreeDef | undefined;
      let nOut = 0;
      const flat = (xs: Array[]): Array[] => {
        let r = f(...(def.unflatten(xs) as unknown[]));
        checkSync("vjp", r);
        let aux: unknown = null;
        if (hasAux) [r, aux] = splitAux("vjp", r);
        const o = arrayLeaves("vjp", "the function's output", r);
        const a = arrayLeaves("vjp", "aux", aux);
        outDef = o.def;
        auxDef = a.def;
        nOut = o.leaves.length;
        return [...o.leaves, ...a.leaves];
      };
      const [outs, lp] = linearizeFlat("vjp", flat, leaves);
      // aux is not differentiated: its tangent code is dead.
      linear = hasAux ? keepOutputs(lp, nOut) : lp;
      const mine = owned(outs, mark);
      outLeaves = mine.slice(0, nOut);
      const out = (outDef as TreeDef).unflatten(outLeaves);
      return hasAux ? [out, (auxDef as TreeDef).unflatten(mine.slice(nOut))] : [out];
    },
    (r) => r.flatMap(arrayLeavesOf),
  );
  const lin = linear as Linear;
  const outAvals = avals(outLeaves);
  const zeros = primalLeaves.map(zeroSpec);
  const vjpFn = (ct: unknown) =>
    transformScope(
      () => {
        const mark = nextArraySerial();
        const cts = leavesLike("vjp", "the cotangent differs from the output", outDef as TreeDef, ct);
        checkLike("vjp", "cotangent", "the output", outAvals, cts);
        const flatCts = [
          ...cts.map((c, i) => (isFloat((outAvals[i] ?? c.aval).dtype) ? c : null)),
          ...lin.outputs.slice(cts.length).map(() => null),
        ];
        const inCts = backwardPass(lin, flatCts);
        const res = inCts.map((c, i) => orZeros(c, zeros[i] as ZeroSpec));
        return (inDef as TreeDef).unflatten(owned(res, mark));
      },
      (r) => arrayLeavesOf(r),
    );
  return [result[0], withDispose(vjpFn, lin), ...result.slice(1)] as never;
}

/** The primals and tangents of jvp/vjp/linearize are lists of arguments (JAX's tuples). */
function checkArgList(op: string, what: string, v: unknown, usage: string): void {
  if (!globalThis.Array.isArray(v)) {
    throw new TracerError(
      `${op}: ${what} must be a list with one entry per argument of f (JAX's tuple), as ${usage}; got ${v instanceof Array ? `a bare ${v.dtype}[${v.shape}] array` : typeof v}`,
    );
  }
}
