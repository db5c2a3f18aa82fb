/**
 * Line charts as SVG files, with Vega-Lite rendered headless by Vega (no browser, no canvas):
 * the examples' plots. One call draws one or more panels of named series.
 */
import { writeFile } from "node:fs/promises";
import * as vega from "vega";
import * as vl from "vega-lite";

/** One line: its name (the legend) and its points. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** One panel: a title, axis titles, log scales, and its lines. */
export interface Panel {
  readonly title: string;
  readonly x: string;
  readonly y: string;
  readonly series: readonly Series[];
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** Vertical rules at these x values, each with a label (e.g. a suggested learning rate). */
  readonly marks?: ReadonlyArray<{ readonly x: number; readonly label: string }>;
}

function panelSpec(p: Panel): Record<string, unknown> {
  const values = p.series.flatMap((s) => s.points.map(([x, y]) => ({ x, y, series: s.name })));
  const layers: unknown[] = [
    {
      data: { values },
      mark: { type: "line", point: values.length <= 60 },
      encoding: {
        x: { field: "x", type: "quantitative", title: p.x, scale: p.logX ? { type: "log" } : { zero: false } },
        y: { field: "y", type: "quantitative", title: p.y, scale: p.logY ? { type: "log" } : { zero: false } },
        color: { field: "series", type: "nominal", title: null, legend: { orient: "bottom", columns: 4 } },
      },
    },
  ];
  for (const m of p.marks ?? []) {
    layers.push({
      data: { values: [{ x: m.x, label: m.label }] },
      layer: [
        {
          mark: { type: "rule", strokeDash: [4, 4], color: "#666" },
          encoding: { x: { field: "x", type: "quantitative" } },
        },
        {
          mark: { type: "text", align: "left", dx: 4, baseline: "top", color: "#444" },
          encoding: { x: { field: "x", type: "quantitative" }, y: { value: 4 }, text: { field: "label" } },
        },
      ],
    });
  }
  return { title: p.title, width: 360, height: 240, layer: layers, resolve: { scale: { color: "independent" } } };
}

/** Writes the panels side by side (`columns` per row) as an SVG file; returns the SVG text. */
export async function writeLinePlot(
  path: string,
  title: string,
  panels: readonly Panel[],
  opts: { columns?: number } = {},
): Promise<string> {
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: title, fontSize: 14 },
    config: { font: "sans-serif", view: { stroke: null } },
    columns: opts.columns ?? 2,
    concat: panels.map(panelSpec),
    resolve: { scale: { color: "independent" } },
  } as unknown as vl.TopLevelSpec;
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  await writeFile(path, svg);
  return svg;
}
