/**
 * The main job's recipe, one epoch at a time, on the CPU: `nn.fit` with the chapter-11 preset
 * (MLP 784-300-100-10, He + ELU + batch norm, Nadam on 1cycle, batch 128; 55,000 training and
 * 5,000 validation images of Fashion-MNIST) against, in the same run:
 * - NumPy running exactly this recipe (python/fashion_recipe.py: the same layers, batch norm,
 *   Nadam and 1cycle, OpenBLAS matmuls), when python3 with numpy is present;
 * - TensorFlow.js' `model.fit` of the same layers on its Wasm backend (Adam at a constant rate:
 *   tfjs has no Nadam or 1cycle; neither changes the cost of a step).
 * jax-js has no layers or fit loop, so it has no row. Times are the median over epochs 2..n
 * (epoch 1 includes compiling), as seconds per epoch.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tfl from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;

export async function benchFit(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
  epochs = 3,
) {
  const t0 = performance.now();
  const data = await loadFashionMnist();
  const loadMs = performance.now() - t0;
  const [tr, va] = nn.data.trainValidationSplit(
    { x: data.train.images, y: data.train.labels },
    { validationSize: 5000 },
  );
  const n = tr.y.shape[0] as number;
  heading(
    `\nfit: the main job's recipe (784-300-100-10, batch norm, Nadam, 1cycle, batch 128) on ${n} Fashion-MNIST images, cpu — dataset load ${loadMs.toFixed(0)} ms (${data.source})`,
  );
  const results: Record<string, number> = {};
  const batchSize = 128;
  const p = nn.presets.dense([300, 100, 10], {
    epochs,
    stepsPerEpoch: Math.ceil(n / batchSize),
    batchNorm: true,
    learningRate: 3e-3,
    earlyStopping: false,
  });
  const times: number[] = [];
  let last = performance.now();
  const r = await nn.fit(p.model, p.model.init(random.key(0), tr.x), tr, {
    optimizer: p.optimizer,
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
    epochs,
    batchSize,
    key: random.key(1),
    validationData: va,
    progress: false,
    onEpochEnd: () => {
      const now = performance.now();
      times.push((now - last) / 1000);
      last = now;
    },
  });
  results["webjax nn.fit"] = median(times.slice(1));
  heading(
    `  webjax epochs: ${times.map((s) => s.toFixed(2)).join(", ")} s; val_accuracy ${r.history.val_accuracy?.map((v) => v.toFixed(4)).join(", ")}`,
  );

  const script = fileURLToPath(new URL("../python/fashion_recipe.py", import.meta.url));
  const hasNumpy = spawnSync("python3", ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
  if (hasNumpy) {
    const dir = mkdtempSync(join(tmpdir(), "webjax-fashion-"));
    try {
      const bytes = async (a: { data(): Promise<ArrayLike<number>> }, scale: number) =>
        Uint8Array.from(await a.data(), (v) => Math.round(v * scale));
      writeFileSync(join(dir, "train-images.u8"), await bytes(tr.x, 255));
      writeFileSync(join(dir, "train-labels.u8"), await bytes(tr.y, 1));
      writeFileSync(join(dir, "val-images.u8"), await bytes(va.x, 255));
      writeFileSync(join(dir, "val-labels.u8"), await bytes(va.y, 1));
      writeFileSync(join(dir, "test-images.u8"), await bytes(data.test.images, 255));
      writeFileSync(join(dir, "test-labels.u8"), await bytes(data.test.labels, 1));
      writeFileSync(join(dir, "meta.json"), JSON.stringify({ train: n, val: 5000, test: 10000 }));
      const py = spawnSync("python3", [script, dir, String(epochs), "3e-3"], { encoding: "utf8", timeout: 900_000 });
      if (py.status !== 0) throw new Error(`fashion_recipe.py failed: ${py.stderr}`);
      const out = JSON.parse(py.stdout.trim().split("\n").at(-1) as string) as {
        seconds_per_epoch: number[];
        val_accuracy: number[];
      };
      results["numpy (same recipe)"] = median(out.seconds_per_epoch.slice(1));
      heading(
        `  numpy epochs: ${out.seconds_per_epoch.map((s) => s.toFixed(2)).join(", ")} s; val_accuracy ${out.val_accuracy.map((v) => v.toFixed(4)).join(", ")}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    heading("  numpy: python3 with numpy not found, so no NumPy row");
  }

  await tf.setBackend("wasm");
  await tf.ready();
  const x = tf.tensor2d((await tr.x.data()) as Float32Array, [n, 784]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(await tr.y.data()), "int32"), 10);
  const layer = (units: number) => [
    tfl.layers.dense({ units, kernelInitializer: "heNormal", ...(units === 300 ? { inputShape: [784] } : {}) }),
    tfl.layers.batchNormalization(),
    tfl.layers.elu(),
  ];
  const m = tfl.sequential({
    layers: [...layer(300), ...layer(100), tfl.layers.dense({ units: 10, activation: "softmax" })],
  });
  m.compile({ optimizer: tfl.train.adam(1e-3), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const tfTimes: number[] = [];
  for (let e = 0; e < Math.min(epochs, 2); e++) {
    const tt = performance.now();
    await m.fit(x, y, { epochs: 1, batchSize, shuffle: true, verbose: 0 });
    tfTimes.push((performance.now() - tt) / 1000);
  }
  results["tfjs wasm model.fit"] = tfTimes.at(-1) as number;
  heading(`  tfjs epochs: ${tfTimes.map((s) => s.toFixed(2)).join(", ")} s`);
  x.dispose();
  y.dispose();
  const ratio = (name: string) =>
    results[name] === undefined
      ? ""
      : `; ${name} / webjax = ${((results[name] as number) / (results["webjax nn.fit"] as number)).toFixed(2)}×`;
  heading(`  ratios${ratio("numpy (same recipe)")}${ratio("tfjs wasm model.fit")}`);
  report(results, "s/epoch");
}
