/**
 * `cond`: a higher-order primitive (DESIGN decision 12) choosing one of its branches — closed
 * jaxprs of one signature — by an int32 index clamped into range. Operands: the index, then
 * the branches' common operands.
 *
 * - Eagerly on a backend that reads synchronously (the CPU) only the chosen branch runs.
 *   Inside a recorded jit program it is one cond step (primitives/cond-as-step.ts) that runs only
 *   the chosen branch at every replay (WebGPU gates the branches' dispatches on the device).
 *   Where neither can be (eagerly on WebGPU, the CPU's deferred mode, a branch holding a debug
 *   callback on WebGPU), every branch runs and each output is selected by the index: no readback, and
 *   values equal to the chosen branch's (a select does no arithmetic, so a NaN or Inf in another
 *   branch's result never reaches the output).
 * - jvp splits each branch's jvp into its known part (primal outputs and residuals) and its
 *   unknown part (tangents, linear in the operand tangents; core/partial-eval.ts): a cond of the
 *   known parts runs now and returns every branch's residual slots (zeros in the others'), a
 *   cond of the unknown parts reads them. So linearize stages only linear code, and
 * - transpose transposes the chosen branch's linear part.
 * - vmap: an unbatched index keeps a cond of the batched branches; a batched one runs every
 *   branch batched and selects per member (JAX's rule).
 */
import type { Array } from "../array.js";
import { type Aval, fmtAval, fmtAvals, sameType, strong } from "../core/aval.js";
import { withBranch } from "../core/branch-guard.js";
import { ConcreteArray } from "../core/concrete.js";
import { type ClosedJaxpr, evalJaxpr } from "../core/jaxpr.js";
import { evalReleasing } from "../core/program.js";
import { recorder } from "../core/recording.js";
import { bind, bind1 } from "../core/trace.js";
import { transposeJaxpr } from "../core/transpose.js";
import { zerosFor } from "../core/zeros.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { backendOf, scalar } from "../numpy/convert.js";
import { batchAt, clampIndex } from "./batch-util.js";
import { condAsStep } from "./cond-as-step.js";
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
import type { BDim, Params, PrimitiveTable, Tangent } from "./types.js";
import { UndefinedPrimal } from "./types.js";

type CondParams = Params["cond"];

function abstractEval(avals: readonly Aval[], p: CondParams): Aval[] {
  const [index, ...ops] = avals;
  if (index?.dtype !== "int32" || index.shape.length !== 0) {
    throw new TracerError(
      `${p.name}: the branch index must be an int32 scalar, got ${index ? fmtAval(index) : "nothing"}`,
    );
  }
  const first = p.branches[0];
  if (!first) throw new TracerError(`${p.name}: needs at least one branch`);
  p.branches.forEach((b, k) => {
    const ins = b.inAvals;
    if (ins.length !== ops.length || ins.some((a, i) => !sameType(a, ops[i] as Aval))) {
      throw new TracerError(`${p.name}: branch ${k} takes ${fmtAvals(ins)} but the operands are ${fmtAvals(ops)}`);
    }
    const outs = b.outAvals;
    const want = first.outAvals;
    if (outs.length !== want.length || outs.some((a, i) => !sameType(a, want[i] as Aval))) {
      throw new TracerError(`${p.name}: branch ${k} returns ${fmtAvals(outs)} but branch 0 returns ${fmtAvals(want)}`);
    }
  });
  return first.outAvals.map((a) => strong(a));
}

/**
 * Each output of the branch `index` picks (clamped), from every branch's outputs; `batched`:
 * the index is [size] and each member picks (outputs batched at 0). Eagerly, the selects'
 * intermediates are released.
 */
function selectBranches(index: Array, outs: readonly (readonly Array[])[], batched = false): Array[] {
  const n = outs.length;
  const made: Array[] = [];
  const keep = <T extends Array>(x: T): T => {
    made.push(x);
    return x;
  };
  const idx = keep(clampIndex(index, 0, n - 1));
  const last = outs[n - 1] as readonly Array[];
  const result = last.map((_, j) => {
    let acc = last[j] as Array;
    for (let k = n - 2; k >= 0; k--) {
      const x = (outs[k] as readonly Array[])[j] as Array;
      const pick = keep(
        bind1("broadcast_in_dim", [keep(equalsK(idx, k))], {
          shape: x.shape,
          broadcastDimensions: batched ? [0] : [],
        }),
      );
      acc = keep(bind1("select", [pick, x, acc], {}));
    }
    return acc;
  });
  releaseExcept(made, [index, ...result, ...outs.flat()]);
  return result;
}

/** Where `idx` equals k (a literal under staging, broadcast to idx's shape). */
function equalsK(idx: Array, k: number): Array {
  const c = scalar(k, idx.dtype, false, backendOf([idx]));
  const ks = idx.shape.length === 0 ? c : bind1("broadcast_in_dim", [c], { shape: idx.shape, broadcastDimensions: [] });
  return bind1("eq", [idx, ks], {});
}

function impl(inputs: readonly Array[], p: CondParams): Array[] {
  const [index, ...ops] = inputs as [Array, ...Array[]];
  const n = p.branches.length;
  if (!recorder() && index instanceof ConcreteArray && index.backend.canReadSync) {
    const i = Math.min(Math.max(Number(index.dataSync()[0]), 0), n - 1);
    return ownedOutputs(evalReleasing(p.branches[i] as ClosedJaxpr, ops), inputs);
  }
  // In a jitted program's recording: one cond step that runs only the chosen branch.
  const stepped = recorder() ? condAsStep(inputs, p) : null;
  if (stepped) return stepped;
  // Every branch runs; a host callback in one calls back only where it was taken (core/branch-guard.ts).
  const all = p.branches.map((b, k) =>
    index instanceof ConcreteArray ? withBranch(index, k, n, () => evalReleasing(b, ops)) : evalReleasing(b, ops),
  );
  const outs = selectBranches(index, all);
  releaseExcept(all.flat(), [...inputs, ...outs]);
  return ownedOutputs(outs, inputs);
}

function jvp(primals: readonly Array[], tangents: readonly Tangent[], p: CondParams): [Array[], Tangent[]] {
  const [index, ...ops] = primals as [Array, ...Array[]];
  const opTangents = tangents.slice(1);
  const has = opTangents.map((t) => t !== null);
  const opAvals = ops.map((o) => strong(o.aval));
  const tanAvals = opAvals.filter((_, i) => has[i]);
  const outAvals = (p.branches[0] as ClosedJaxpr).outAvals;
  const floatOut = outAvals.map((a) => isFloat(a.dtype));
  // Each branch's jvp, split into the known part (outputs, residuals) and the linear part.
  const splits = p.branches.map((b, k) => {
    const jvpProgram = program(`${p.name} branch ${k} jvp`, [...opAvals, ...tanAvals], (xs) => {
      const ps = xs.slice(0, ops.length);
      let t = ops.length;
      const ts = has.map((h) => (h ? (xs[t++] as Array) : null));
      const [outs, outTs] = jvpFlat(p.name, (ys) => evalJaxpr(b, ys), ps, ts);
      const given = outs.flatMap((o, i) => (floatOut[i] ? [outTs[i] ?? zerosFor(o)] : []));
      return [...outs, ...given];
    });
    const nFloat = floatOut.filter(Boolean).length;
    const split = partialEvalJaxpr(
      `${p.name} branch ${k}`,
      jvpProgram,
      [...opAvals.map(() => false), ...tanAvals.map(() => true)],
      [...outAvals.map(() => false), ...new globalThis.Array<boolean>(nFloat).fill(true)],
    );
    releaseInlined([jvpProgram]);
    return split;
  });
  // Residual slots: branch k's own at [start_k, start_k + count_k), zeros from the others.
  const starts: number[] = [];
  const resAvals: Aval[] = [];
  for (const s of splits) {
    starts.push(resAvals.length);
    resAvals.push(...s.residuals);
  }
  const nOut = outAvals.length;
  const knownBranches = splits.map((s, k) =>
    program(`${p.name} branch ${k} (primal)`, opAvals, (xs) => {
      const r = evalJaxpr(s.known, xs);
      const own = r.slice(nOut);
      const start = starts[k] as number;
      return [
        ...r.slice(0, nOut),
        ...resAvals.map((a, j) =>
          j >= start && j < start + s.residuals.length ? (own[j - start] as Array) : zerosOf(a),
        ),
      ];
    }),
  );
  const both = bind("cond", [index, ...ops], { name: p.name, branches: knownBranches });
  releaseUnstaged(knownBranches);
  const outs = both.slice(0, nOut);
  const residuals = both.slice(nOut);
  const linearBranches = splits.map((s, k) =>
    program(`${p.name} branch ${k} (tangent)`, [...resAvals, ...tanAvals], (xs) => {
      const start = starts[k] as number;
      const own = xs.slice(start, start + s.residuals.length);
      return evalJaxpr(s.unknown, [...own, ...xs.slice(resAvals.length)]);
    }),
  );
  releaseInlined(splits.flatMap((s) => [s.known, s.unknown]));
  const given = opTangents.filter((t): t is Array => t !== null);
  const outTangents = bind("cond", [index, ...residuals, ...given], { name: p.name, branches: linearBranches });
  let t = 0;
  return [outs, floatOut.map((f) => (f ? (outTangents[t++] as Array) : null))];
}

/**
 * Linear in the operands that are undefined (a jvp's tangent cond: its residuals are known):
 * a cond of each branch's transpose, from the output cotangents to theirs (zeros instantiated).
 */
function transpose(cts: readonly Tangent[], inputs: readonly (Array | UndefinedPrimal)[], p: CondParams): Tangent[] {
  const [index, ...ops] = inputs;
  if (!index || index instanceof UndefinedPrimal) throw new TracerError(`internal: ${p.name}: a linear branch index`);
  const linear = ops.map((o) => o instanceof UndefinedPrimal);
  const known = ops.filter((o): o is Array => !(o instanceof UndefinedPrimal));
  const knownAvals = known.map((k) => strong(k.aval));
  const linAvals = ops.flatMap((o) => (o instanceof UndefinedPrimal ? [o.aval] : []));
  const outAvals = (p.branches[0] as ClosedJaxpr).outAvals;
  const given = cts.map((c) => c !== null);
  const ctAvals = outAvals.filter((_, i) => given[i]);
  const branches = p.branches.map((b, k) =>
    program(`${p.name} branch ${k} (transpose)`, [...knownAvals, ...ctAvals], (xs) => {
      let kn = 0;
      const knownIns = linear.map((l) => (l ? null : (xs[kn++] as Array)));
      let c = known.length;
      const outCts = given.map((g) => (g ? (xs[c++] as Array) : null));
      const inCts = transposeJaxpr(b, knownIns, outCts);
      return inCts.map((ct, i) => ct ?? zerosOf(linAvals[i] as Aval));
    }),
  );
  const inCts = bind("cond", [index, ...known, ...cts.filter((c): c is Array => c !== null)], {
    name: p.name,
    branches,
  });
  releaseUnstaged(branches);
  let j = 0;
  return [null, ...linear.map((l) => (l ? (inCts[j++] as Array) : null))];
}

function batch(args: readonly Array[], dims: readonly BDim[], p: CondParams, size: number): [Array[], BDim[]] {
  const [index, ...ops] = args as [Array, ...Array[]];
  const opDims = dims.slice(1);
  const run = (b: ClosedJaxpr, xs: readonly Array[]) => batchedEval(b, xs, opDims, size);
  if (dims[0] === null) {
    const avals = ops.map((o) => strong(o.aval));
    const branches = p.branches.map((b, k) => program(`${p.name} branch ${k} (batched)`, avals, (xs) => run(b, xs)));
    const outs = bind("cond", [index, ...ops], { name: p.name, branches });
    releaseUnstaged(branches);
    return [outs, outs.map(() => 0)];
  }
  // A batched index: every branch runs on the whole batch and each member picks its own.
  const idx = batchAt(index, dims[0] ?? null, 0, size);
  const outs = p.branches.map((b) => run(b, ops));
  const result = selectBranches(idx, outs, true);
  if (idx !== index) releaseExcept([idx], [...result]);
  releaseExcept(outs.flat(), [...args, ...result]);
  return [result, result.map(() => 0)];
}

export const condPrimitives: PrimitiveTable<"cond"> = {
  cond: { abstractEval, lowering: { kind: "impl", impl }, jvp, transpose, batch },
};
