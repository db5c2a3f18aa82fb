/**
 * Functions with their own derivative rules (jax.custom_jvp, jax.custom_vjp) and stopGradient.
 * Each call goes to the innermost trace among its operands, as a primitive would: outside any
 * transform, and inside those that do not differentiate, the function just runs.
 */
import type { Array } from "../array.js";
import type { CustomJvpCall, CustomVjpCall } from "../core/trace.js";
import { bind1, topTrace } from "../core/trace.js";
import { TracerError } from "../errors.js";
import type { TreeDef } from "../tree/treedef.js";
import type { AnyFn } from "./autodiff.js";
import {
  arrayLeaves,
  type Cotangent,
  type CotangentsOf,
  checkSync,
  leavesLike,
  orZeros,
  type ZeroSpec,
  zeroSpec,
} from "./leaves.js";

function nameOf(f: AnyFn, kind: string): string {
  return f.name ? `${kind} function ${f.name}` : `${kind} function`;
}

/** Runs `call` on the flat leaves of `args` through the innermost trace and rebuilds the output. */
function callCustom(
  name: string,
  args: unknown[],
  make: (def: TreeDef, setOut: (d: TreeDef) => void) => CustomJvpCall | CustomVjpCall,
  kind: "jvp" | "vjp",
): unknown {
  const { leaves, def } = arrayLeaves(name, "an argument", args);
  let outDef: TreeDef | undefined;
  const call = make(def, (d) => {
    if (outDef && !outDef.equals(d)) {
      throw new TracerError(`${name}: the rule's output structure ${d} differs from the function's ${outDef}`);
    }
    outDef = d;
  });
  const trace = topTrace(name, leaves);
  const outs =
    kind === "jvp"
      ? trace.processCustomJvp(call as CustomJvpCall, leaves)
      : trace.processCustomVjp(call as CustomVjpCall, leaves);
  return (outDef as TreeDef).unflatten(outs);
}

function outputLeaves(name: string, out: unknown, setOut: (d: TreeDef) => void): Array[] {
  checkSync(name, out);
  const { leaves, def } = arrayLeaves(name, "the output", out);
  setOut(def);
  return leaves;
}

/** A rule for customJvp: given primals and tangents (shaped like the arguments), `[output, outputTangent]`. */
export type JvpRuleFn<F extends AnyFn> = (
  primals: Parameters<F>,
  tangents: CotangentsOf<Parameters<F>>,
) => readonly [ReturnType<F>, Cotangent<ReturnType<F>>];

/**
 * `f` with a custom forward-mode rule (jax.custom_jvp): differentiation uses `rule`, which must
 * be linear in the tangents; reverse mode transposes it. Example: a logsumexp whose rule is
 * `softmax · t`, stable at any magnitude.
 */
export function customJvp<F extends AnyFn>(f: F, rule: JvpRuleFn<F>): F {
  const name = nameOf(f, "customJvp");
  return ((...args: unknown[]) =>
    callCustom(
      name,
      args,
      (def, setOut) => ({
        name,
        fn: (xs) => outputLeaves(name, f(...(def.unflatten(xs) as unknown[])), setOut),
        jvp: (ps, ts) => {
          const r = rule(def.unflatten(ps) as Parameters<F>, def.unflatten(ts) as never);
          checkSync(name, r);
          if (!globalThis.Array.isArray(r) || r.length !== 2) {
            throw new TracerError(`${name}: the jvp rule must return [output, outputTangent]`);
          }
          const outs = outputLeaves(name, r[0], setOut);
          const { def: od } = arrayLeaves(name, "the output", r[0]);
          const tans = leavesLike(name, "the rule's tangent differs from its output", od, r[1]);
          return [outs, tans];
        },
      }),
      "jvp",
    )) as F;
}

/** The forward pass of customVjp: `[output, residuals]` (residuals: any pytree of arrays). */
export type FwdFn<F extends AnyFn, R> = (...args: Parameters<F>) => readonly [ReturnType<F>, R];
/** The backward pass of customVjp: the cotangent of each argument, in a list. */
export type BwdFn<F extends AnyFn, R> = (residuals: R, ct: Cotangent<ReturnType<F>>) => CotangentsOrZero<Parameters<F>>;

/** One cotangent per argument, null for a zero one (a homomorphic map: tuples stay tuples). */
export type CotangentsOrZero<T extends readonly unknown[]> = { -readonly [K in keyof T]: Cotangent<T[K]> | null };

/**
 * `f` with a custom reverse-mode rule (jax.custom_vjp): under grad/vjp, `fwd` runs instead of f
 * and saves residuals; `bwd(residuals, ct)` returns each argument's cotangent (null for zero).
 * Examples: gradient clipping inside the backward pass, a straight-through estimator.
 * Forward mode (jvp) of such a function is an error, as in JAX.
 */
export function customVjp<F extends AnyFn, R>(f: F, fwd: FwdFn<F, R>, bwd: BwdFn<F, R>): F {
  const name = nameOf(f, "customVjp");
  return ((...args: unknown[]) =>
    callCustom(
      name,
      args,
      (def, setOut) => {
        let resDef: TreeDef | undefined;
        let outDef: TreeDef | undefined;
        let outSpecs: ZeroSpec[] = [];
        return {
          name,
          fn: (xs) => outputLeaves(name, f(...(def.unflatten(xs) as unknown[])), setOut),
          fwd: (xs) => {
            const r = fwd(...(def.unflatten(xs) as Parameters<F>));
            checkSync(name, r);
            if (!globalThis.Array.isArray(r) || r.length !== 2) {
              throw new TracerError(`${name}: fwd must return [output, residuals]`);
            }
            const outs = outputLeaves(name, r[0], (d) => {
              outDef = d;
              setOut(d);
            });
            outSpecs = outs.map(zeroSpec);
            const res = arrayLeaves(name, "a residual", r[1]);
            resDef = res.def;
            return [outs, res.leaves];
          },
          bwd: (residuals, cts) => {
            const od = outDef as TreeDef;
            const ctTree = od.unflatten(cts.map((c, i) => orZeros(c, outSpecs[i] as ZeroSpec)));
            const r = bwd((resDef as TreeDef).unflatten(residuals) as R, ctTree as never);
            checkSync(name, r);
            const list = r as unknown as unknown[];
            if (!globalThis.Array.isArray(list) || list.length !== args.length) {
              throw new TracerError(
                `${name}: bwd must return a list with one cotangent per argument (${args.length}); got ${globalThis.Array.isArray(list) ? list.length : typeof list}`,
              );
            }
            // null (zero) cotangents of whole arguments expand to null leaves.
            const perArg = (def.children() as TreeDef[]).flatMap((child, i) => {
              const c = list[i];
              const n = child.numLeaves;
              if (c === null || c === undefined) return new globalThis.Array<Array | null>(n).fill(null);
              return leavesLike(name, `bwd's cotangent ${i} differs from argument ${i}`, child, c);
            });
            return perArg;
          },
        };
      },
      "vjp",
    )) as F;
}

/**
 * x itself, but differentiation sees a constant: its tangent and cotangent are zero
 * (jax.lax.stop_gradient). Works on pytrees.
 */
export function stopGradient<T>(x: T): T {
  const { leaves, def } = arrayLeaves("stopGradient", "the input", x);
  return def.unflatten(leaves.map((leaf) => bind1("stop_gradient", [leaf], {}))) as T;
}
