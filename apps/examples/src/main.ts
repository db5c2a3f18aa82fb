/**
 * The README's main job: fit a logistic regression on WebGPU when an adapter is present, else
 * on the embedded CPU backend (with a warning that says why), and print the loss falling.
 * (Later releases replace it with the Fashion-MNIST training demo.)
 */
import { currentBackend, memoryStats } from "@webjax/core";
import { init, shutdown } from "@webjax/webgpu/node";
import { fitLogisticRegression } from "./logistic-regression.js";

await init({ powerPreference: "high-performance" });
const started = performance.now();
console.log(`webjax: logistic regression by gradient descent (valueAndGrad) on the ${currentBackend()} backend`);
const result = await fitLogisticRegression({
  steps: 500,
  logEvery: 50,
  log: (step, loss) => console.log(`step ${String(step).padStart(4)}  loss ${loss.toFixed(5)}`),
});
const seconds = (performance.now() - started) / 1000;
console.log(
  `done in ${seconds.toFixed(2)} s: loss ${result.loss.toFixed(5)}, accuracy ${(result.accuracy * 100).toFixed(1)}%, ` +
    `w = [${result.w.map((v) => v.toFixed(3)).join(", ")}], b = ${result.b.toFixed(3)}`,
);
console.log(`live memory after the run: ${JSON.stringify(memoryStats())}`);
shutdown();
