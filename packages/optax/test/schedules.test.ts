/** Schedules not in optax, by hand: power scheduling and Smith's cyclical rates; the array path equals the number path. */
import { type Array as JArray, jit, np } from "@webjax/core";
import { describe, expect, test } from "vitest";
import { cyclicalSchedule, powerDecay, type Schedule } from "../src/index.js";

async function both(s: Schedule, steps: number[], want: number[]) {
  steps.forEach((t, i) => expect(s(t) as number).toBeCloseTo(want[i] as number, 12));
  const arr = (await jit((c: JArray) => s(c) as JArray)(np.array(Int32Array.from(steps))).data()) as Float32Array;
  steps.forEach((_, i) => expect(arr[i]).toBeCloseTo(want[i] as number, 6));
}

describe("schedules by hand", () => {
  test("powerDecay: η0 / (1 + t/s)^c", async () => {
    await both(powerDecay(0.1, 10), [0, 10, 20, 90], [0.1, 0.05, 0.1 / 3, 0.01]);
    await both(powerDecay(1, 5, 2), [0, 5, 15], [1, 0.25, 1 / 16]);
    expect(() => powerDecay(1, 0)).toThrow(/steps must be positive/);
  });

  test("cyclicalSchedule: triangular, triangular2 and expRange (Smith 2017)", async () => {
    await both(cyclicalSchedule(0.1, 1, 10), [0, 5, 10, 15, 20, 25], [0.1, 0.55, 1, 0.55, 0.1, 0.55]);
    await both(cyclicalSchedule(0.1, 1, 10, { mode: "triangular2" }), [10, 30, 50], [1, 0.55, 0.325]);
    await both(cyclicalSchedule(0.1, 1, 10, { mode: "expRange", gamma: 0.99 }), [0, 10], [0.1, 0.1 + 0.9 * 0.99 ** 10]);
  });
});
