import type { SearchRoutine } from "@webjax/core/internal";
import { ceilDiv, keyFunction, type RoutinePlan, shader, up, WG } from "./program.js";

type Sources = (variant: string, build: () => string) => string;

/** Params [n, m]: a binary search per value over the keys of the ascending array (O(m log n)). */
function searchSource(s: SearchRoutine): string {
  const cmp = s.side === "left" ? "<" : "<=";
  return shader(
    2,
    [
      { name: "a", type: "u32" },
      { name: "v", type: "u32" },
      { name: "out", type: "i32", write: true },
    ],
    [
      `let n = ${up(0)}; let m = ${up(1)};`,
      "if (g >= m) { return; }",
      "let key = sort_key(v[g]);",
      "var lo = 0u; var hi = n;",
      "while (lo < hi) {",
      "  let mid = (lo + hi) >> 1u;",
      `  if (sort_key(a[mid]) ${cmp} key) { lo = mid + 1u; } else { hi = mid; }`,
      "}",
      "out[g] = i32(lo);",
    ],
    { functions: [keyFunction(s.dtype, false)] },
  );
}

export function searchPlan(s: SearchRoutine, p: Int32Array, src: Sources): RoutinePlan {
  const [n, m] = [p[0] as number, p[1] as number];
  return {
    temps: [],
    passes: [
      {
        label: "searchsorted",
        source: src("search", () => searchSource(s)),
        bind: [{ in: 0 }, { in: 1 }, { out: 0 }],
        workgroups: ceilDiv(m, WG),
        params: [n, m],
      },
    ],
  };
}
