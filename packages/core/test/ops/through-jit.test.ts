/**
 * The core-cpu-jit project runs the op tests through jit (packages/test-utils/src/jit-core.ts):
 * here, that its `np`, `lax` and `random` calls really are compiled programs. In every other
 * project, they are plain eager calls.
 */
import { configureJit, lax, np, random } from "@webjax/core";
import { expect, test } from "vitest";

const jitMode = process.env.WEBJAX_JIT_OPS === "1";

test(jitMode ? "np, lax and random calls are jitted programs" : "np, lax and random calls are eager", async () => {
  const events: string[] = [];
  configureJit({ logCompiles: (e) => events.push(e.fn) });
  try {
    using a = np.add(np.ones([2]), 1);
    using b = lax.cumsum(a, { axis: 0 });
    using k = random.key(1);
    using u = random.uniform(k, [2]);
    expect(Array.from(await b.data())).toEqual([2, 4]);
    expect(u.shape).toEqual([2]);
  } finally {
    configureJit({ logCompiles: false });
  }
  if (jitMode)
    expect(events).toEqual(expect.arrayContaining(["jit(np.add)", "jit(lax.cumsum)", "jit(random.uniform)"]));
  else expect(events).toEqual([]);
});
