import type { DataArray } from "../../../dtype.js";
import type { SortRoutine, TopKRoutine } from "../../../ir/routine.js";
import type { CpuRun } from "../codegen.js";
import { fillKeys, wideKeys } from "./keys.js";
import { RadixSorter } from "./radix.js";

/** Buffers for one line's keys and order, grown as needed. */
class LineBuffers {
  hi = new Uint32Array(0);
  lo: Uint32Array | null = null;
  order = new Int32Array(0);
  readonly sorter = new RadixSorter();
  constructor(private readonly wide: boolean) {}
  fit(n: number): void {
    if (this.hi.length >= n) return;
    this.hi = new Uint32Array(n);
    this.lo = this.wide ? new Uint32Array(n) : null;
    this.order = new Int32Array(n);
  }
}

/** Copies element `from` of `src` to element `to` of `dst` bit for bit (NaN payloads included). */
function copier(src: DataArray, dst: DataArray): (to: number, from: number) => void {
  if (src instanceof Float32Array || src instanceof Float64Array) {
    const words = src instanceof Float64Array ? 2 : 1;
    const s = new Uint32Array(src.buffer, src.byteOffset, src.length * words);
    const d = new Uint32Array(dst.buffer, dst.byteOffset, dst.length * words);
    if (words === 1) return (to, from) => (d[to] = s[from] as number);
    return (to, from) => {
      d[2 * to] = s[2 * from] as number;
      d[2 * to + 1] = s[2 * from + 1] as number;
    };
  }
  return (to, from) => (dst[to] = src[from] as number);
}

/** Radix sort of every line along the middle axis of [outer, n, inner]: values and indices. */
export function sortRunner(s: SortRoutine): CpuRun {
  const buf = new LineBuffers(wideKeys(s.dtype));
  return (ins, outs, p) => {
    const [outer, n, inner] = [p[0] as number, p[1] as number, p[2] as number];
    const x = ins[0] as DataArray;
    const values = outs[0] as DataArray;
    const indices = outs[1] as Int32Array;
    const copy = copier(x, values);
    buf.fit(n);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const start = o * n * inner + j;
        fillKeys(x, s.dtype, start, inner, n, s.descending, buf.hi, buf.lo);
        buf.sorter.sort(n, buf.hi, buf.lo, buf.order);
        for (let i = 0, q = start; i < n; i++, q += inner) {
          const from = buf.order[i] as number;
          indices[q] = from;
          copy(q, start + from * inner);
        }
      }
    }
  };
}

/**
 * top_k of each row by partial selection: a heap of the k best seen so far (O(n log k)), or for
 * k past n/8 a full descending radix sort. Best = larger key, then lower index.
 */
export function topKRunner(s: TopKRoutine): CpuRun {
  const buf = new LineBuffers(wideKeys(s.dtype));
  let heap = new Int32Array(0);
  return (ins, outs, p) => {
    const [rows, n, k] = [p[0] as number, p[1] as number, p[2] as number];
    const x = ins[0] as DataArray;
    const values = outs[0] as DataArray;
    const indices = outs[1] as Int32Array;
    const copy = copier(x, values);
    buf.fit(n);
    if (heap.length < k) heap = new Int32Array(k);
    for (let r = 0; r < rows; r++) {
      // Descending keys: the smallest key is the best element.
      fillKeys(x, s.dtype, r * n, 1, n, true, buf.hi, buf.lo);
      const picked = k * 8 >= n ? sortedRow(buf, n) : selectRow(buf, n, k, heap);
      for (let i = 0; i < k; i++) {
        const from = picked[i] as number;
        indices[r * k + i] = from;
        copy(r * k + i, r * n + from);
      }
    }
  };
}

function sortedRow(buf: LineBuffers, n: number): Int32Array {
  buf.sorter.sort(n, buf.hi, buf.lo, buf.order);
  return buf.order;
}

/**
 * The k best of n by a binary max-heap (by "worse": larger key, then larger index) of size k,
 * then the heap sorted best first. Elements arrive in index order, so an element tying the
 * heap's worst never replaces it (its index is larger).
 */
function selectRow(buf: LineBuffers, n: number, k: number, heap: Int32Array): Int32Array {
  const { hi, lo } = buf;
  const worse = (a: number, b: number): boolean => {
    const ha = hi[a] as number;
    const hb = hi[b] as number;
    if (ha !== hb) return ha > hb;
    if (lo) {
      const la = lo[a] as number;
      const lb = lo[b] as number;
      if (la !== lb) return la > lb;
    }
    return a > b;
  };
  const siftDown = (size: number) => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) return;
      const r = l + 1;
      const c = r < size && worse(heap[r] as number, heap[l] as number) ? r : l;
      if (!worse(heap[c] as number, heap[i] as number)) return;
      const t = heap[i] as number;
      heap[i] = heap[c] as number;
      heap[c] = t;
      i = c;
    }
  };
  let size = 0;
  let worstHi = 0; // the heap top's high key word: a larger key can never get in
  for (let e = 0; e < n; e++) {
    if (size < k) {
      let i = size++;
      heap[i] = e;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!worse(heap[i] as number, heap[parent] as number)) break;
        const t = heap[i] as number;
        heap[i] = heap[parent] as number;
        heap[parent] = t;
        i = parent;
      }
      if (size === k) worstHi = hi[heap[0] as number] as number;
    } else if (k > 0 && (hi[e] as number) <= worstHi && worse(heap[0] as number, e)) {
      heap[0] = e;
      siftDown(k);
      worstHi = hi[heap[0] as number] as number;
    }
  }
  // Pop the worst to the back: the heap ends sorted best first.
  for (let end = k - 1; end > 0; end--) {
    const t = heap[0] as number;
    heap[0] = heap[end] as number;
    heap[end] = t;
    siftDown(end);
  }
  return heap;
}
