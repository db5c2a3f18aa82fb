/**
 * A failed kernel's error names the user's line that called its op (issue 25): always for a
 * jitted program (sites taken while tracing; the first call and replays), and for eager ops
 * with configure({ callSites: true }). Each backend's fault-injection hook makes a kernel fail;
 * WebGPU knows failures per submit, and its error names the failed kernel's site where the
 * fault says which kernel it was.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BackendError, configure, getBackend, type Array as JArray, jit, np } from "@webjax/core";
import { afterEach, describe, expect, test } from "vitest";

const lineOf = (marker: string) =>
  readFileSync(fileURLToPath(import.meta.url), "utf8")
    .split("\n")
    .findIndex((l) => l.includes(marker) && !l.includes("lineOf(")) + 1;
const failNext = () =>
  (getBackend() as unknown as { failNextKernel(m: string): void }).failNextKernel("injected fault");
const arr = (v: number[]) => np.array(v);
/** The backend's words for a failed kernel: the CPU names it; WebGPU names its submit's kernels. */
const failedKernel = () =>
  getBackend().name === "cpu"
    ? /cpu: kernel '.*' failed: injected fault/
    : /webgpu: kernel\(s\) .*injected fault.* failed/;

afterEach(() => configure({ callSites: false }));

describe("call sites of failed kernels", () => {
  test("a jitted program's failed kernel names the line inside it that made its value", async () => {
    const body = (x: JArray) => {
      const y = np.exp(x.mul(2));
      return y.sum(); // the sum: the last op of the fused kernel
    };
    const replayed = jit(body);
    await replayed(arr([1, 2])).data();
    for (const [call, f] of [
      ["the first call (recorded)", jit(body)],
      ["a replay", replayed],
    ] as const) {
      failNext();
      const err = await f(arr([1, 2]))
        .data()
        .catch((e: unknown) => e);
      expect(err, call).toBeInstanceOf(BackendError);
      expect((err as Error).message).toMatch(failedKernel());
      // The fused kernel (mul, exp, sum) is named by the line of the value it makes.
      expect((err as Error).message, call).toContain(`call-sites.test.ts:${lineOf("// the sum")}:`);
    }
  });

  test("eager ops name their line with configure({ callSites: true }), and everything downstream says so too", async () => {
    configure({ callSites: true });
    const x = arr([1, 2, 3]);
    failNext();
    const y = np.sin(x); // the sin
    const z = y.add(1);
    const err = await z.data().catch((e: unknown) => e);
    expect((err as Error).message).toMatch(failedKernel());
    expect((err as Error).message).toMatch(/\(the op was called at .*call-sites\.test\.ts:\d+:\d+\)/);
    expect((err as Error).message).toContain(`call-sites.test.ts:${lineOf("// the sin")}:`);
  });
});
