/**
 * What a worker of the CPU pool runs, and the control-word layout it shares with the pool.
 * The same loop serves Node's `worker_threads` and browsers' Web Workers: it instantiates the
 * GEMM module against the shared heap, marks itself ready, then blocks in `Atomics.wait` on its
 * sequence word and runs each job it is given. Fused kernels' modules reach it through a shared
 * mailbox memory (never a message: a worker blocked in `Atomics.wait` reads no messages), and it
 * keeps the ones it has compiled until it holds CACHED of them, then starts afresh (bumping its
 * generation word, so the pool knows to send modules again).
 */

/** Int32 words of control per worker: [seq, done, failed, job, jobs run, ready, generation, args…]. */
export const WORDS = 64;
export const SEQ = 0;
export const DONE = 1;
export const FAILED = 2;
export const JOB = 3;
export const RAN = 4;
export const READY = 5;
export const GEN = 6;
export const ARGS = 7;

/** Compiled fused kernels a worker keeps before it starts afresh. */
export const CACHED = 256;

/** Jobs a worker runs, by number. */
export const JOBS = {
  /**
   * pack_a + kernel over row blocks: [a, rs, cs, rows, kb, ap, bp, c, ldc, nc, accumulate, tile,
   * mc, packB, b, brs, bcs] — with packB = 1 it first packs its own nc columns of B (b, byte
   * strides brs, bcs) into bp (a column split: each thread its share of B's panels).
   */
  gemmRows: 1,
  /** A fused kernel's rows: [module id, module bytes in the mailbox (0: already sent), argument count, run's arguments…]. */
  fused: 2,
} as const;

/** Words of a fused job before `run`'s arguments. */
export const FUSED_HEADER = 3;

/** The most arguments a fused kernel's `run` may take to be split over the pool. */
export const MAX_FUSED_ARGS = WORDS - ARGS - FUSED_HEADER;

/** What every worker runs; also run in-thread by the main thread for its own share. */
export function gemmRows(
  ex: {
    pack_a(src: number, rs: number, cs: number, mc: number, kb: number, dst: number): void;
    pack_b(src: number, rs: number, cs: number, kb: number, nc: number, dst: number): void;
    kernel(...a: number[]): void;
  },
  a: ArrayLike<number>,
): void {
  if (a[13] === 1)
    ex.pack_b(a[14] as number, a[15] as number, a[16] as number, a[4] as number, a[9] as number, a[6] as number);
  const src = a[0] as number;
  const rs = a[1] as number;
  const rows = a[3] as number;
  const kb = a[4] as number;
  const ap = a[5] as number;
  const c = a[7] as number;
  const ldc = a[8] as number;
  const mc = a[12] as number;
  for (let r = 0; r < rows; r += mc) {
    const m = Math.min(mc, rows - r);
    ex.pack_a(src + r * rs, rs, a[2] as number, m, kb, ap);
    ex.kernel(ap, a[6] as number, c + r * ldc, ldc, m, a[9] as number, kb, a[10] as number, a[11] as number);
  }
}

/** The worker's loop, given { memory, mailbox, bytes, control, slot, times } (times: its jobs' start and end, for the profiler). */
const SERVE = `
function serve(d) {
  const { memory, mailbox, bytes, control, slot } = d;
  const times = new Float64Array(d.times);
  const clock = () => performance.timeOrigin + performance.now();
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } }).exports;
  const ctl = new Int32Array(control);
  const base = slot * ${WORDS};
  const gemmRows = ${gemmRows.toString()};
  const kernels = new Map();
  function fused(a) {
    let run = kernels.get(a[0]);
    if (run === undefined) {
      if (a[1] <= 0) throw new Error("cpu worker: kernel " + a[0] + " was not sent");
      if (kernels.size >= ${CACHED}) {
        kernels.clear();
        Atomics.add(ctl, base + ${GEN}, 1);
      }
      const code = new Uint8Array(mailbox.buffer, 0, a[1]).slice();
      run = new WebAssembly.Instance(new WebAssembly.Module(code), { env: { mem: memory } }).exports.run;
      kernels.set(a[0], run);
    }
    run.apply(null, Array.from(a.subarray(${FUSED_HEADER}, ${FUSED_HEADER} + a[2])));
  }
  Atomics.store(ctl, base + ${READY}, 1);
  Atomics.notify(ctl, base + ${READY});
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, base + ${SEQ}, seen);
    seen = Atomics.load(ctl, base + ${SEQ});
    if (seen < 0) break;
    times[2 * slot] = clock();
    try {
      const job = ctl[base + ${JOB}];
      const args = ctl.subarray(base + ${ARGS}, base + ${WORDS});
      if (job === ${JOBS.gemmRows}) gemmRows(ex, args);
      else if (job === ${JOBS.fused}) fused(args);
      else throw new Error("cpu worker: unknown job " + job);
      Atomics.add(ctl, base + ${RAN}, 1);
    } catch (e) {
      Atomics.store(ctl, base + ${FAILED}, 1);
    }
    times[2 * slot + 1] = clock();
    Atomics.store(ctl, base + ${DONE}, seen);
    Atomics.notify(ctl, base + ${DONE});
  }
}
`;

/** A Node worker (`eval: true`): its start data arrives as workerData. */
export const NODE_WORKER_SOURCE = `${SERVE}
serve(require("node:worker_threads").workerData);
`;

/** A Web Worker (from a Blob URL): its start data is the first message; it never returns to its event loop. */
export const BROWSER_WORKER_SOURCE = `${SERVE}
self.onmessage = (e) => { self.onmessage = null; serve(e.data); };
`;
