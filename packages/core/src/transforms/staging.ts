/**
 * Looking at programs without running them: `makeJaxpr(f)(...args)` stages f into a printable
 * ClosedJaxpr; `evalShape(f)(...args)` gives the shapes and dtypes of f's outputs. Arguments
 * are arrays, JS numbers, or `ShapeDtypeStruct`s (abstract values: no data at all).
 */
import { Array, type NestedArray } from "../array.js";
import { type Aval, aval, fmtAval } from "../core/aval.js";
import { ConcreteArray, nextArraySerial } from "../core/concrete.js";
import type { ClosedJaxpr } from "../core/jaxpr.js";
import { checkIfEnabled } from "../core/jaxpr-check.js";
import "../core/jaxpr-print.js";
import { stage } from "../core/staging.js";
import type { ValueArray } from "../dtype.js";
import { checkDType, type DType } from "../dtype.js";
import { TracerError, type WebjaxError } from "../errors.js";
import { checkOptions } from "../numpy/options.js";
import { checkShape } from "../shape.js";
import type { TreeDef } from "../tree/treedef.js";
import type { AnyFn } from "./autodiff.js";
import { arrayLeaves, checkSync } from "./leaves.js";

/**
 * An abstract array: a shape and a dtype, no data (jax.ShapeDtypeStruct). Pass it to makeJaxpr
 * or evalShape in place of an array; evalShape returns them.
 */
export class ShapeDtypeStruct extends Array {
  readonly aval: Aval;
  constructor(shape: readonly number[], dtype: DType = "float32", opts: { weakType?: boolean } = {}) {
    super();
    this.aval = aval(
      checkShape(shape, "ShapeDtypeStruct"),
      checkDType(dtype, "ShapeDtypeStruct"),
      opts.weakType ?? false,
    );
  }
  private noData(what: string): never {
    throw new TracerError(
      `${what}: a ShapeDtypeStruct (${fmtAval(this.aval)}) is a shape and a dtype; it has no values`,
    );
  }
  data(): Promise<ValueArray> {
    return this.noData("data()");
  }
  dataSync(): ValueArray {
    return this.noData("dataSync()");
  }
  toArray(): Promise<NestedArray> {
    return this.noData("toArray()");
  }
  item(): Promise<number> {
    return this.noData("item()");
  }
  blockUntilReady(): Promise<this> {
    return this.noData("blockUntilReady()");
  }
  dispose(): void {}
  get disposed(): boolean {
    return false;
  }
  toPrimitiveError(): WebjaxError {
    return new TracerError(`a ShapeDtypeStruct (${fmtAval(this.aval)}) has no value to use as a JS number`);
  }
  override toString(): string {
    return `ShapeDtypeStruct(shape=[${this.shape.join(", ")}], dtype=${this.dtype}${this.weakType ? ", weak_type=True" : ""})`;
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Stages f on the leaves of `args` (the arrays' types; no values are read). */
function stageArgs(op: string, f: AnyFn, args: unknown[]): { closed: ClosedJaxpr; outDef: TreeDef; lifted: Array[] } {
  const mark = nextArraySerial();
  const { leaves, def } = arrayLeaves(op, "an argument", args);
  let outDef: TreeDef | undefined;
  const backend = leaves.map((x) => x.backendHint()).find((b) => b) ?? null;
  const { closed, lifted } = stage(
    op,
    (xs) => {
      const out = f(...(def.unflatten(xs) as unknown[]));
      checkSync(op, out);
      const o = arrayLeaves(op, "the function's output", out);
      outDef = o.def;
      return o.leaves;
    },
    leaves.map((x) => x.aval),
    backend,
  );
  // JS numbers among the arguments became scalars: only their types were used.
  for (const x of leaves) if (x instanceof ConcreteArray && x.serial >= mark) x.dispose();
  checkIfEnabled(closed, `${op}'s program`);
  return { closed, outDef: outDef as TreeDef, lifted };
}

/**
 * f as a program (jax.make_jaxpr): `makeJaxpr(f)(...args)` traces f on the types of args and
 * returns its ClosedJaxpr, which prints as JAX's do. JS numbers in f are literals; concrete
 * arrays f closes over are consts; values of enclosing transforms are its first inputs.
 * Call `dispose()` on it to release its consts now.
 */
export function makeJaxpr<F extends AnyFn>(
  f: F,
  opts: { staticArgnums?: number | readonly number[] } = {},
): (...args: Parameters<F>) => ClosedJaxpr {
  if (typeof f !== "function") throw new TracerError(`makeJaxpr: expected a function, got ${typeof f}`);
  checkOptions("makeJaxpr", opts, ["staticArgnums"], "makeJaxpr(f, { staticArgnums })");
  const nums =
    opts.staticArgnums === undefined
      ? []
      : typeof opts.staticArgnums === "number"
        ? [opts.staticArgnums]
        : [...opts.staticArgnums];
  for (const n of nums) {
    if (!Number.isInteger(n)) throw new TracerError(`makeJaxpr: staticArgnums must be integers, got ${n}`);
  }
  if (nums.length === 0) return (...args) => stageArgs("makeJaxpr", f, args).closed;
  // Static arguments are closed over (any JS value: an activation's name, a flag); the rest are traced.
  return (...args) => {
    const isStatic = (i: number) => nums.some((n) => (n < 0 ? n + args.length : n) === i);
    const traced = args.flatMap((a, i) => (isStatic(i) ? [] : [a]));
    const g = (...xs: unknown[]) => {
      let k = 0;
      return f(...args.map((a, i) => (isStatic(i) ? a : xs[k++])));
    };
    return stageArgs("makeJaxpr", g, traced).closed;
  };
}

/** The output of evalShape: f's output with a ShapeDtypeStruct in place of each array. */
export type ShapesOf<T> = T extends Array
  ? ShapeDtypeStruct
  : T extends number
    ? ShapeDtypeStruct
    : T extends readonly unknown[]
      ? { -readonly [K in keyof T]: ShapesOf<T[K]> }
      : T extends object
        ? { [K in keyof T]: ShapesOf<T[K]> }
        : T;

/**
 * The shapes and dtypes of f's outputs (jax.eval_shape), found by staging f: nothing runs and
 * nothing is allocated. Arguments may be ShapeDtypeStructs.
 */
export function evalShape<F extends AnyFn>(f: F): (...args: Parameters<F>) => ShapesOf<ReturnType<F>> {
  if (typeof f !== "function") throw new TracerError(`evalShape: expected a function, got ${typeof f}`);
  return (...args) => {
    const { closed, outDef } = stageArgs("evalShape", f, args);
    const shapes = closed.outAvals.map((a) => new ShapeDtypeStruct(a.shape, a.dtype, { weakType: a.weakType }));
    closed.dispose();
    return outDef.unflatten(shapes) as ShapesOf<ReturnType<F>>;
  };
}
