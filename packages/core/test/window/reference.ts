/**
 * Naive float64 references for the windowed routines, written from StableHLO's definitions
 * rather than from webjax's kernels: the operand is first materialised padded and dilated
 * (reduce_window pads with `init`, convolution with zeros), then each window is read directly.
 */
import { type Array, lax } from "@webjax/core";
import { forEachIndex, sizeOf, stridesOf } from "@webjax/test-utils";

export type Pads = readonly (readonly [number, number])[];

export interface Dense {
  shape: number[];
  data: number[];
}

const flatAt = (strides: readonly number[], idx: readonly number[]) =>
  idx.reduce((a, v, d) => a + v * (strides[d] as number), 0);

/** `x` placed at lo + i·dilation inside an array of `fill` (negative lo/hi crop). */
export function padDilate(x: Dense, pads: Pads, dilation: readonly number[], fill: number): Dense {
  const shape = x.shape.map((n, d) => {
    const [lo, hi] = pads[d] as readonly [number, number];
    return (n === 0 ? 0 : (n - 1) * (dilation[d] as number) + 1) + lo + hi;
  });
  const data = new globalThis.Array<number>(sizeOf(shape)).fill(fill);
  const st = stridesOf(shape);
  forEachIndex(x.shape, (idx, flat) => {
    const pos = idx.map((i, d) => (pads[d] as readonly [number, number])[0] + i * (dilation[d] as number));
    if (pos.every((p, d) => p >= 0 && p < (shape[d] as number))) data[flatAt(st, pos)] = x.data[flat] as number;
  });
  return { shape, data };
}

const outSize = (padded: number, window: number, stride: number) =>
  Math.max(0, Math.floor((padded - window) / stride) + 1);

export type WindowOp = "max" | "min" | "sum";
const combine: Record<WindowOp, (a: number, b: number) => number> = {
  max: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b)),
  min: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b)),
  sum: (a, b) => a + b,
};

/** StableHLO reduce_window: pad (and base-dilate) with init, then fold each window starting from init. */
export function refReduceWindow(
  x: Dense,
  init: number,
  op: WindowOp,
  window: readonly number[],
  strides: readonly number[],
  pads: Pads,
  baseDilation: readonly number[],
  windowDilation: readonly number[],
): Dense {
  const p = padDilate(x, pads, baseDilation, init);
  const pst = stridesOf(p.shape);
  const shape = p.shape.map((n, d) =>
    outSize(n, ((window[d] as number) - 1) * (windowDilation[d] as number) + 1, strides[d] as number),
  );
  const data: number[] = [];
  forEachIndex(shape, (o) => {
    let acc = init;
    forEachIndex(window, (w) => {
      const pos = o.map((v, d) => v * (strides[d] as number) + (w[d] as number) * (windowDilation[d] as number));
      acc = combine[op](acc, p.data[flatAt(pst, pos)] as number);
    });
    data.push(acc);
  });
  return { shape, data };
}

/** Dimension numbers: where batch/feature/spatial… (lhs, out) and out-feature/in-feature/spatial… (rhs) live. */
export interface Layout {
  lhs: readonly number[];
  rhs: readonly number[];
  out: readonly number[];
}

/** Reads `x` in canonical order: `perm[j]` is the physical dim of logical dim j. */
function canonical(x: Dense, perm: readonly number[]): Dense {
  const shape = perm.map((p) => x.shape[p] as number);
  const st = stridesOf(x.shape);
  const data: number[] = [];
  forEachIndex(shape, (idx) => {
    const phys = new globalThis.Array<number>(idx.length);
    perm.forEach((p, j) => {
      phys[p] = idx[j] as number;
    });
    data.push(x.data[flatAt(st, phys)] as number);
  });
  return { shape, data };
}

/**
 * Convolution by definition: lhs zero-padded and lhs-dilated explicitly, then for each output
 * out[n, o, y…] = Σ_{c, k…} padded[n, g·Cg + c, y·s + k·rhsDilation] · rhs[o, c, k…], g = ⌊o/(O/G)⌋.
 */
export function refConv(
  lhs: Dense,
  rhs: Dense,
  strides: readonly number[],
  pads: Pads,
  lhsDilation: readonly number[],
  rhsDilation: readonly number[],
  layout: Layout,
  groups: number,
): Dense {
  const l = canonical(lhs, layout.lhs);
  const k = canonical(rhs, layout.rhs);
  const s = strides.length;
  const p = padDilate(l, [[0, 0], [0, 0], ...pads], [1, 1, ...lhsDilation], 0);
  const [nb, , ...ps] = p.shape as [number, number, ...number[]];
  const [no, cg, ...ks] = k.shape as [number, number, ...number[]];
  const og = no / groups;
  const spatial = ps.map((n, i) =>
    outSize(n, ((ks[i] as number) - 1) * (rhsDilation[i] as number) + 1, strides[i] as number),
  );
  const pst = stridesOf(p.shape);
  const kst = stridesOf(k.shape);
  const canon: number[] = [];
  forEachIndex([nb, no, ...spatial], ([n, o, ...y]) => {
    const g = Math.floor((o as number) / og);
    let acc = 0;
    for (let c = 0; c < cg; c++) {
      forEachIndex(ks, (kk) => {
        const pos = y.map((v, i) => v * (strides[i] as number) + (kk[i] as number) * (rhsDilation[i] as number));
        const a = p.data[flatAt(pst, [n as number, g * cg + c, ...pos])] as number;
        const b = k.data[flatAt(kst, [o as number, c, ...kk])] as number;
        acc += a * b;
      });
    }
    canon.push(acc);
  });
  // Back to the output layout: logical dim j lives at physical dim layout.out[j].
  const canonShape = [nb, no, ...spatial];
  const shape = new globalThis.Array<number>(s + 2);
  layout.out.forEach((p, j) => {
    shape[p] = canonShape[j] as number;
  });
  const cst = stridesOf(canonShape);
  const data: number[] = [];
  forEachIndex(shape, (idx) => {
    const logical = layout.out.map((p) => idx[p] as number);
    data.push(canon[flatAt(cst, logical)] as number);
  });
  return { shape, data };
}

/** Channels-last specs of rank r: NWC/WIO, NHWC/HWIO, NDHWC/DHWIO (NC/IO without spatial dims). */
export function channelsLast(rank: number): [string, string, string] {
  const sp = "DHW".slice(3 - (rank - 2));
  return [`N${sp}C`, `${sp}IO`, `N${sp}C`];
}

/**
 * lax.convGeneralDilated on channels-last operands (the tests' data is NHWC/HWIO; lax's default
 * is JAX's NCHW/OIHW). Explicit `dimensionNumbers` in `opts` win.
 */
export function convNhwc(
  x: Array,
  k: Array,
  strides: readonly number[],
  padding: Parameters<typeof lax.convGeneralDilated>[3],
  opts: Parameters<typeof lax.convGeneralDilated>[4] = {},
): Array {
  return lax.convGeneralDilated(x, k, strides, padding, { dimensionNumbers: channelsLast(x.ndim), ...opts });
}
