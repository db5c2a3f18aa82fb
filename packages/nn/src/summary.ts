/**
 * `nn.summary(model, sampleInput)`: Keras' `model.summary()` — each layer's name and kind, its
 * output shape and its parameter count, then the totals (trainable params, non-trainable state).
 * Shapes come from `evalShape`, so nothing is computed or allocated.
 */
import { evalShape, type PyTree, random, tree } from "@webjax/core";
import type { InputSpec, Module, Variables } from "./module.js";
import { childVariables, outputSpec } from "./sequential.js";

/** One row of a summary. */
export interface SummaryRow {
  readonly name: string;
  readonly kind: string;
  readonly outputShape: readonly number[];
  /** Trainable parameters (in `params`). */
  readonly params: number;
  /** Non-trainable values (in `state`: batch norm's moving statistics). */
  readonly state: number;
}

const count = (t: PyTree): number =>
  tree.leaves(t).reduce((a: number, l) => a + (l as { shape: readonly number[] }).shape.reduce((x, y) => x * y, 1), 0);

/** The rows of a summary: one per layer of a sequential (or one for any other module). */
export function summaryRows(model: Module, sampleInput: InputSpec): SummaryRow[] {
  const init = (k: unknown): PyTree => model.init(k as never, sampleInput) as unknown as PyTree;
  const vars = (evalShape as (f: (k: unknown) => PyTree) => (k: unknown) => unknown)(init)(random.key(0)) as Variables;
  if (model.kind !== "sequential") {
    const out = outputSpec(model, vars, sampleInput);
    return [
      {
        name: model.name,
        kind: model.kind,
        outputShape: out.shape,
        params: count(vars.params),
        state: count(vars.state),
      },
    ];
  }
  let spec: InputSpec = sampleInput;
  return model.layers.map((c) => {
    const sub = childVariables(vars, c.name);
    spec = outputSpec(c, sub, spec);
    return { name: c.name, kind: c.kind, outputShape: spec.shape, params: count(sub.params), state: count(sub.state) };
  });
}

const thousands = (n: number): string => n.toLocaleString("en-US");

/**
 * The summary as text:
 * ```
 * Layer (type)                 Output shape        Param #
 * dense_0 (dense)              [32,300]            235,500
 * ...
 * Total params: 266,610   Trainable: 266,610   Non-trainable: 0
 * ```
 */
export function summary(model: Module, sampleInput: InputSpec): string {
  const rows = summaryRows(model, sampleInput);
  const cells = rows.map((r) => [
    `${r.name} (${r.kind})`,
    `[${r.outputShape.join(",")}]`,
    thousands(r.params + r.state),
  ]);
  const head = ["Layer (type)", "Output shape", "Param #"];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)) + 2);
  const line = (c: readonly string[]) => c.map((s, i) => (i === 2 ? s : s.padEnd(widths[i] as number))).join("");
  const rule = "─".repeat(widths.reduce((a, b) => a + b, 0));
  const trainable = rows.reduce((a, r) => a + r.params, 0);
  const fixed = rows.reduce((a, r) => a + r.state, 0);
  return [
    `Model: "${model.name}"`,
    rule,
    line(head),
    rule,
    ...cells.map(line),
    rule,
    `Total params: ${thousands(trainable + fixed)}`,
    `Trainable params: ${thousands(trainable)}`,
    `Non-trainable params: ${thousands(fixed)}`,
  ].join("\n");
}
