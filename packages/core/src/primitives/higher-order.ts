/**
 * What the higher-order primitives (cond, scan, while) share: staging a body as a program, the
 * trace functions their rules call (installed by the modules that define the traces), zeros of
 * a type, and the ownership of an eager run's outputs.
 */
import type { Array } from "../array.js";
import type { Aval } from "../core/aval.js";
import { ConcreteArray } from "../core/concrete.js";
import type { ClosedJaxpr } from "../core/jaxpr.js";
import type { PartialEval } from "../core/partial-eval.js";
import { bind1, currentStager } from "../core/trace.js";
import { TracerError } from "../errors.js";
import { scalar } from "../numpy/convert.js";
import type { BDim, Tangent } from "./types.js";

/**
 * What the control-flow primitives' rules need from the traces (core/ad.ts and core/batching.ts install them: those
 * modules define tracer classes and import the registry, an import cycle if imported here).
 */
export interface ControlFlowDeps {
  jvpFlat(
    name: string,
    f: (xs: Array[]) => Array[],
    primals: readonly Array[],
    tangents: readonly Tangent[],
  ): [Array[], Tangent[]];
  stage(name: string, f: (xs: Array[]) => Array[], avals: readonly Aval[]): { closed: ClosedJaxpr; lifted: Array[] };
  partialEvalJaxpr(
    name: string,
    closed: ClosedJaxpr,
    unknownIns: readonly boolean[],
    toUnknown: readonly boolean[],
  ): PartialEval;
  /** `b` evaluated on `xs` batched at `dims` (size members), every output batched at 0. */
  batchedEval(b: ClosedJaxpr, xs: readonly Array[], dims: readonly BDim[], size: number): Array[];
}
const deps: Partial<ControlFlowDeps> = {};
export function installControlFlowRules(d: Partial<ControlFlowDeps>): void {
  Object.assign(deps, d);
}
function dep<K extends keyof ControlFlowDeps>(k: K): ControlFlowDeps[K] {
  const f = deps[k];
  if (!f) throw new TracerError(`internal: the control-flow rule ${k} is not installed`);
  return f as ControlFlowDeps[K];
}
export const jvpFlat: ControlFlowDeps["jvpFlat"] = (...a) => dep("jvpFlat")(...a);
export const stage: ControlFlowDeps["stage"] = (...a) => dep("stage")(...a);
export const partialEvalJaxpr: ControlFlowDeps["partialEvalJaxpr"] = (...a) => dep("partialEvalJaxpr")(...a);
export const batchedEval: ControlFlowDeps["batchedEval"] = (...a) => dep("batchedEval")(...a);

/** A program of `avals` that calls `f` (staged; nothing of an enclosing transform is read). */
export function program(name: string, avals: readonly Aval[], f: (xs: Array[]) => Array[]): ClosedJaxpr {
  const { closed, lifted } = stage(name, f, avals);
  if (lifted.length > 0) throw new TracerError(`internal: ${name} read a value of an enclosing transform`);
  return closed;
}

/** Zeros of type `a` (a broadcast literal under staging). */
export function zerosOf(a: Aval): Array {
  return bind1("broadcast_in_dim", [scalar(0, a.dtype, false)], { shape: a.shape, broadcastDimensions: [] });
}

/**
 * A higher-order primitive's outputs as new arrays the caller owns: one that is an operand (a
 * branch or body that returns its input) or repeats an earlier output gets its own handle.
 */
export function ownedOutputs(outs: readonly Array[], inputs: readonly Array[]): Array[] {
  const seen = new Set<Array>(inputs);
  return outs.map((o) => {
    if (!seen.has(o)) {
      seen.add(o);
      return o;
    }
    return o instanceof ConcreteArray ? o.retained() : o;
  });
}

/** Disposes the concrete arrays of `made` that are not in `keep` (each once). */
export function releaseExcept(made: readonly Array[], keep: readonly Array[]): void {
  const kept = new Set<Array>(keep);
  for (const x of made) {
    if (kept.has(x) || !(x instanceof ConcreteArray)) continue;
    kept.add(x);
    x.dispose();
  }
}

/**
 * Releases programs staged for one call (their literal scalars and consts) once it ran: unless a
 * staging trace is recording — then an equation may hold them.
 */
export function releaseUnstaged(programs: readonly ClosedJaxpr[]): void {
  if (currentStager()) return;
  for (const p of programs) p.dispose();
}

/** Releases programs whose equations were only inlined into others (a split's parts). */
export function releaseInlined(programs: readonly ClosedJaxpr[]): void {
  for (const p of programs) p.dispose();
}

/** Disposes the concrete arrays in `made` (a call's own intermediates) unless a staging trace is recording. */
export function releaseMade(made: Iterable<Array>): void {
  if (currentStager()) return;
  for (const x of made) if (x instanceof ConcreteArray && !x.disposed) x.dispose();
}
