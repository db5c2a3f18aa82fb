/**
 * Vanishing and exploding gradients (Géron, *Hands-On Machine Learning*, ch. 11; Glorot &
 * Bengio 2010): a deep MLP, 784 → 10 hidden layers of 100 units → 10, on Fashion-MNIST. For
 * each configuration it measures every dense layer's gradient norm ‖∂loss/∂(W, b)‖ with
 * `nn.layerStats` inside one jitted function, at initialisation and after a few hundred SGD
 * steps (SGD, momentum 0.9, learning rate 0.01, batch 64), and the validation accuracy those
 * steps reach:
 *
 * - sigmoid, N(0, 0.05²) init: the "standard" init of the 2000s (Glorot & Bengio's U[±1/√n] has
 *   std 1/√(3·100) ≈ 0.058). Each layer multiplies the backward signal by about
 *   σ'·σ_w·√n ≈ 0.25 · 0.05 · 10 ≈ 0.13, so the first layer's gradient is ~10⁻⁸ of the last's.
 *   (N(0, 1), the other naive choice, saturates the sigmoids instead: here its first/last ratio
 *   is only ~0.1, so it shows saturation more than vanishing.)
 * - ELU + He normal, SELU + LeCun normal (inputs standardised), sigmoid + batch norm: the
 *   lectures' fixes; the norms stay within a small factor of each other across the depth.
 * - ELU with a too-large N(0, 0.3²) init: the forward signal and the backward one grow by ~2×
 *   a layer, the gradient explodes and plain SGD diverges. The same net with
 *   `optax.clipByGlobalNorm(1)` before SGD keeps every step bounded and trains.
 *
 * Inputs are standardised (the training set's mean and std per pixel) for every configuration,
 * so the only differences are the activation, the init and batch norm.
 *
 *   node apps/examples/dist/examples/gradients.js --steps 300 --limit 12000
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Array, jit, type PyTree, random, valueAndGrad } from "@webjax/core";
import * as nn from "@webjax/nn";
import { loadFashionMnist } from "@webjax/nn/datasets";
import * as optax from "@webjax/optax";
import { Command, Option } from "commander";
import { positiveInt, seedOption } from "../cli.js";
import { writeLinePlot } from "../plot/lines.js";

/** One network of the comparison. */
interface Config {
  readonly name: string;
  /** The plot's legend (Vega cuts labels past ~18 characters). */
  readonly short: string;
  readonly activation: (x: Array) => Array;
  readonly kernelInit: nn.Initializer;
  readonly batchNorm?: boolean;
  /** Clip the gradient's global norm to this before the SGD step. */
  readonly clip?: number;
}

const HIDDEN = 10;
const UNITS = 100;
const LEARNING_RATE = 0.01;
const MOMENTUM = 0.9;
const BATCH = 64;
/** The clip value of the clipped run. */
export const CLIP = 1;

const CONFIGS: readonly Config[] = [
  {
    name: "sigmoid, N(0, 0.05²)",
    short: "sigmoid, σ=0.05",
    activation: nn.sigmoid,
    kernelInit: nn.initializers.normal(0.05),
  },
  { name: "ELU + He", short: "ELU + He", activation: nn.elu, kernelInit: nn.initializers.heNormal() },
  { name: "SELU + LeCun", short: "SELU + LeCun", activation: nn.selu, kernelInit: nn.initializers.lecunNormal() },
  {
    name: "sigmoid + batch norm",
    short: "sigmoid + BN",
    activation: nn.sigmoid,
    kernelInit: nn.initializers.normal(0.05),
    batchNorm: true,
  },
  { name: "ELU, N(0, 0.3²)", short: "ELU, σ=0.3", activation: nn.elu, kernelInit: nn.initializers.normal(0.3) },
  {
    name: `ELU, N(0, 0.3²), clipped at ${CLIP}`,
    short: "ELU, σ=0.3, clipped",
    activation: nn.elu,
    kernelInit: nn.initializers.normal(0.3),
    clip: CLIP,
  },
];

/**
 * The deep MLP of a configuration (batch norm between each dense layer and its activation).
 * Batch norm's momentum is 0.9, not Keras' 0.99: after 300 steps 0.99's moving variance still
 * holds 0.99³⁰⁰ ≈ 5% of its initial 1, several times these layers' true variance (~0.01), and
 * inference accuracy falls to chance (10%) while train-mode accuracy is over 90%. The lectures'
 * rule: fewer 9s for short runs and small data.
 */
function buildModel(c: Config): nn.Module {
  const layers: nn.Layer[] = [];
  for (let i = 0; i < HIDDEN; i++) {
    layers.push(nn.dense(UNITS, { kernelInit: c.kernelInit, useBias: !c.batchNorm }));
    if (c.batchNorm) layers.push(nn.batchNorm({ momentum: 0.9 }));
    layers.push(c.activation);
  }
  layers.push(nn.dense(10, { kernelInit: c.kernelInit }));
  return nn.sequential(...layers);
}

/** What one configuration gives. */
export interface ConfigResult {
  readonly name: string;
  /** Per dense layer (1 = the first hidden layer, 11 = the output layer): ‖∂loss/∂(W, b)‖. */
  readonly normsAtInit: number[];
  readonly normsTrained: number[];
  /** First dense layer's gradient norm over the output layer's, at initialisation. */
  readonly ratioAtInit: number;
  readonly ratioTrained: number;
  /** The global gradient norm (every parameter) at initialisation. */
  readonly globalNormAtInit: number;
  /** The largest global norm of the update direction SGD was given (after clipping, if any). */
  readonly maxStepNorm: number;
  /** The loss of the last training step (NaN when training diverged). */
  readonly finalLoss: number;
  readonly valAccuracy: number;
  readonly clip?: number;
}

/** What `run` returns: one row per configuration, and where the plot went. */
export interface GradientsResult {
  readonly configs: ConfigResult[];
  readonly steps: number;
  readonly trainSize: number;
  readonly valSize: number;
  readonly plot: string;
}

const denseNames = (params: PyTree): string[] =>
  Object.keys(params as object)
    .filter((n) => n.startsWith("dense_"))
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));

async function trainConfig(
  c: Config,
  data: { xTrain: Array; yTrain: Array; xVal: Array; yVal: Array; xProbe: Array; yProbe: Array },
  steps: number,
  seed: number,
): Promise<ConfigResult> {
  const model = buildModel(c);
  const lossOf = (p: PyTree, s: PyTree, x: Array, y: Array) => {
    const [logits, state, outs] = nn.intermediates(model, { params: p, state: s }, x, { train: true });
    const loss = nn.losses.softmaxCrossEntropyWithIntegerLabels(logits, y).mean();
    return [loss, { state, outs }] as [Array, { state: PyTree; outs: Record<string, Array> }];
  };
  // The per-layer gradient statistics of one batch, in one jitted program.
  const diagnose = jit((p: PyTree, s: PyTree, x: Array, y: Array) => {
    const [[, aux], g] = valueAndGrad(lossOf, { hasAux: true })(p, s, x, y);
    return { stats: nn.layerStats(g, aux.outs, { model }), global: optax.globalNorm(g) };
  });
  const tx: optax.GradientTransformation =
    c.clip === undefined
      ? optax.sgd(LEARNING_RATE, { momentum: MOMENTUM })
      : optax.chain(optax.clipByGlobalNorm(c.clip), optax.sgd(LEARNING_RATE, { momentum: MOMENTUM }));
  const clipper = c.clip === undefined ? undefined : optax.clipByGlobalNorm(c.clip);
  const step = jit(
    (p: PyTree, s: PyTree, o: optax.OptState, x: Array, y: Array) => {
      const [[loss, aux], g] = valueAndGrad(lossOf, { hasAux: true })(p, s, x, y);
      // The direction SGD is given, the gradient or the clipped gradient, is recomputed here
      // only to measure its norm; `tx` clips on its own.
      const direction = clipper ? clipper.update(g, null, p)[0] : g;
      const [u, o2] = tx.update(g, o, p);
      return [optax.applyUpdates(p, u), aux.state, o2, loss, optax.globalNorm(direction)] as const;
    },
    { donateArgnums: [0, 1, 2] },
  );

  const vars = model.init(random.key(seed), data.xTrain.slice([0, 1]));
  const names = denseNames(vars.params);
  const readNorms = async (p: PyTree, s: PyTree) => {
    const d = diagnose(p, s, data.xProbe, data.yProbe);
    const norms = await Promise.all(names.map((n) => (d.stats.grads[n] as nn.GradStats).norm.item()));
    return { norms, global: await d.global.item() };
  };
  const atInit = await readNorms(vars.params, vars.state);

  let params = vars.params;
  let state = vars.state;
  let opt = tx.init(params);
  const ds = nn.data.batches(
    { x: data.xTrain, y: data.yTrain },
    { batchSize: BATCH, shuffle: true, key: random.key(seed + 1), dropRemainder: true },
  );
  let done = 0;
  let lastLoss: Array | undefined;
  const stepNorms: Array[] = [];
  for (let epoch = 0; done < steps; epoch++) {
    for (const b of ds.epoch(epoch)) {
      if (done >= steps) break;
      const [p2, s2, o2, loss, norm] = step(params, state, opt, b.x, b.y);
      [params, state, opt] = [p2, s2, o2];
      lastLoss = loss;
      stepNorms.push(norm);
      done++;
    }
    await lastLoss?.item(); // let the queue drain once an epoch
  }
  const trained = await readNorms(params, state);
  const [logits] = model.apply({ params, state }, data.xVal);
  const valAccuracy = await nn.metrics.accuracy(logits, data.yVal).item();
  const norms = await Promise.all(stepNorms.map((n) => n.item()));
  const ratio = (v: number[]) => (v[0] as number) / (v.at(-1) as number);
  return {
    name: c.name,
    normsAtInit: atInit.norms,
    normsTrained: trained.norms,
    ratioAtInit: ratio(atInit.norms),
    ratioTrained: ratio(trained.norms),
    globalNormAtInit: atInit.global,
    maxStepNorm: norms.reduce((a, b) => (Number.isNaN(b) || b > a ? b : a), 0),
    finalLoss: lastLoss ? await lastLoss.item() : Number.NaN,
    valAccuracy,
    ...(c.clip === undefined ? {} : { clip: c.clip }),
  };
}

/**
 * Trains every configuration for `steps` SGD steps (batch 64, learning rate 0.01) on the first
 * `limit` training images (a sixth of them held out for validation), measures the per-layer
 * gradient norms before and after, and writes `gradients.svg` to `out`.
 */
export async function run(opts: {
  limit?: number;
  steps?: number;
  out: string;
  seed?: number;
}): Promise<GradientsResult> {
  const steps = opts.steps ?? 300;
  const seed = opts.seed ?? 0;
  const { train } = await loadFashionMnist();
  const n = Math.min(opts.limit ?? 12_000, train.labels.shape[0] as number);
  const nVal = Math.max(10, Math.floor(n / 6));
  const x = train.images.slice([0, n]).reshape([n, 784]);
  const y = train.labels.slice([0, n]);
  const [tr, va] = nn.data.trainValidationSplit({ x, y }, { validationSize: nVal });
  const scaler = nn.data.standardScaler();
  const stats = scaler.fit(tr.x);
  const xTrain = scaler.transform(stats, tr.x);
  const probe = Math.min(256, n - nVal);
  const data = {
    xTrain,
    yTrain: tr.y,
    xVal: scaler.transform(stats, va.x),
    yVal: va.y,
    xProbe: xTrain.slice([0, probe]),
    yProbe: tr.y.slice([0, probe]),
  };
  const configs: ConfigResult[] = [];
  for (const c of CONFIGS) configs.push(await trainConfig(c, data, steps, seed));

  await mkdir(opts.out, { recursive: true });
  const plot = join(opts.out, "gradients.svg");
  // The clipped run starts from the same init as the unclipped one: one line at initialisation.
  // A run that diverged has NaN norms, which a log axis cannot show: it is named in the title.
  const short = new Map(CONFIGS.map((c) => [c.name, c.short]));
  const atInit = configs.filter((c) => c.clip === undefined);
  const finite = (v: number[]) => v.every((g) => Number.isFinite(g) && g > 0);
  const trained = configs.filter((c) => finite(c.normsTrained));
  const diverged = configs.filter((c) => !finite(c.normsTrained)).map((c) => short.get(c.name) ?? c.name);
  const line = (name: string, v: number[]) => ({
    name: short.get(name) ?? name,
    points: v.map((g, i) => [i + 1, g] as const),
  });
  const axes = { x: `dense layer (1 = first hidden, ${HIDDEN + 1} = output)`, y: "‖∂loss/∂(W, b)‖", logY: true };
  await writeLinePlot(
    plot,
    `Per-layer gradient norms: ${HIDDEN}×${UNITS} MLP, Fashion-MNIST, SGD + momentum, batch ${BATCH}`,
    [
      {
        title: "at initialisation (clipped or not: the same net)",
        ...axes,
        series: atInit.map((c) => line(c.name, c.normsAtInit)),
      },
      {
        title: `after ${steps} steps${diverged.length ? ` (${diverged.join(", ")}: diverged, NaN)` : ""}`,
        ...axes,
        series: trained.map((c) => line(c.name, c.normsTrained)),
      },
    ],
    { columns: 2 },
  );
  return { configs, steps, trainSize: n - nVal, valSize: nVal, plot };
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toExponential(1) : String(v));

/** The table `run`'s caller prints. */
export function formatTable(r: GradientsResult): string {
  const head = [
    "configuration",
    "first/last at init",
    `first/last after ${r.steps}`,
    "global norm at init",
    "max step norm",
    "val accuracy",
  ];
  const rows = r.configs.map((c) => [
    c.name,
    fmt(c.ratioAtInit),
    fmt(c.ratioTrained),
    fmt(c.globalNormAtInit),
    fmt(c.maxStepNorm),
    Number.isFinite(c.finalLoss)
      ? `${(c.valAccuracy * 100).toFixed(1)}%`
      : `${(c.valAccuracy * 100).toFixed(1)}% (diverged)`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (i === 0 ? s.padEnd(widths[i] as number) : s.padStart(widths[i] as number))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const program = new Command()
    .name("gradients")
    .description("Per-layer gradient norms of a deep MLP on Fashion-MNIST: vanishing, exploding, and the fixes.")
    .addOption(new Option("--steps <n>", "SGD steps per configuration").argParser(positiveInt("--steps")).default(300))
    .addOption(
      new Option("--limit <n>", "use the first n training images (a sixth for validation)").argParser(
        positiveInt("--limit"),
      ),
    )
    .addOption(new Option("--out <dir>", "where the plot goes").default(join("out", "gradients")))
    .addOption(seedOption("the PRNG seed"))
    .showHelpAfterError("(run with --help for the usage)")
    .allowExcessArguments(false);
  program.parse();
  const o = program.opts<{ steps: number; limit?: number; out: string; seed: number }>();
  const started = performance.now();
  const r = await run({
    steps: o.steps,
    out: o.out,
    seed: o.seed,
    ...(o.limit === undefined ? {} : { limit: o.limit }),
  });
  console.log(
    `${r.trainSize} training images, ${r.valSize} validation, ${r.steps} steps per configuration (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
  );
  console.log(formatTable(r));
  console.log(`\nplot: ${r.plot}`);
}
