/**
 * Monte Carlo dropout at prediction time (Gal & Ghahramani 2016): dropout stays on, batch norm
 * keeps its moving statistics, and the prediction is averaged over many sampled masks. The
 * samples are one vmapped, jitted program over a batch of keys, not a JS loop.
 */
import { type Array, jit, np, type PyTree, random, vmap, WebjaxError } from "@webjax/core";
import type { Module, Variables } from "../module.js";

/** Options of `mcPredict`. */
export interface McPredictOptions {
  /** The number of dropout masks sampled (Géron uses 100). */
  readonly samples: number;
  /** The PRNG key; sample i uses `split(key, samples)[i]`. */
  readonly key: Array;
  /**
   * Applied to each sample's output before averaging, e.g. `nn.softmax` to average class
   * probabilities (what the lectures do) rather than logits.
   */
  readonly postprocess?: (y: Array) => Array;
  /**
   * Examples per program run (default 16384 / samples, so 163 for 100 samples): each run holds
   * `samples` copies of its batch's activations. The masks depend on the key and an example's
   * place in its batch, so results depend on it too.
   */
  readonly batchSize?: number;
}

/** `mcPredict`'s result: the mean and std over samples, and the samples themselves. */
export interface McPrediction {
  readonly mean: Array;
  readonly std: Array;
  /** Every sample's (post-processed) output, stacked on a leading axis of size `samples`. */
  readonly samples: Array;
}

type Program = (variables: Variables, x: Array, keys: Array) => McPrediction;
const programs = new WeakMap<Module, Map<((y: Array) => Array) | undefined, Program>>();

function programFor(model: Module, post: ((y: Array) => Array) | undefined): Program {
  const byPost = programs.get(model) ?? new Map<((y: Array) => Array) | undefined, Program>();
  programs.set(model, byPost);
  let p = byPost.get(post);
  if (!p) {
    const one = (variables: Variables, x: Array, key: Array) => {
      const y = model.apply(variables, x, { mcDropout: true, key })[0];
      return post ? post(y) : y;
    };
    p = jit((variables: Variables, x: Array, keys: Array) => {
      const ys = vmap(one, { inAxes: [null, null, 0] })(variables, x, keys);
      return { mean: ys.mean(0), std: ys.std(0), samples: ys };
    }) as unknown as Program;
    byPost.set(post, p);
  }
  return p;
}

/**
 * Monte Carlo dropout predictions of `model` on `x`: `{ mean, std, samples }` over `samples`
 * dropout masks. Pass a `postprocess` defined once (such as `nn.softmax`): its program is
 * compiled once per function object, so a new arrow on every call recompiles every call. The model needs dropout layers (alpha dropout counts), or every sample is the
 * same and std is 0.
 *
 * ```ts
 * const { mean, std } = nn.mcPredict(model, vars, xTest, { samples: 100, key, postprocess: nn.softmax });
 * ```
 */
export function mcPredict(model: Module, variables: Variables, x: Array, opts: McPredictOptions): McPrediction {
  const n = opts.samples;
  if (!Number.isInteger(n) || n < 1) throw new WebjaxError(`mcPredict: samples must be a positive integer, got ${n}`);
  if (opts.key === undefined) throw new WebjaxError("mcPredict: needs a PRNG key ({ key })");
  // Each program holds `samples` copies of its batch's activations: keep their product bounded.
  const bs = opts.batchSize ?? Math.max(1, Math.floor(16384 / n));
  if (!Number.isInteger(bs) || bs < 1)
    throw new WebjaxError(`mcPredict: batchSize must be a positive integer, got ${bs}`);
  const keys = random.split(opts.key, n);
  const run = programFor(model, opts.postprocess);
  const rows = x.ndim === 0 ? 1 : (x.shape[0] as number);
  if (x.ndim === 0 || rows <= bs) return run(variables as Variables<PyTree, PyTree>, x, keys);
  const parts: McPrediction[] = [];
  for (let start = 0; start < rows; start += bs) {
    parts.push(run(variables as Variables<PyTree, PyTree>, x.slice([start, Math.min(start + bs, rows)]), keys));
  }
  return {
    mean: np.concatenate(parts.map((p) => p.mean)),
    std: np.concatenate(parts.map((p) => p.std)),
    samples: np.concatenate(
      parts.map((p) => p.samples),
      1,
    ),
  };
}
