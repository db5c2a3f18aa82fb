/** Timing helpers: medians over repeated runs after warm-ups. */

/**
 * The median of `reps` timed runs after `warmup` untimed ones. It first lets the process settle
 * for 100 ms, so the previous library's background work (V8's concurrent GC of its garbage, its
 * own threads winding down) does not land on the next library's timing, on a 2-core machine.
 */
export async function medianMs(run: () => Promise<void>, { warmup = 3, reps = 15 } = {}): Promise<number> {
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < warmup; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

export function randomData(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}
