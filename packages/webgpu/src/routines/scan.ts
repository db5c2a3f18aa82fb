import type { DType } from "@webjax/core";
import type { ScanRoutine } from "@webjax/core/internal";
import { literal, WgslEmitter } from "../codegen/expr.js";
import { type BufRef, ceilDiv, type Pass, type RoutinePlan, shader, storageType, up, WG } from "./program.js";

/**
 * An inclusive scan as a blocked, log-depth program. Each workgroup scans a block of BLOCK
 * elements of one line (each thread folds ITEMS in order, then a Hillis–Steele scan of the
 * thread totals in workgroup memory) and writes the block's total; the totals of each line are
 * scanned the same way, one level up, until one block holds a line; then each level adds the
 * scanned total of the blocks before it. ⌈log_BLOCK n⌉ levels, two dispatches each but the top:
 * O(log n) dispatches, in a fixed order (deterministic). Lines of at most SHORT elements take
 * one thread each instead.
 */

const ITEMS = 4;
export const BLOCK = WG * ITEMS;
const SHORT = 64;

type Sources = (variant: string, build: () => string) => string;

function identity(op: ScanRoutine["op"], d: DType): string {
  const t = storageType(d);
  if (op === "sum") return literal(0, d);
  if (op === "prod") return literal(1, d);
  if (t === "f32") return op === "max" ? "(-wj_inf())" : "wj_inf()";
  if (t === "i32") return op === "max" ? "i32(-2147483648)" : "2147483647";
  if (d === "bool") return op === "max" ? "0u" : "1u";
  return op === "max" ? "0u" : "0xffffffffu";
}

/** The combine function `comb(a, b)` (NaN-propagating max/min, wrapping integers) and its helpers. */
function combiner(s: ScanRoutine): { fn: string; helpers: Set<string>; id: string } {
  const em = new WgslEmitter();
  const t = storageType(s.dtype);
  const bin = s.op === "sum" ? "add" : s.op === "prod" ? "mul" : s.op;
  const expr = em.binary(bin, "a", "b", s.dtype);
  const id = identity(s.op, s.dtype);
  if (id.includes("wj_inf")) em.helpers.add("wj_inf");
  return { fn: `fn comb(a: ${t}, b: ${t}) -> ${t} { return ${expr}; }`, helpers: em.helpers, id };
}

/**
 * Where element i of line `line` lives: params [lines, n, inner, reverse, …]; the line is
 * (o, j) = (line / inner, line % inner) of an [outer, n, inner] array, read from the end when
 * `reverse`.
 */
const ADDRESS = [
  "fn addr(line: u32, i: u32, n: u32, inner: u32, rev: u32) -> u32 {",
  "  let pos = select(i, n - 1u - i, rev != 0u);",
  "  return ((line / inner) * n + pos) * inner + line % inner;",
  "}",
];

/** Params [lines, n, inner, reverse, nb]: scan one block per workgroup; totals[line·nb + b] = its total. */
function blockSource(s: ScanRoutine): string {
  const c = combiner(s);
  const t = storageType(s.dtype);
  return shader(
    5,
    [
      { name: "src", type: t },
      { name: "dst", type: t, write: true },
      { name: "totals", type: t, write: true },
    ],
    [
      `let lines = ${up(0)}; let n = ${up(1)}; let inner = ${up(2)}; let rev = ${up(3)}; let nb = ${up(4)};`,
      "let line = wgi / nb; let b = wgi % nb;",
      "if (line >= lines) { return; }",
      `let first = b * ${BLOCK}u + lid * ${ITEMS}u;`,
      `var v: array<${t}, ${ITEMS}>;`,
      `var acc: ${t} = ${c.id};`,
      `for (var q = 0u; q < ${ITEMS}u; q = q + 1u) {`,
      "  let i = first + q;",
      "  if (i < n) { acc = comb(acc, src[addr(line, i, n, inner, rev)]); }",
      "  v[q] = acc;",
      "}",
      "sh[lid] = acc;",
      "workgroupBarrier();",
      `for (var d = 1u; d < ${WG}u; d = d << 1u) {`,
      `  var add: ${t} = ${c.id};`,
      "  if (lid >= d) { add = sh[lid - d]; }",
      "  workgroupBarrier();",
      "  sh[lid] = comb(add, sh[lid]);",
      "  workgroupBarrier();",
      "}",
      `var before: ${t} = ${c.id};`,
      "if (lid > 0u) { before = sh[lid - 1u]; }",
      `for (var q = 0u; q < ${ITEMS}u; q = q + 1u) {`,
      "  let i = first + q;",
      "  if (i < n) { dst[addr(line, i, n, inner, rev)] = comb(before, v[q]); }",
      "}",
      `if (lid == ${WG - 1}u) { totals[line * nb + b] = sh[lid]; }`,
    ],
    {
      helpers: c.helpers,
      workgroupVars: [`var<workgroup> sh: array<${t}, ${WG}>;`],
      functions: [...ADDRESS, c.fn],
    },
  );
}

/** Params [lines, n, inner, reverse, nb]: dst[i] = prefix[line·nb + b − 1] ⊕ dst[i] for blocks b ≥ 1. */
function addSource(s: ScanRoutine): string {
  const c = combiner(s);
  const t = storageType(s.dtype);
  return shader(
    5,
    [
      { name: "prefix", type: t },
      { name: "dst", type: t, write: true },
    ],
    [
      `let lines = ${up(0)}; let n = ${up(1)}; let inner = ${up(2)}; let rev = ${up(3)}; let nb = ${up(4)};`,
      "if (g >= lines * n) { return; }",
      "let line = g / n; let i = g % n;",
      `let b = i / ${BLOCK}u;`,
      "if (b == 0u) { return; }",
      "let at = addr(line, i, n, inner, rev);",
      "dst[at] = comb(prefix[line * nb + b - 1u], dst[at]);",
    ],
    { helpers: c.helpers, functions: [...ADDRESS, c.fn] },
  );
}

/** Params [lines, n, inner, reverse]: one thread folds a whole (short) line in order. */
function serialSource(s: ScanRoutine): string {
  const c = combiner(s);
  const t = storageType(s.dtype);
  return shader(
    4,
    [
      { name: "src", type: t },
      { name: "dst", type: t, write: true },
    ],
    [
      `let lines = ${up(0)}; let n = ${up(1)}; let inner = ${up(2)}; let rev = ${up(3)};`,
      "if (g >= lines) { return; }",
      `var acc: ${t} = ${c.id};`,
      "for (var i = 0u; i < n; i = i + 1u) {",
      "  let at = addr(g, i, n, inner, rev);",
      "  acc = comb(acc, src[at]);",
      "  dst[at] = acc;",
      "}",
    ],
    { helpers: c.helpers, functions: [...ADDRESS, c.fn] },
  );
}

export function scanPlan(s: ScanRoutine, p: Int32Array, src: Sources): RoutinePlan {
  const [outer, n, inner] = [p[0] as number, p[1] as number, p[2] as number];
  const lines = outer * inner;
  const rev = s.reverse ? 1 : 0;
  if (n <= SHORT) {
    return {
      temps: [],
      passes: [
        {
          label: "scan (serial)",
          source: src("serial", () => serialSource(s)),
          bind: [{ in: 0 }, { out: 0 }],
          workgroups: ceilDiv(lines, WG),
          params: [lines, n, inner, rev],
        },
      ],
    };
  }
  const block = src("block", () => blockSource(s));
  const add = src("add", () => addSource(s));
  // Level ℓ scans lines of `len` elements held in `buf` (level 0: the input into the output).
  const temps: number[] = [];
  const passes: Pass[] = [];
  const adds: Pass[] = [];
  let from: BufRef = { in: 0 };
  let into: BufRef = { out: 0 };
  let len = n;
  let layout = [inner, rev];
  for (;;) {
    const nb = ceilDiv(len, BLOCK);
    const totals: BufRef = { tmp: temps.length };
    temps.push(lines * nb * 4);
    const params = [lines, len, ...layout, nb];
    passes.push({ label: "scan (blocks)", source: block, bind: [from, into, totals], workgroups: lines * nb, params });
    if (nb === 1) break;
    const scanned: BufRef = { tmp: temps.length };
    temps.push(lines * nb * 4);
    adds.unshift({
      label: "scan (add)",
      source: add,
      bind: [scanned, into],
      workgroups: ceilDiv(lines * len, WG),
      params,
    });
    from = totals;
    into = scanned;
    len = nb;
    layout = [1, 0];
  }
  return { temps, passes: [...passes, ...adds] };
}
