/**
 * `sequential(...layers)`: modules (and bare functions such as `nn.elu`) applied in order.
 * Child i is named `kind_i` (`dense_0`, `batchNorm_1`) unless it was given a name, gets the key
 * `foldIn(key, i)` at init and in `apply`, and its params and state sit under its name.
 */
import { type Array, evalShape, type PyTree, random, ShapeDtypeStruct, WebjaxError } from "@webjax/core";
import {
  type ApplyOptions,
  childRules,
  entry,
  type InputSpec,
  type Module,
  module,
  specOf,
  type Variables,
} from "./module.js";

/** A layer of a sequential: a module or a function of one array (an activation). */
export type Layer = Module | ((x: Array) => Array);

/** A bare function as a parameterless module (its kind is the function's name, or "activation"). */
export function asModule(layer: Layer): Module {
  if (typeof layer !== "function") return layer;
  const fn = layer;
  return module({
    kind: fn.name || "activation",
    config: { fn },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x) => [fn(x), vars.state],
  });
}

/** The sub-variables of a child: its entries of params and state ({} when it has none). */
export function childVariables(variables: Variables, name: string): Variables {
  const pick = (t: PyTree, what: string): PyTree => {
    if (t === null || typeof t !== "object") {
      throw new WebjaxError(`expected ${what} to be an object keyed by layer name, got ${String(t)}`);
    }
    return ((t as Record<string, PyTree>)[name] ?? {}) as PyTree;
  };
  return { params: pick(variables.params, "params"), state: pick(variables.state, "state") };
}

/** The output spec of `m` for an input of spec `x` (no computation: `evalShape`). */
export function outputSpec(m: Module, variables: Variables, x: InputSpec): InputSpec {
  const out = evalShape((v: Variables, a: Array) => m.apply(v, a)[0])(
    variables,
    new ShapeDtypeStruct(x.shape, x.dtype),
  );
  return specOf(out);
}

/** Layers applied in order; see the file comment. */
export function sequential(...layers: Layer[]): Module {
  const children = layers.map((l, i) => {
    const m = asModule(l);
    return m.named ? m : m.withName(`${m.kind}_${i}`);
  });
  const names = new Set<string>();
  for (const c of children) {
    if (names.has(c.name)) throw new WebjaxError(`sequential: two layers are named ${JSON.stringify(c.name)}`);
    names.add(c.name);
  }
  return sequentialOf(children);
}

/** A sequential over already-named children (what `foldBatchNorm` rebuilds). */
export function sequentialOf(children: readonly Module[], name?: string): Module {
  return module({
    kind: "sequential",
    ...(name === undefined ? {} : { name }),
    layers: children,
    rules: childRules(children),
    init: (key: Array, sample: InputSpec) => {
      let spec = specOf(sample);
      const params: Record<string, PyTree> = {};
      const state: Record<string, PyTree> = {};
      children.forEach((c, i) => {
        const v = c.init(random.foldIn(key, i), spec);
        Object.assign(params, entry(c.name, v.params));
        Object.assign(state, entry(c.name, v.state));
        if (i < children.length - 1) spec = outputSpec(c, v, spec);
      });
      return { params, state };
    },
    apply: (variables: Variables, x: Array, opts: ApplyOptions) => applyChildren(children, variables, x, opts),
  });
}

/**
 * The children in order, child i with its sub-variables and `foldIn(key, i)`; `onLayer` sees each
 * child's output (what `nn.intermediates` records).
 */
export function applyChildren(
  children: readonly Module[],
  variables: Variables,
  x: Array,
  opts: ApplyOptions,
  onLayer?: (child: Module, output: Array) => void,
): [Array, PyTree] {
  const state: Record<string, PyTree> = {};
  let y = x;
  children.forEach((c, i) => {
    const sub = childVariables(variables, c.name);
    const key = opts.key === undefined ? undefined : random.foldIn(opts.key, i);
    const [out, s] = c.apply(sub, y, { ...opts, key });
    y = out;
    onLayer?.(c, out);
    Object.assign(state, entry(c.name, s));
  });
  return [y, state];
}
