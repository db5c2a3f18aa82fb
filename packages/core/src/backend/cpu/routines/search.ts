import type { DataArray } from "../../../dtype.js";
import type { SearchRoutine } from "../../../ir/routine.js";
import type { CpuRun } from "../codegen.js";
import { fillKeys, wideKeys } from "./keys.js";

/**
 * searchsorted by binary search over the keys of the sorted array (O(n + m log n)): for each
 * value, the first position whose key is ≥ the value's ("left") or > it ("right").
 */
export function searchRunner(s: SearchRoutine): CpuRun {
  const wide = wideKeys(s.dtype);
  return (ins, outs, p) => {
    const [n, m] = [p[0] as number, p[1] as number];
    const a = ins[0] as DataArray;
    const v = ins[1] as DataArray;
    const out = outs[0] as Int32Array;
    const ah = new Uint32Array(n);
    const al = wide ? new Uint32Array(n) : null;
    fillKeys(a, s.dtype, 0, 1, n, false, ah, al);
    const vh = new Uint32Array(m);
    const vl = wide ? new Uint32Array(m) : null;
    fillKeys(v, s.dtype, 0, 1, m, false, vh, vl);
    const right = s.side === "right";
    for (let i = 0; i < m; i++) {
      const kh = vh[i] as number;
      const kl = vl ? (vl[i] as number) : 0;
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        const mh = ah[mid] as number;
        const ml = al ? (al[mid] as number) : 0;
        // Does a[mid] go before the insertion point? (< v for left, ≤ v for right)
        const before = mh < kh || (mh === kh && (ml < kl || (right && ml === kl)));
        if (before) lo = mid + 1;
        else hi = mid;
      }
      out[i] = lo;
    }
  };
}
