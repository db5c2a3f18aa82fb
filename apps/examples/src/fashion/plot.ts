/**
 * The training curves as an SVG, drawn with Vega-Lite (rendered headless by Vega, no browser):
 * loss and accuracy per epoch, training and validation side by side, the learning rate below,
 * and the epoch whose weights early stopping restored marked on the top panels.
 */
import { writeFile } from "node:fs/promises";
import type { History } from "@webjax/nn";
import * as vega from "vega";
import * as vl from "vega-lite";

type Row = { epoch: number; value: number; series: string };

function rows(history: History, keys: readonly [string, string][]): Row[] {
  const epochs = history.epoch ?? [];
  return keys.flatMap(([key, series]) =>
    (history[key] ?? []).map((value, i) => ({ epoch: (epochs[i] ?? i) + 1, value, series })),
  );
}

function panel(
  title: string,
  data: Row[],
  best: number | undefined,
  yTitle: string,
  opts: { log?: boolean; color?: string } = {},
): vl.TopLevelSpec {
  const epochs = [...new Set(data.map((r) => r.epoch))];
  const line = {
    mark: { type: "line", point: true, ...(opts.color ? { color: opts.color } : {}) },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch", axis: { values: epochs, format: "d" } },
      y: {
        field: "value",
        type: "quantitative",
        title: yTitle,
        scale: opts.log ? { type: "log" } : { zero: false },
      },
      ...(opts.color ? {} : { color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom" } } }),
    },
  };
  const layers: unknown[] = [{ data: { values: data }, ...line }];
  if (best !== undefined) {
    layers.push({
      data: { values: [{ epoch: best + 1 }] },
      mark: { type: "rule", strokeDash: [4, 4], color: "#888" },
      encoding: { x: { field: "epoch", type: "quantitative" } },
    });
    layers.push({
      data: { values: [{ epoch: best + 1, label: "restored" }] },
      mark: { type: "text", align: "left", dx: 4, dy: -4, baseline: "top", color: "#666" },
      encoding: { x: { field: "epoch", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } },
    });
  }
  return { title, width: 320, height: 220, layer: layers } as unknown as vl.TopLevelSpec;
}

/** Writes the plot to `path` (SVG) and returns the SVG text. */
export async function writeTrainingPlot(
  path: string,
  history: History,
  opts: { title: string; bestEpoch?: number | undefined },
): Promise<string> {
  const loss = rows(history, [
    ["loss", "training"],
    ["val_loss", "validation"],
  ]);
  const acc = rows(history, [
    ["accuracy", "training"],
    ["val_accuracy", "validation"],
  ]);
  const lr = rows(history, [["learning_rate", "learning rate"]]);
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: opts.title, fontSize: 14 },
    config: { font: "sans-serif", view: { stroke: null } },
    vconcat: [
      {
        hconcat: [
          panel("loss", loss, opts.bestEpoch, "cross-entropy"),
          panel("accuracy", acc, opts.bestEpoch, "accuracy"),
        ],
      },
      ...(lr.length > 0
        ? [
            panel("learning rate at the end of each epoch", lr, undefined, "learning rate", {
              log: true,
              color: "#4c78a8",
            }),
          ]
        : []),
    ],
  } as unknown as vl.TopLevelSpec;
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  await writeFile(path, svg);
  return svg;
}
