/** `fit`'s argument checks: every mistake is a `fit:` error before the first step runs. */
import { type Array, evalShape, ShapeDtypeStruct, WebjaxError } from "@webjax/core";
import type { Module, Variables } from "../module.js";

const KNOWN = [
  "optimizer",
  "loss",
  "epochs",
  "batchSize",
  "key",
  "metrics",
  "validationData",
  "validationSplit",
  "shuffle",
  "initialEpoch",
  "optState",
  "earlyStopping",
  "reduceOnPlateau",
  "checkpoint",
  "progress",
  "onEpochEnd",
  "onBatchEnd",
];

const isArray = (x: unknown): x is Array =>
  typeof x === "object" && x !== null && "shape" in x && "dtype" in x && typeof (x as Array).data === "function";

/** Unknown option names, missing required ones, and data that is not `{ x, y }` of arrays. */
export function checkFitArguments(variables: unknown, data: unknown, opts: Record<string, unknown>): void {
  const unknown = Object.keys(opts).filter((k) => !KNOWN.includes(k));
  if (unknown.length > 0) {
    throw new WebjaxError(
      `fit: unknown option${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}; the options are ${KNOWN.join(", ")}`,
    );
  }
  for (const k of ["optimizer", "loss", "epochs", "key"]) {
    if (opts[k] === undefined) throw new WebjaxError(`fit: the option ${JSON.stringify(k)} is required`);
  }
  const tx = opts.optimizer as { init?: unknown; update?: unknown };
  if (typeof tx !== "object" || typeof tx.init !== "function" || typeof tx.update !== "function") {
    throw new WebjaxError(
      "fit: optimizer must be an optax GradientTransformation ({ init, update }), e.g. optax.adam(1e-3)",
    );
  }
  if (!isArray(opts.key) || opts.key.dtype !== "uint32") {
    throw new WebjaxError("fit: key must be a PRNG key (random.key(seed))");
  }
  const v = variables as Partial<Variables> | null;
  if (v === null || typeof v !== "object" || !("params" in v) || !("state" in v)) {
    throw new WebjaxError("fit: variables must be { params, state }, as model.init returns them");
  }
  for (const [what, d] of [
    ["data", data],
    ["validationData", opts.validationData],
  ] as const) {
    if (d === undefined && what === "validationData") continue;
    const ds = d as { x?: unknown; y?: unknown } | null;
    if (ds === null || typeof ds !== "object" || globalThis.Array.isArray(ds) || !isArray(ds.x) || !isArray(ds.y)) {
      throw new WebjaxError(`fit: ${what} must be { x, y } with arrays x and y (examples on axis 0)`);
    }
  }
  const e = opts.initialEpoch;
  if (e !== undefined && (!Number.isInteger(e) || (e as number) < 0)) {
    throw new WebjaxError(`fit: initialEpoch must be a non-negative integer, got ${String(e)}`);
  }
}

/**
 * Integer class labels in [0, classes) for sparse categorical cross-entropy: out-of-range labels
 * would index past the logits without an error inside the jitted step, so they are checked
 * once, here (Keras raises "Received a label value of … outside the valid range").
 */
export async function checkClassLabels(
  model: Module,
  variables: Variables,
  x: Array,
  y: Array,
  what: string,
): Promise<void> {
  const out = evalShape((v: Variables, a: Array) => model.apply(v, a)[0])(
    variables,
    new ShapeDtypeStruct([1, ...x.shape.slice(1)], x.dtype),
  ) as unknown as { shape: readonly number[] };
  const classes = out.shape[out.shape.length - 1] as number;
  const [lo, hi] = await Promise.all([y.min().item(), y.max().item()]);
  if (lo < 0 || hi >= classes) {
    throw new WebjaxError(
      `fit: ${what} labels must be class indices in [0, ${classes}) for sparseCategoricalCrossentropy with ${classes} outputs; found values from ${lo} to ${hi}`,
    );
  }
}
