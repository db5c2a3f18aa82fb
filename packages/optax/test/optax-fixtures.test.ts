/**
 * Every optimiser and schedule against real optax 0.2.8 (fixtures/make_optax.py writes
 * fixtures/optax.json): five steps of updates and params on a two-leaf pytree, eagerly and as
 * a jitted, donated update; schedules at 21 steps, from JS numbers (float64) and from int32
 * counts (traced float32). Tolerances: 2e-5 relative (float32, a different operation order).
 */
import { readFileSync } from "node:fs";
import { type Array as JArray, jit, np, random } from "@webjax/core";
import { describe, expect, test } from "vitest";
import {
  adabelief,
  adadelta,
  adafactor,
  adagrad,
  adam,
  adamax,
  adamaxw,
  adamw,
  adan,
  adaptiveGradClip,
  amsgrad,
  applyUpdates,
  chain,
  clip,
  clipByBlockRms,
  clipByGlobalNorm,
  constantSchedule,
  cosineDecaySchedule,
  cosineOnecycleSchedule,
  ema,
  exponentialDecay,
  flatten,
  fromage,
  type GradientTransformation,
  joinSchedules,
  lamb,
  lars,
  linearOnecycleSchedule,
  linearSchedule,
  lion,
  masked,
  multiTransform,
  nadam,
  nadamw,
  noisySgd,
  novograd,
  optimisticAdam,
  optimisticGradientDescent,
  piecewiseConstantSchedule,
  piecewiseInterpolateSchedule,
  polyakSgd,
  polynomialSchedule,
  radam,
  rmsprop,
  rprop,
  type Schedule,
  scale,
  scaleByParamBlockNorm,
  scaleBySm3,
  setToZero,
  sgd,
  sgdrSchedule,
  signSgd,
  signum,
  sm3,
  warmupConstantSchedule,
  warmupCosineDecaySchedule,
  warmupExponentialDecaySchedule,
  yogi,
  zeroNans,
} from "../src/index.js";

interface Tree {
  w: number[][];
  b: number[];
}
const fx = JSON.parse(readFileSync(new URL("fixtures/optax.json", import.meta.url), "utf8")) as {
  params0: Tree;
  grads: Tree[];
  optimisers: Record<string, { updates: Tree; params: Tree }[]>;
  schedule_steps: number[];
  schedules: Record<string, number[]>;
};

const OPTIMISERS: Record<string, () => GradientTransformation> = {
  sgd: () => sgd(0.1),
  sgd_momentum: () => sgd(0.1, { momentum: 0.9 }),
  sgd_nesterov: () => sgd(0.1, { momentum: 0.9, nesterov: true }),
  adagrad: () => adagrad(0.1),
  rmsprop: () => rmsprop(0.01),
  rmsprop_centered: () => rmsprop(0.01, { centered: true }),
  rmsprop_momentum_nesterov: () => rmsprop(0.01, { momentum: 0.9, nesterov: true }),
  rmsprop_bc_eps_out_init1: () => rmsprop(0.01, { biasCorrection: true, epsInSqrt: false, initialScale: 1 }),
  adam: () => adam(1e-2),
  adam_eps_root: () => adam(1e-2, { epsRoot: 1e-8 }),
  nadam: () => nadam(1e-2),
  adamw: () => adamw(1e-2, { weightDecay: 0.1 }),
  nadamw: () => nadamw(1e-2, { weightDecay: 0.1 }),
  adamax: () => adamax(1e-2),
  adamaxw: () => adamaxw(1e-2, { weightDecay: 0.05 }),
  sign_sgd: () => signSgd(0.1),
  adam_exponential_decay: () => adam(exponentialDecay(1e-2, 2, 0.5)),
  clip_adam: () => chain(clip(0.05), adam(1e-2)),
  clip_global_norm_sgd: () => chain(clipByGlobalNorm(0.5), sgd(0.1)),
  adamw_masked: () => adamw(1e-2, { weightDecay: 0.1, mask: { w: true, b: false } }),
  multi_transform: () => multiTransform({ a: adam(1e-2), f: setToZero() }, { w: "a", b: "f" }),
  masked_sgd_momentum: () => masked(sgd(0.1, { momentum: 0.9 }), { w: false, b: true }),
  amsgrad: () => amsgrad(1e-2),
  lion: () => lion(1e-2),
  adadelta: () => adadelta(),
  adadelta_lr_decay: () => adadelta(1.0, { weightDecay: 0.1 }),
  adabelief: () => adabelief(1e-2),
  adabelief_nesterov: () => adabelief(1e-2, { nesterov: true }),
  yogi: () => yogi(1e-2),
  radam: () => radam(1e-2),
  radam_threshold: () => radam(1e-2, { threshold: 4.5 }),
  radam_nesterov_threshold: () => radam(1e-2, { threshold: 4.5, nesterov: true }),
  lamb: () => lamb(1e-2, { weightDecay: 0.01 }),
  lars: () => lars(0.1, { weightDecay: 0.01 }),
  fromage: () => fromage(0.1),
  novograd: () => novograd(1e-2),
  novograd_decay: () => novograd(1e-2, { weightDecay: 0.05 }),
  block_rms_sgd: () => chain(clipByBlockRms(0.5), sgd(0.1)),
  adaptive_clip_sgd: () => chain(adaptiveGradClip(0.1), sgd(0.1)),
  ema_sgd: () => chain(ema(0.9), sgd(0.1)),
  zero_nans_sgd: () => chain(zeroNans(), sgd(0.1)),
  signum: () => signum(0.1),
  optimistic_gd: () => optimisticGradientDescent(0.1),
  optimistic_adam: () => optimisticAdam(1e-2),
  rprop: () => rprop(0.01),
  adan: () => adan(1e-2),
  adan_decay: () => adan(1e-2, { weightDecay: 0.02 }),
  polyak_sgd: () => polyakSgd({ maxLearningRate: 0.5, scaling: 1, fMin: 0.1 }),
  noisy_sgd: () => noisySgd(0.1, { key: random.key(3) }),
  flatten_adam: () => flatten(adam(1e-2)),
  adafactor: () => adafactor(),
  adafactor_lr: () => adafactor(1e-2),
  adafactor_factored: () => adafactor(1e-2, { minDimSizeToFactor: 2 }),
  adafactor_factored_momentum_decay: () =>
    adafactor(0.05, {
      minDimSizeToFactor: 2,
      momentum: 0.9,
      weightDecayRate: 0.01,
      clippingThreshold: null,
      multiplyByParameterScale: false,
      decayRate: 0.6,
    }),
  sm3: () => sm3(0.1),
  scale_by_sm3_b2: () => chain(scaleBySm3({ b1: 0.5, b2: 0.9 }), scale(-0.1)),
  param_block_norm: () => chain(scaleByParamBlockNorm(), scale(-0.1)),
};

const toArrays = (t: Tree) => ({ w: np.array(t.w), b: np.array(t.b) });

async function expectTree(got: { w: JArray; b: JArray }, want: Tree, what: string) {
  for (const k of ["w", "b"] as const) {
    const g = (await got[k].data()) as Float32Array;
    const w = (want[k] as number[] | number[][]).flat();
    w.forEach((v, i) => {
      const tol = 2e-5 * Math.abs(v) + 1e-7;
      if (!(Math.abs((g[i] as number) - v) <= tol)) {
        throw new Error(`${what} ${k}[${i}]: got ${g[i]}, optax ${v}`);
      }
    });
  }
}

describe("optimisers against optax", () => {
  expect(Object.keys(OPTIMISERS).sort()).toEqual(Object.keys(fx.optimisers).sort());
  for (const [name, make] of Object.entries(OPTIMISERS)) {
    test(name, async () => {
      const want = fx.optimisers[name] as { updates: Tree; params: Tree }[];
      for (const mode of ["eager", "jit"] as const) {
        const tx = make();
        let params = toArrays(fx.params0);
        let state = tx.init(params);
        // The monitored value (for Polyak's step) is 1 + t, as in the fixture script.
        const step = (p: typeof params, s: unknown, g: typeof params, value: number) => {
          const [u, s2] = tx.update(g, s, p, { value });
          return [u, applyUpdates(p, u), s2] as const;
        };
        const run = mode === "jit" ? jit(step, { donateArgnums: [1] }) : step;
        for (let t = 0; t < 5; t++) {
          const [u, p, s] = run(params, state, toArrays(fx.grads[t] as Tree), 1 + t);
          await expectTree(u, (want[t] as { updates: Tree }).updates, `${mode} step ${t} updates`);
          await expectTree(p, (want[t] as { params: Tree }).params, `${mode} step ${t} params`);
          params = p;
          state = s;
        }
      }
    });
  }
});

const SCHEDULES: Record<string, Schedule> = {
  polynomial: polynomialSchedule(1.0, 0.1, 2, 100, { transitionBegin: 10 }),
  linear: linearSchedule(0.5, 0.0, 100),
  exponential: exponentialDecay(1.0, 10, 0.5),
  exponential_staircase_end_begin: exponentialDecay(1.0, 10, 0.5, {
    transitionBegin: 5,
    staircase: true,
    endValue: 0.2,
  }),
  exponential_growth_end: exponentialDecay(0.1, 10, 2.0, { endValue: 0.5 }),
  piecewise_constant: piecewiseConstantSchedule(0.1, { 10: 0.5, 50: 0.1 }),
  cosine_decay: cosineDecaySchedule(1.0, 100, { alpha: 0.1 }),
  cosine_decay_exponent: cosineDecaySchedule(1.0, 100, { exponent: 2 }),
  warmup_cosine_decay: warmupCosineDecaySchedule(0.0, 1.0, 10, 100, { endValue: 0.05 }),
  join: joinSchedules([constantSchedule(1.0), linearSchedule(1.0, 0.0, 50)], [20]),
  linear_onecycle: linearOnecycleSchedule(100, 1.0),
  cosine_onecycle: cosineOnecycleSchedule(100, 1.0, { pctStart: 0.25 }),
  piecewise_interpolate_linear: piecewiseInterpolateSchedule("linear", 1.0, { 10: 2.0, 20: 0.5 }),
  piecewise_interpolate_cosine: piecewiseInterpolateSchedule("cosine", 1.0, { 10: 2.0, 20: 0.5 }),
  warmup_constant: warmupConstantSchedule(0.0, 1.0, 10),
  warmup_exponential_decay: warmupExponentialDecaySchedule(0.0, 1.0, 10, 20, 0.5, { endValue: 0.1 }),
  sgdr: sgdrSchedule([
    { initValue: 0.0, peakValue: 1.0, warmupSteps: 5, decaySteps: 30 },
    { initValue: 0.1, peakValue: 0.5, warmupSteps: 5, decaySteps: 50, endValue: 0.01 },
  ]),
};

describe("schedules against optax", () => {
  expect(Object.keys(SCHEDULES).sort()).toEqual(Object.keys(fx.schedules).sort());
  for (const [name, s] of Object.entries(SCHEDULES)) {
    test(name, async () => {
      const want = fx.schedules[name] as number[];
      const steps = fx.schedule_steps;
      const counts = np.array(Int32Array.from(steps));
      const traced = jit((c: JArray) => s(c) as JArray)(counts);
      const fromArray = (await traced.data()) as Float32Array;
      steps.forEach((t, i) => {
        const w = want[i] as number;
        const n = s(t) as number;
        expect(typeof n, `${name}(${t}) from a JS number`).toBe("number");
        expect(Math.abs(n - w), `${name}(${t}) = ${n}, optax ${w}`).toBeLessThanOrEqual(1e-6 * Math.abs(w) + 1e-7);
        const a = fromArray[i] as number;
        expect(Math.abs(a - w), `${name}(int32 ${t}) = ${a}, optax ${w}`).toBeLessThanOrEqual(
          2e-6 * Math.abs(w) + 1e-7,
        );
      });
    });
  }
});
