/**
 * `while`: a higher-order primitive (DESIGN decision 12) running its body — a closed jaxpr
 * (body consts…, carry…) → carry… — while its cond — (cond consts…, carry…) → bool[] — holds
 * (JAX's while_loop). Operands: the cond's consts, the body's consts, the initial carry.
 *
 * - Eagerly the cond is read after every step where the backend reads synchronously (the
 *   CPU); under jit it is one loop step of the program (primitives/while-as-loop.ts) that does
 *   the same inside `Backend.run`, so the plan replays. On WebGPU, eagerly and under jit, it
 *   is that loop step run by the backend (`Backend.runWhile`): chunks of iterations gated by a
 *   device-side flag, the flag read asynchronously once per chunk.
 * - jvp: a while over (carry, tangents), the cond reading the primal carry: forward mode works.
 *   Reverse mode cannot (the trip count is unknown when the backward pass is built): linearize
 *   refuses it with JAX's advice (core/staging.ts).
 * - vmap: with a batched predicate every member runs until all stop, each keeping its carry
 *   once its own predicate fails (JAX's rule); an unbatched one keeps one loop of the batched body.
 */
import type { Array } from "../array.js";
import { type Aval, fmtAvals, sameType, strong } from "../core/aval.js";
import { ConcreteArray } from "../core/concrete.js";
import { evalJaxpr } from "../core/jaxpr.js";
import { evalReleasing } from "../core/program.js";
import { recorder } from "../core/recording.js";
import { bind, bind1 } from "../core/trace.js";
import { zerosFor } from "../core/zeros.js";
import { isFloat } from "../dtype.js";
import { BackendError, TracerError } from "../errors.js";
import { scalar } from "../numpy/convert.js";
import { batchAt } from "./batch-util.js";
import { batchedEval, jvpFlat, ownedOutputs, program, releaseExcept, releaseUnstaged } from "./higher-order.js";
import type { BDim, Params, PrimitiveTable, Tangent } from "./types.js";
import { whileAsLoop } from "./while-as-loop.js";

type WhileParams = Params["while"];

function abstractEval(avals: readonly Aval[], p: WhileParams): Aval[] {
  const { condConsts: cc, bodyConsts: bc } = p;
  const carry = avals.slice(cc + bc);
  const condIns = [...avals.slice(0, cc), ...carry];
  const bodyIns = [...avals.slice(cc, cc + bc), ...carry];
  const check = (what: string, want: readonly Aval[], got: readonly Aval[]) => {
    if (want.length !== got.length || want.some((a, i) => !sameType(a, got[i] as Aval))) {
      throw new TracerError(`${p.name}: its ${what} takes ${fmtAvals(want)} but the operands give ${fmtAvals(got)}`);
    }
  };
  check("cond", p.cond.inAvals, condIns);
  check("body", p.body.inAvals, bodyIns);
  const c = p.cond.outAvals;
  if (c.length !== 1 || c[0]?.dtype !== "bool" || c[0].shape.length !== 0) {
    throw new TracerError(`${p.name}: its cond must return one bool scalar, got ${fmtAvals(c)}`);
  }
  const out = p.body.outAvals;
  if (out.length !== carry.length || out.some((a, i) => !sameType(a, carry[i] as Aval))) {
    throw new TracerError(
      `${p.name}: the body takes the carry ${fmtAvals(carry)} but returns ${fmtAvals(out)}; the carry must keep its shapes and dtypes`,
    );
  }
  return carry.map(strong);
}

function impl(inputs: readonly Array[], p: WhileParams): Array[] {
  const { condConsts: cc, bodyConsts: bc } = p;
  const condConsts = inputs.slice(0, cc);
  const bodyConsts = inputs.slice(cc, cc + bc);
  let carry = inputs.slice(cc + bc);
  const backend = (inputs.find((x) => x instanceof ConcreteArray) as ConcreteArray | undefined)?.backend;
  if (backend && !backend.canReadSync) {
    // A backend that runs loops on the device (WebGPU) takes the whole loop as one step: a
    // recorded one where the recording takes it, else run now (and the plan is not replayed).
    if (backend.runWhile) {
      const recorded = whileAsLoop(inputs, p);
      if (recorded) return recorded;
      recorder()?.write();
      const onDevice = whileAsLoop(inputs, p, true);
      if (onDevice) return onDevice;
      throw new BackendError(
        `${p.name}: this while loop cannot run on the ${backend.name} device (a float16 carry, or a body that is not one program), ` +
          "and its predicate cannot be read there without waiting; use lax.foriLoop with static bounds or lax.scan, or run it on the cpu backend",
      );
    }
    throw new BackendError(
      `${p.name}: on the ${backend.name} backend a while loop would read its predicate back after every step, ` +
        "which this version cannot do without waiting; use lax.foriLoop with static bounds or lax.scan, or run it on the cpu backend",
    );
  }
  // Inside a jitted program's recording on a backend that reads synchronously: one loop step.
  const looped = whileAsLoop(inputs, p);
  if (looped) return looped;
  // Otherwise a plan recorded now could not replay a data-dependent trip count: the program runs anew each call.
  recorder()?.write();
  for (;;) {
    const [pred] = evalReleasing(p.cond, [...condConsts, ...carry]);
    const go = Boolean((pred as ConcreteArray).dataSync()[0]);
    releaseExcept([pred as Array], inputs);
    if (!go) break;
    const next = evalReleasing(p.body, [...bodyConsts, ...carry]);
    releaseExcept(carry, [...inputs, ...next]);
    carry = next;
  }
  return ownedOutputs(carry, inputs);
}

function jvp(primals: readonly Array[], tangents: readonly Tangent[], p: WhileParams): [Array[], Tangent[]] {
  const { condConsts: cc, bodyConsts: bc, name } = p;
  const carry = primals.slice(cc + bc);
  const nk = carry.length;
  const tb = tangents.slice(cc, cc + bc);
  const tk = tangents.slice(cc + bc);
  const hasB = tb.map((t) => t !== null);
  const floatK = carry.map((c) => isFloat(c.dtype));
  const bAv = p.body.inAvals.slice(0, bc).map(strong);
  const kAv = p.body.inAvals.slice(bc).map(strong);
  const cAv = p.cond.inAvals.slice(0, cc).map(strong);
  const tbAv = bAv.filter((_, i) => hasB[i]);
  const tkAv = kAv.filter((_, i) => floatK[i]);
  // The carry is (primal carry…, tangents of the float carries…); the body's tangent consts join its consts.
  const cond = program(`${name} cond (jvp)`, [...cAv, ...kAv, ...tkAv], (vs) =>
    evalJaxpr(p.cond, vs.slice(0, cc + nk)),
  );
  const body = program(`${name} body (jvp)`, [...bAv, ...tbAv, ...kAv, ...tkAv], (vs) => {
    let t = bc;
    const tbs = hasB.map((h) => (h ? (vs[t++] as Array) : null));
    const ks = vs.slice(t, t + nk);
    t += nk;
    const tks = floatK.map((f) => (f ? (vs[t++] as Array) : null));
    const [outs, outTs] = jvpFlat(name, (xs) => evalJaxpr(p.body, xs), [...vs.slice(0, bc), ...ks], [...tbs, ...tks]);
    return [...outs, ...outs.flatMap((o, i) => (floatK[i] ? [outTs[i] ?? zerosFor(o)] : []))];
  });
  const initT = carry.flatMap((c, i) => (floatK[i] ? [tk[i] ?? zerosFor(c)] : []));
  const outs = bind(
    "while",
    [
      ...primals.slice(0, cc),
      ...primals.slice(cc, cc + bc),
      ...tb.filter((t): t is Array => t !== null),
      ...carry,
      ...initT,
    ],
    { name, cond, body, condConsts: cc, bodyConsts: bc + tbAv.length },
  );
  releaseUnstaged([cond, body]);
  let t = nk;
  return [outs.slice(0, nk), floatK.map((f) => (f ? (outs[t++] as Array) : null))];
}

function batch(args: readonly Array[], dims: readonly BDim[], p: WhileParams, size: number): [Array[], BDim[]] {
  const { condConsts: cc, bodyConsts: bc, name } = p;
  const condConsts = args.slice(0, cc);
  const bodyConsts = args.slice(cc, cc + bc);
  const carry = args.slice(cc + bc).map((c, i) => batchAt(c, dims[cc + bc + i] ?? null, 0, size));
  const cDims = [...dims.slice(0, cc), ...carry.map(() => 0)];
  const bDims = [...dims.slice(cc, cc + bc), ...carry.map(() => 0)];
  const cAv = condConsts.map((c) => strong(c.aval));
  const bAv = bodyConsts.map((c) => strong(c.aval));
  const kAv = carry.map((c) => strong(c.aval));
  // Each member's predicate ([size] bool); the loop goes on while any holds.
  const lanes = (vs: readonly Array[]) => batchedEval(p.cond, vs, cDims, size)[0] as Array;
  const cond = program(`${name} cond (batched)`, [...cAv, ...kAv], (vs) => {
    const any = bind1(
      "reduce_max",
      [bind1("convert_element_type", [lanes(vs)], { newDtype: "int32", weakType: false })],
      {
        axes: [0],
      },
    );
    return [bind1("gt", [any, scalar(0, "int32", false)], {})];
  });
  // The body reads the cond's consts too: a member whose own predicate fails keeps its carry.
  const body = program(`${name} body (batched)`, [...cAv, ...bAv, ...kAv], (vs) => {
    const k = vs.slice(cc + bc);
    const go = lanes([...vs.slice(0, cc), ...k]);
    const next = batchedEval(p.body, vs.slice(cc), bDims, size);
    return next.map((n, i) => {
      const pick = bind1("broadcast_in_dim", [go], { shape: n.shape, broadcastDimensions: [0] });
      return bind1("select", [pick, n, k[i] as Array], {});
    });
  });
  const outs = bind("while", [...condConsts, ...condConsts, ...bodyConsts, ...carry], {
    name,
    cond,
    body,
    condConsts: cc,
    bodyConsts: cc + bc,
  });
  releaseUnstaged([cond, body]);
  return [outs, outs.map(() => 0)];
}

export const whileLoopPrimitives: PrimitiveTable<"while"> = {
  while: { abstractEval, lowering: { kind: "impl", impl }, jvp, batch },
};
