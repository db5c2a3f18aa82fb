/**
 * checkVmap: vmap(f) against an explicit loop over the batch (slice each mapped argument, call
 * f, stack the outputs), and a dispatch counter to show a rule hides no loop over the batch.
 */
import { type Array, getBackend, np, vmap } from "@webjax/core";
import { expectClose, type Tolerance } from "./index.js";

export interface CheckVmapOptions extends Tolerance {
  /** One axis (or null) per argument. */
  inAxes: readonly (number | null)[];
  /** Where the batch goes in the output (default 0). */
  outAxes?: number;
}

/** Runs `f` member by member and stacks the results along `outAxes`. */
export function loopVmap(f: (...a: Array[]) => Array, args: readonly Array[], opts: CheckVmapOptions): Array {
  const size = args
    .map((x, i) => {
      const a = opts.inAxes[i] ?? null;
      return a === null ? -1 : (x.shape[a < 0 ? a + x.ndim : a] as number);
    })
    .find((n) => n >= 0) as number;
  const outs: Array[] = [];
  for (let b = 0; b < size; b++) {
    const member = args.map((x, i) => {
      const a = opts.inAxes[i] ?? null;
      return a === null ? x : np.take(x, b, { axis: a });
    });
    outs.push(f(...member));
  }
  return np.stack(outs, opts.outAxes ?? 0);
}

/** Asserts vmap(f, { inAxes, outAxes })(...args) equals the loop, shapes and values. */
export async function checkVmap(
  f: (...a: Array[]) => Array,
  args: readonly Array[],
  opts: CheckVmapOptions,
): Promise<void> {
  using got = vmap(f, { inAxes: [...opts.inAxes], outAxes: opts.outAxes ?? 0 })(...args);
  using want = loopVmap(f, args, opts);
  if (got.shape.join() !== want.shape.join() || got.dtype !== want.dtype) {
    throw new Error(`checkVmap: vmap gave ${got.dtype}[${got.shape}], the loop ${want.dtype}[${want.shape}]`);
  }
  const w = await want.data();
  await expectClose(got, globalThis.Array.from(w, Number), { rtol: opts.rtol ?? 1e-5, atol: opts.atol ?? 1e-5 });
}

/**
 * How many kernels the current backend dispatches while `f` runs (read back before counting
 * ends); with `exceptCopies`, not counting the copies that make a strided view contiguous.
 */
export async function countDispatches(
  f: () => Array | Array[],
  opts: { exceptCopies?: boolean } = {},
): Promise<number> {
  const backend = getBackend() as unknown as { dispatch: (...a: unknown[]) => void };
  const original = backend.dispatch;
  let n = 0;
  backend.dispatch = function (this: unknown, ...a: unknown[]) {
    const exe = a[0] as { kernel?: { label?: string } };
    if (!(opts.exceptCopies && exe.kernel?.label === "copy")) n++;
    return original.apply(this, a);
  };
  try {
    const r = f();
    for (const x of globalThis.Array.isArray(r) ? r : [r]) {
      await x.blockUntilReady();
      x.dispose();
    }
  } finally {
    backend.dispatch = original;
  }
  return n;
}
