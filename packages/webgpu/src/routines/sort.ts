import type { SortRoutine, TopKRoutine } from "@webjax/core/internal";
import { bitonicPasses } from "./bitonic.js";
import { ceilDiv, keyFunction, nextPow2, type Pass, type RoutinePlan, shader, up, WG } from "./program.js";

type Sources = (variant: string, build: () => string) => string;

/**
 * Params [outer, n, inner, P]: the (key, id) pair of every position of every line (row =
 * o·inner + j), rows padded to P with pairs that sort last (the largest key, ids ≥ n).
 */
function initSource(s: { dtype: SortRoutine["dtype"] }, descending: boolean): string {
  return shader(
    4,
    [
      { name: "x", type: "u32" },
      { name: "keys", type: "u32", write: true },
      { name: "ids", type: "u32", write: true },
    ],
    [
      `let outer = ${up(0)}; let n = ${up(1)}; let inner = ${up(2)}; let P = ${up(3)};`,
      "if (g >= outer * inner * P) { return; }",
      "let row = g / P; let i = g % P;",
      "let o = row / inner; let j = row % inner;",
      "ids[g] = i;",
      "if (i < n) { keys[g] = sort_key(x[(o * n + i) * inner + j]); } else { keys[g] = 0xffffffffu; }",
    ],
    { functions: [keyFunction(s.dtype, descending)] },
  );
}

/** Params [outer, n, inner, P]: indices and values (the original bits) back in the array's layout. */
const sortOutputSource = shader(
  4,
  [
    { name: "x", type: "u32" },
    { name: "ids", type: "u32" },
    { name: "values", type: "u32", write: true },
    { name: "indices", type: "u32", write: true },
  ],
  [
    `let outer = ${up(0)}; let n = ${up(1)}; let inner = ${up(2)}; let P = ${up(3)};`,
    "if (g >= outer * inner * n) { return; }",
    "let row = g / n; let i = g % n;",
    "let o = row / inner; let j = row % inner;",
    "let src = ids[row * P + i];",
    "let dst = (o * n + i) * inner + j;",
    "indices[dst] = src;",
    "values[dst] = x[(o * n + src) * inner + j];",
  ],
);

/** Params [rows, n, k, P]: the first k of each sorted row. */
const topKOutputSource = shader(
  4,
  [
    { name: "x", type: "u32" },
    { name: "ids", type: "u32" },
    { name: "values", type: "u32", write: true },
    { name: "indices", type: "u32", write: true },
  ],
  [
    `let rows = ${up(0)}; let n = ${up(1)}; let k = ${up(2)}; let P = ${up(3)};`,
    "if (g >= rows * k) { return; }",
    "let row = g / k; let i = g % k;",
    "let src = ids[row * P + i];",
    "indices[g] = src;",
    "values[g] = x[row * n + src];",
  ],
);

/** Keys, a bitonic sort, and an output pass: every line of [outer, n, inner], as `sort`. */
function sortLines(
  s: { dtype: SortRoutine["dtype"] },
  descending: boolean,
  outer: number,
  n: number,
  inner: number,
  src: Sources,
  output: Pass,
): RoutinePlan {
  const rows = outer * inner;
  const P = nextPow2(n);
  const keys = { tmp: 0 };
  const ids = { tmp: 1 };
  const passes: Pass[] = [
    {
      label: "sort (keys)",
      source: src(`init-${descending}`, () => initSource(s, descending)),
      bind: [{ in: 0 }, keys, ids],
      workgroups: ceilDiv(rows * P, WG),
      params: [outer, n, inner, P],
    },
    ...bitonicPasses(rows, P, keys, ids),
    output,
  ];
  return { temps: [rows * P * 4, rows * P * 4], passes };
}

export function sortPlan(s: SortRoutine, p: Int32Array, src: Sources): RoutinePlan {
  const [outer, n, inner] = [p[0] as number, p[1] as number, p[2] as number];
  const P = nextPow2(n);
  return sortLines(s, s.descending, outer, n, inner, src, {
    label: "sort (output)",
    source: sortOutputSource,
    bind: [{ in: 0 }, { tmp: 1 }, { out: 0 }, { out: 1 }],
    workgroups: ceilDiv(outer * inner * n, WG),
    params: [outer, n, inner, P],
  });
}

/** top_k sorts each row descending (O(n log² n) work) and keeps the first k. */
export function topKPlan(s: TopKRoutine, p: Int32Array, src: Sources): RoutinePlan {
  const [rows, n, k] = [p[0] as number, p[1] as number, p[2] as number];
  const P = nextPow2(n);
  return sortLines(s, true, rows, n, 1, src, {
    label: "top_k (output)",
    source: topKOutputSource,
    bind: [{ in: 0 }, { tmp: 1 }, { out: 0 }, { out: 1 }],
    workgroups: ceilDiv(rows * k, WG),
    params: [rows, n, k, P],
  });
}
