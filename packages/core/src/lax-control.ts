/**
 * Control flow (issue 24): `lax.cond` and `lax.switch` over pytrees, as the `cond` primitive
 * (primitives/cond.ts), so they work eagerly, under jit, grad and vmap.
 */
import type { Array, ArrayLike } from "./array.js";
import { fmtAval } from "./core/aval.js";
import { type ClosedJaxpr, evalJaxpr } from "./core/jaxpr.js";
import { stage } from "./core/staging.js";
import { bind } from "./core/trace.js";
import { TracerError } from "./errors.js";
import { asArray, convert } from "./numpy/convert.js";
import { shapesEqual } from "./shape.js";
import { flattenAs } from "./tree/flatten.js";
import type { TreeDef } from "./tree/treedef.js";

/**
 * `trueFn(...operands)` where `pred` (a scalar) is true, else `falseFn(...operands)`: only that
 * branch runs (JAX's `lax.cond`). Both must return the same pytree structure with the same
 * shapes and dtypes; operands and outputs are pytrees of arrays. Under vmap with a batched
 * `pred` both branches run and each member picks its own (as in JAX); grad differentiates the
 * branch taken.
 */
export function cond<A extends unknown[], R>(
  pred: ArrayLike,
  trueFn: (...operands: A) => R,
  falseFn: (...operands: A) => R,
  ...operands: A
): R {
  const p = asArray(pred, "lax.cond");
  if (p.shape.length !== 0) {
    throw new TracerError(
      `lax.cond: the predicate must be a scalar, got ${fmtAval(p.aval)} (for an elementwise choice use np.where)`,
    );
  }
  const index = convert(p.dtype === "bool" ? p : p.notEqual(0), "int32", false);
  return branchOn("lax.cond", index, [falseFn, trueFn], operands, ["falseFn", "trueFn"]);
}

/**
 * `branches[index](...operands)`, `index` (an integer scalar) clamped into
 * [0, branches.length − 1] (JAX's `lax.switch`); the branches return one structure and types.
 */
function switchOn<A extends unknown[], R>(
  index: ArrayLike,
  branches: readonly ((...operands: A) => R)[],
  ...operands: A
): R {
  if (branches.length === 0) throw new TracerError("lax.switch: needs at least one branch");
  const i = asArray(index, "lax.switch");
  if (i.shape.length !== 0 || (!["int32", "uint32", "bool"].includes(i.dtype) && !i.weakType)) {
    throw new TracerError(`lax.switch: the index must be an integer scalar, got ${fmtAval(i.aval)}`);
  }
  return branchOn(
    "lax.switch",
    convert(i, "int32", false),
    branches,
    operands,
    branches.map((_, k) => `branch ${k}`),
  );
}

export { switchOn as switch };

function branchOn<R>(
  name: string,
  index: Array,
  // biome-ignore lint/suspicious/noExplicitAny: each branch takes the operands as the caller typed them
  branches: readonly ((...operands: any[]) => R)[],
  operands: readonly unknown[],
  labels: readonly string[],
): R {
  const [leaves, inDef] = flattenAs(name, operands as unknown[]);
  const args = leaves.map((l) => asArray(l as ArrayLike, name));
  const avals = args.map((a) => a.aval);
  const outDefs: TreeDef[] = [];
  const staged = branches.map((f, k) =>
    stage(
      `${name} ${labels[k]}`,
      (xs) => {
        const out = f(...(inDef.unflatten(xs) as unknown[]));
        const [outLeaves, def] = flattenAs(name, out);
        outDefs[k] = def;
        return outLeaves.map((l) => asArray(l as ArrayLike, name));
      },
      avals,
    ),
  );
  const def0 = outDefs[0] as TreeDef;
  const out0 = (staged[0] as { closed: ClosedJaxpr }).closed.outAvals;
  staged.forEach(({ closed }, k) => {
    const def = outDefs[k] as TreeDef;
    if (!def.equals(def0)) {
      throw new TracerError(
        `${name}: ${labels[k]} returns ${String(def)} but ${labels[0]} returns ${String(def0)}; every branch must return the same structure`,
      );
    }
    const outs = closed.outAvals;
    const bad = outs.findIndex((a, i) => a.dtype !== out0[i]?.dtype || !shapesEqual(a.shape, out0[i]?.shape ?? []));
    if (bad >= 0) {
      throw new TracerError(
        `${name}: ${labels[k]} returns (${outs.map(fmtAval).join(", ")}) but ${labels[0]} returns (${out0.map(fmtAval).join(", ")}); ` +
          "every branch must return the same shapes and dtypes",
      );
    }
  });
  // Values of enclosing transforms that any branch reads become operands of every branch.
  const lifted: Array[] = [];
  for (const s of staged) for (const l of s.lifted) if (!lifted.includes(l)) lifted.push(l);
  const programs = staged.map(({ closed, lifted: own }) => {
    if (lifted.length === 0) return closed;
    const picked = own.map((l) => lifted.indexOf(l));
    const wrapped = stage(
      name,
      (xs) => evalJaxpr(closed, [...picked.map((j) => xs[j] as Array), ...xs.slice(lifted.length)]),
      [...lifted.map((l) => l.aval), ...avals],
    );
    return wrapped.closed;
  });
  const outs = bind("cond", [index, ...lifted, ...args], { name, branches: programs });
  return def0.unflatten(outs) as R;
}
