/**
 * One epoch of `nn.fit` on the full Fashion-MNIST training set (60,000 images) with the dense
 * preset 784-300-100-10 (He init, ELU, Nadam on 1cycle), batch 32, on the CPU backend — against
 * TensorFlow.js' `model.fit` of the same network (Adam: tfjs has no Nadam) on its Wasm backend,
 * in the same run. jax-js has no fit loop or layers API, so it has no row here.
 */
import * as tfl from "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";
import { random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";

export async function benchFit(
  report: (results: Record<string, number>, unit: string) => void,
  heading: (t: string) => void,
) {
  const t0 = performance.now();
  const data = await loadFashionMnist();
  const loadMs = performance.now() - t0;
  const { images, labels } = data.train;
  const n = labels.shape[0] as number;
  heading(
    `\nfit: one epoch of Fashion-MNIST (${n} images, dense 784-300-100-10, batch 32), cpu — dataset load ${loadMs.toFixed(0)} ms (${data.source})`,
  );
  const results: Record<string, number> = {};
  const epochs = 2;
  const p = nn.presets.dense([300, 100, 10], { epochs, stepsPerEpoch: Math.ceil(n / 32), earlyStopping: false });
  const times: number[] = [];
  let last = performance.now();
  await nn.fit(
    p.model,
    p.model.init(random.key(0), images),
    { x: images, y: labels },
    {
      optimizer: p.optimizer,
      loss: "sparseCategoricalCrossentropy",
      metrics: ["accuracy"],
      epochs,
      batchSize: 32,
      key: random.key(1),
      progress: false,
      onEpochEnd: (_e, logs) => {
        const now = performance.now();
        times.push(now - last);
        last = now;
        heading(
          `  webjax epoch ${times.length}: ${((times.at(-1) as number) / 1000).toFixed(1)} s, accuracy ${logs.accuracy?.toFixed(4)}`,
        );
      },
    },
  );
  // The first epoch includes the one-time compile; the second is the steady state.
  results["webjax fit (epoch 1, with compile)"] = (times[0] as number) / 1000;
  results["webjax fit (epoch 2)"] = (times[1] as number) / 1000;

  await tf.setBackend("wasm");
  await tf.ready();
  const pixels = await images.data();
  const ys = await labels.data();
  const x = tf.tensor2d(pixels as Float32Array, [n, 784]);
  const y = tf.oneHot(tf.tensor1d(Int32Array.from(ys), "int32"), 10);
  const m = tfl.sequential({
    layers: [
      tfl.layers.dense({ inputShape: [784], units: 300, activation: "elu", kernelInitializer: "heNormal" }),
      tfl.layers.dense({ units: 100, activation: "elu", kernelInitializer: "heNormal" }),
      tfl.layers.dense({ units: 10, activation: "softmax" }),
    ],
  });
  m.compile({ optimizer: tfl.train.adam(1e-3), loss: "categoricalCrossentropy", metrics: ["accuracy"] });
  const tt = performance.now();
  const h = await m.fit(x, y, { epochs: 1, batchSize: 32, shuffle: true, verbose: 0 });
  results["tfjs wasm model.fit (epoch 1)"] = (performance.now() - tt) / 1000;
  heading(`  tfjs epoch accuracy ${(h.history.acc?.[0] as number | undefined)?.toFixed(4) ?? "?"}`);
  x.dispose();
  y.dispose();
  report(results, "s/epoch");
}
