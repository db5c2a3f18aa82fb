/**
 * Hyperparameters in the optimiser state (optax.inject_hyperparams): numbers become scalar
 * arrays the state holds (change them between steps — under jit, without a recompile);
 * schedules are evaluated at the step count on every update. The lectures' 1cycle schedules
 * the learning rate and the momentum together this way.
 */
import { Array, np, WebjaxError } from "@webjax/core";
import {
  type GradientTransformation,
  type Hyper,
  type OptState,
  type Schedule,
  safeIncrement,
  zeroCount,
} from "./base.js";
import { piecewiseInterpolateSchedule } from "./schedules.js";

/** State of injectHyperparams: the step count, each hyperparameter's current value, the inner state. */
export interface InjectHyperparamsState<K extends string = string> {
  readonly count: Array;
  readonly hyperparams: { readonly [P in K]: Array };
  readonly innerState: OptState;
}

/**
 * `injectHyperparams((h) => adam(h.learningRate, { b1: h.b1 }))({ learningRate: schedule, b1: 0.9 })`:
 * the transformation `factory` builds from the hyperparameters' current values (scalar float32
 * arrays), with those values in the state (`state.hyperparams`).
 */
export function injectHyperparams<K extends string>(
  factory: (h: { readonly [P in K]: Array }) => GradientTransformation,
) {
  return (hyperparams: { readonly [P in K]: Hyper | Schedule }): GradientTransformation<InjectHyperparamsState<K>> => {
    const names = Object.keys(hyperparams) as K[];
    for (const k of names) {
      const h = hyperparams[k] as unknown;
      if (!(typeof h === "number" || typeof h === "function" || h instanceof Array)) {
        throw new WebjaxError(
          `injectHyperparams: hyperparameter "${k}" must be a number, a schedule or a scalar array, got ${h === null ? "null" : typeof h}`,
        );
      }
    }
    const build = (h: Record<K, Array>) => factory(checkedNames(h, names));
    const valuesAt = (count: Array, stored: Partial<Record<K, Array>>) => {
      const out = {} as Record<K, Array>;
      for (const k of names) {
        const h = hyperparams[k];
        if (typeof h === "function") {
          const v = (h as Schedule)(count);
          // (astype of a float32 array would be a view sharing its buffer: a donated state must own its leaves)
          out[k] =
            typeof v === "number"
              ? count.astype("float32").mul(0).add(v)
              : v.dtype === "float32"
                ? v
                : v.astype("float32");
        } else {
          out[k] =
            stored[k] ??
            // A user's array is copied: the state (donated, perhaps) must not hold the caller's array.
            (typeof h === "number" ? count.astype("float32").mul(0).add(h) : np.array(h as Array, "float32"));
        }
      }
      return out;
    };
    return {
      init: (params) => {
        const count = zeroCount(params);
        const h = valuesAt(count, {});
        return { count, hyperparams: h, innerState: build(h).init(params) };
      },
      update: (updates, state, params, extra) => {
        const h = valuesAt(state.count, state.hyperparams);
        const [u, innerState] = build(h).update(updates, state.innerState, params, extra);
        return [u, { count: safeIncrement(state.count), hyperparams: h, innerState }];
      },
    };
  };
}

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  let prev = globalThis.Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] as number;
}

// Properties that code probing any object reads (await, JSON, printers): not hyperparameters.
const PROBES = new Set(["then", "toJSON", "constructor", "asymmetricMatch", "nodeType", "$$typeof"]);

/**
 * The hyperparameters as the factory sees them: reading one that was not given is an error
 * naming the given ones (a typo would otherwise build the optimiser with `undefined`).
 */
function checkedNames<K extends string>(h: Record<K, Array>, names: readonly K[]): Record<K, Array> {
  return new Proxy(h, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && !(prop in target) && !PROBES.has(prop)) {
        const nearest = [...names].sort((a, b) => distance(prop, a) - distance(prop, b))[0];
        const hint =
          nearest !== undefined && distance(prop, nearest) <= Math.max(2, nearest.length / 2)
            ? ` (did you mean "${nearest}"?)`
            : "";
        throw new WebjaxError(
          `injectHyperparams: the factory read hyperparameter "${prop}", which was not given${hint}; ` +
            `given: ${names.length ? names.map((n) => `"${n}"`).join(", ") : "none"} — pass it in the object, e.g. ` +
            `injectHyperparams((h) => …)({ ${prop}: … })`,
        );
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

/**
 * The momentum half of Smith's 1cycle (Smith 2018): momentum falls from max to min while the
 * learning rate rises (to pctStart·T), rises back while it falls (to pctFinal·T; `cosine`: to T),
 * then stays at max — to pass as b1 or momentum through injectHyperparams, beside
 * linearOnecycleSchedule / cosineOnecycleSchedule with the same T and pctStart.
 */
export function cycleMomentum(
  transitionSteps: number,
  opts: { maxMomentum?: number; minMomentum?: number; pctStart?: number; pctFinal?: number; cosine?: boolean } = {},
): Schedule {
  const hi = opts.maxMomentum ?? 0.95;
  const lo = opts.minMomentum ?? 0.85;
  const up = Math.trunc((opts.pctStart ?? 0.3) * transitionSteps);
  const back = opts.cosine ? transitionSteps : Math.trunc((opts.pctFinal ?? 0.85) * transitionSteps);
  return piecewiseInterpolateSchedule(opts.cosine ? "cosine" : "linear", hi, { [up]: lo / hi, [back]: hi / lo });
}
