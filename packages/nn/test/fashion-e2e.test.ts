/**
 * End to end on Fashion-MNIST (the `fashion-mnist` package, parsed once into the binary cache):
 * the dense preset with early stopping and restored best weights learns 6,000 training images
 * to ≥ 80% on 1,000 held-out test images within 5 epochs on the CPU (a shorter run on WebGPU);
 * and training saved after 2 epochs, restored in a fresh Node process and continued for 2 more
 * ends bit-identical to 4 uninterrupted epochs (params, batch-norm state, optimiser state).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import { testBackend } from "@webjax/test-utils";
import { afterAll, describe, expect, test } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "webjax-e2e-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const onGpu = testBackend === "webgpu";

describe("Fashion-MNIST end to end", () => {
  test(onGpu
    ? "the dense preset reaches ≥ 70% on 500 test images after 1 epoch on 2,000 images (WebGPU)"
    : "the dense preset with early stopping reaches ≥ 80% on 1,000 test images within 5 epochs of 6,000", async () => {
    const { train, test: held } = await loadFashionMnist();
    const nTrain = onGpu ? 2000 : 6000;
    const epochs = onGpu ? 1 : 5;
    const x = train.images.slice([0, nTrain]);
    const y = train.labels.slice([0, nTrain]);
    const batchSize = 32;
    const stepsPerEpoch = Math.ceil((nTrain * 0.9) / batchSize);
    const p = nn.presets.dense([300, 100, 10], {
      epochs,
      stepsPerEpoch,
      learningRate: 3e-3,
      earlyStopping: { patience: 2 },
    });
    const t0 = performance.now();
    const r = await nn.fit(
      p.model,
      p.model.init(random.key(0), x),
      { x, y },
      {
        optimizer: p.optimizer,
        loss: "sparseCategoricalCrossentropy",
        metrics: ["accuracy"],
        epochs,
        batchSize,
        key: random.key(1),
        validationSplit: 0.1,
        ...(p.earlyStopping ? { earlyStopping: p.earlyStopping } : {}),
        progress: false,
      },
    );
    const seconds = (performance.now() - t0) / 1000;
    const nTest = onGpu ? 500 : 1000;
    const [logits] = p.model.apply(r.variables, held.images.slice([0, nTest]));
    const acc = await nn.metrics.accuracy(logits, held.labels.slice([0, nTest])).item();
    console.log(
      `fashion e2e (${testBackend}): test accuracy ${(acc * 100).toFixed(1)}% after ${r.epochsRun} epochs in ${seconds.toFixed(1)} s; val_accuracy ${r.history.val_accuracy?.map((v) => v.toFixed(3)).join(", ") ?? "—"}`,
    );
    expect(r.epochsRun).toBeLessThanOrEqual(epochs);
    expect(acc).toBeGreaterThanOrEqual(onGpu ? 0.7 : 0.8);
  }, 300_000);

  if (!onGpu) {
    test("saved after 2 epochs, restored in a fresh process, 2 more epochs: bit-identical to 4 uninterrupted", async () => {
      await loadFashionMnist(); // builds the cache the children read
      const script = fileURLToPath(new URL("fixtures/resume-child.mjs", import.meta.url));
      const ck = join(dir, "resume.safetensors");
      const run = (mode: string) => {
        const r = spawnSync(process.execPath, [script, mode, ck], { encoding: "utf8", timeout: 240_000 });
        if (r.status !== 0) throw new Error(`resume child (${mode}) failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").at(-1) as string) as { hash: string; loss: number[] };
      };
      const whole = run("whole");
      const first = run("first");
      const resumed = run("resume");
      expect(first.loss).toHaveLength(2);
      expect(resumed.loss).toHaveLength(2);
      expect(resumed.loss).toEqual(whole.loss.slice(2));
      expect(resumed.hash).toBe(whole.hash);
    }, 300_000);
  }
});
