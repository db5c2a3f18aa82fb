/**
 * `scan`: a higher-order primitive (DESIGN decision 12) running its body — a closed jaxpr
 * (consts…, carry…, x slices…) → (carry…, y slices…) — `length` times, threading the carry and
 * stacking the ys along a new leading axis (JAX's scan; reversed: from the last slice). Its
 * operands are the consts, the initial carry, then the xs (each with `length` leading rows).
 *
 * - Eagerly the body runs `length` times, each run's intermediates released at their last use.
 * - jvp: the body's jvp (every float carry with a tangent) is split by partial evaluation: a
 *   scan of the known part computes the carry, the ys and the per-step residuals (stacked as
 *   extra ys; residuals that are consts or x slices are not stacked but passed as they are),
 *   and a scan of the unknown part — linear in the tangents — reads them. Under linearize the
 *   first runs now and the second is staged.
 * - transpose: a scan in the other direction over the transposed body, its carry the carry's
 *   cotangent and the running sum of the linear consts' cotangents, its ys the linear xs'.
 * - vmap: every carry batched at 0, the xs at 1 (so their slices are batched at 0); the ys come
 *   back batched at 1.
 */
import type { Array } from "../array.js";
import { type Aval, fmtAval, fmtAvals, sameType, strong } from "../core/aval.js";
import { evalJaxpr } from "../core/jaxpr.js";
import { evalReleasing } from "../core/program.js";
import { bind, bind1 } from "../core/trace.js";
import { transposeJaxpr } from "../core/transpose.js";
import { zerosFor } from "../core/zeros.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { stack } from "../numpy/join.js";
import { batchAt } from "./batch-util.js";
import {
  batchedEval,
  jvpFlat,
  ownedOutputs,
  partialEvalJaxpr,
  program,
  releaseExcept,
  releaseInlined,
  releaseUnstaged,
  zerosOf,
} from "./higher-order.js";
import { invariantOutputs } from "./loop-invariant.js";
import { scanAsLoop } from "./scan-as-loop.js";
import type { BDim, Params, PrimitiveTable, Tangent } from "./types.js";
import { UndefinedPrimal } from "./types.js";

type ScanParams = Params["scan"];

const sliceAval = (a: Aval): Aval => ({ ...a, shape: a.shape.slice(1), weakType: false });
const stackedAval = (a: Aval, length: number): Aval => ({ ...a, shape: [length, ...a.shape], weakType: false });

function abstractEval(avals: readonly Aval[], p: ScanParams): Aval[] {
  const { numConsts: nc, numCarry: nk, length } = p;
  const ins = p.body.inAvals;
  const xs = avals.slice(nc + nk);
  const badX = xs.findIndex((x) => x.shape[0] !== length);
  if (badX >= 0) {
    throw new TracerError(
      `${p.name}: xs leaf ${badX} is ${fmtAval(xs[badX] as Aval)}, but the scan has length ${length}: every xs leaf needs ${length} leading rows`,
    );
  }
  const want = [...avals.slice(0, nc + nk), ...xs.map(sliceAval)];
  if (ins.length !== want.length || ins.some((a, i) => !sameType(a, want[i] as Aval))) {
    throw new TracerError(`${p.name}: its body takes ${fmtAvals(ins)} but the operands give ${fmtAvals(want)}`);
  }
  const outs = p.body.outAvals;
  const carryIn = ins.slice(nc, nc + nk);
  if (outs.length < nk || outs.slice(0, nk).some((a, i) => !sameType(a, carryIn[i] as Aval))) {
    throw new TracerError(
      `${p.name}: the body takes the carry ${fmtAvals(carryIn)} but returns ${fmtAvals(outs.slice(0, nk))}; the carry must keep its shapes and dtypes`,
    );
  }
  return [...outs.slice(0, nk).map(strong), ...outs.slice(nk).map((a) => stackedAval(a, length))];
}

function impl(inputs: readonly Array[], p: ScanParams): Array[] {
  // Inside a jitted program's recording: one loop step, not the steps unrolled.
  const looped = scanAsLoop(inputs, p);
  if (looped) return looped;
  const { numConsts: nc, numCarry: nk, length } = p;
  const consts = inputs.slice(0, nc);
  const xs = inputs.slice(nc + nk);
  let carry = inputs.slice(nc, nc + nk);
  const yAvals = p.body.outAvals.slice(nk);
  const pieces: Array[][] = yAvals.map(() => []);
  for (let t = 0; t < length; t++) {
    const i = p.reverse ? length - 1 - t : t;
    // Each slice is copied to a buffer of its own: the body's fused kernels compile a view's
    // offset in, so a view per step would compile them again at every step.
    const slices = xs.map((x) => {
      const rows = bind1("slice", [x], sliceAt(x, i));
      const view = bind1("squeeze", [rows], { dimensions: [0] });
      const own = bind1("copy", [view], {});
      releaseExcept([rows, view], [x, own]);
      return own;
    });
    const outs = evalReleasing(p.body, [...consts, ...carry, ...slices]);
    outs.slice(nk).forEach((y, j) => (pieces[j] as Array[]).push(y));
    releaseExcept([...carry, ...slices], [...inputs, ...outs, ...pieces.flat()]);
    carry = outs.slice(0, nk);
  }
  const ys = yAvals.map((a, j) => {
    const list = pieces[j] as Array[];
    if (list.length === 0) return zerosOf(stackedAval(a, 0));
    return stack(p.reverse ? [...list].reverse() : list);
  });
  releaseExcept(pieces.flat(), [...inputs, ...carry, ...ys]);
  return ownedOutputs([...carry, ...ys], inputs);
}

function sliceAt(x: Array, i: number): Params["slice"] {
  return {
    start: x.shape.map((_, d) => (d === 0 ? i : 0)),
    limit: x.shape.map((n, d) => (d === 0 ? i + 1 : n)),
    strides: x.shape.map(() => 1),
  };
}

function jvp(primals: readonly Array[], tangents: readonly Tangent[], p: ScanParams): [Array[], Tangent[]] {
  const { numConsts: nc, numCarry: nk, name } = p;
  const consts = primals.slice(0, nc);
  const init = primals.slice(nc, nc + nk);
  const xs = primals.slice(nc + nk);
  const nx = xs.length;
  const tc = tangents.slice(0, nc);
  const tk = tangents.slice(nc, nc + nk);
  const tx = tangents.slice(nc + nk);
  const hasC = tc.map((t) => t !== null);
  const hasX = tx.map((t) => t !== null);
  const ins = p.body.inAvals.map(strong);
  const cAv = ins.slice(0, nc);
  const kAv = ins.slice(nc, nc + nk);
  const xAv = ins.slice(nc + nk);
  // Every float carry carries a tangent (a zero one where none came in: the body may make it nonzero).
  const floatK = kAv.map((a) => isFloat(a.dtype));
  const yAv = p.body.outAvals.slice(nk).map(strong);
  const ny = yAv.length;
  const floatY = yAv.map((a) => isFloat(a.dtype));
  const tcAv = cAv.filter((_, i) => hasC[i]);
  const tkAv = kAv.filter((_, i) => floatK[i]);
  const txAv = xAv.filter((_, i) => hasX[i]);
  const jvpBody = program(`${name} jvp`, [...ins, ...tcAv, ...tkAv, ...txAv], (vs) => {
    let t = nc + nk + nx;
    const tcs = hasC.map((h) => (h ? (vs[t++] as Array) : null));
    const tks = floatK.map((f) => (f ? (vs[t++] as Array) : null));
    const txs = hasX.map((h) => (h ? (vs[t++] as Array) : null));
    const [outs, outTs] = jvpFlat(name, (ys) => evalJaxpr(p.body, ys), vs.slice(0, nc + nk + nx), [
      ...tcs,
      ...tks,
      ...txs,
    ]);
    const carryT = outs.slice(0, nk).flatMap((o, i) => (floatK[i] ? [outTs[i] ?? zerosFor(o)] : []));
    const yT = outs.slice(nk).flatMap((o, j) => (floatY[j] ? [outTs[nk + j] ?? zerosFor(o)] : []));
    return [...outs, ...carryT, ...yT];
  });
  const nTk = tkAv.length;
  const nTy = floatY.filter(Boolean).length;
  const pe = partialEvalJaxpr(
    name,
    jvpBody,
    [...ins.map(() => false), ...tcAv.map(() => true), ...tkAv.map(() => true), ...txAv.map(() => true)],
    [...new globalThis.Array<boolean>(nk + ny).fill(false), ...new globalThis.Array<boolean>(nTk + nTy).fill(true)],
  );
  // Residuals that are consts or x slices are passed as they are; those computed from consts
  // alone are computed once, outside the loop (hoisted); the others are stacked per step.
  const kind0 = pe.residualInvars.map((s) =>
    s !== null && s < nc ? "const" : s !== null && s >= nc + nk ? "x" : "stacked",
  );
  const hoisted = invariantOutputs(
    pe.known,
    nc,
    kind0.flatMap((k, i) => (k === "stacked" ? [nk + ny + i] : [])),
    consts,
  );
  const kind = kind0.map((k, i) => (hoisted.has(nk + ny + i) ? "hoisted" : k));
  const stackedIdx = kind.flatMap((k, i) => (k === "stacked" ? [i] : []));
  const knownBody = program(`${name} (primal)`, ins, (vs) => {
    const r = evalJaxpr(pe.known, vs);
    return [...r.slice(0, nk + ny), ...stackedIdx.map((i) => r[nk + ny + i] as Array)];
  });
  releaseInlined([jvpBody]);
  const primalOuts = bind("scan", [...consts, ...init, ...xs], { ...p, body: knownBody });
  releaseUnstaged([knownBody]);
  const carryOut = primalOuts.slice(0, nk);
  const ysOut = primalOuts.slice(nk, nk + ny);
  const stackedRes = primalOuts.slice(nk + ny);
  // The tangent scan: consts [const residuals, const tangents], carry [carry tangents], xs
  // [stacked residuals, x residuals, x tangents].
  const constRes = kind.flatMap((k, i) => (k === "const" || k === "hoisted" ? [i] : []));
  const xRes = kind.flatMap((k, i) => (k === "x" ? [i] : []));
  const resAv = pe.residuals.map(strong);
  const linBody = program(
    `${name} (tangent)`,
    [
      ...constRes.map((i) => resAv[i] as Aval),
      ...tcAv,
      ...tkAv,
      ...stackedIdx.map((i) => resAv[i] as Aval),
      ...xRes.map((i) => resAv[i] as Aval),
      ...txAv,
    ],
    (vs) => {
      const res = new globalThis.Array<Array>(resAv.length);
      let v = 0;
      for (const i of constRes) res[i] = vs[v++] as Array;
      const tangentConsts = vs.slice(v, v + tcAv.length);
      v += tcAv.length;
      const tangentCarry = vs.slice(v, v + nTk);
      v += nTk;
      for (const i of stackedIdx) res[i] = vs[v++] as Array;
      for (const i of xRes) res[i] = vs[v++] as Array;
      return evalJaxpr(pe.unknown, [...res, ...tangentConsts, ...tangentCarry, ...vs.slice(v)]);
    },
  );
  releaseInlined([pe.known, pe.unknown]);
  const source = (i: number) => hoisted.get(nk + ny + i) ?? (primals[pe.residualInvars[i] as number] as Array);
  const givenC = tc.filter((t): t is Array => t !== null);
  const initT = init.flatMap((c, i) => (floatK[i] ? [tk[i] ?? zerosFor(c)] : []));
  const givenX = tx.filter((t): t is Array => t !== null);
  const tangentOuts = bind(
    "scan",
    [...constRes.map(source), ...givenC, ...initT, ...stackedRes, ...xRes.map(source), ...givenX],
    {
      ...p,
      body: linBody,
      numConsts: constRes.length + givenC.length,
      numCarry: nTk,
      name,
    },
  );
  let a = 0;
  let b = nTk;
  return [
    [...carryOut, ...ysOut],
    [
      ...floatK.map((f) => (f ? (tangentOuts[a++] as Array) : null)),
      ...floatY.map((f) => (f ? (tangentOuts[b++] as Array) : null)),
    ],
  ];
}

/**
 * Linear in its undefined operands and its carries (a jvp's tangent scan): a scan the other
 * way over the transposed body. Its carry: the carry's cotangent, then the running sums of the
 * linear consts' cotangents; its ys: the linear xs' cotangents.
 */
function transpose(cts: readonly Tangent[], inputs: readonly (Array | UndefinedPrimal)[], p: ScanParams): Tangent[] {
  const { numConsts: nc, numCarry: nk, length, name } = p;
  const consts = inputs.slice(0, nc);
  const carry = inputs.slice(nc, nc + nk);
  const xs = inputs.slice(nc + nk);
  // The body is linear in every carry: a known one (a zero tangent instantiated where none
  // came in) is transposed as linear too, and gets no cotangent.
  const isLin = (x: Array | UndefinedPrimal): x is UndefinedPrimal => x instanceof UndefinedPrimal;
  const ins = p.body.inAvals.map(strong);
  const kc = consts.filter((c): c is Array => !isLin(c));
  const kx = xs.filter((x): x is Array => !isLin(x));
  const lcAv = ins.slice(0, nc).filter((_, i) => isLin(consts[i] as Array | UndefinedPrimal));
  const kAv = ins.slice(nc, nc + nk);
  const xAv = ins.slice(nc + nk);
  const yAv = p.body.outAvals.slice(nk).map(strong);
  const lxAv = xAv.filter((_, i) => isLin(xs[i] as Array | UndefinedPrimal));
  const kcAv = ins.slice(0, nc).filter((_, i) => !isLin(consts[i] as Array | UndefinedPrimal));
  const kxAv = xAv.filter((_, i) => !isLin(xs[i] as Array | UndefinedPrimal));
  const nlc = lcAv.length;
  const T = program(`${name} (transpose)`, [...kcAv, ...kAv, ...lcAv, ...kxAv, ...yAv], (vs) => {
    const cuts = [kcAv.length, nk, nlc, kxAv.length];
    const at = cuts.map((_, i) => cuts.slice(0, i).reduce((x, y) => x + y, 0));
    const part = (i: number) => vs.slice(at[i], (at[i] as number) + (cuts[i] as number));
    const [knownC, ctCarry, acc, knownX] = [part(0), part(1), part(2), part(3)];
    const ctY = vs.slice(cuts.reduce((x, y) => x + y, 0));
    let a = 0;
    let b = 0;
    const knownIns = [
      ...consts.map((c) => (isLin(c) ? null : (knownC[a++] as Array))),
      ...carry.map(() => null),
      ...xs.map((x) => (isLin(x) ? null : (knownX[b++] as Array))),
    ];
    const inCts = transposeJaxpr(p.body, knownIns, [...ctCarry, ...ctY]);
    const zeroed = (ct: Tangent, aval: Aval) => ct ?? zerosOf(aval);
    const ctLc = inCts.slice(0, nlc).map((c, i) => zeroed(c, lcAv[i] as Aval));
    const ctK = inCts.slice(nlc, nlc + nk).map((c, i) => zeroed(c, kAv[i] as Aval));
    const ctLx = inCts.slice(nlc + nk).map((c, i) => zeroed(c, lxAv[i] as Aval));
    return [...ctK, ...acc.map((s, i) => bind1("add", [s, ctLc[i] as Array], {})), ...ctLx];
  });
  const outAv = [...kAv, ...yAv.map((a) => stackedAval(a, length))];
  const given = outAv.map((a, i) => cts[i] ?? zerosOf(a));
  const outs = bind("scan", [...kc, ...given.slice(0, nk), ...lcAv.map(zerosOf), ...kx, ...given.slice(nk)], {
    ...p,
    body: T,
    numConsts: kc.length,
    numCarry: nk + nlc,
    reverse: !p.reverse,
  });
  releaseUnstaged([T]);
  const ctInit = outs.slice(0, nk);
  const ctLc = outs.slice(nk, nk + nlc);
  const ctLx = outs.slice(nk + nlc);
  let a = 0;
  let b = 0;
  return [
    ...consts.map((c) => (isLin(c) ? (ctLc[a++] as Array) : null)),
    ...ctInit.map((ct, i) => (isLin(carry[i] as Array | UndefinedPrimal) ? ct : null)),
    ...xs.map((x) => (isLin(x) ? (ctLx[b++] as Array) : null)),
  ];
}

function batch(args: readonly Array[], dims: readonly BDim[], p: ScanParams, size: number): [Array[], BDim[]] {
  const { numConsts: nc, numCarry: nk } = p;
  const consts = args.slice(0, nc);
  const init = args.slice(nc, nc + nk).map((c, i) => batchAt(c, dims[nc + i] ?? null, 0, size));
  const xs = args.slice(nc + nk).map((x, i) => batchAt(x, dims[nc + nk + i] ?? null, 1, size));
  const bodyDims: BDim[] = [...dims.slice(0, nc), ...init.map(() => 0), ...xs.map(() => 0)];
  const avals = [
    ...consts.map((c) => strong(c.aval)),
    ...init.map((c) => strong(c.aval)),
    ...xs.map((x) => sliceAval(x.aval)),
  ];
  const body = program(`${p.name} (batched)`, avals, (vs) => batchedEval(p.body, vs, bodyDims, size));
  const outs = bind("scan", [...consts, ...init, ...xs], { ...p, body });
  releaseUnstaged([body]);
  return [outs, outs.map((_, i) => (i < nk ? 0 : 1))];
}

export const scanLoopPrimitives: PrimitiveTable<"scan"> = {
  scan: { abstractEval, lowering: { kind: "impl", impl }, jvp, transpose, batch },
};
