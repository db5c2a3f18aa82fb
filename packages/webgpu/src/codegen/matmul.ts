import type { DType } from "@webjax/core";
import type { Expr, Load, MatmulKernel } from "@webjax/core/internal";
import { literal, WgslEmitter, wgslType } from "./expr.js";
import { bindingsDecl, intSrc, loadSrc, paramsDecl, storeSrc, USE_PARAMS } from "./fused.js";
import { helperSource } from "./math.js";

/** Tile: 8×8 threads, each computing 4×4 outputs (a 32×32 tile), K in steps of 32. */
export const MM_TILE = 32;

/**
 * WGSL for a batched matmul: shared-memory tiles of A and B, a 4×4 register tile per thread,
 * strided operands (transposes and broadcasts need no copy) or operands computed by their fused
 * prologues as the tiles load, and the epilogue applied to each accumulator before the store.
 * Workgroups: (⌈N/32⌉, ⌈M/32⌉, batch). `alias` (input → output 0): inputs the epilogue reads
 * from the output it is written over (a donated in-place update).
 */
export function matmulSource(k: MatmulKernel, nParams: number, alias?: ReadonlyMap<number, number>): string {
  const t = wgslType(k.dtype);
  const zero = literal(0, k.dtype);
  const em = new WgslEmitter();
  const nb = k.batch.length;
  const epi = k.epilogue;
  // An aliased epilogue input (in place) is read from the output, by the thread that then stores it.
  const inputName = (i: number) => (i === 0 ? "A" : i === 1 ? "B" : alias?.has(i) ? "out" : `in${i}`);
  /** The leaf of an expression over loops (batch…, `rowVar`, `colVar`) reading `loads`. */
  const leafOver = (loads: readonly Load[], rowVar: string, colVar: string) => {
    const names = [...Array.from({ length: nb }, (_, d) => `bi${d}`), rowVar, colVar];
    return (e: Expr, gatherIndices?: string[]): string => {
      if (e.op === "acc") return "acc";
      if (e.op === "index") {
        const v = names[e.loop] as string;
        const ty = wgslType(e.dtype);
        return ty === "i32" ? v : `${ty}(${v})`;
      }
      if (e.op !== "load") throw new Error("internal: unexpected leaf");
      const l = loads[e.load];
      if (!l) throw new Error(`internal: matmul load ${e.load} missing`);
      let terms = l.strides.map((s, d) => (s === 0 ? "" : ` + ${names[d]} * ${intSrc(s)}`)).join("");
      for (const [i, g] of (l.gather ?? []).entries()) terms += ` + ${gatherIndices?.[i]} * ${intSrc(g.stride)}`;
      return loadSrc(inputName(l.input), `${intSrc(l.offset)}${terms}`, k.inputs[l.input] as DType);
    };
  };
  let epiLines: string[] = [];
  let value = "acc";
  if (epi) {
    const [stmts, v] = em.emit(epi.expr, leafOver(epi.loads, "m", "n"), epi.loads);
    epiLines = stmts;
    value = v;
  }
  // An operand's tile load: its prologue at the clamped (row, col), or a strided load.
  const tileLoad = (side: "lhs" | "rhs"): [string[], string] => {
    const o = k[side];
    const [r, c, rows, cols] = side === "lhs" ? ["am", "ak", "M", "K"] : ["bk", "bn", "K", "N"];
    const clamp = [`let ${r}c = min(${r}, ${rows} - 1); let ${c}c = min(${c}, ${cols} - 1);`];
    if (!o.prologue) {
      const [name, off, rs, cs] = side === "lhs" ? ["A", "aOff", "ars", "acs"] : ["B", "bOff", "brs", "bcs"];
      return [clamp, loadSrc(name, `${off} + ${r}c * ${rs} + ${c}c * ${cs}`, k.dtype)];
    }
    const [stmts, v] = em.emit(o.prologue.expr, leafOver(o.prologue.loads, `${r}c`, `${c}c`), o.prologue.loads);
    return [[...clamp, ...stmts], v];
  };
  const [aLines, aValue] = tileLoad("lhs");
  const [bLines, bValue] = tileLoad("rhs");
  const batchDecomp: string[] = [`var brest = i32(wid.z);`];
  for (let d = nb - 1; d >= 0; d--) {
    batchDecomp.push(
      `let bi${d} = brest % ${intSrc(k.batch[d] as number)};`,
      `brest = brest / ${intSrc(k.batch[d] as number)};`,
    );
  }
  const offA = [intSrc(k.lhs.offset), ...k.lhs.batchStrides.map((s, d) => `bi${d} * ${intSrc(s)}`)].join(" + ");
  const offB = [intSrc(k.rhs.offset), ...k.rhs.batchStrides.map((s, d) => `bi${d} * ${intSrc(s)}`)].join(" + ");
  const body = [
    USE_PARAMS,
    `let M = ${intSrc(k.m)};`,
    `let N = ${intSrc(k.n)};`,
    `let K = ${intSrc(k.k)};`,
    ...batchDecomp,
    `let aOff = ${offA};`,
    `let bOff = ${offB};`,
    `let ars = ${intSrc(k.lhs.rowStride)}; let acs = ${intSrc(k.lhs.colStride)};`,
    `let brs = ${intSrc(k.rhs.rowStride)}; let bcs = ${intSrc(k.rhs.colStride)};`,
    `let m0 = i32(wid.y) * ${MM_TILE}; let n0 = i32(wid.x) * ${MM_TILE};`,
    "let tid = i32(lid.y * 8u + lid.x);",
    `var accs: array<${t}, 16>;`,
    `for (var i = 0; i < 16; i++) { accs[i] = ${zero}; }`,
    `for (var k0 = 0; k0 < K; k0 = k0 + ${MM_TILE}) {`,
    "  for (var q = 0; q < 16; q++) {",
    "    let e = tid + q * 64;",
    "    let row = e / 32; let col = e % 32;",
    "    let am = m0 + row; let ak = k0 + col;",
    ...aLines.map((l) => `    ${l}`),
    `    As[col][row] = select(${zero}, ${aValue}, am < M && ak < K);`,
    "    let bk = k0 + row; let bn = n0 + col;",
    ...bLines.map((l) => `    ${l}`),
    `    Bs[row][col] = select(${zero}, ${bValue}, bk < K && bn < N);`,
    "  }",
    "  workgroupBarrier();",
    `  for (var kk = 0; kk < ${MM_TILE}; kk++) {`,
    "    let a = vec4<" +
      t +
      ">(As[kk][lid.y * 4u], As[kk][lid.y * 4u + 1u], As[kk][lid.y * 4u + 2u], As[kk][lid.y * 4u + 3u]);",
    "    let b = vec4<" +
      t +
      ">(Bs[kk][lid.x * 4u], Bs[kk][lid.x * 4u + 1u], Bs[kk][lid.x * 4u + 2u], Bs[kk][lid.x * 4u + 3u]);",
    "    for (var i = 0; i < 4; i++) {",
    "      accs[i * 4] += a[i] * b.x; accs[i * 4 + 1] += a[i] * b.y; accs[i * 4 + 2] += a[i] * b.z; accs[i * 4 + 3] += a[i] * b.w;",
    "    }",
    "  }",
    "  workgroupBarrier();",
    "}",
    "let cBase = i32(wid.z) * M * N;",
    "for (var i = 0; i < 4; i++) {",
    "  for (var j = 0; j < 4; j++) {",
    "    let m = m0 + i32(lid.y) * 4 + i; let n = n0 + i32(lid.x) * 4 + j;",
    "    if (m < M && n < N) {",
    "      let acc = accs[i * 4 + j];",
    ...epiLines.map((l) => `      ${l}`),
    `      ${storeSrc("cBase + m * N + n", value, k.outputs[0], em)}`,
    "    }",
    "  }",
    "}",
  ];
  return [
    paramsDecl(nParams),
    bindingsDecl(k.inputs, k.outputs[0], [], alias)
      .replace("var<storage, read> in0:", "var<storage, read> A:")
      .replace("var<storage, read> in1:", "var<storage, read> B:"),
    helperSource(em.helpers),
    `var<workgroup> As: array<array<${t}, ${MM_TILE}>, ${MM_TILE}>;`,
    `var<workgroup> Bs: array<array<${t}, ${MM_TILE}>, ${MM_TILE}>;`,
    "@compute @workgroup_size(8, 8)",
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {",
    ...body.map((l) => `  ${l}`),
    "}",
  ].join("\n");
}
