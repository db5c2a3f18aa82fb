/**
 * Naive references written independently of webjax (plain loops over JS arrays), for property
 * tests of broadcasting, reductions and views.
 */

export function stridesOf(shape: readonly number[]): number[] {
  const s = new globalThis.Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Visits every multi-index of `shape` in row-major order. */
export function forEachIndex(shape: readonly number[], f: (idx: number[], flat: number) => void): void {
  const n = sizeOf(shape);
  const idx = new globalThis.Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    f([...idx], flat);
    for (let d = shape.length - 1; d >= 0; d--) {
      if ((idx[d] as number) + 1 < (shape[d] as number)) {
        idx[d] = (idx[d] as number) + 1;
        break;
      }
      idx[d] = 0;
    }
  }
}

/** Element at `idx` of a row-major array of `shape`. */
export function naiveStridedGet(data: readonly number[], shape: readonly number[], idx: readonly number[]): number {
  const s = stridesOf(shape);
  return data[idx.reduce((acc, v, d) => acc + v * (s[d] as number), 0)] as number;
}

/** numpy broadcasting of `data` (shape `from`) to shape `to`. */
export function refBroadcast(data: readonly number[], from: readonly number[], to: readonly number[]): number[] {
  const out: number[] = [];
  const lead = to.length - from.length;
  forEachIndex(to, (idx) => {
    const src = from.map((n, d) => (n === 1 ? 0 : (idx[d + lead] as number)));
    out.push(naiveStridedGet(data, from, src));
  });
  return out;
}

/** Transposes row-major `data` of `shape` by `perm`. */
export function refTranspose(data: readonly number[], shape: readonly number[], perm: readonly number[]): number[] {
  const outShape = perm.map((p) => shape[p] as number);
  const out: number[] = [];
  forEachIndex(outShape, (idx) => {
    const src = new globalThis.Array<number>(shape.length);
    perm.forEach((p, d) => {
      src[p] = idx[d] as number;
    });
    out.push(naiveStridedGet(data, shape, src));
  });
  return out;
}

/** Reduces row-major `data` of `shape` over `axes` with `op`, starting from `init`. Returns [values, outShape]. */
export function refReduce(
  data: readonly number[],
  shape: readonly number[],
  axes: readonly number[],
  op: (a: number, b: number) => number,
  init: number,
): [number[], number[]] {
  const outShape = shape.filter((_, d) => !axes.includes(d));
  const out = new globalThis.Array<number>(sizeOf(outShape)).fill(init);
  const os = stridesOf(outShape);
  forEachIndex(shape, (idx, flat) => {
    let o = 0;
    let k = 0;
    idx.forEach((v, d) => {
      if (!axes.includes(d)) o += v * (os[k++] as number);
    });
    out[o] = op(out[o] as number, data[flat] as number);
  });
  return [out, outShape];
}
