/**
 * custom_jvp_call and custom_vjp_call: customJvp/customVjp functions inside a staged program
 * (DESIGN decision 12). Each carries the function's closed jaxpr and the user's rule, so a
 * program evaluated later under jvp, grad or vmap still differentiates with the rule. Their
 * operands are the values the program closes over (`numConsts`; their derivatives are not the
 * rule's business, so a tangent there is an error, as JAX's closed-over value error), then the
 * function's arguments.
 */
import type { Array } from "../array.js";
import { type Aval, fmtAval } from "../core/aval.js";
import { evalJaxpr } from "../core/jaxpr.js";
import { evalReleasing } from "../core/program.js";
import { type CustomJvpCall, type CustomVjpCall, topTrace } from "../core/trace.js";
import { TracerError } from "../errors.js";
import { shapesEqual } from "../shape.js";
import type { BDim, Params, PrimitiveTable, Tangent } from "./types.js";

/**
 * The custom-function rules the traces share (core/jvp.ts and core/batching.ts install them:
 * those modules define tracer classes and import the registry, so importing them here would be
 * an import cycle that runs before their classes exist).
 */
export interface CustomRules {
  jvpOfCustomJvp(call: CustomJvpCall, primals: readonly Array[], tangents: readonly Tangent[]): [Array[], Tangent[]];
  jvpOfCustomVjp(call: CustomVjpCall, primals: readonly Array[], tangents: readonly Tangent[]): [Array[], Tangent[]];
  batchedCustomJvp(call: CustomJvpCall, dims: readonly BDim[], size: number, name: string): CustomJvpCall;
  batchedCustomVjp(call: CustomVjpCall, dims: readonly BDim[], size: number, name: string): CustomVjpCall;
}
const rules: Partial<CustomRules> = {};
export function installCustomRules(r: Partial<CustomRules>): void {
  Object.assign(rules, r);
}
function rule<K extends keyof CustomRules>(k: K): CustomRules[K] {
  const r = rules[k];
  if (!r) throw new TracerError(`internal: the custom-function rule ${k} is not installed`);
  return r as CustomRules[K];
}

type CallParams = Params["custom_jvp_call"] | Params["custom_vjp_call"];

function checkOperands(avals: readonly Aval[], p: CallParams): Aval[] {
  const want = p.call.inAvals;
  const bad = avals.length !== want.length || avals.some((a, i) => !sameType(a, want[i] as Aval));
  if (bad) {
    throw new TracerError(
      `${p.name}: called with (${avals.map(fmtAval).join(", ")}); its program takes (${want.map(fmtAval).join(", ")})`,
    );
  }
  return p.call.outAvals;
}

const sameType = (a: Aval, b: Aval) => a.dtype === b.dtype && shapesEqual(a.shape, b.shape);

function noConstTangents(p: CallParams, tangents: readonly Tangent[]): void {
  if (tangents.slice(0, p.numConsts).some((t) => t !== null)) {
    throw new TracerError(
      `${p.name}: the function closes over a value that is being differentiated. Custom rules only say how to ` +
        "differentiate with respect to the explicit arguments: pass that value as an argument",
    );
  }
}

/** The call on all operands (closed-over values first); the rule sees only the arguments. */
function jvpCallOf(p: Params["custom_jvp_call"]): CustomJvpCall {
  const n = p.numConsts;
  return {
    name: p.name,
    fn: (xs) => evalJaxpr(p.call, xs),
    jvp: (ps, ts) => p.jvp(ps.slice(n), ts.slice(n)),
  };
}

function vjpCallOf(p: Params["custom_vjp_call"]): CustomVjpCall {
  const n = p.numConsts;
  return {
    name: p.name,
    fn: (xs) => evalJaxpr(p.call, xs),
    fwd: (xs) => p.fwd(xs.slice(n)),
    bwd: (res, cts) => [...new globalThis.Array<Array | null>(n).fill(null), ...p.bwd(res, cts)],
  };
}

export const customCallPrimitives: PrimitiveTable<"custom_jvp_call" | "custom_vjp_call"> = {
  custom_jvp_call: {
    abstractEval: checkOperands,
    lowering: { kind: "impl", impl: (inputs, p) => evalReleasing(p.call, inputs) },
    jvp: (primals, tangents, p) => {
      noConstTangents(p, tangents);
      return rule("jvpOfCustomJvp")(jvpCallOf(p), primals, tangents);
    },
    // The batched call goes to the trace below (which stages it again, or runs it).
    batch: (args, dims, p, size) => {
      const outs = topTrace(p.name, args).processCustomJvp(
        rule("batchedCustomJvp")(jvpCallOf(p), dims, size, "vmap"),
        args,
      );
      return [outs, outs.map(() => 0)];
    },
  },
  custom_vjp_call: {
    abstractEval: checkOperands,
    lowering: { kind: "impl", impl: (inputs, p) => evalReleasing(p.call, inputs) },
    jvp: (primals, tangents, p) => {
      noConstTangents(p, tangents);
      return rule("jvpOfCustomVjp")(vjpCallOf(p), primals, tangents);
    },
    batch: (args, dims, p, size) => {
      const outs = topTrace(p.name, args).processCustomVjp(
        rule("batchedCustomVjp")(vjpCallOf(p), dims, size, "vmap"),
        args,
      );
      return [outs, outs.map(() => 0)];
    },
  },
};
