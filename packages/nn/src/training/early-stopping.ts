/**
 * Early stopping as a pure state machine, with the semantics of Keras 3's
 * `keras.callbacks.EarlyStopping` (checked against keras 3.15 by
 * `test/fixtures/make_early_stopping.py`).
 *
 * ```ts
 * const es = earlyStopping({ patience: 3, restoreBestWeights: true });
 * let s = es.init();
 * for (let epoch = 0; epoch < epochs && !s.stop; epoch++) {
 *   params = trainOneEpoch(params);
 *   s = es.update(s, { epoch, value: await valLoss(params).item(), weights: params });
 * }
 * params = restoredWeights(s, params);
 * ```
 */
import { WebjaxError } from "@webjax/core";

/** Direction of improvement: `"auto"` infers it from the monitored name as Keras 3 does. */
export type EarlyStoppingMode = "auto" | "min" | "max";

/** Options of {@link earlyStopping}; names and defaults are Keras' in camelCase. */
export interface EarlyStoppingOptions {
  /** Name of the monitored quantity (used by `mode: "auto"`, warnings and `logs`). Default `"val_loss"`. */
  monitor?: string;
  /** Smallest change that counts as an improvement; its sign is ignored (`|minDelta|`). Default 0. */
  minDelta?: number;
  /** Epochs without improvement after which training stops. Default 0. */
  patience?: number;
  /** `"min"`, `"max"` or `"auto"` (default). */
  mode?: EarlyStoppingMode;
  /** A value the metric must beat (by `minDelta`) for `wait` to reset. Default `null`. */
  baseline?: number | null;
  /** Keep the weights of the best epoch and end training with them. Default false. */
  restoreBestWeights?: boolean;
  /** Epochs `< startFromEpoch` are ignored entirely (warm-up). Default 0. */
  startFromEpoch?: number;
}

/** The immutable state; the fields are Keras' attributes of the same names. */
export interface EarlyStoppingState<W = unknown> {
  /** Monitored epochs since the last improvement that beat both the best and the baseline. */
  readonly wait: number;
  /** Keras' `best`: the best value seen, `null` before the first monitored epoch (not the baseline). */
  readonly bestValue: number | null;
  /** 0-based epoch of `bestValue` (0 before any monitored epoch). */
  readonly bestEpoch: number;
  /** Weights of `bestEpoch`, kept only when `restoreBestWeights`; otherwise `null`. */
  readonly bestWeights: W | null;
  /** Keras' `model.stop_training`: true once patience ran out; stays true. */
  readonly stop: boolean;
  /** 0-based epoch at which `stop` was set, or 0 if training never stopped (Keras' numbering). */
  readonly stoppedEpoch: number;
}

/** What {@link EarlyStopping.update} reads at the end of one epoch. */
export interface EarlyStoppingStep<W = unknown> {
  /** 0-based epoch index, as Keras' `on_epoch_end(epoch)`. */
  epoch: number;
  /**
   * The monitored value as a JS number (read a 0-d array with `await x.item()` first).
   * `undefined` reads `logs[monitor]` instead; `null` or a missing key means "not available".
   */
  value?: number | null;
  /** The epoch's logs, used when `value` is undefined (and named in the missing-metric warning). */
  logs?: Readonly<Record<string, number>>;
  /** The weights after this epoch (any pytree, kept by reference); needed with `restoreBestWeights`. */
  weights?: W;
}

/** An early-stopping rule: `init()` then `update(state, step)` once per epoch. */
export interface EarlyStopping<W = unknown> {
  readonly monitor: string;
  /** Resolved direction (`"auto"` already decided). */
  readonly mode: "min" | "max";
  readonly options: Readonly<Required<EarlyStoppingOptions>>;
  /** The state at train begin (Keras' `on_train_begin`). */
  init(): EarlyStoppingState<W>;
  /** The state after one epoch (Keras' `on_epoch_end`); does not mutate `state`. */
  update(state: EarlyStoppingState<W>, step: EarlyStoppingStep<W>): EarlyStoppingState<W>;
}

// Names Keras 3 gives its built-in metrics (default names and compile() string aliases) with the
// metric's `_direction`; `mode: "auto"` looks the monitored name up here, minus a `val_` prefix.
const MAXIMISED = new Set(
  (
    "accuracy acc auc AUC binary_accuracy categorical_accuracy sparse_categorical_accuracy " +
    "top_k_categorical_accuracy sparse_top_k_categorical_accuracy precision recall f1_score " +
    "fbeta_score f_beta_score r2_score cosine_similarity pearson_correlation concordance_correlation " +
    "io_u binary_io_u mean_io_u one_hot_io_u one_hot_mean_io_u precision_at_recall recall_at_precision " +
    "sensitivity_at_specificity specificity_at_sensitivity"
  ).split(" "),
);
const MINIMISED = new Set(
  (
    "loss mse mae mape msle bce mean_squared_error mean_absolute_error mean_absolute_percentage_error " +
    "mean_squared_logarithmic_error root_mean_squared_error binary_crossentropy categorical_crossentropy " +
    "sparse_categorical_crossentropy hinge squared_hinge categorical_hinge kl_divergence logcosh " +
    "log_cosh_error poisson"
  ).split(" "),
);

/**
 * The direction `mode: "auto"` gives a monitored name, as Keras 3's `MonitorCallback`: strip a
 * leading `val_`; `loss` and the error/crossentropy metrics are minimised, accuracy-like metrics
 * (`accuracy`, `acc`, `auc`, `precision`, `f1_score`, ...) maximised. Any other name throws, as
 * Keras raises: pass `mode: "min"` or `"max"`. (Keras 2's "contains `acc`" rule is gone.)
 */
export function monitorMode(monitor: string): "min" | "max" {
  const name = monitor.startsWith("val_") ? monitor.slice(4) : monitor;
  if (MINIMISED.has(name)) return "min";
  if (MAXIMISED.has(name)) return "max";
  throw new WebjaxError(
    `earlyStopping: received monitor=${JSON.stringify(monitor)}, but mode "auto" can't tell whether ` +
      `that metric should be maximized or minimized. Pass mode: "max" to monitor based on the highest ` +
      `value, or mode: "min" to use the lowest.`,
  );
}

/**
 * Stop training when a monitored metric has stopped improving (Keras 3 `EarlyStopping`).
 *
 * Per epoch (`epoch >= startFromEpoch`, value available; other epochs change nothing):
 * 1. `wait += 1`;
 * 2. if the value improves on `bestValue` (always true for the first monitored epoch, even a
 *    NaN) — `value + |minDelta| < best` in min mode, `value - |minDelta| > best` in max mode,
 *    compared in float32 as Keras' `ops.less`/`ops.greater` do — it becomes the best (with its
 *    epoch and weights), and `wait` resets to 0 only if it also improves on `baseline`;
 * 3. otherwise, if `wait >= patience` (and `epoch > 0`), `stop` is set and `stoppedEpoch = epoch`.
 *
 * So the baseline never seeds `bestValue`: an epoch that improves on the previous best but not
 * on the baseline still becomes the best (and the weights that {@link restoredWeights}
 * returns), it just does not reset `wait`. If no epoch beats the baseline, training stops
 * `patience` epochs after the last improvement and the best of those epochs is restored.
 * NaN never improves on a number, and nothing improves on a NaN best.
 *
 * A missing value (`value: null`, or `value` undefined and `logs[monitor]` absent) warns with
 * Keras' message and leaves the state unchanged.
 */
export function earlyStopping<W = unknown>(options: EarlyStoppingOptions = {}): EarlyStopping<W> {
  const opts: Required<EarlyStoppingOptions> = {
    monitor: options.monitor ?? "val_loss",
    minDelta: options.minDelta ?? 0,
    patience: options.patience ?? 0,
    mode: options.mode ?? "auto",
    baseline: options.baseline ?? null,
    restoreBestWeights: options.restoreBestWeights ?? false,
    startFromEpoch: options.startFromEpoch ?? 0,
  };
  if (opts.mode !== "auto" && opts.mode !== "min" && opts.mode !== "max") {
    throw new WebjaxError(`earlyStopping: mode must be "auto", "min" or "max", got ${JSON.stringify(opts.mode)}`);
  }
  const { monitor, patience, baseline, restoreBestWeights, startFromEpoch } = opts;
  const mode = opts.mode === "auto" ? monitorMode(monitor) : opts.mode;
  // Keras: min_delta = abs(min_delta), negated in min mode; improvement is op(v - min_delta, ref).
  const delta = mode === "min" ? -Math.abs(opts.minDelta) : Math.abs(opts.minDelta);
  const f32 = Math.fround;
  const improves = (v: number, ref: number | null): boolean =>
    ref === null || (mode === "min" ? f32(v - delta) < f32(ref) : f32(v - delta) > f32(ref));

  return {
    monitor,
    mode,
    options: opts,
    init: () => ({ wait: 0, bestValue: null, bestEpoch: 0, bestWeights: null, stop: false, stoppedEpoch: 0 }),
    update(state, { epoch, value, logs, weights }) {
      const current = value === undefined ? logs?.[monitor] : value;
      if (current === undefined || current === null) {
        console.warn(
          `Early stopping conditioned on metric \`${monitor}\` which is not available. ` +
            `Available metrics are: ${Object.keys(logs ?? {}).join(",")}`,
        );
        return state;
      }
      if (epoch < startFromEpoch) return state;
      const weightsNow = (): W => {
        if (weights === undefined) {
          throw new WebjaxError(
            `earlyStopping: restoreBestWeights is set but update() at epoch ${epoch} got no weights; pass { weights: params }`,
          );
        }
        return weights;
      };
      // Keras first copies the weights if best_weights is None; that is always the first
      // monitored epoch, which always improves on best = None below, so this covers it.
      const wait = state.wait + 1;
      if (improves(current, state.bestValue)) {
        return {
          ...state,
          bestValue: current,
          bestEpoch: epoch,
          bestWeights: restoreBestWeights ? weightsNow() : state.bestWeights,
          // Only restart wait if we beat both the baseline and the previous best.
          wait: baseline === null || improves(current, baseline) ? 0 : wait,
        };
      }
      const stop = wait >= patience && epoch > 0;
      return { ...state, wait, ...(stop ? { stop: true, stoppedEpoch: epoch } : {}) };
    },
  };
}

/**
 * The weights training ends with (Keras' `on_train_end`): the best epoch's weights when
 * `restoreBestWeights` kept some — whether or not training stopped early, and even if no epoch
 * beat the baseline — otherwise `currentWeights`.
 */
export function restoredWeights<W>(state: EarlyStoppingState<W>, currentWeights: W): W {
  return state.bestWeights !== null ? state.bestWeights : currentWeights;
}
