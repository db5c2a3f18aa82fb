/**
 * A stable LSD radix sort of uint32 key words with a permutation (O(n) per pass, 3 passes of
 * 11/11/10 bits per word). Stability gives the tie rule for free: equal keys keep their index
 * order. Passes whose digit is the same for every key are skipped (small integers, bools).
 */

const DIGITS = [
  [0, 2047],
  [11, 2047],
  [22, 1023],
] as const;
const BUCKETS = 2048;
/** Below this length an insertion sort beats the passes' fixed cost. */
const SMALL = 32;

export class RadixSorter {
  private words: Uint32Array[] = [];
  private perm = new Int32Array(0);
  private readonly counts = new Int32Array(BUCKETS * DIGITS.length * 2);

  private scratch(n: number, nWords: number): void {
    if (this.perm.length < n) {
      this.perm = new Int32Array(n);
      this.words = [];
    }
    while (this.words.length < nWords) this.words.push(new Uint32Array(this.perm.length));
  }

  /**
   * Sorts the first n keys (hi, and lo below it when given) ascending, stably: writes into
   * `order` the original positions in sorted order. `hi` and `lo` are clobbered.
   */
  sort(n: number, hi: Uint32Array, lo: Uint32Array | null, order: Int32Array): void {
    for (let i = 0; i < n; i++) order[i] = i;
    if (n <= SMALL) {
      insertionSort(n, hi, lo, order);
      return;
    }
    const keys = lo ? [lo, hi] : [hi];
    const nw = keys.length;
    this.scratch(n, nw);
    // Every pass's histogram at once (they do not depend on the order).
    const counts = this.counts;
    counts.fill(0, 0, BUCKETS * DIGITS.length * nw);
    for (let w = 0; w < nw; w++) {
      const k = keys[w] as Uint32Array;
      const base = w * DIGITS.length * BUCKETS;
      for (let i = 0; i < n; i++) {
        const v = k[i] as number;
        const c0 = base + (v & 2047);
        const c1 = base + BUCKETS + ((v >>> 11) & 2047);
        const c2 = base + 2 * BUCKETS + (v >>> 22);
        counts[c0] = (counts[c0] as number) + 1;
        counts[c1] = (counts[c1] as number) + 1;
        counts[c2] = (counts[c2] as number) + 1;
      }
    }
    let src: Uint32Array[] = keys;
    let srcPerm: Int32Array = order;
    let dst: Uint32Array[] = this.words.slice(0, nw);
    let dstPerm: Int32Array = this.perm;
    for (let w = 0; w < nw; w++) {
      for (let d = 0; d < DIGITS.length; d++) {
        const [shift, mask] = DIGITS[d] as readonly [number, number];
        const base = (w * DIGITS.length + d) * BUCKETS;
        const first = (src[w] as Uint32Array)[0] as number;
        if (counts[base + ((first >>> shift) & mask)] === n) continue; // one bucket holds every key
        let sum = 0;
        for (let b = 0; b <= mask; b++) {
          const c = counts[base + b] as number;
          counts[base + b] = sum;
          sum += c;
        }
        const digitWord = src[w] as Uint32Array;
        for (let i = 0; i < n; i++) {
          const c = base + (((digitWord[i] as number) >>> shift) & mask);
          const at = counts[c] as number;
          counts[c] = at + 1;
          for (let j = 0; j < nw; j++) (dst[j] as Uint32Array)[at] = (src[j] as Uint32Array)[i] as number;
          dstPerm[at] = srcPerm[i] as number;
        }
        [src, dst] = [dst, src];
        [srcPerm, dstPerm] = [dstPerm, srcPerm];
      }
    }
    if (srcPerm !== order) order.set(srcPerm.subarray(0, n));
  }
}

function less(hi: Uint32Array, lo: Uint32Array | null, a: number, b: number): boolean {
  const ha = hi[a] as number;
  const hb = hi[b] as number;
  if (ha !== hb) return ha < hb;
  return lo !== null && (lo[a] as number) < (lo[b] as number);
}

/** Stable insertion sort of `order` by the keys at its entries. */
function insertionSort(n: number, hi: Uint32Array, lo: Uint32Array | null, order: Int32Array): void {
  for (let i = 1; i < n; i++) {
    const v = order[i] as number;
    let j = i - 1;
    while (j >= 0 && less(hi, lo, v, order[j] as number)) {
      order[j + 1] = order[j] as number;
      j--;
    }
    order[j + 1] = v;
  }
}
