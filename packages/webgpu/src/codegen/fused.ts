import type { DType } from "@webjax/core";
import { children, type Expr, type FusedKernel, type IntExpr, load, outputExprs } from "@webjax/core/internal";
import { literal, WgslEmitter, wgslType } from "./expr.js";
import { helperSource } from "./math.js";

/** Threads per workgroup of fused kernels (elementwise: one element each; reductions: one output per workgroup). */
export const FUSED_WG = 64;

export const intSrc = (e: IntExpr): string => (typeof e === "number" ? `${e}` : `prm(${e.param}u)`);

/** The uniform parameter block shared by every kernel: `n` i32 values packed in vec4s. */
export function paramsDecl(nParams: number): string {
  const n = Math.max(1, Math.ceil(nParams / 4));
  return [
    `struct Params { v: array<vec4<i32>, ${n}> }`,
    "@group(0) @binding(0) var<uniform> P: Params;",
    "fn prm(i: u32) -> i32 { return P.v[i / 4u][i % 4u]; }",
  ].join("\n");
}

/** Keeps the params binding in the layout even when a kernel reads no params (layout "auto" drops unused bindings). */
export const USE_PARAMS = "_ = P.v[0].x;";

/** Storage bindings: float16 is packed two to a u32 (and stored with atomics, see wj_st16). */
export function bindingsDecl(
  inputs: readonly DType[],
  outputs: DType | readonly DType[],
  names: readonly string[] = [],
  alias?: ReadonlyMap<number, number>,
): string {
  const elem = (d: DType) => (d === "float16" ? "u32" : wgslType(d));
  const lines = inputs.flatMap((d, i) =>
    alias?.has(i)
      ? []
      : [`@group(0) @binding(${i + 1}) var<storage, read> ${names[i] ?? `in${i}`}: array<${elem(d)}>;`],
  );
  const outs = typeof outputs === "string" ? [outputs] : outputs;
  outs.forEach((d, j) => {
    const t = d === "float16" ? "atomic<u32>" : wgslType(d);
    lines.push(`@group(0) @binding(${inputs.length + 1 + j}) var<storage, read_write> ${outName(j)}: array<${t}>;`);
  });
  return lines.join("\n");
}

/** The WGSL name of a kernel's output `j`: `out`, then `out1`, `out2`… (a multi-output kernel's). */
export const outName = (j: number): string => (j === 0 ? "out" : `out${j}`);

/** WGSL reading element `index` (an i32 expression) of buffer `name` holding dtype `d`. */
export function loadSrc(name: string, index: string, d: DType): string {
  return d === "float16" ? `unpack2x16float(${name}[(${index}) >> 1u])[(${index}) & 1]` : `${name}[${index}]`;
}

/** WGSL storing `value` at output element `index`. */
export function storeSrc(index: string, value: string, d: DType, em: WgslEmitter, out = 0): string {
  if (d !== "float16") return `${outName(out)}[${index}] = ${value};`;
  if (out !== 0)
    throw new Error("internal: a float16 kernel output other than the first (fusion keeps float16 single-output)");
  return `${em.need("wj_st16")}(${index}, ${value});`;
}

/** Statements decomposing the flat index `flat` into loop variables `i{from}…i{to-1}` (row-major). */
function decompose(flat: string, loops: readonly IntExpr[], from: number, to: number): string[] {
  const lines = [`var rest_${from} = ${flat};`];
  for (let d = to - 1; d > from; d--) {
    lines.push(`let i${d} = rest_${from} % n${d};`, `rest_${from} = rest_${from} / n${d};`);
  }
  if (to > from) lines.push(`let i${from} = rest_${from};`);
  void loops;
  return lines;
}

/**
 * WGSL of loads, indices and `acc`; loads see loop variables below `depth` (the rest at 0). An
 * aliased input (in place) is read from the output written over it.
 */
function leafFor(k: FusedKernel, depth = k.loops.length, alias?: ReadonlyMap<number, number>) {
  return (e: Expr, gatherIndices?: string[]): string => {
    if (e.op === "load") {
      const l = k.loads[e.load];
      if (!l) throw new Error(`internal: load ${e.load} missing`);
      let terms = l.strides.map((s, d) => (s === 0 || d >= depth ? "" : ` + i${d} * ${intSrc(s)}`)).join("");
      for (const [i, g] of (l.gather ?? []).entries()) terms += ` + ${gatherIndices?.[i]} * ${intSrc(g.stride)}`;
      const at = alias?.get(l.input);
      const name = at === undefined ? `in${l.input}` : outName(at);
      return loadSrc(name, `${intSrc(l.offset)}${terms}`, k.inputs[l.input] as DType);
    }
    if (e.op === "index") {
      const t = wgslType(e.dtype);
      return t === "i32" ? `i${e.loop}` : `${t}(i${e.loop})`;
    }
    return "acc";
  };
}

/**
 * WGSL for a fused kernel without reduction: one thread per output element. Every output of an
 * element is computed before any is stored, so an output may be written over an input it reads
 * (`alias`: input → output).
 */
function elementwiseSource(k: FusedKernel, nParams: number, alias?: ReadonlyMap<number, number>): string {
  const em = new WgslEmitter();
  const r = k.outRank;
  const [stmts, vs] = em.emitAll(outputExprs(k), leafFor(k, k.loops.length, alias), k.loads);
  const sizes = k.loops.map((n, d) => `let n${d} = ${intSrc(n)};`);
  const total = r === 0 ? "1" : k.loops.map((_, d) => `n${d}`).join(" * ");
  const body = [
    USE_PARAMS,
    ...sizes,
    `let o = i32((wid.y * nwg.x + wid.x) * ${FUSED_WG}u + lid.x);`,
    `if (o >= ${total}) { return; }`,
    ...decompose("o", k.loops, 0, r),
    ...stmts,
    ...vs.map((v, j) => storeSrc("o", v, k.outputs[j] as DType, em, j)),
  ];
  return shader(k, nParams, em, [], body, alias);
}

/** A fused kernel's module: params, bindings, the helpers it used, workgroup memory, then `main`. */
function shader(
  k: FusedKernel,
  nParams: number,
  em: WgslEmitter,
  workgroupVars: string[],
  body: string[],
  alias?: ReadonlyMap<number, number>,
): string {
  return [
    paramsDecl(nParams),
    bindingsDecl(k.inputs, k.outputs, [], alias),
    helperSource(em.helpers),
    ...workgroupVars,
    `@compute @workgroup_size(${FUSED_WG})`,
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lid: vec3u) {",
    ...body.map((l) => `  ${l}`),
    "}",
  ].join("\n");
}

function reduceInit(op: "sum" | "prod" | "max" | "min", d: DType): string {
  const t = wgslType(d);
  if (op === "sum") return literal(0, d);
  if (op === "prod") return literal(1, d);
  if (t === "f32") return op === "max" ? "-wj_inf()" : "wj_inf()";
  if (t === "i32") return op === "max" ? "i32(-2147483648)" : "2147483647";
  if (d === "bool") return op === "max" ? "0u" : "1u";
  return op === "max" ? "0u" : "0xffffffffu";
}

/**
 * WGSL for a reduction: one workgroup per output element. Each thread folds a strided part of
 * the reduced loops, then a fixed tree in workgroup memory combines them (deterministic order).
 * argmax/argmin keep (value, first index); NaN counts as the extreme.
 */
function reduceSource(k: FusedKernel, nParams: number, serial: boolean, parts = 1): string {
  const op = k.reduce as NonNullable<FusedKernel["reduce"]>;
  const em = new WgslEmitter();
  const r = k.outRank;
  const nl = k.loops.length;
  const d = k.expr.dtype;
  const t = wgslType(d);
  const isArg = op === "argmax" || op === "argmin";
  const valueOp = op === "argmax" ? "max" : op === "argmin" ? "min" : op;
  const isFloat = t === "f32";
  if (isFloat) em.helpers.add("wj_inf");
  const [stmts, v] = em.emit(k.expr, leafFor(k), k.loads);
  const combine = (a: string, b: string) =>
    em.binary(valueOp === "sum" ? "add" : valueOp === "prod" ? "mul" : valueOp, a, b, d);
  // For arg reductions: does (vb, ib) beat (va, ia)? Strictly better, or equal with a smaller index.
  const better = (va: string, vb: string, ib: string, ia: string) => {
    const gt = op === "argmax" ? ">" : "<";
    const nan = (x: string) => (isFloat ? `wj_isnan(${x})` : "false");
    if (isFloat) em.helpers.add("wj_isnan");
    return `((${nan(vb)} && (!${nan(va)} || ${ib} < ${ia})) || (!${nan(va)} && !${nan(vb)} && (${vb} ${gt} ${va} || (${vb} == ${va} && ${ib} < ${ia}))))`;
  };
  const postLines: string[] = [];
  let result = "acc";
  if (isArg) result = "best";
  else if (k.post && parts === 1) {
    const [ps, pv] = em.emit(k.post, leafFor(k, r), k.loads);
    postLines.push(...ps);
    result = pv;
  }
  const sizes = k.loops.map((n, i) => `let n${i} = ${intSrc(n)};`);
  const outTotal =
    r === 0
      ? "1"
      : k.loops
          .slice(0, r)
          .map((_, i) => `n${i}`)
          .join(" * ");
  const redTotal =
    nl === r
      ? "1"
      : k.loops
          .slice(r)
          .map((_, i) => `n${i + r}`)
          .join(" * ");
  const fold = [
    ...decompose("j", k.loops, r, nl).map((l) => `  ${l}`),
    ...stmts.map((l) => `  ${l}`),
    isArg ? `  if (${better("acc", v, "j", "best")}) { acc = ${v}; best = j; }` : `  acc = ${combine("acc", v)};`,
  ];
  if (serial) {
    // One thread per output element, folding its reduction in order: for many outputs with
    // short reductions (convolutions, pooling, scans), where a workgroup each would idle.
    const body = [
      USE_PARAMS,
      ...sizes,
      `let o = i32((wid.y * nwg.x + wid.x) * ${FUSED_WG}u + lid.x);`,
      `if (o >= ${outTotal}) { return; }`,
      ...decompose("o", k.loops, 0, r),
      `let red = ${redTotal};`,
      `var acc: ${t} = ${reduceInit(valueOp, d)};`,
      "var best = 0;",
      "for (var j = 0; j < red; j = j + 1) {",
      ...fold,
      "}",
      ...postLines,
      storeSrc("o", result, k.outputs[0], em),
    ];
    return shader(k, nParams, em, [], body);
  }
  // Split (`parts` > 1): workgroup o·parts + q folds part q of output o's reduction and
  // writes the partial (no post) to out[o·parts + q]; a second kernel reduces the partials.
  const range =
    parts === 1
      ? ["let o = i32(wid.y * nwg.x + wid.x);", "let j0 = 0;"]
      : [
          "let wgi = i32(wid.y * nwg.x + wid.x);",
          `let o = wgi / ${parts}; let part = wgi % ${parts};`,
          `let per = (${redTotal} + ${parts - 1}) / ${parts};`,
          "let j0 = part * per;",
        ];
  const body = [
    USE_PARAMS,
    ...sizes,
    ...range,
    `if (o >= ${outTotal}) { return; }`,
    ...decompose("o", k.loops, 0, r),
    parts === 1 ? `let red = ${redTotal};` : `let red = min(${redTotal}, j0 + per);`,
    `var acc: ${t} = ${reduceInit(valueOp, d)};`,
    "var best = 0;",
    `for (var j = j0 + i32(lid.x); j < red; j = j + ${FUSED_WG}) {`,
    ...fold,
    "}",
    "sh[lid.x] = acc;",
    "shi[lid.x] = best;",
    "workgroupBarrier();",
    `for (var s = ${FUSED_WG / 2}u; s > 0u; s = s >> 1u) {`,
    "  if (lid.x < s) {",
    "    let va = sh[lid.x]; let vb = sh[lid.x + s]; let ia = shi[lid.x]; let ib = shi[lid.x + s];",
    isArg
      ? `    if (${better("va", "vb", "ib", "ia")}) { sh[lid.x] = vb; shi[lid.x] = ib; }`
      : `    sh[lid.x] = ${combine("va", "vb")};`,
    "  }",
    "  workgroupBarrier();",
    "}",
    "if (lid.x == 0u) {",
    "  acc = sh[0];",
    "  best = shi[0];",
    ...postLines.map((l) => `  ${l}`),
    `  ${parts === 1 ? storeSrc("o", result, k.outputs[0], em) : storeSrc(`o * ${parts} + part`, "acc", d, em)}`,
    "}",
  ];
  return shader(
    parts === 1 ? k : { ...k, outputs: [d] },
    nParams,
    em,
    [`var<workgroup> sh: array<${t}, ${FUSED_WG}>;`, `var<workgroup> shi: array<i32, ${FUSED_WG}>;`],
    body,
  );
}

/** Workgroups per output of a split reduction (its first pass). */
export const SPLIT_PARTS = 64;

/**
 * Whether a reduction can run split in two passes: not an arg reduction (the partials would need
 * their indices), a 32-bit accumulator, and a post that reads neither the output's indices nor
 * a buffer (the second pass reads only the partials).
 */
export function splittable(k: FusedKernel): boolean {
  if (!k.reduce || k.reduce === "argmax" || k.reduce === "argmin") return false;
  if (!["float32", "int32", "uint32"].includes(k.expr.dtype)) return false;
  const readsMore = (e: Expr): boolean => e.op === "index" || e.op === "load" || children(e).some(readsMore);
  return !k.post || !readsMore(k.post);
}

/**
 * The two kernels of a split reduction: the first (WGSL, `reduceSource` with SPLIT_PARTS) folds
 * each part of each output into a partial; the second reduces the SPLIT_PARTS partials of each
 * output (its loop size: param `nParams`, the output count) and applies the post.
 */
export function splitSources(k: FusedKernel, nParams: number): { first: string; second: string } {
  const d = k.expr.dtype;
  const second: FusedKernel = {
    kind: "fused",
    label: `${k.label} (partials)`,
    inputs: [d],
    outputs: k.outputs,
    outRank: 1,
    loops: [{ param: nParams }, SPLIT_PARTS],
    loads: [{ input: 0, offset: 0, strides: [SPLIT_PARTS, 1] }],
    expr: load(0, d),
    reduce: k.reduce as NonNullable<FusedKernel["reduce"]>,
    ...(k.post ? { post: k.post } : {}),
  };
  return {
    first: reduceSource(k, nParams, false, SPLIT_PARTS),
    second: reduceSource(second, nParams + 1, false),
  };
}

/**
 * WGSL for a fused kernel; `nParams` is the number of integer arguments it reads. Reductions
 * come in two forms: a workgroup tree per output (`serial` false) or a thread per output.
 */
export function fusedSource(
  k: FusedKernel,
  nParams: number,
  serial = false,
  alias?: ReadonlyMap<number, number>,
): string {
  return k.reduce ? reduceSource(k, nParams, serial) : elementwiseSource(k, nParams, alias);
}

/** How many params a kernel reads (the largest `{param: i}` + 1). */
export function paramCount(values: readonly unknown[]): number {
  let n = 0;
  const seen = new Set<object>(); // kernels are DAGs: visit each node once
  const visit = (v: unknown): void => {
    if (v && typeof v === "object") {
      if (seen.has(v)) return;
      seen.add(v);
      if ("param" in v && typeof (v as { param: unknown }).param === "number")
        n = Math.max(n, (v as { param: number }).param + 1);
      else for (const c of Object.values(v)) visit(c);
    }
  };
  visit(values);
  return n;
}
