import type { DType } from "@webjax/core";
import type { Expr, IntExpr, Load, MatmulKernel } from "@webjax/core/internal";
import { literal, WgslEmitter, wgslType } from "./expr.js";
import { bindingsDecl, intSrc, loadSrc, paramsDecl, storeSrc, USE_PARAMS } from "./fused.js";
import { helperSource } from "./math.js";
import { type MatmulTiles, TILE_32, tileM, tileN } from "./matmul-tiles.js";

/**
 * How an operand's tile reaches shared memory: vec4 loads along whichever of its dimensions is
 * contiguous (`outer`: M for A, N for B; `k`: K), when its sizes, strides and offset are known
 * multiples of 4; else one element per load, walking the contiguous dimension fastest (and
 * always for an operand computed by a prologue).
 */
export type OperandLoad = "vec4-outer" | "vec4-k" | "scalar-outer" | "scalar-k";

const fourfold = (xs: readonly IntExpr[]) => xs.every((x) => typeof x === "number" && x % 4 === 0);

/** The load form of operand `side` of `k` (see OperandLoad). */
export function operandLoad(k: MatmulKernel, side: "lhs" | "rhs"): OperandLoad {
  const o = k[side];
  const [outerStride, kStride, outer] =
    side === "lhs" ? [o.rowStride, o.colStride, k.m] : [o.colStride, o.rowStride, k.n];
  if (o.prologue) return "scalar-k";
  const input = k.inputs[side === "lhs" ? 0 : 1];
  const vec = input === k.dtype && (k.dtype === "float32" || k.dtype === "int32" || k.dtype === "uint32");
  const aligned = [o.offset, ...o.batchStrides];
  if (vec && outerStride === 1 && fourfold([outer, kStride, ...aligned])) return "vec4-outer";
  if (vec && kStride === 1 && fourfold([k.k, outerStride, ...aligned])) return "vec4-k";
  return outerStride === 1 ? "scalar-outer" : "scalar-k";
}

const LANES = ["x", "y", "z", "w"] as const;

/**
 * WGSL for a batched matmul on `tiles` (matmul-tiles.ts): shared-memory tiles of A and B held as
 * vec4 rows, an `rm × rn` register tile of vec4 accumulators per thread (its rows and columns
 * interleaved in fours, so neighbouring threads read neighbouring vec4s), strided operands
 * (transposes and broadcasts need no copy) read four at a time where contiguous (OperandLoad) or
 * computed by their fused prologues as the tiles load, and the epilogue applied to each
 * accumulator before the store. Each element sums over K in ascending order, whatever the tile.
 * Workgroups: (⌈N/tileN⌉, ⌈M/tileM⌉, batch). `alias` (input → output 0): inputs the epilogue
 * reads from the output it is written over (a donated in-place update).
 */
export function matmulSource(
  k: MatmulKernel,
  nParams: number,
  alias?: ReadonlyMap<number, number>,
  tiles: MatmulTiles = TILE_32,
): string {
  const { wx, wy, rm, rn, bk } = tiles;
  const [TM, TN, T] = [tileM(tiles), tileN(tiles), wx * wy];
  const t = wgslType(k.dtype);
  const vt = `vec4<${t}>`;
  const zero = literal(0, k.dtype);
  const em = new WgslEmitter();
  const nb = k.batch.length;
  const epi = k.epilogue;
  const modes = { lhs: operandLoad(k, "lhs"), rhs: operandLoad(k, "rhs") };
  const vectorised = (i: number) => (i === 0 ? modes.lhs : i === 1 ? modes.rhs : "").startsWith("vec4");
  // An aliased epilogue input (in place) is read from the output, by the thread that then stores it.
  const inputName = (i: number) => (i === 0 ? "A" : i === 1 ? "B" : alias?.has(i) ? "out" : `in${i}`);
  /** Element `index` of input `i` (a vec4 operand's binding is read by lane). */
  const elementOf = (i: number, index: string) =>
    vectorised(i)
      ? `${inputName(i)}[(${index}) >> 2u][(${index}) & 3]`
      : loadSrc(inputName(i), index, k.inputs[i] as DType);
  const batchVars = Array.from({ length: nb }, (_, d) => `bi${d}`);
  /** The leaf of an expression over loops (batch…, `rowVar`, `colVar`) reading `loads`. */
  const leafOver = (loads: readonly Load[], rowVar: string, colVar: string) => {
    const names = [...batchVars, rowVar, colVar];
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
      return elementOf(l.input, `${intSrc(l.offset)}${terms}`);
    };
  };
  let epiLines: string[] = [];
  let value = "acc";
  if (epi) {
    const [stmts, v] = em.emit(epi.expr, leafOver(epi.loads, "m", "n"), epi.loads);
    epiLines = stmts;
    value = v;
  }
  /** The loop filling an operand's shared tile for the K step at `k0` (see OperandLoad). */
  const tileFill = (side: "lhs" | "rhs"): string[] => {
    const o = k[side];
    const lhs = side === "lhs";
    const [S, X, off, os, ks, O, o0, TO] = lhs
      ? ["As", "A", "aOff", "ars", "acs", "M", "m0", TM]
      : ["Bs", "B", "bOff", "bcs", "brs", "N", "n0", TN];
    const mode = modes[side];
    if (mode === "vec4-outer") {
      return [
        `for (var e = tid; e < ${(bk * TO) / 4}; e = e + ${T}) {`,
        `  let kk = e / ${TO / 4}; let o4 = e % ${TO / 4};`,
        `  let gk = k0 + kk; let go = ${o0} + o4 * 4;`,
        `  let v = ${X}[(${off} + min(gk, K - 1) * ${ks} + min(go, ${O} - 4)) / 4];`,
        `  ${S}[kk][o4] = select(${vt}(${zero}), v, gk < K && go < ${O});`,
        "}",
      ];
    }
    if (mode === "vec4-k") {
      return [
        `for (var e = tid; e < ${(bk * TO) / 4}; e = e + ${T}) {`,
        `  let o = e / ${bk / 4}; let k4 = e % ${bk / 4};`,
        `  let go = ${o0} + o; let gk = k0 + k4 * 4;`,
        `  let v = select(${vt}(${zero}), ${X}[(${off} + min(go, ${O} - 1) * ${os} + min(gk, K - 4)) / 4], go < ${O} && gk < K);`,
        ...LANES.map((lane, c) => `  ${S}[k4 * 4 + ${c}][o / 4][o % 4] = v.${lane};`),
        "}",
      ];
    }
    // One element per load: the prologue's value at the clamped (row, col), or a strided load.
    const [r, c, rows, cols] = lhs ? ["am", "ak", "M", "K"] : ["bk", "bn", "K", "N"];
    const [rowOf, colOf] = lhs ? ["o", "kk"] : ["kk", "o"];
    const [rs, cs] = lhs ? ["ars", "acs"] : ["brs", "bcs"];
    let lines: string[];
    let v: string;
    if (o.prologue) {
      [lines, v] = em.emit(o.prologue.expr, leafOver(o.prologue.loads, `${r}c`, `${c}c`), o.prologue.loads);
    } else {
      lines = [];
      v = elementOf(lhs ? 0 : 1, `${off} + ${r}c * ${rs} + ${c}c * ${cs}`);
    }
    const split =
      mode === "scalar-outer" ? `let o = e % ${TO}; let kk = e / ${TO};` : `let o = e / ${bk}; let kk = e % ${bk};`;
    return [
      `for (var e = tid; e < ${bk * TO}; e = e + ${T}) {`,
      `  ${split}`,
      `  let ${r} = ${lhs ? "m0" : "k0"} + ${rowOf}; let ${c} = ${lhs ? "k0" : "n0"} + ${colOf};`,
      `  let ${r}c = min(${r}, ${rows} - 1); let ${c}c = min(${c}, ${cols} - 1);`,
      ...lines.map((l) => `  ${l}`),
      `  ${S}[kk][o / 4][o % 4] = select(${zero}, ${v}, ${r} < ${rows} && ${c} < ${cols});`,
      "}",
    ];
  };
  const batchDecomp: string[] = [`var brest = i32(wid.z);`];
  for (let d = nb - 1; d >= 0; d--) {
    batchDecomp.push(
      `let bi${d} = brest % ${intSrc(k.batch[d] as number)};`,
      `brest = brest / ${intSrc(k.batch[d] as number)};`,
    );
  }
  const offA = [intSrc(k.lhs.offset), ...k.lhs.batchStrides.map((s, d) => `bi${d} * ${intSrc(s)}`)].join(" + ");
  const offB = [intSrc(k.rhs.offset), ...k.rhs.batchStrides.map((s, d) => `bi${d} * ${intSrc(s)}`)].join(" + ");
  const [ra, rb] = [rm / 4, rn / 4];
  // The register tile: one vec4 accumulator per (row, four columns), named so they stay in registers.
  const accNames: string[] = [];
  const fmas: string[] = [];
  for (let i = 0; i < rm; i++) {
    for (let j = 0; j < rb; j++) {
      accNames.push(`acc${i}_${j}`);
      fmas.push(`acc${i}_${j} += b${j} * a${i >> 2}.${LANES[i & 3]};`);
    }
  }
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
    `let m0 = i32(wid.y) * ${TM}; let n0 = i32(wid.x) * ${TN};`,
    `let tid = i32(lid.y * ${wx}u + lid.x);`,
    ...accNames.map((a) => `var ${a} = ${vt}(${zero});`),
    `for (var k0 = 0; k0 < K; k0 = k0 + ${bk}) {`,
    ...tileFill("lhs").map((l) => `  ${l}`),
    ...tileFill("rhs").map((l) => `  ${l}`),
    "  workgroupBarrier();",
    `  for (var kk = 0; kk < ${bk}; kk++) {`,
    ...Array.from({ length: ra }, (_, i) => `    let a${i} = As[kk][${i * wy}u + lid.y];`),
    ...Array.from({ length: rb }, (_, j) => `    let b${j} = Bs[kk][${j * wx}u + lid.x];`),
    ...fmas.map((l) => `    ${l}`),
    "  }",
    "  workgroupBarrier();",
    "}",
    // The stores loop over the accumulators (one copy of the epilogue).
    `let accs = array<${vt}, ${rm * rb}>(${accNames.join(", ")});`,
    "let cBase = i32(wid.z) * M * N;",
    `for (var i = 0u; i < ${rm}u; i++) {`,
    `  let m = m0 + i32((i / 4u) * ${wy * 4}u + i % 4u) + i32(lid.y) * 4;`,
    `  for (var j = 0u; j < ${rb}u; j++) {`,
    "    for (var c = 0u; c < 4u; c++) {",
    `      let n = n0 + i32(j * ${wx * 4}u + c) + i32(lid.x) * 4;`,
    "      if (m < M && n < N) {",
    `        let acc = accs[i * ${rb}u + j][c];`,
    ...epiLines.map((l) => `        ${l}`),
    `        ${storeSrc("cBase + m * N + n", value, k.outputs[0], em)}`,
    "      }",
    "    }",
    "  }",
    "}",
  ];
  const vecBinding = (name: string, i: number) => (decl: string) =>
    vectorised(i)
      ? decl.replace(
          new RegExp(`var<storage, read> in${i}: array<[a-z0-9]+>;`),
          `var<storage, read> ${name}: array<${vt}>;`,
        )
      : decl.replace(`var<storage, read> in${i}:`, `var<storage, read> ${name}:`);
  return [
    paramsDecl(nParams),
    vecBinding("B", 1)(vecBinding("A", 0)(bindingsDecl(k.inputs, k.outputs[0], [], alias))),
    helperSource(em.helpers),
    `var<workgroup> As: array<array<${vt}, ${TM / 4}>, ${bk}>;`,
    `var<workgroup> Bs: array<array<${vt}, ${TN / 4}>, ${bk}>;`,
    `@compute @workgroup_size(${wx}, ${wy})`,
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {",
    ...body.map((l) => `  ${l}`),
    "}",
  ].join("\n");
}
