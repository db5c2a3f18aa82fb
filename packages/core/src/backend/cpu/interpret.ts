import type { DataArray, DType } from "../../dtype.js";
import { BackendError } from "../../errors.js";
import { roundFloat16 } from "../../float16.js";
import { children, type Expr } from "../../ir/expr.js";
import { type FusedKernel, type Load, resolveInt } from "../../ir/kernel.js";
import { expandMath } from "../../ir/math.js";
import type { CpuRun } from "./codegen.js";
import { roundConst } from "./expr-js.js";
import { binaryFn, bitcastFn, castFn, loadFn, reduceInit, reduceStep, storeFn, unaryFn } from "./scalar.js";

/** Mutable state an interpreted expression reads: load pointers, loop indices, accumulator. */
export interface InterpState {
  ins: readonly DataArray[];
  ptr: Float64Array;
  idx: Float64Array;
  acc: number;
  /** The dispatch's integer arguments. */
  p: Int32Array;
  /** Bumped before each evaluation, so shared sub-expressions are computed once per element. */
  gen: number;
}

type Node = (s: InterpState) => number;

/** A process-wide evaluation counter: a cached node is fresh only for the evaluation that stamped it. */
let generation = 0;
export function nextGeneration(): number {
  generation = (generation + 1) % Number.MAX_SAFE_INTEGER;
  return generation;
}

/**
 * Compiles an expression into closures (no `new Function`, so strict-CSP pages can run it),
 * with the generated JS's semantics: transcendentals expanded by the IR math library and every
 * float32 (float16) op rounded to its dtype.
 */
export function compileExpr(source: Expr, loads: readonly Load[], inputs: readonly DType[] = []): Node {
  const e = expandMath(source);
  // Count the uses of each node: a node used more than once caches its value per evaluation
  // (expressions are DAGs; evaluating them as trees is exponential, e.g. Threefry's rounds).
  const uses = new Map<Expr, number>();
  const count = (n: Expr): void => {
    const c = uses.get(n) ?? 0;
    uses.set(n, c + 1);
    if (c > 0) return;
    for (const ch of children(n)) count(ch);
    if (n.op === "load") for (const g of loads[n.load]?.gather ?? []) count(g.index);
  };
  count(e);
  const memo = new Map<Expr, Node>();
  const visit = (n: Expr): Node => {
    const seen = memo.get(n);
    if (seen) return seen;
    const f = build(n);
    const shared = (uses.get(n) ?? 0) > 1 && n.op !== "const" && n.op !== "param";
    const g: Node = shared ? cached(f) : f;
    memo.set(n, g);
    return g;
  };
  const cached = (f: Node): Node => {
    let stamp = -1;
    let value = 0;
    return (s) => {
      if (stamp !== s.gen) {
        value = f(s);
        stamp = s.gen;
      }
      return value;
    };
  };
  const build = (n: Expr): Node => {
    let f: Node;
    switch (n.op) {
      case "load": {
        const j = n.load;
        const l = loads[j] as Load;
        const input = l.input;
        const conv = loadFn(inputs[input] ?? "float32") ?? ((v: number) => v);
        const g = l.gather;
        if (g) {
          const terms = g.map((t) => ({ index: visit(t.index), stride: t.stride }));
          f = (s) => {
            let at = s.ptr[j] as number;
            for (const t of terms) at += t.index(s) * resolveInt(t.stride, s.p);
            return conv((s.ins[input] as DataArray)[at] as number);
          };
        } else f = (s) => conv((s.ins[input] as DataArray)[s.ptr[j] as number] as number);
        break;
      }
      case "param": {
        const i = n.param;
        f = (s) => s.p[i] as number;
        break;
      }
      case "const": {
        const v = roundConst(n.value, n.dtype);
        f = () => v;
        break;
      }
      case "index": {
        const d = n.loop;
        f = (s) => s.idx[d] as number;
        break;
      }
      case "acc":
        f = (s) => s.acc;
        break;
      case "unary": {
        const g = unaryFn(n.fn, n.x.dtype);
        if (!g) throw new BackendError(`cpu: unary op ${n.fn} is not defined for ${n.x.dtype}`);
        const x = visit(n.x);
        const r = rounding(n.dtype);
        f = r ? (s) => r(g(x(s))) : (s) => g(x(s));
        break;
      }
      case "binary": {
        const g = binaryFn(n.fn, n.x.dtype);
        const x = visit(n.x);
        const y = visit(n.y);
        const r = rounding(n.dtype);
        f = r ? (s) => r(g(x(s), y(s))) : (s) => g(x(s), y(s));
        break;
      }
      case "select": {
        const c = visit(n.cond);
        const x = visit(n.x);
        const y = visit(n.y);
        f = (s) => (c(s) !== 0 ? x(s) : y(s));
        break;
      }
      case "bitcast":
      case "cast": {
        const g = n.op === "cast" ? castFn(n.x.dtype, n.dtype) : bitcastFn(n.x.dtype, n.dtype);
        const x = visit(n.x);
        f = (s) => g(x(s));
        break;
      }
    }
    return f;
  };
  return visit(e);
}

const rounding = (d: DType): ((v: number) => number) | undefined =>
  d === "float32" ? Math.fround : d === "float16" ? roundFloat16 : undefined;

/** Runs a fused kernel by walking its loops with an odometer and its expression as closures. */
export function interpretFused(k: FusedKernel): CpuRun {
  const expr = compileExpr(k.expr, k.loads, k.inputs);
  // Outputs 1… (multi-output kernels): each its own closures, evaluated at the same element.
  const siblings = (k.siblings ?? []).map((e, j) => {
    const f = compileExpr(e, k.loads, k.inputs);
    const c = storeFn(k.outputs[j + 1] as DType) ?? ((v: number) => v);
    return (s: InterpState) => c(f(s));
  });
  const post = k.post ? compileExpr(k.post, k.loads, k.inputs) : undefined;
  const conv = storeFn(k.outputs[0]);
  const store = conv ?? ((v: number) => v);
  const r = k.outRank;
  const nl = k.loops.length;
  const isArg = k.reduce === "argmax" || k.reduce === "argmin";
  const valueOp = k.reduce === "argmax" ? "max" : k.reduce === "argmin" ? "min" : k.reduce;
  const step = valueOp ? reduceStep(valueOp, k.expr.dtype) : undefined;
  const init = valueOp ? reduceInit(valueOp, k.expr.dtype) : 0;
  const accRound = rounding(k.expr.dtype);
  return (ins, outs, p) => {
    const out = outs[0] as DataArray;
    const loops = k.loops.map((e) => resolveInt(e, p));
    const offsets = k.loads.map((l) => resolveInt(l.offset, p));
    const strides = k.loads.map((l) => l.strides.map((e) => resolveInt(e, p)));
    const s: InterpState = {
      ins,
      ptr: new Float64Array(k.loads.length),
      idx: new Float64Array(nl),
      acc: 0,
      p,
      gen: nextGeneration(),
    };
    const setPtrs = () => {
      for (let j = 0; j < offsets.length; j++) {
        let q = offsets[j] as number;
        const st = strides[j] as number[];
        for (let d = 0; d < nl; d++) q += (s.idx[d] as number) * (st[d] as number);
        s.ptr[j] = q;
      }
    };
    // Advances loops [from, to) like an odometer; false when they wrapped around.
    const advance = (from: number, to: number): boolean => {
      for (let d = to - 1; d >= from; d--) {
        if ((s.idx[d] as number) + 1 < (loops[d] as number)) {
          s.idx[d] = (s.idx[d] as number) + 1;
          return true;
        }
        s.idx[d] = 0;
      }
      return false;
    };
    const outSize = loops.slice(0, r).reduce((a, b) => a * b, 1);
    const sibValues = new Float64Array(siblings.length);
    const redSize = loops.slice(r).reduce((a, b) => a * b, 1);
    for (let o = 0; o < outSize; o++) {
      if (!k.reduce) {
        setPtrs();
        s.gen = nextGeneration();
        // Every output is computed before any is stored (an output may be written over an
        // input its siblings read at this element: a donated, in-place update).
        const v = store(expr(s));
        for (let j = 0; j < siblings.length; j++) sibValues[j] = (siblings[j] as (s: InterpState) => number)(s);
        out[o] = v;
        for (let j = 0; j < siblings.length; j++) (outs[j + 1] as DataArray)[o] = sibValues[j] as number;
      } else {
        let acc = init;
        let best = 0;
        for (let flat = 0; flat < redSize; flat++) {
          setPtrs();
          s.gen = nextGeneration();
          const v = expr(s);
          if (isArg) {
            const better = k.reduce === "argmax" ? v > acc : v < acc;
            if (better || (v !== v && acc === acc)) {
              acc = v;
              best = flat;
            }
          } else acc = (step as (a: number, b: number) => number)(acc, v);
          advance(r, nl);
        }
        // The reduced value is of the expression's dtype (float32 sums accumulate in doubles).
        s.acc = accRound ? accRound(acc) : acc;
        s.gen = nextGeneration();
        if (post) setPtrs();
        out[o] = isArg ? best : store(post ? post(s) : acc);
      }
      advance(0, r);
    }
  };
}
