/** Keras' core layers: `dense`, `embedding`, `flatten`, `activation`. */
import { type Array, DTypeError, np, random } from "@webjax/core";
import { glorotUniform, type Initializer, normal, zeros } from "./initializers.js";
import {
  type ActivationArg,
  activationOf,
  checkInput,
  fmt,
  initOf,
  type KernelOptions,
  kernelRules,
  param,
  positiveInt,
} from "./layer-options.js";
import { type Module, module } from "./module.js";

/**
 * A fully connected layer: `y = activation(x · kernel + bias)` over the last axis, kernel
 * [in, units] (`glorotUniform` by default, as Keras), bias [units] (zeros). Inputs of any rank
 * ≥ 1 (a single example under `vmap` included).
 */
export function dense(units: number, opts: KernelOptions = {}): Module {
  positiveInt("dense", "units", units);
  const useBias = opts.useBias ?? true;
  const kernelInit = initOf(opts.kernelInit, glorotUniform());
  const biasInit = initOf(opts.biasInit, zeros);
  const act = activationOf(opts.activation);
  return module({
    kind: "dense",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    rules: kernelRules(opts),
    config: { units, useBias, activation: act },
    init: (key, x) => {
      checkInput(x, { minRank: 1, expected: "[..., features]" });
      const inF = x.shape[x.shape.length - 1] as number;
      // The kernel takes the layer's key, the bias a key folded from it.
      const kernel = kernelInit(key, [inF, units], x.dtype);
      const params = useBias ? { kernel, bias: biasInit(random.foldIn(key, 1), [units], x.dtype) } : { kernel };
      return { params, state: {} };
    },
    apply: (vars, x) => {
      const kernel = param(vars, "kernel");
      checkInput(x, {
        minRank: 1,
        features: kernel.shape[0] as number,
        expected: `[..., ${kernel.shape[0]}] for kernel ${fmt(kernel.shape)}`,
      });
      let y = x.matmul(kernel);
      if (useBias) y = y.add(param(vars, "bias"));
      return [act ? act(y) : y, vars.state];
    },
  });
}

/** Options of {@link embedding}. */
export interface EmbeddingOptions {
  /** The table's initialiser (default N(0, 1), Flax's variance-scaling equivalent for one-hot input). */
  readonly embeddingInit?: Initializer | string;
  readonly name?: string;
}

/** A lookup table [numEmbeddings, features]: integer ids of any shape → [...ids.shape, features]. */
export function embedding(numEmbeddings: number, features: number, opts: EmbeddingOptions = {}): Module {
  positiveInt("embedding", "numEmbeddings", numEmbeddings);
  positiveInt("embedding", "features", features);
  const init = initOf(opts.embeddingInit, normal(1));
  return module({
    kind: "embedding",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { numEmbeddings, features },
    init: (key) => ({ params: { embedding: init(key, [numEmbeddings, features]) }, state: {} }),
    apply: (vars, ids) => {
      if (ids.dtype !== "int32" && ids.dtype !== "uint32") {
        throw new DTypeError(`expected integer ids (int32), got dtype ${ids.dtype} (shape ${fmt(ids.shape)})`);
      }
      return [np.take(param(vars, "embedding"), ids, { axis: 0, mode: "clip" }), vars.state];
    },
  });
}

/**
 * Flattens every axis from `startAxis` on (default 1: a batch [N, ...] → [N, ∏...], Keras'
 * `Flatten`). Under `vmap`, where one example has no batch axis, use `flatten({ startAxis: 0 })`.
 */
export function flatten(opts: { startAxis?: number; name?: string } = {}): Module {
  const start = opts.startAxis ?? 1;
  return module({
    kind: "flatten",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { startAxis: start },
    init: (_key, x) => {
      checkInput(x, { minRank: start, float: false });
      return { params: {}, state: {} };
    },
    apply: (vars, x) => {
      checkInput(x, { minRank: start, float: false, expected: `flattening from axis ${start}` });
      return [x.reshape([...x.shape.slice(0, start), -1]), vars.state];
    },
  });
}

/** An activation as a layer (Keras' `Activation`), by function or by name. */
export function activation(fn: ActivationArg, opts: { name?: string } = {}): Module {
  const f = activationOf(fn) as (x: Array) => Array;
  return module({
    kind: typeof fn === "string" ? fn : fn.name || "activation",
    ...(opts.name === undefined ? {} : { name: opts.name }),
    config: { fn: f },
    init: () => ({ params: {}, state: {} }),
    apply: (vars, x) => [f(x), vars.state],
  });
}
