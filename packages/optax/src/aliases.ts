/**
 * optax's aliases: each a chain of building blocks ending in scaleByLearningRate (which flips
 * the sign: these return descent steps to add with applyUpdates). Defaults are optax's.
 */
import type { Array } from "@webjax/core";
import { chain, type GradientTransformation, type Hyper, identity, type ScalarOrSchedule } from "./base.js";

/** A learning rate: a number, a schedule, or (under injectHyperparams) a scalar array. */
export type LearningRate = ScalarOrSchedule | Array;

import type { Mask } from "./masking.js";
import {
  type AdamOptions,
  addDecayedWeights,
  scaleByAdam,
  scaleByAdamax,
  scaleByLearningRate,
  scaleByRms,
  scaleByRss,
  scaleBySign,
  scaleByStddev,
  trace,
} from "./transforms.js";

/**
 * Stochastic gradient descent (optax.sgd): θ ← θ − η·g, or with `momentum` μ the heavy ball
 * (Polyak 1964) m ← g + μ·m, θ ← θ − η·m; with `nesterov` Nesterov's accelerated gradient in
 * Sutskever et al.'s form (see `trace`).
 */
export function sgd(learningRate: LearningRate, opts: { momentum?: Hyper; nesterov?: boolean } = {}) {
  return chain(
    opts.momentum === undefined ? identity() : trace({ decay: opts.momentum, nesterov: opts.nesterov ?? false }),
    scaleByLearningRate(learningRate),
  );
}

/** Momentum optimisation: `sgd(learningRate, { momentum })` (default momentum 0.9). */
export function momentum(learningRate: LearningRate, opts: { momentum?: Hyper } = {}) {
  return sgd(learningRate, { momentum: opts.momentum ?? 0.9 });
}

/**
 * Nesterov accelerated gradient: `sgd(learningRate, { momentum, nesterov: true })` (default
 * momentum 0.9). The lectures' NAG evaluates the gradient at the look-ahead point θ + μ·m;
 * with the change of variables φ = θ + μ·m (the look-ahead point itself as the iterate), that
 * update becomes m ← μ·m + g(φ), φ ← φ − η·(g(φ) + μ·m): the gradient is taken at the current
 * iterate, which is the form optax (and Keras, PyTorch) implement.
 */
export function nesterov(learningRate: LearningRate, opts: { momentum?: Hyper } = {}) {
  return sgd(learningRate, { momentum: opts.momentum ?? 0.9, nesterov: true });
}

/** AdaGrad (Duchi et al. 2011; optax.adagrad): θ ← θ − η·g/√(Σg² + ε). */
export function adagrad(learningRate: LearningRate, opts: { initialAccumulatorValue?: number; eps?: number } = {}) {
  return chain(scaleByRss(opts), scaleByLearningRate(learningRate));
}

export interface RmspropOptions {
  decay?: number;
  eps?: number;
  initialScale?: number;
  epsInSqrt?: boolean;
  /** Centred RMSProp (Graves 2013): divide by the standard deviation, not the RMS. */
  centered?: boolean;
  momentum?: Hyper;
  nesterov?: boolean;
  biasCorrection?: boolean;
}

/**
 * RMSProp (Hinton's lecture 6e; optax.rmsprop): v ← ρ·v + (1−ρ)·g², θ ← θ − η·g/√(v + ε);
 * `centered` divides by √(v − m² + ε); `momentum` adds a trace after the scaling.
 */
export function rmsprop(learningRate: LearningRate, opts: RmspropOptions = {}) {
  const scaling = opts.centered ? scaleByStddev(opts) : scaleByRms(opts);
  return chain(
    scaling,
    scaleByLearningRate(learningRate),
    opts.momentum === undefined ? identity() : trace({ decay: opts.momentum, nesterov: opts.nesterov ?? false }),
  );
}

/** Adam (Kingma & Ba 2015; optax.adam): see scaleByAdam. Defaults b1 0.9, b2 0.999, ε 1e-8. */
export function adam(learningRate: LearningRate, opts: AdamOptions = {}) {
  return chain(scaleByAdam(opts), scaleByLearningRate(learningRate));
}

/**
 * AdamW (Loshchilov & Hutter 2019; optax.adamw): Adam's direction plus decoupled weight decay
 * λ·θ, both scaled by η. Default λ = 1e-4; `mask` limits the decay.
 */
export function adamw(learningRate: LearningRate, opts: AdamOptions & { weightDecay?: Hyper; mask?: Mask } = {}) {
  return chain(
    scaleByAdam(opts),
    addDecayedWeights(opts.weightDecay ?? 1e-4, opts.mask === undefined ? {} : { mask: opts.mask }),
    scaleByLearningRate(learningRate),
  );
}

/**
 * NAdam (Dozat 2016) as optax defines it: Adam with `nesterov: true`. Keras' Nadam differs: it
 * also applies a momentum schedule μ_t = b1·(1 − 0.5·0.96^(t/250)) (Dozat's warm-up), so the two
 * agree only approximately in the first thousand steps.
 */
export function nadam(learningRate: LearningRate, opts: Omit<AdamOptions, "nesterov"> = {}) {
  return adam(learningRate, { ...opts, nesterov: true });
}

/** NAdamW: AdamW with Nesterov momentum (optax.nadamw). */
export function nadamw(
  learningRate: LearningRate,
  opts: Omit<AdamOptions, "nesterov"> & { weightDecay?: Hyper; mask?: Mask } = {},
) {
  return adamw(learningRate, { ...opts, nesterov: true });
}

/** AdaMax (Kingma & Ba 2015, §7; optax.adamax): Adam with the infinity norm; see scaleByAdamax. */
export function adamax(learningRate: LearningRate, opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper } = {}) {
  return chain(scaleByAdamax(opts), scaleByLearningRate(learningRate));
}

/** AdaMaxW: AdaMax with decoupled weight decay (optax.adamaxw; default λ = 1e-4). */
export function adamaxw(
  learningRate: LearningRate,
  opts: { b1?: Hyper; b2?: Hyper; eps?: Hyper; weightDecay?: Hyper; mask?: Mask } = {},
) {
  return chain(
    scaleByAdamax(opts),
    addDecayedWeights(opts.weightDecay ?? 1e-4, opts.mask === undefined ? {} : { mask: opts.mask }),
    scaleByLearningRate(learningRate),
  );
}

/** signSGD (Bernstein et al. 2018; optax.sign_sgd): θ ← θ − η·sign(g). */
export function signSgd(learningRate: LearningRate): GradientTransformation {
  return chain(scaleBySign(), scaleByLearningRate(learningRate));
}
