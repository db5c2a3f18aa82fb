/**
 * `checkpoint` (JAX's remat): a higher-order primitive whose body runs as it is, but whose
 * derivative saves only the body's inputs. jvp binds the body for the primal outputs and a
 * second checkpoint for the tangents — the body's jvp on (inputs, tangents), primal included —
 * so linearize stages that whole jvp with the inputs as its only residuals, and its transpose
 * recomputes the primal (transposeJaxpr runs the known equations forwards) before the
 * backward pass through the linear ones: the forward work runs twice, its intermediates live
 * only while one checkpoint's backward pass does. Policy "everythingSaveable" differentiates
 * the body inline instead (no recomputation).
 */
import type { Array } from "../array.js";
import { type Aval, fmtAval, strong } from "../core/aval.js";
import { evalJaxpr } from "../core/jaxpr.js";
import { evalReleasing } from "../core/program.js";
import { bind } from "../core/trace.js";
import { transposeJaxpr } from "../core/transpose.js";
import { zerosFor } from "../core/zeros.js";
import { isFloat } from "../dtype.js";
import { TracerError } from "../errors.js";
import { shapesEqual } from "../shape.js";
import { batchedEval, jvpFlat, ownedOutputs, program, releaseUnstaged } from "./higher-order.js";
import type { BDim, Params, PrimitiveTable, Tangent } from "./types.js";
import { UndefinedPrimal } from "./types.js";

type CheckpointParams = Params["checkpoint"];

function abstractEval(avals: readonly Aval[], p: CheckpointParams): Aval[] {
  const want = p.body.inAvals;
  if (
    want.length !== avals.length ||
    want.some((a, i) => a.dtype !== avals[i]?.dtype || !shapesEqual(a.shape, avals[i]?.shape ?? []))
  ) {
    throw new TracerError(
      `${p.name}: called with (${avals.map(fmtAval).join(", ")}); its body takes (${want.map(fmtAval).join(", ")})`,
    );
  }
  return p.body.outAvals.map(strong);
}

function jvp(primals: readonly Array[], tangents: readonly Tangent[], p: CheckpointParams): [Array[], Tangent[]] {
  const outAvals = p.body.outAvals;
  const floatOut = outAvals.map((a) => isFloat(a.dtype));
  if (p.policy === "everythingSaveable") {
    const [outs, ts] = jvpFlat(p.name, (xs) => evalJaxpr(p.body, xs), primals, tangents);
    return [outs, ts];
  }
  const has = tangents.map((t) => t !== null);
  const inAvals = p.body.inAvals.map(strong);
  const outs = bind("checkpoint", primals, p);
  const tangentBody = program(`${p.name} (tangents)`, [...inAvals, ...inAvals.filter((_, i) => has[i])], (vs) => {
    const xs = vs.slice(0, primals.length);
    let k = primals.length;
    const ts = has.map((h) => (h ? (vs[k++] as Array) : null));
    const [o, t] = jvpFlat(p.name, (ys) => evalJaxpr(p.body, ys), xs, ts);
    return o.flatMap((x, i) => (floatOut[i] ? [t[i] ?? zerosFor(x)] : []));
  });
  const outT = bind("checkpoint", [...primals, ...tangents.filter((t): t is Array => t !== null)], {
    ...p,
    body: tangentBody,
  });
  let k = 0;
  return [outs, floatOut.map((f) => (f ? (outT[k++] as Array) : null))];
}

/** Linear in its undefined operands given the others (a jvp's tangent checkpoint): the body's transpose, recomputing its primal. */
function transpose(
  cts: readonly Tangent[],
  inputs: readonly (Array | UndefinedPrimal)[],
  p: CheckpointParams,
): Tangent[] {
  const known = inputs.map((x) => (x instanceof UndefinedPrimal ? null : x));
  const inCts = transposeJaxpr(p.body, known, cts);
  let k = 0;
  return inputs.map((x) => (x instanceof UndefinedPrimal ? (inCts[k++] ?? null) : null));
}

function batch(args: readonly Array[], dims: readonly BDim[], p: CheckpointParams, size: number): [Array[], BDim[]] {
  const body = program(
    `${p.name} (batched)`,
    args.map((a) => strong(a.aval)),
    (vs) => batchedEval(p.body, vs, dims, size),
  );
  const outs = bind("checkpoint", args, { ...p, body });
  releaseUnstaged([body]);
  return [outs, outs.map(() => 0)];
}

export const checkpointPrimitives: PrimitiveTable<"checkpoint"> = {
  checkpoint: {
    abstractEval,
    lowering: { kind: "impl", impl: (inputs, p) => ownedOutputs(evalReleasing(p.body, inputs), inputs) },
    jvp,
    transpose,
    batch,
  },
};
