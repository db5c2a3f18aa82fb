import type { DataArray, DType } from "../../dtype.js";
import { roundFloat16 } from "../../float16.js";
import type { Expr } from "../../ir/expr.js";
import { type FusedKernel, type IntExpr, outputExprs } from "../../ir/kernel.js";
import { ExprEmitter, jsLiteral } from "./expr-js.js";
import { loadFn, reduceInit, reduceStep, storeFn } from "./scalar.js";

/** A runnable CPU kernel: reads `ins`, writes `outs` (one per declared output), with integer arguments `p`. */
export type CpuRun = (ins: readonly DataArray[], outs: readonly DataArray[], p: Int32Array) => void;

const intSrc = (e: IntExpr): string => (typeof e === "number" ? String(e) : `p[${e.param}]`);

/**
 * Generates specialised JS for a fused kernel: nested loops whose load pointers advance by
 * their strides at each level, the element expression in SSA form, the reduction inline.
 */
export function generateFused(k: FusedKernel): { source: string; run: CpuRun } {
  const em = new ExprEmitter("v");
  const nl = k.loops.length;
  const r = k.outRank;
  const lines: string[] = [];
  k.inputs.forEach((_, i) => lines.push(`const in${i} = ins[${i}];`));
  k.loops.forEach((n, d) => lines.push(`const n${d} = ${intSrc(n)};`));
  k.loads.forEach((l, j) => {
    lines.push(`const q${j} = ${intSrc(l.offset)};`);
    l.strides.forEach((s, d) => lines.push(`const s${j}_${d} = ${intSrc(s)};`));
  });
  const ptr = (j: number, d: number) => (d < 0 ? `q${j}` : `p${j}_${d}`);
  const loopHead = (d: number) => {
    const inits = k.loads.map((_, j) => `, ${ptr(j, d)} = ${ptr(j, d - 1)}`).join("");
    const steps = k.loads.map((_, j) => `, ${ptr(j, d)} += s${j}_${d}`).join("");
    return `for (let i${d} = 0${inits}; i${d} < n${d}; i${d}++${steps}) {`;
  };
  const leafAt =
    (depth: number) =>
    (e: Expr, gatherIndices?: string[]): string => {
      if (e.op === "load") {
        const l = k.loads[e.load];
        const input = l?.input ?? 0;
        const at = l?.gather
          ? `${ptr(e.load, depth)}${l.gather.map((g, i) => ` + ${gatherIndices?.[i]} * ${intSrc(g.stride)}`).join("")}`
          : ptr(e.load, depth);
        const raw = `in${input}[${at}]`;
        const conv = loadFn(k.inputs[input] as DType);
        return conv ? `${em.fnRef(conv)}(${raw})` : raw;
      }
      if (e.op === "index") return `i${e.loop}`;
      if (e.op === "param") return `p[${e.param}]`;
      return "acc";
    };

  const storeTo = (j: number, v: string) => {
    const conv = storeFn(k.outputs[j] as DType);
    return conv ? `${em.fnRef(conv)}(${v})` : v;
  };
  const store = (v: string) => storeTo(0, v);
  const body: string[] = [];
  for (let d = 0; d < r; d++) body.push(loopHead(d));
  if (!k.reduce) {
    const [stmts, vs] = em.emitAll(outputExprs(k), leafAt(r - 1), k.loads);
    body.push(...stmts);
    vs.forEach((v, j) => body.push(`out${j}[o] = ${storeTo(j, v)};`));
    body.push("o++;");
  } else {
    const isArg = k.reduce === "argmax" || k.reduce === "argmin";
    const valueOp = k.reduce === "argmax" ? "max" : k.reduce === "argmin" ? "min" : k.reduce;
    body.push(`let acc = ${jsLiteral(reduceInit(valueOp, k.expr.dtype))};`);
    if (isArg) body.push("let best = 0, flat = 0;");
    for (let d = r; d < nl; d++) body.push(loopHead(d));
    const [stmts, v] = em.emit(k.expr, leafAt(nl - 1), k.loads);
    body.push(...stmts);
    if (isArg) {
      const cmp = k.reduce === "argmax" ? ">" : "<";
      body.push(`if (${v} ${cmp} acc || (${v} !== ${v} && acc === acc)) { acc = ${v}; best = flat; }`, "flat++;");
    } else {
      body.push(`acc = ${em.fnRef(reduceStep(valueOp, k.expr.dtype))}(acc, ${v});`);
    }
    for (let d = r; d < nl; d++) body.push("}");
    // The reduced value is of the expression's dtype (float32 sums accumulate in doubles).
    const rounding = k.expr.dtype === "float32" ? Math.fround : k.expr.dtype === "float16" ? roundFloat16 : null;
    if (rounding && !isArg) body.push(`acc = ${em.fnRef(rounding)}(acc);`);
    if (isArg) body.push("out0[o++] = best;");
    else if (k.post) {
      const [pst, pv] = em.emit(k.post, leafAt(r - 1), k.loads);
      body.push(...pst, `out0[o++] = ${store(pv)};`);
    } else body.push(`out0[o++] = ${store("acc")};`);
  }
  for (let d = 0; d < r; d++) body.push("}");

  const source = [
    em.preamble(),
    `return function ${sanitize(k.label)}(ins, outs, p) {`,
    ...k.outputs.map((_, j) => `const out${j} = outs[${j}];`),
    ...lines,
    "let o = 0;",
    ...body,
    "};",
  ].join("\n");
  // Kernels are generated from our own IR, never from user strings.
  const factory = new Function("F", source) as (fns: unknown[]) => CpuRun;
  return { source, run: factory(em.fns) };
}

function sanitize(label: string): string {
  return `k_${label.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

let codegenAvailable: boolean | undefined;

/** Whether `new Function` works here (a strict CSP forbids it). */
export function canGenerateCode(): boolean {
  if (codegenAvailable === undefined) {
    try {
      codegenAvailable = new Function("return 1")() === 1;
    } catch {
      codegenAvailable = false;
    }
  }
  return codegenAvailable;
}
