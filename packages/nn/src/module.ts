/**
 * Pure, functional modules. A module is a pair of functions over plain pytrees:
 *
 * - `init(key, sampleInput) → { params, state }`: trainable parameters and non-trainable state
 *   (batch norm's moving statistics), for an input of the sample's shape and dtype (an Array or
 *   a `ShapeDtypeStruct`: only its shape and dtype are read);
 * - `apply({ params, state }, x, { train, key }) → [y, newState]`: the forward pass. It is
 *   pure, so it runs under `jit`, `grad` and `vmap`.
 *
 * Params and state are objects keyed by layer names (`dense_0/kernel`, `batchNorm_1/mean`), so
 * optax masks, checkpoints and transfer learning address them by path. Regularisers and
 * constraints stay pure too: `model.penalty(params)` is the sum of the layers' penalties and
 * `model.constraints()` is an optax transform that projects updated params onto the layers'
 * constraints (chain it last).
 */
import { type Array, type DType, np, type PyTree, tree, WebjaxError } from "@webjax/core";
import type { GradientTransformation } from "@webjax/optax";

/** A module's variables: trainable `params` and non-trainable `state`, both plain pytrees. */
export interface Variables<P extends PyTree = PyTree, S extends PyTree = PyTree> {
  params: P;
  state: S;
}

/** What `init` reads of its sample input: a shape and a dtype (an Array or a ShapeDtypeStruct). */
export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Options of `apply`. */
export interface ApplyOptions {
  /** Training mode: batch statistics in batch norm, dropout on. Default false (inference). */
  readonly train?: boolean;
  /** The PRNG key of the stochastic layers (dropout, rrelu); layer i gets `foldIn(key, i)`. */
  readonly key?: Array;
  /**
   * Monte Carlo dropout: dropout layers stay on at inference (`train: false`), while batch norm
   * keeps its moving statistics (Gal & Ghahramani 2016). Needs `key`.
   */
  readonly mcDropout?: boolean;
}

/** A penalty on a parameter (`kernelRegularizer`): a scalar to add to the loss. */
export type Regularizer = (w: Array) => Array;
/** A projection of a parameter onto a constraint set (`kernelConstraint`), e.g. max-norm. */
export type Constraint = (w: Array) => Array;

/** A rule attached to one parameter, by its path inside the module's params ("kernel"). */
export interface ParamRules {
  readonly penalties: ReadonlyArray<readonly [string, Regularizer]>;
  readonly constraints: ReadonlyArray<readonly [string, Constraint]>;
}

/** The layer description that `summary` prints. */
export interface LayerInfo {
  /** The layer's name in its parent (`dense_0`). */
  readonly name: string;
  /** Its kind (`dense`, `batchNorm`, `sequential`). */
  readonly kind: string;
  /** Its children, for containers. */
  readonly layers?: readonly Module[];
}

/** A module: `init` and `apply` (see the file comment), its name, and its parameters' rules. */
export interface Module {
  /** The module's name: its kind by default, `kind_i` once placed at position i of a `sequential`. */
  readonly name: string;
  /** Its kind (`dense`, `conv2d`, `batchNorm`, …). */
  readonly kind: string;
  /** True when the name was given by the user (a `sequential` keeps it). */
  readonly named: boolean;
  init(key: Array, sampleInput: InputSpec): Variables;
  apply(variables: Variables, x: Array, opts?: ApplyOptions): [Array, PyTree];
  /** The sum of the module's regularisation penalties over `params` (a float32 scalar). */
  penalty(params: PyTree): Array;
  /** An optax transform projecting `params + updates` onto the module's constraints (chain it last). */
  constraints(): GradientTransformation<null>;
  /** The penalties and constraints by parameter path (what `penalty` and `constraints` use). */
  rules(): ParamRules;
  /** The same module under another name (what `sequential` does with its children). */
  withName(name: string): Module;
  /** Its children, for containers (`sequential`); empty for a layer. */
  readonly layers: readonly Module[];
  /** Layer-specific configuration, for `summary` and `foldBatchNorm` to read. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** What `module()` takes: the two functions, a kind, and optionally rules and children. */
export interface ModuleSpec {
  /** The kind, which is also the default name (`"residual"`). */
  readonly kind: string;
  /** An explicit name (kept by `sequential`). */
  readonly name?: string;
  init(key: Array, sampleInput: InputSpec): Variables;
  apply(variables: Variables, x: Array, opts: ApplyOptions): [Array, PyTree];
  readonly rules?: ParamRules;
  readonly layers?: readonly Module[];
  readonly config?: Readonly<Record<string, unknown>>;
}

const noRules: ParamRules = { penalties: [], constraints: [] };

/** The error path kept on an error a module re-throws: `sequential_0/dense_1`. */
const pathKey = Symbol("webjax.nn.path");
const messageKey = Symbol("webjax.nn.message");
type Tagged = Error & { [pathKey]?: string; [messageKey]?: string };

/**
 * Runs `f`, and prefixes a webjax error's message with the module's name, so a shape error deep
 * in a model says which layer it came from (`dense_1: …`); nested modules join their names with
 * `/`. The error keeps its class.
 */
function named<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof WebjaxError)) throw e;
    const t = e as Tagged;
    const inner = t[pathKey];
    const message = t[messageKey] ?? t.message;
    const path = inner === undefined ? name : `${name}/${inner}`;
    const Ctor = e.constructor as new (m: string) => Tagged;
    const out = new Ctor(`${path}: ${message}`);
    out[pathKey] = path;
    out[messageKey] = message;
    throw out;
  }
}

/** The value at `path` (`a/b`) of a nested object, or undefined. */
export function getPath(t: unknown, path: string): unknown {
  let v = t;
  for (const k of path.split("/")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function sumPenalties(rules: ParamRules, params: PyTree): Array {
  let total = np.zeros([]);
  for (const [path, reg] of rules.penalties) {
    const w = getPath(params, path);
    if (w === undefined) throw new WebjaxError(`penalty: the params have no leaf at ${path}`);
    total = total.add(reg(w as Array));
  }
  return total;
}

/**
 * An optax transform (stateless) that replaces each constrained leaf's update `u` by
 * `c(p + u) − p`, so that after `applyUpdates` the param is `c(p + u)`: Keras applies
 * constraints to the variable after each optimiser step, and this is that step, kept pure.
 */
export function constraintTransform(rules: ParamRules): GradientTransformation<null> {
  const byPath = new Map(rules.constraints.map(([p, c]) => [p, c]));
  return projection("constraints", (path) => byPath.get(path), byPath.size === 0);
}

/**
 * The stateless transform u ↦ c(p + u) − p for each leaf whose path `pick` gives a constraint
 * (what `model.constraints()` and `regularizers.constrain` build).
 */
export function projection(
  op: string,
  pick: (path: string, param: Array) => Constraint | undefined,
  none = false,
): GradientTransformation<null> {
  return {
    init: () => null,
    update: (updates, state, params) => {
      if (none) return [updates, state];
      if (params === undefined) {
        throw new WebjaxError(`${op}: the update needs the params (pass them to update(updates, state, params))`);
      }
      const out = tree.mapWithPath(
        (path: string, u: unknown, p: unknown) => {
          const c = pick(path, p as Array);
          return c === undefined ? u : c((p as Array).add(u as Array)).sub(p as Array);
        },
        updates as PyTree,
        params,
      );
      return [out as typeof updates, state];
    },
  };
}

/**
 * Builds a module from its `init` and `apply`: the way custom modules are written. Errors from
 * inside are prefixed with the module's name; `penalty`, `constraints` and `withName` come free.
 *
 * @example A residual block composing two dense layers:
 * ```ts
 * const residual = (units: number) => {
 *   const body = nn.sequential(nn.dense(units), nn.relu, nn.dense(units));
 *   return nn.module({
 *     kind: "residual",
 *     layers: [body],
 *     init: (key, x) => body.init(key, x),
 *     apply: (vars, x, opts) => {
 *       const [y, state] = body.apply(vars, x, opts);
 *       return [nn.relu(x.add(y)), state];
 *     },
 *   });
 * };
 * ```
 */
export function module(spec: ModuleSpec): Module {
  const name = spec.name ?? spec.kind;
  const rules = spec.rules ?? noRules;
  const build = (n: string, isNamed: boolean): Module => ({
    name: n,
    kind: spec.kind,
    named: isNamed,
    layers: spec.layers ?? [],
    config: spec.config ?? {},
    init: (key, sample) => named(n, () => spec.init(key, sample)),
    apply: (variables, x, opts = {}) => named(n, () => spec.apply(variables, x, opts)),
    penalty: (params) => sumPenalties(rules, params),
    constraints: () => constraintTransform(rules),
    rules: () => rules,
    withName: (m) => build(m, true),
  });
  return build(name, spec.name !== undefined);
}

/** Rules of the children, re-rooted under each child's name. */
export function childRules(children: readonly Module[]): ParamRules {
  const penalties: (readonly [string, Regularizer])[] = [];
  const constraints: (readonly [string, Constraint])[] = [];
  for (const c of children) {
    const r = c.rules();
    for (const [p, f] of r.penalties) penalties.push([`${c.name}/${p}`, f]);
    for (const [p, f] of r.constraints) constraints.push([`${c.name}/${p}`, f]);
  }
  return { penalties, constraints };
}

/** A dtype-and-shape spec of an array (what `init` passes on to the next layer). */
export function specOf(x: InputSpec): InputSpec {
  return { shape: [...x.shape], dtype: x.dtype };
}

/** `{ [name]: value }`, or `{}` when `value` is an empty object (layers without params leave no key). */
export function entry(name: string, value: PyTree): Record<string, PyTree> {
  const empty = value !== null && typeof value === "object" && Object.keys(value as object).length === 0;
  return empty ? {} : { [name]: value };
}
