/**
 * The main job (README command one) on a small slice: the CLI trains, prints the backend, the
 * per-epoch validation accuracy and `test accuracy NN.NN%`, and writes a checkpoint that loads
 * and an SVG plot; bad flags get a clear message and the usage hint. The full run's accuracy
 * (≥ 89.5% in 10 epochs) is `pnpm demo`'s job and the issue note's number, not a unit test's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Array as JArray, random, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import { afterAll, describe, expect, test } from "vitest";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "webjax-main-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: "utf8", timeout: 240_000 });

describe("the main job", () => {
  test("trains on a slice, prints the test accuracy and writes a checkpoint and a plot", {
    timeout: 300_000,
  }, async () => {
    const r = run(["--epochs", "2", "--limit", "3000", "--out", out, "--seed", "3"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/running on the embedded CPU backend/);
    expect(r.stdout.match(/^epoch \d\/2 · .*val_accuracy 0\.\d{4}/gm)).toHaveLength(2);
    const m = /^test accuracy (\d\d\.\d\d)%$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(70);
    // The checkpoint holds the trained model: it loads into the preset's variables and scores the same.
    const p = nn.presets.dense([300, 100, 10], { epochs: 2, stepsPerEpoch: 1, batchNorm: true });
    const template = p.model.init(
      random.key(0),
      new (await import("@webjax/core")).ShapeDtypeStruct([1, 28, 28], "float32"),
    );
    const vars = await nn.loadCheckpoint(join(out, "fashion-mnist.safetensors"), template);
    expect(tree.leaves(vars.params).every((l) => (l as JArray).dtype === "float32")).toBe(true);
    const meta = nn.checkpointMetadata(readFileSync(join(out, "fashion-mnist.safetensors")));
    expect(Number(meta.testAccuracy) * 100).toBeCloseTo(Number(m?.[1]), 1);
    const svg = readFileSync(join(out, "training.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("accuracy");
    expect(svg).toContain("validation");
  });

  test("bad flags: a clear message and the usage hint, nothing trained", () => {
    const zero = run(["--epochs", "0"]);
    expect(zero.status).not.toBe(0);
    expect(zero.stderr).toMatch(/--epochs must be a positive integer, got '0'/);
    expect(zero.stderr).toMatch(/run with --help for the usage/);
    const backend = run(["--backend", "tpu"]);
    expect(backend.stderr).toMatch(/Allowed choices are cpu, webgpu/);
    const unknown = run(["--epoch", "3"]);
    expect(unknown.stderr).toMatch(/unknown option '--epoch'/);
    const help = run(["--help"]);
    expect(help.status).toBe(0);
    for (const flag of [
      "--backend",
      "--epochs",
      "--preset",
      "--optimizer",
      "--schedule",
      "--batch-size",
      "--seed",
      "--out",
    ]) {
      expect(help.stdout).toContain(flag);
    }
  });
});
