import { type BufRef, ceilDiv, type Pass, shader, up, WG } from "./program.js";

/**
 * A multi-pass bitonic sort of `rows` rows of P (a power of two) (key, id) pairs, ascending by
 * key then id. Ids are distinct within a row, so the order is total and the sort is exactly
 * the stable sort of the keys. Stages whose compare distance fits in a chunk of LOCAL pairs run
 * in workgroup memory (one dispatch for a whole stage's tail); longer distances take one
 * dispatch each, so a sort of P takes O(log² P) dispatches:
 * 1 + Σ_{k = 2·LOCAL … P} (log2(k/LOCAL) + 1).
 */

/**
 * Pairs a workgroup sorts in workgroup memory (eight per thread): 2 × 2048 words fill WebGPU's
 * default 16 KiB of workgroup storage, and halve the global passes against 512.
 */
export const LOCAL = 8 * WG;

const COMPARE = ["fn after(ka: u32, ia: u32, kb: u32, ib: u32) -> bool { return ka > kb || (ka == kb && ia > ib); }"];

/**
 * Params [P, c, kFrom, kTo, chunks]: each workgroup loads a chunk of c = min(P, LOCAL) pairs and
 * runs the stages k = kFrom … kTo (doubling), each with distances min(k, c)/2 … 1.
 */
const localSource = shader(
  5,
  [
    { name: "keys", type: "u32", write: true },
    { name: "ids", type: "u32", write: true },
  ],
  [
    `let P = ${up(0)}; let c = ${up(1)}; let kFrom = ${up(2)}; let kTo = ${up(3)};`,
    `if (wgi >= ${up(4)}) { return; }`,
    "let base = wgi * c;",
    `for (var t = lid; t < c; t = t + ${WG}u) { sk[t] = keys[base + t]; si[t] = ids[base + t]; }`,
    "workgroupBarrier();",
    "for (var k = kFrom; k <= kTo; k = k << 1u) {",
    "  for (var j = min(k, c) >> 1u; j > 0u; j = j >> 1u) {",
    `    for (var t = lid; t < (c >> 1u); t = t + ${WG}u) {`,
    "      let i = 2u * j * (t / j) + (t % j);",
    "      let l = i + j;",
    "      let asc = (((base + i) % P) & k) == 0u;",
    "      let ka = sk[i]; let ia = si[i]; let kb = sk[l]; let ib = si[l];",
    "      if (after(ka, ia, kb, ib) == asc) { sk[i] = kb; si[i] = ib; sk[l] = ka; si[l] = ia; }",
    "    }",
    "    workgroupBarrier();",
    "  }",
    "}",
    `for (var t = lid; t < c; t = t + ${WG}u) { keys[base + t] = sk[t]; ids[base + t] = si[t]; }`,
  ],
  {
    workgroupVars: [`var<workgroup> sk: array<u32, ${LOCAL}>;`, `var<workgroup> si: array<u32, ${LOCAL}>;`],
    functions: COMPARE,
  },
);

/** Params [P, k, j, comparators]: one compare-exchange at distance j of stage k per thread. */
const globalSource = shader(
  4,
  [
    { name: "keys", type: "u32", write: true },
    { name: "ids", type: "u32", write: true },
  ],
  [
    `let P = ${up(0)}; let k = ${up(1)}; let j = ${up(2)};`,
    `if (g >= ${up(3)}) { return; }`,
    "let half = P >> 1u;",
    "let row = g / half;",
    "let t = g % half;",
    "let i = 2u * j * (t / j) + (t % j);",
    "let a = row * P + i;",
    "let b = a + j;",
    "let asc = (i & k) == 0u;",
    "let ka = keys[a]; let ia = ids[a]; let kb = keys[b]; let ib = ids[b];",
    "if (after(ka, ia, kb, ib) == asc) { keys[a] = kb; ids[a] = ib; keys[b] = ka; ids[b] = ia; }",
  ],
  { functions: COMPARE },
);

/** The passes sorting `rows` rows of P pairs held in temps `keys` and `ids`. */
export function bitonicPasses(rows: number, P: number, keys: BufRef, ids: BufRef): Pass[] {
  if (P <= 1 || rows === 0) return [];
  const c = Math.min(P, LOCAL);
  const chunks = (rows * P) / c;
  const bind = [keys, ids];
  const passes: Pass[] = [
    { label: "sort (local)", source: localSource, bind, workgroups: chunks, params: [P, c, 2, c, chunks] },
  ];
  for (let k = 2 * c; k <= P; k *= 2) {
    for (let j = k / 2; j >= c; j /= 2) {
      const comparators = (rows * P) / 2;
      passes.push({
        label: "sort (global)",
        source: globalSource,
        bind,
        workgroups: ceilDiv(comparators, WG),
        params: [P, k, j, comparators],
      });
    }
    passes.push({ label: "sort (merge)", source: localSource, bind, workgroups: chunks, params: [P, c, k, k, chunks] });
  }
  return passes;
}
