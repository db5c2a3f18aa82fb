/**
 * Monte Carlo dropout (Gal & Ghahramani 2016; Géron, *Hands-On Machine Learning*, ch. 11): train
 * an MLP with dropout on Fashion-MNIST, then predict with dropout still on, averaging the softmax
 * over `samples` dropout masks (`nn.mcPredict`, one jitted, vmapped program):
 *
 *   p̂(y | x) = (1/S) Σₛ softmax(f(x; maskₛ)),   σ̂(y | x) = std over s of softmax(f(x; maskₛ)).
 *
 * It compares the accuracy of the MC mean with the deterministic prediction (dropout off),
 * reports each class's mean confidence, shows the test images whose predicted class has the
 * largest predictive std (the lectures' "uncertain" examples), and checks that uncertainty tracks
 * error: the accuracy on the 10% most uncertain images against the 10% least uncertain.
 *
 *   node apps/examples/dist/examples/mc-dropout.js --limit 3000 --epochs 3
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { random } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import * as optax from "@webjax/optax";
import { Command, Option } from "commander";
import { positiveInt, seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** Options of `run`. */
export interface McDropoutOptions {
  /** Train on the first `limit` training images (default all 60,000). */
  readonly limit?: number;
  /** Score the first `testLimit` test images (default min(limit, 10,000)). */
  readonly testLimit?: number;
  readonly epochs?: number;
  /** Dropout masks sampled per image (default 100, as the lectures). */
  readonly samples?: number;
  /** The dropout rate of every dropout layer (default 0.2). */
  readonly rate?: number;
  /** The folder for `mc-dropout.json` and `uncertainty.svg`. */
  readonly out: string;
  readonly seed?: number;
  /** Print fit's one line per epoch (default false). */
  readonly progress?: boolean;
}

/** One of the most uncertain test images. */
export interface UncertainExample {
  readonly index: number;
  readonly trueClass: string;
  readonly predictedClass: string;
  /** The classes with the highest MC mean probability, best first, with their std over samples. */
  readonly top: ReadonlyArray<{ readonly name: string; readonly mean: number; readonly std: number }>;
  /** The image, 28 × 28 values in [0, 1], row by row. */
  readonly pixels: readonly number[];
}

/** What `run` returns. */
export interface McDropoutResult {
  readonly trainSize: number;
  readonly testSize: number;
  readonly samples: number;
  readonly deterministicAccuracy: number;
  readonly mcAccuracy: number;
  /** The mean over test images of the std of the predicted class's probability. */
  readonly meanStd: number;
  /** Per true class: the MC accuracy and the mean probability the MC mean gives its prediction. */
  readonly perClass: ReadonlyArray<{ readonly name: string; readonly accuracy: number; readonly confidence: number }>;
  /** Accuracy per decile of uncertainty, least uncertain first. */
  readonly decileAccuracy: readonly number[];
  readonly leastUncertainAccuracy: number;
  readonly mostUncertainAccuracy: number;
  /** Pearson correlation between the predicted class's std and the 0/1 error (point-biserial). */
  readonly uncertaintyErrorCorrelation: number;
  readonly uncertain: readonly UncertainExample[];
  /** Wall time of training and of the predictions (deterministic and MC). */
  readonly seconds: { readonly train: number; readonly predict: number };
}

/** The lectures' MLP with dropout before every dense layer: 784 → 300 → 100 → 10, He init, ELU. */
export function dropoutMlp(rate = 0.2): nn.Module {
  const he = { kernelInit: nn.initializers.heNormal() };
  return nn.sequential(
    nn.flatten(),
    nn.dropout(rate),
    nn.dense(300, he),
    nn.elu,
    nn.dropout(rate),
    nn.dense(100, he),
    nn.elu,
    nn.dropout(rate),
    nn.dense(10),
  );
}

const argmax = (row: ArrayLike<number>, from: number, k: number): number => {
  let best = 0;
  for (let j = 1; j < k; j++) if ((row[from + j] as number) > (row[from + best] as number)) best = j;
  return best;
};

function pearson(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/** Trains the dropout MLP, runs MC dropout on the test slice and analyses the uncertainty. */
export async function run(opts: McDropoutOptions): Promise<McDropoutResult> {
  const seed = opts.seed ?? 0;
  const epochs = opts.epochs ?? 3;
  const samples = opts.samples ?? 100;
  const { train, test, classNames } = await loadFashionMnist();
  const n = Math.min(opts.limit ?? 60_000, train.labels.shape[0] as number);
  const m = Math.min(opts.testLimit ?? Math.min(n, 10_000), test.labels.shape[0] as number);
  const data = { x: train.images.slice([0, n]), y: train.labels.slice([0, n]) };
  const xTest = test.images.slice([0, m]);
  const yTest = test.labels.slice([0, m]);

  const model = dropoutMlp(opts.rate ?? 0.2);
  const t0 = performance.now();
  const { variables } = await nn.fit(model, model.init(random.key(seed), data.x), data, {
    optimizer: optax.nadam(1e-3),
    loss: "sparseCategoricalCrossentropy",
    metrics: ["accuracy"],
    epochs,
    batchSize: 32,
    key: random.key(seed + 1),
    progress: opts.progress ? "line" : false,
  });

  const t1 = performance.now();
  const [logits] = model.apply(variables, xTest);
  const deterministicAccuracy = await nn.metrics.accuracy(logits, yTest).item();
  // 100 masks of a 1,024-image batch (mcPredict's default) hold ~100 × 1,024 × 1,200 activations
  // and their masks at once: more than the CPU backend's 4 GiB heap. 250 images a run fit.
  const mc = nn.mcPredict(model, variables, xTest, {
    samples,
    key: random.key(seed + 2),
    postprocess: nn.softmax,
    batchSize: 250,
  });
  const mcAccuracy = await nn.metrics.accuracy(mc.mean, yTest).item();
  const seconds = { train: (t1 - t0) / 1000, predict: (performance.now() - t1) / 1000 };

  // The rest is bookkeeping over m × 10 numbers: plain JS.
  const [mean, std, labels, images] = await Promise.all([mc.mean.data(), mc.std.data(), yTest.data(), xTest.data()]);
  const k = classNames.length;
  const pred: number[] = [];
  const conf: number[] = [];
  const unc: number[] = [];
  const err: number[] = [];
  for (let i = 0; i < m; i++) {
    const c = argmax(mean, i * k, k);
    pred.push(c);
    conf.push(mean[i * k + c] as number);
    unc.push(std[i * k + c] as number);
    err.push(c === labels[i] ? 0 : 1);
  }
  const perClass = classNames.map((name, c) => {
    const rows = [...Array(m).keys()].filter((i) => labels[i] === c);
    const avg = (f: (i: number) => number) => rows.reduce((s, i) => s + f(i), 0) / Math.max(rows.length, 1);
    return { name, accuracy: avg((i) => 1 - (err[i] as number)), confidence: avg((i) => conf[i] as number) };
  });
  const order = [...Array(m).keys()].sort((a, b) => (unc[a] as number) - (unc[b] as number));
  const decileAccuracy = [...Array(10).keys()].map((d) => {
    const part = order.slice(Math.floor((d * m) / 10), Math.floor(((d + 1) * m) / 10));
    return part.reduce((s, i) => s + 1 - (err[i] as number), 0) / Math.max(part.length, 1);
  });
  const uncertain = order
    .slice(-4)
    .reverse()
    .map((i): UncertainExample => {
      const classes = [...Array(k).keys()].sort((a, b) => (mean[i * k + b] as number) - (mean[i * k + a] as number));
      return {
        index: i,
        trueClass: classNames[labels[i] as number] as string,
        predictedClass: classNames[pred[i] as number] as string,
        top: classes.slice(0, 3).map((c) => ({
          name: classNames[c] as string,
          mean: mean[i * k + c] as number,
          std: std[i * k + c] as number,
        })),
        pixels: Array.from(images.subarray(i * 784, (i + 1) * 784)),
      };
    });
  const result: McDropoutResult = {
    trainSize: n,
    testSize: m,
    samples,
    deterministicAccuracy,
    mcAccuracy,
    meanStd: unc.reduce((s, v) => s + v, 0) / m,
    perClass,
    decileAccuracy,
    leastUncertainAccuracy: decileAccuracy[0] as number,
    mostUncertainAccuracy: decileAccuracy[9] as number,
    uncertaintyErrorCorrelation: pearson(unc, err),
    uncertain,
    seconds,
  };
  await mkdir(opts.out, { recursive: true });
  await writeFile(
    join(opts.out, "mc-dropout.json"),
    JSON.stringify({ ...result, uncertain: uncertain.map(({ pixels, ...u }) => u) }, null, 2),
  );
  await writeLinePlot(join(opts.out, "uncertainty.svg"), "MC dropout: accuracy by uncertainty decile", [
    {
      title: `${samples} dropout masks, ${m} test images`,
      x: "decile of predictive std (1 = least uncertain)",
      y: "accuracy",
      series: [{ name: "MC mean", points: decileAccuracy.map((a, d) => [d + 1, a] as const) }],
    },
  ]);
  return result;
}

/** A 28 × 28 image as 14 lines of 28 characters (two pixel rows a line, darker = brighter pixel). */
export function asciiImage(pixels: readonly number[]): string[] {
  const ramp = " .:-=+*#%@";
  const lines: string[] = [];
  for (let r = 0; r < 28; r += 2) {
    let line = "";
    for (let c = 0; c < 28; c++) {
      const v = Math.max(pixels[r * 28 + c] as number, pixels[(r + 1) * 28 + c] as number);
      line += ramp[Math.min(ramp.length - 1, Math.floor(v * ramp.length))];
    }
    lines.push(line);
  }
  return lines;
}

/** The readable summary the CLI prints. */
export function summary(r: McDropoutResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const out = [
    `MC dropout on Fashion-MNIST: ${r.trainSize} training images, ${r.testSize} test images, ${r.samples} masks`,
    `accuracy  deterministic ${pct(r.deterministicAccuracy)}   MC mean ${pct(r.mcAccuracy)}`,
    `mean std of the predicted class's probability: ${r.meanStd.toFixed(4)}`,
    `training ${r.seconds.train.toFixed(1)} s, predictions ${r.seconds.predict.toFixed(1)} s`,
    "",
    "per true class        accuracy  mean confidence",
    ...r.perClass.map((c) => `  ${c.name.padEnd(18)} ${pct(c.accuracy).padStart(8)}  ${c.confidence.toFixed(3)}`),
    "",
    `accuracy by uncertainty decile (least → most): ${r.decileAccuracy.map((a) => a.toFixed(2)).join(" ")}`,
    `10% least uncertain ${pct(r.leastUncertainAccuracy)}, 10% most uncertain ${pct(r.mostUncertainAccuracy)}; ` +
      `corr(std, error) = ${r.uncertaintyErrorCorrelation.toFixed(3)}`,
    "",
    "the most uncertain test images:",
  ];
  for (const u of r.uncertain) {
    const text = [
      `test image ${u.index}`,
      `true:      ${u.trueClass}`,
      `predicted: ${u.predictedClass}`,
      ...u.top.map((t) => `  ${t.name.padEnd(12)} p = ${t.mean.toFixed(3)} ± ${t.std.toFixed(3)}`),
    ];
    asciiImage(u.pixels).forEach((line, i) => {
      out.push(`  ${line}   ${text[i] ?? ""}`.trimEnd());
    });
    out.push("");
  }
  return out.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const program = new Command()
    .name("mc-dropout")
    .description("Train an MLP with dropout on Fashion-MNIST, then measure its uncertainty with MC dropout.")
    .addOption(new Option("--limit <n>", "train on the first n training images").argParser(positiveInt("--limit")))
    .addOption(new Option("--test-limit <n>", "score the first n test images").argParser(positiveInt("--test-limit")))
    .addOption(new Option("--epochs <n>", "training epochs").argParser(positiveInt("--epochs")).default(3))
    .addOption(new Option("--samples <n>", "dropout masks per image").argParser(positiveInt("--samples")).default(100))
    .addOption(seedOption("the PRNG seed"))
    .addOption(new Option("--out <dir>", "where the JSON and the plot go").default(join("out", "mc-dropout")))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{
    limit?: number;
    testLimit?: number;
    epochs: number;
    samples: number;
    seed: number;
    out: string;
  }>();
  const t0 = performance.now();
  const r = await run({ ...o, progress: true });
  console.log(summary(r));
  console.log(
    `wrote ${join(o.out, "mc-dropout.json")} and ${join(o.out, "uncertainty.svg")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
