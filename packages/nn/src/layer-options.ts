/** What the layers share: reading a param, checking inputs, the kernel/bias options. */
import { Array, DTypeError, type PyTree, ShapeError } from "@webjax/core";
import { getActivation } from "./activations.js";
import { get as getInitializer, type Initializer } from "./initializers.js";
import type { Constraint, ParamRules, Regularizer, Variables } from "./module.js";

/** `[2,3]`, for messages. */
export const fmt = (shape: readonly number[]): string => `[${shape.join(",")}]`;

/** An activation given by function or by name (`"relu"`, `"elu"`). */
export type ActivationArg = ((x: Array) => Array) | string;

/** The options of a layer with a kernel and a bias (dense, conv). */
export interface KernelOptions {
  /** Add a bias (default true). */
  readonly useBias?: boolean;
  /** The kernel's initialiser (default `glorotUniform`, Keras' default), or its name. */
  readonly kernelInit?: Initializer | string;
  /** The bias' initialiser (default zeros), or its name. */
  readonly biasInit?: Initializer | string;
  /** A penalty on the kernel, summed into `model.penalty(params)` (e.g. `nn.regularizers.l2(1e-4)`). */
  readonly kernelRegularizer?: Regularizer;
  /** A penalty on the bias. */
  readonly biasRegularizer?: Regularizer;
  /** A projection of the kernel after each step, through `model.constraints()` (e.g. `nn.regularizers.maxNorm(2)`). */
  readonly kernelConstraint?: Constraint;
  /** An activation applied to the output (Keras' `activation=`). */
  readonly activation?: ActivationArg;
  /** An explicit layer name (kept inside a sequential). */
  readonly name?: string;
}

/** The kernel/bias rules of a layer with {@link KernelOptions}. */
export function kernelRules(o: KernelOptions): ParamRules {
  const penalties: (readonly [string, Regularizer])[] = [];
  if (o.kernelRegularizer) penalties.push(["kernel", o.kernelRegularizer]);
  if (o.biasRegularizer && o.useBias !== false) penalties.push(["bias", o.biasRegularizer]);
  return { penalties, constraints: o.kernelConstraint ? [["kernel", o.kernelConstraint]] : [] };
}

/** The activation function of an option (identity when absent). */
export function activationOf(a: ActivationArg | undefined): ((x: Array) => Array) | undefined {
  if (a === undefined) return undefined;
  return typeof a === "string" ? getActivation(a) : a;
}

/** The initialiser of an option, with its default. */
export function initOf(i: Initializer | string | undefined, fallback: Initializer): Initializer {
  return i === undefined ? fallback : getInitializer(i);
}

/** The param `name` of a layer's variables, or an error naming what is there. */
export function param(variables: Variables, name: string): Array {
  const p = variables.params as Record<string, PyTree> | null;
  const v = p !== null && typeof p === "object" ? p[name] : undefined;
  if (!(v instanceof Array)) {
    const have = p !== null && typeof p === "object" ? Object.keys(p) : [];
    throw new ShapeError(
      `no param ${JSON.stringify(name)} in the variables given (they have ${have.length ? have.join(", ") : "none"}); pass the variables init returned`,
    );
  }
  return v;
}

/** The state entry `name` of a layer's variables. */
export function stateEntry(variables: Variables, name: string): Array {
  const s = variables.state as Record<string, PyTree> | null;
  const v = s !== null && typeof s === "object" ? s[name] : undefined;
  if (!(v instanceof Array)) {
    throw new ShapeError(`no state ${JSON.stringify(name)} in the variables given; pass the state init returned`);
  }
  return v;
}

/** Checks that `x` is a float array of one of the ranks, with `features` on the last axis when given. */
export function checkInput(
  x: Array | { shape: readonly number[]; dtype: string },
  what: { ranks?: readonly number[]; minRank?: number; features?: number; float?: boolean; expected?: string },
): void {
  const r = x.shape.length;
  const shapeText = what.expected ?? "";
  if (what.ranks && !what.ranks.includes(r)) {
    throw new ShapeError(
      `expected an input of rank ${what.ranks.join(" or ")}${shapeText ? ` (${shapeText})` : ""}, got shape ${fmt(x.shape)}`,
    );
  }
  if (what.minRank !== undefined && r < what.minRank) {
    throw new ShapeError(
      `expected an input of rank ≥ ${what.minRank}${shapeText ? ` (${shapeText})` : ""}, got shape ${fmt(x.shape)}`,
    );
  }
  if (what.features !== undefined && x.shape[r - 1] !== what.features) {
    throw new ShapeError(
      `expected ${what.features} features on the last axis${shapeText ? ` (${shapeText})` : ""}, got shape ${fmt(x.shape)}`,
    );
  }
  if (what.float !== false && !["float32", "float16", "float64"].includes(x.dtype)) {
    throw new DTypeError(`expected a float input, got dtype ${x.dtype} (shape ${fmt(x.shape)})`);
  }
}

/** A positive integer option, or an error. */
export function positiveInt(op: string, what: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${op}: ${what} must be a positive integer, got ${v}`);
  return v;
}

/** A tuple option given as a number or a list of `n`. */
export function tupleOf(op: string, what: string, v: number | readonly number[], n: number): number[] {
  const list = typeof v === "number" ? new globalThis.Array<number>(n).fill(v) : [...v];
  if (list.length !== n) throw new ShapeError(`${op}: ${what} needs ${n} values, got ${JSON.stringify(v)}`);
  list.forEach((x) => positiveInt(op, what, x));
  return list;
}
