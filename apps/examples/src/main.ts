/**
 * The README's main job: the lectures' chapter-11 recipe on Fashion-MNIST (see
 * fashion/recipe.ts) on the embedded CPU backend, or WebGPU with `--backend webgpu`. It shows a
 * progress bar per epoch, the validation accuracy after each, `test accuracy NN.NN%` at the end,
 * and writes a safetensors checkpoint and an SVG of the training curves to `--out`.
 *
 *   pnpm demo                      # the whole recipe, 10 epochs
 *   pnpm demo --epochs 3 --preset selu --optimizer momentum --out out/selu
 */
import { join } from "node:path";
import { currentBackend, setBackend } from "@webjax/core";
import { Command, InvalidArgumentError, Option } from "commander";
import { positiveInt, seedOption } from "./cli.js";
import { writeTrainingPlot } from "./fashion/plot.js";
import { PEAK, type RecipeOptions, trainFashionMnist } from "./fashion/recipe.js";

const program = new Command()
  .name("pnpm demo")
  .description(
    "Train the chapter-11 recipe (MLP 784-300-100-10, He + ELU + batch norm, Nadam, 1cycle, early stopping) on Fashion-MNIST.",
  )
  .addOption(new Option("--backend <name>", "where to run").choices(["cpu", "webgpu"]).default("cpu"))
  .addOption(
    new Option("--epochs <n>", "epochs (early stopping may end sooner)").argParser(positiveInt("--epochs")).default(10),
  )
  .addOption(
    new Option("--preset <name>", "dense: He + ELU + batch norm; selu: LeCun + SELU, standardised inputs")
      .choices(["dense", "selu"])
      .default("dense"),
  )
  .addOption(
    new Option("--optimizer <name>", "Nadam, or Nesterov momentum").choices(["nadam", "momentum"]).default("nadam"),
  )
  .addOption(
    new Option("--schedule <name>", "the learning-rate schedule").choices(["1cycle", "constant"]).default("1cycle"),
  )
  .addOption(
    new Option(
      "--lr <rate>",
      `peak learning rate (default ${PEAK.nadam} for nadam, ${PEAK.momentum} for momentum)`,
    ).argParser((v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError(`--lr must be a positive number, got '${v}'.`);
      return n;
    }),
  )
  .addOption(new Option("--batch-size <n>", "examples per step").argParser(positiveInt("--batch-size")).default(128))
  .addOption(seedOption("the PRNG seed (init, shuffles, dropout)"))
  .addOption(new Option("--limit <n>", "train on the first n training images only").argParser(positiveInt("--limit")))
  .addOption(new Option("--out <dir>", "where the checkpoint and the plot go").default(join("out", "fashion-mnist")))
  .showHelpAfterError("(run with --help for the usage)")
  .allowExcessArguments(false);

program.parse();
const o = program.opts<{
  backend: "cpu" | "webgpu";
  epochs: number;
  preset: "dense" | "selu";
  optimizer: "nadam" | "momentum";
  schedule: "1cycle" | "constant";
  lr?: number;
  batchSize: number;
  seed: number;
  limit?: number;
  out: string;
}>();

let shutdown = () => {};
if (o.backend === "webgpu") {
  const gpu = await import("@webjax/webgpu/node");
  // Falls back to the CPU with a warning that says why when no WebGPU adapter is usable.
  await gpu.init({ powerPreference: "high-performance" });
  shutdown = gpu.shutdown;
  console.log(
    currentBackend() === "webgpu"
      ? "webjax: running on WebGPU (Dawn), as --backend webgpu asked"
      : "webjax: running on the embedded CPU backend: WebGPU is not usable here (the warning above says why)",
  );
} else {
  setBackend("cpu");
  console.log(
    "webjax: running on the embedded CPU backend (WebAssembly kernels, a worker per core); --backend webgpu for WebGPU",
  );
}

const opts: RecipeOptions = {
  epochs: o.epochs,
  preset: o.preset,
  optimizer: o.optimizer,
  schedule: o.schedule,
  batchSize: o.batchSize,
  seed: o.seed,
  out: o.out,
  ...(o.lr === undefined ? {} : { learningRate: o.lr }),
  ...(o.limit === undefined ? {} : { limit: o.limit }),
};
console.log(
  `Fashion-MNIST: ${o.preset === "dense" ? "784-300-100-10, He + ELU + batch norm" : "784-300-100-10, LeCun + SELU"}, ` +
    `${o.optimizer} on ${o.schedule}, batch ${o.batchSize}, ${o.epochs} epoch${o.epochs === 1 ? "" : "s"}, seed ${o.seed} (${currentBackend()})`,
);
const started = performance.now();
const r = await trainFashionMnist(opts);
const plot = join(o.out, "training.svg");
await writeTrainingPlot(plot, r.history, {
  title: `Fashion-MNIST, ${o.preset} preset, ${o.optimizer} + ${o.schedule}: test accuracy ${(r.testAccuracy * 100).toFixed(2)}%`,
  bestEpoch: r.bestEpoch,
});
const mean = r.secondsPerEpoch.reduce((a, b) => a + b, 0) / r.secondsPerEpoch.length;
console.log(
  `${r.epochsRun} epoch${r.epochsRun === 1 ? "" : "s"} in ${((performance.now() - started) / 1000).toFixed(1)} s (${mean.toFixed(2)} s per epoch)` +
    (r.bestEpoch === undefined ? "" : `; weights restored from epoch ${r.bestEpoch + 1} (best val_loss)`),
);
console.log(`test accuracy ${(r.testAccuracy * 100).toFixed(2)}%`);
console.log(`checkpoint: ${r.checkpoint}\nplot: ${plot}`);
shutdown();
