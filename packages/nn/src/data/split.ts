/** Train/validation splits of a data tree by a PRNG key. */
import { type Array, np, random, WebjaxError } from "@webjax/core";
import { mapLeaves, numExamples } from "./batches.js";

/** Options of `trainValidationSplit`: one of `validationFraction` / `validationSize`. */
export interface SplitOptions {
  /** The PRNG key of the shuffle; without one the last examples are the validation set. */
  readonly key?: Array;
  /** The validation set's share of the examples, in (0, 1) (default 0.1). */
  readonly validationFraction?: number;
  /** The validation set's size, instead of a fraction. */
  readonly validationSize?: number;
}

/**
 * Splits `data` (a pytree of arrays with a common leading axis) into `[train, validation]`:
 * a random split by `key` (one permutation shared by all leaves, so x and y stay paired), or
 * the last examples for validation without a key, as Keras' `validation_split`.
 */
export function trainValidationSplit<T>(data: T, opts: SplitOptions = {}): [T, T] {
  const n = numExamples("trainValidationSplit", data);
  const nVal =
    opts.validationSize ??
    (() => {
      const f = opts.validationFraction ?? 0.1;
      if (!(f > 0 && f < 1))
        throw new WebjaxError(`trainValidationSplit: validationFraction must be in (0, 1), got ${f}`);
      // Keras' rounding: the training set is the first floor(n·(1 − f)) examples.
      return n - Math.floor(n * (1 - f));
    })();
  if (!Number.isInteger(nVal) || nVal < 1 || nVal >= n) {
    throw new WebjaxError(
      `trainValidationSplit: the validation set must hold 1..${n - 1} of ${n} examples, got ${nVal}`,
    );
  }
  const nTrain = n - nVal;
  if (opts.key === undefined) {
    return [mapLeaves((l) => l.slice([0, nTrain]), data), mapLeaves((l) => l.slice([nTrain, n]), data)];
  }
  const order = random.permutation(opts.key, n);
  const tr = order.slice([0, nTrain]);
  const va = order.slice([nTrain, n]);
  return [mapLeaves((l) => np.take(l, tr, { axis: 0 }), data), mapLeaves((l) => np.take(l, va, { axis: 0 }), data)];
}
