/** Small helpers shared by the ops suites (elementwise-*.test.ts, matmul.test.ts, dot-general.test.ts). */
import type { Array as JArray } from "@webjax/core";

/** Rounds to float32. */
export const f32 = Math.fround;

/** The values of `x`, row-major, as plain numbers. */
export async function values(x: JArray): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}
