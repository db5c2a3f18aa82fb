/**
 * `conv_general_dilated` as im2col and a matmul: a gather kernel copies every input window
 * into a patches array (zero where the window reads padding or a dilation hole), and
 * `dot_general` contracts the patches with the kernel. Where the output's feature dim is
 * innermost (NHWC) and there is one group, patches [N, OS…, KS…, C] are the lhs and the dot
 * writes [N, OS…, O] in place; otherwise the kernel [G, O/G, KS…, C/G] is the lhs of patches
 * [G, KS…, C/G, N, OS…] and the result [O, N, OS…] is a transposed view.
 */
import type { Backend } from "../backend/backend.js";
import type { Aval } from "../core/aval.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import { sizeOf } from "../shape.js";
import type { DotPlan, LoadsKernel, LoweringInput } from "./types.js";
import { type ConvParams, convWindowIndex } from "./window.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const i32 = (v: number): Expr => constant(v, "int32");

/** Patches larger than this many elements run the direct kernel (no giant temporary). */
export const MAX_PATCH_ELEMENTS = 1 << 26;

/**
 * The most float32 patch elements a convolution may gather to run as a matmul on `backend`: 0
 * without a float32 GEMM, else the im2col limit, lowered to what one binding holds.
 */
export function patchLimit(backend: Backend): number {
  if (!backend.gemmDtypes?.includes("float32")) return 0;
  return Math.min(MAX_PATCH_ELEMENTS, Math.floor((backend.maxBindingBytes ?? Infinity) / 4));
}

/** Which loop of the patches kernel walks each logical index (g absent with one group). */
interface PatchLoops {
  readonly rank: number;
  readonly g?: number;
  readonly n: number;
  readonly os: readonly number[];
  readonly ks: readonly number[];
  readonly c: number;
}

function patchesKernel(l: LoweringInput, p: ConvParams, loops: PatchLoops, out: Aval): LoadsKernel {
  const [lb, lf] = p.dimensionNumbers.lhs as [number, number];
  const { conds, at } = convWindowIndex(l, p, loops.os, loops.ks);
  let feature: Expr = index(loops.c);
  if (loops.g !== undefined) {
    const perGroup = binary("div", l.shape[lf] as Expr, i32(p.featureGroupCount));
    feature = binary("add", feature, binary("mul", index(loops.g), perGroup));
  }
  const idx = range(p.dimensionNumbers.lhs.length).map((): Expr => i32(0));
  idx[lb] = index(loops.n);
  idx[lf] = feature;
  p.dimensionNumbers.lhs.slice(2).forEach((d, i) => {
    idx[d] = at[i] as Expr;
  });
  const inBounds = conds.length === 0 ? undefined : conds.reduce((a, b) => binary("and", a, b));
  const x = l.at(idx);
  return { expr: inBounds ? select(inBounds, x, constant(0, out.dtype)) : x };
}

/**
 * The im2col plan for these operands, or undefined when the patches would be too large. The
 * contracted dims (kernel spatial dims and input features) are laid out in the patches in the
 * order of the kernel's strides (outermost first), so the kernel's view reshapes into the
 * matmul operand without a copy (HWIO gives [KH·KW·I, O], OIHW [O, I·KH·KW]).
 */
export function convAsDot(
  avals: readonly Aval[],
  p: ConvParams,
  out: Aval,
  strides: readonly (readonly number[])[],
): DotPlan | undefined {
  const [lhs, rhs] = avals as [Aval, Aval];
  const s = p.windowStrides.length;
  const r = s + 2;
  const dn = p.dimensionNumbers;
  const [lb, lf] = dn.lhs as [number, number];
  const [ro, ri, ...rs] = dn.rhs as [number, number, ...number[]];
  const [ob, of, ...os] = dn.out as [number, number, ...number[]];
  const g = p.featureGroupCount;
  const n = lhs.shape[lb] as number;
  const c = lhs.shape[lf] as number;
  const o = rhs.shape[ro] as number;
  const ks = rs.map((d) => rhs.shape[d] as number);
  const outSpatial = os.map((d) => out.shape[d] as number);
  const patchSize = n * c * sizeOf(ks) * sizeOf(outSpatial);
  if (patchSize === 0 || patchSize > MAX_PATCH_ELEMENTS) return undefined;
  const seq = (from: number, count: number) => range(count).map((i) => from + i);
  const rhsStrides = strides[1] as readonly number[];
  // Contracted dims: kernel spatial dim i (k = i) or the input features (k = −1), outermost first.
  const order = [...rs.map((dim, k) => ({ dim, k })), { dim: ri, k: -1 }].sort(
    (x, y) => (rhsStrides[y.dim] as number) - (rhsStrides[x.dim] as number),
  );
  const contracted = (from: number, perGroup: number) => {
    const ksLoops = new Array<number>(s);
    let cLoop = 0;
    order.forEach((o, j) => {
      if (o.k >= 0) ksLoops[o.k] = from + j;
      else cLoop = from + j;
    });
    return {
      ksLoops,
      cLoop,
      dims: order.map((o) => o.dim),
      sizes: order.map((o) => (o.k >= 0 ? (ks[o.k] as number) : perGroup)),
    };
  };
  const resultPerm = new Array<number>(r);
  if (g === 1 && of === r - 1) {
    // patches [N, OS…, (KS…, C)] · kernel [(KS…, I), O] → [N, OS…, O].
    const t = contracted(1 + s, c);
    const loops: PatchLoops = { rank: 2 * s + 2, n: 0, os: seq(1, s), ks: t.ksLoops, c: t.cLoop };
    resultPerm[ob] = 0;
    resultPerm[of] = s + 1;
    os.forEach((d, i) => {
      resultPerm[d] = 1 + i;
    });
    return {
      label: "conv_general_dilated (im2col)",
      key: order.map((o) => o.k).join(","),
      gathered: { shape: [n, ...outSpatial, ...t.sizes], kernel: (l) => patchesKernel(l, p, loops, out) },
      other: { perm: [...t.dims, ro], shape: [...t.sizes, o] },
      gatheredFirst: true,
      dims: { contracting: [seq(1 + s, s + 1), seq(0, s + 1)], batch: [[], []] },
      result: { shape: [n, ...outSpatial, o], perm: resultPerm },
    };
  }
  // kernel [G, O/G, (KS…, C/G)] · patches [G, (KS…, C/G), N, OS…] → [G, O/G, N, OS…] = [O, N, OS…].
  const b = g > 1 ? 1 : 0;
  const t = contracted(b, c / g);
  const loops: PatchLoops = {
    rank: 2 * s + 2 + b,
    ...(g > 1 ? { g: 0 } : {}),
    ks: t.ksLoops,
    c: t.cLoop,
    n: b + s + 1,
    os: seq(b + s + 2, s),
  };
  const grouped = g > 1 ? [g] : [];
  resultPerm[ob] = 1;
  resultPerm[of] = 0;
  os.forEach((d, i) => {
    resultPerm[d] = 2 + i;
  });
  return {
    label: "conv_general_dilated (im2col)",
    key: order.map((o) => o.k).join(","),
    gathered: { shape: [...grouped, ...t.sizes, n, ...outSpatial], kernel: (l) => patchesKernel(l, p, loops, out) },
    other: { perm: [ro, ...t.dims], shape: [...grouped, o / g, ...t.sizes] },
    gatheredFirst: false,
    dims: { contracting: [seq(b + 1, s + 1), seq(b, s + 1)], batch: [seq(0, b), seq(0, b)] },
    result: { shape: [o, n, ...outSpatial], perm: resultPerm },
  };
}
