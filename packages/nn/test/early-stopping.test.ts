/**
 * earlyStopping against real Keras 3 (fixtures/make_early_stopping.py runs
 * keras.callbacks.EarlyStopping inside model.fit on scripted metric sequences and writes
 * fixtures/early_stopping.json), plus hand-written cases for what the fixtures can't show.
 */
import { readFileSync } from "node:fs";
import { WebjaxError } from "@webjax/core";
import { afterEach, describe, expect, test, vi } from "vitest";
import {
  type EarlyStoppingOptions,
  type EarlyStoppingState,
  earlyStopping,
  monitorMode,
  restoredWeights,
} from "../src/training/early-stopping.js";

type Num = number | "NaN" | null;
interface Case {
  name: string;
  options: EarlyStoppingOptions;
  sequence: Num[];
  error?: string;
  epochs_run: number;
  stop_epoch: number | null;
  stopped_epoch: number;
  best_epoch: number;
  best: Num;
  wait: number;
  final_weights_epoch: number;
  warnings: string[];
}
const fx = JSON.parse(readFileSync(new URL("fixtures/early_stopping.json", import.meta.url), "utf8")) as {
  cases: Case[];
};
const decode = (v: Num): number | null => (v === "NaN" ? Number.NaN : v);

/** Runs `sequence` as fit would: update after each epoch, break once `stop` is set. */
function runEpochs(options: EarlyStoppingOptions, sequence: (number | null)[]) {
  const es = earlyStopping<{ epoch: number }>(options);
  let state = es.init();
  let weights = { epoch: -1 };
  let stopEpoch: number | null = null;
  let ran = 0;
  for (let epoch = 0; epoch < sequence.length; epoch++) {
    weights = { epoch }; // the weights after this epoch, tagged with it
    state = es.update(state, { epoch, value: sequence[epoch] ?? null, weights });
    ran++;
    if (state.stop) {
      stopEpoch = epoch;
      break;
    }
  }
  return { state, ran, stopEpoch, final: restoredWeights(state, weights).epoch };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("earlyStopping matches keras.callbacks.EarlyStopping (Keras 3.15, model.fit)", () => {
  test("the fixture has the cases it should", () => {
    expect(fx.cases.length).toBeGreaterThanOrEqual(20);
  });

  test.each(fx.cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    if (c.error !== undefined) {
      expect(() => earlyStopping(c.options)).toThrow(WebjaxError);
      expect(() => earlyStopping(c.options)).toThrow(/mode: "max"/);
      return;
    }
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const r = runEpochs(c.options, c.sequence.map(decode));
    expect(r.ran).toBe(c.epochs_run);
    expect(r.stopEpoch).toBe(c.stop_epoch);
    expect(r.state.stop).toBe(c.stop_epoch !== null);
    expect(r.state.stoppedEpoch).toBe(c.stopped_epoch);
    expect(r.state.bestEpoch).toBe(c.best_epoch);
    expect(r.state.wait).toBe(c.wait);
    const best = decode(c.best);
    if (best === null) expect(r.state.bestValue).toBeNull();
    else expect(r.state.bestValue).toBe(best); // toBe treats NaN as equal to NaN
    expect(r.final).toBe(c.final_weights_epoch);
    // Keras' missing-metric warning, minus the available names (our update got no logs).
    expect(warn.mock.calls.map((a) => String(a[0]).split(" Available")[0])).toEqual(
      c.warnings.map((w) => w.split(" Available")[0]),
    );
  });
});

describe("earlyStopping, hand-written cases", () => {
  test("the baseline does not seed the best: a worse-than-baseline first epoch is still the best", () => {
    // Keras 3 starts `best` at None (the base class's `baseline` argument isn't passed), so
    // epoch 0 is always an improvement; the baseline only decides whether `wait` resets.
    const es = earlyStopping({ baseline: 0.5, patience: 2, restoreBestWeights: true });
    let s = es.update(es.init(), { epoch: 0, value: 0.9, weights: "w0" });
    expect(s).toMatchObject({ bestValue: 0.9, bestEpoch: 0, bestWeights: "w0", wait: 1, stop: false });
    s = es.update(s, { epoch: 1, value: 0.4, weights: "w1" }); // beats both: wait resets
    expect(s).toMatchObject({ bestValue: 0.4, bestEpoch: 1, bestWeights: "w1", wait: 0 });
  });

  test("update is pure: the old state is untouched and can be replayed", () => {
    const es = earlyStopping({ patience: 1 });
    const s0 = Object.freeze(es.update(es.init(), { epoch: 0, value: 1 }));
    const s1 = es.update(s0, { epoch: 1, value: 2 });
    expect(s0).toEqual({ wait: 0, bestValue: 1, bestEpoch: 0, bestWeights: null, stop: false, stoppedEpoch: 0 });
    expect(s1).toEqual({ wait: 1, bestValue: 1, bestEpoch: 0, bestWeights: null, stop: true, stoppedEpoch: 1 });
    expect(es.update(s0, { epoch: 1, value: 0.5 }).stop).toBe(false);
  });

  test("value can come from logs; a missing key warns with Keras' message and changes nothing", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const es = earlyStopping({ monitor: "val_accuracy" });
    const s0 = es.init();
    expect(es.update(s0, { epoch: 0, logs: { loss: 1, val_accuracy: 0.7 } }).bestValue).toBe(0.7);
    expect(es.update(s0, { epoch: 0, logs: { loss: 1, accuracy: 0.5 } })).toBe(s0);
    expect(warn).toHaveBeenCalledWith(
      "Early stopping conditioned on metric `val_accuracy` which is not available. Available metrics are: loss,accuracy",
    );
  });

  test("restoreBestWeights without weights is an error that names the fix", () => {
    const es = earlyStopping({ restoreBestWeights: true });
    expect(() => es.update(es.init(), { epoch: 0, value: 1 })).toThrow(/pass \{ weights: params \}/);
  });

  test("restoredWeights returns the current weights unless best weights were kept", () => {
    const plain = earlyStopping<string>({ patience: 0 });
    let s: EarlyStoppingState<string> = plain.init();
    s = plain.update(s, { epoch: 0, value: 1, weights: "w0" });
    s = plain.update(s, { epoch: 1, value: 2, weights: "w1" });
    expect(s.stop).toBe(true);
    expect(restoredWeights(s, "w1")).toBe("w1");
    // Before any monitored epoch there is nothing to restore either.
    const keep = earlyStopping<string>({ restoreBestWeights: true });
    expect(restoredWeights(keep.init(), "now")).toBe("now");
  });

  test("improvements are compared in float32, as Keras' ops.less does", () => {
    // 0.3 - 1e-9 < 0.3 in float64 but both round to the same float32: a tie, not a gain.
    const es = earlyStopping({ patience: 0 });
    const s = es.update(es.update(es.init(), { epoch: 0, value: 0.3 }), { epoch: 1, value: 0.3 - 1e-9 });
    expect(s).toMatchObject({ stop: true, stoppedEpoch: 1, bestValue: 0.3 });
  });

  test("mode auto follows Keras 3's metric directions, not Keras 2's 'contains acc' rule", () => {
    expect(monitorMode("val_loss")).toBe("min");
    expect(monitorMode("loss")).toBe("min");
    expect(monitorMode("val_mean_squared_error")).toBe("min");
    expect(monitorMode("val_accuracy")).toBe("max");
    expect(monitorMode("acc")).toBe("max");
    expect(monitorMode("val_auc")).toBe("max");
    expect(monitorMode("f1_score")).toBe("max");
    expect(() => monitorMode("val_my_acc")).toThrow(WebjaxError);
    expect(earlyStopping({ monitor: "val_my_acc", mode: "max" }).mode).toBe("max");
    expect(earlyStopping({ minDelta: -0.1 }).options.minDelta).toBe(-0.1);
  });

  test("an unknown mode is an error", () => {
    expect(() => earlyStopping({ mode: "up" as "max" })).toThrow(/mode must be "auto", "min" or "max"/);
  });
});
