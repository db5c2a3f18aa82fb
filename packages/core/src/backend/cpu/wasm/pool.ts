/**
 * Worker threads over the shared heap (Node's `worker_threads`). Each worker instantiates the
 * same Wasm module against the backend's shared `WebAssembly.Memory` and waits on its own
 * control words (`Atomics.wait`); the main thread writes a job's arguments, bumps the job's
 * sequence number and notifies, does its own share, then waits for every worker's done word.
 * Jobs name exported functions and pass i32 arguments, so a worker runs exactly the code the
 * main thread would: results do not depend on the number of threads.
 */

/** Int32 words of control per worker: [seq, done, failed, job, jobs run, args…]. */
const WORDS = 64;
const SEQ = 0;
const DONE = 1;
const FAILED = 2;
const JOB = 3;
const RAN = 4;
const ARGS = 5;

/** Jobs a worker runs, by number. */
export const JOBS = {
  /** pack_a + kernel over row blocks: [a, rs, cs, rows, kb, ap, bp, c, ldc, nc, accumulate, tile, mc]. */
  gemmRows: 1,
  /** A fused kernel's rows: [module id, argument count, run's arguments…] (the module arrives on the worker's port). */
  fused: 2,
} as const;

/** The most arguments a fused kernel's `run` may take to be split over the pool. */
export const MAX_FUSED_ARGS = WORDS - ARGS - 2;

/** What every worker runs; also run in-thread by the main thread for its own share. */
export function gemmRows(
  ex: {
    pack_a(src: number, rs: number, cs: number, mc: number, kb: number, dst: number): void;
    kernel(...a: number[]): void;
  },
  a: ArrayLike<number>,
): void {
  const [src, rs, cs, rows, kb, ap, bp, c, ldc, nc, accumulate, tile, mc] = Array.from(a) as Thirteen;
  for (let r = 0; r < rows; r += mc) {
    const m = Math.min(mc, rows - r);
    ex.pack_a(src + r * rs, rs, cs, m, kb, ap);
    ex.kernel(ap, bp, c + r * ldc, ldc, m, nc, kb, accumulate, tile);
  }
}

type Thirteen = [
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
  number,
];

const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads");
const { memory, bytes, control, slot, port } = workerData;
const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: memory } }).exports;
const ctl = new Int32Array(control);
const base = slot * ${WORDS};
const gemmRows = ${gemmRows.toString()};
const kernels = new Map();
function fused(a) {
  for (let m; (m = receiveMessageOnPort(port)); ) {
    const msg = m.message;
    if (msg.drop !== undefined) kernels.delete(msg.drop);
    else kernels.set(msg.id, new WebAssembly.Instance(msg.module, { env: { mem: memory } }).exports.run);
  }
  const run = kernels.get(a[0]);
  if (!run) throw new Error("no kernel " + a[0]);
  run.apply(null, Array.from(a.subarray(2, 2 + a[1])));
}
let seen = 0;
for (;;) {
  Atomics.wait(ctl, base + ${SEQ}, seen);
  seen = Atomics.load(ctl, base + ${SEQ});
  if (seen < 0) break;
  try {
    const job = ctl[base + ${JOB}];
    const args = ctl.subarray(base + ${ARGS}, base + ${WORDS});
    if (job === ${JOBS.gemmRows}) gemmRows(ex, args);
    else if (job === ${JOBS.fused}) fused(args);
    else throw new Error("unknown job " + job);
    Atomics.add(ctl, base + ${RAN}, 1);
  } catch (e) {
    Atomics.store(ctl, base + ${FAILED}, 1);
  }
  Atomics.store(ctl, base + ${DONE}, seen);
  Atomics.notify(ctl, base + ${DONE});
}
`;

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
  on(event: "error" | "exit", f: () => void): void;
}

type WorkerCtor = new (
  code: string,
  opts: { eval: true; workerData: unknown; transferList?: unknown[]; stdout?: boolean; stderr?: boolean },
) => NodeWorker;

interface NodePort {
  postMessage(message: unknown): void;
  close(): void;
}

interface WorkerThreads {
  Worker?: WorkerCtor;
  MessageChannel?: new () => { port1: NodePort; port2: NodePort };
}

/** node:worker_threads, when this is Node with `process.getBuiltinModule` (20.16+); else why not. */
function workerThreads(): Required<WorkerThreads> | string {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (m: string) => unknown } })
    .process;
  if (!proc?.versions?.node) return "worker threads run in Node only for now (browsers get one thread)";
  if (typeof proc.getBuiltinModule !== "function") return "this Node has no process.getBuiltinModule (Node 20.16+)";
  const wt = proc.getBuiltinModule("node:worker_threads") as WorkerThreads | undefined;
  return wt?.Worker && wt.MessageChannel ? (wt as Required<WorkerThreads>) : "node:worker_threads is unavailable";
}

/** Why a pool of `threads` cannot run here, or null when it can. */
export function poolUnavailable(threads: number): string | null {
  if (threads <= 1) return "one thread requested";
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is unavailable (not cross-origin isolated)";
  const wt = workerThreads();
  return typeof wt === "string" ? wt : null;
}

/** N − 1 workers plus the calling thread. */
export class WorkerPool {
  private readonly ctl: Int32Array;
  private readonly workers: NodeWorker[] = [];
  /** Per worker, the port on which fused kernels' modules (and their drops) reach it. */
  private readonly ports: NodePort[] = [];
  private seq = 0;
  private nextModule = 1;
  private readonly dropped = new FinalizationRegistry<number>((id) => {
    for (const p of this.ports) p.postMessage({ drop: id });
  });

  constructor(
    memory: WebAssembly.Memory,
    bytes: Uint8Array,
    readonly threads: number,
  ) {
    const { Worker, MessageChannel } = workerThreads() as Required<WorkerThreads>;
    const control = new SharedArrayBuffer(WORDS * 4 * (threads - 1));
    this.ctl = new Int32Array(control);
    for (let slot = 0; slot < threads - 1; slot++) {
      const { port1, port2 } = new MessageChannel();
      this.ports.push(port1);
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory, bytes, control, slot, port: port2 },
        transferList: [port2],
      });
      w.unref();
      const failed = () => {
        Atomics.store(this.ctl, slot * WORDS + FAILED, 1);
        Atomics.notify(this.ctl, slot * WORDS + DONE);
      };
      w.on("error", failed);
      w.on("exit", failed);
      this.workers.push(w);
    }
  }

  /**
   * Runs `jobs[i]` on worker i (jobs beyond the workers are an error) and `own` here, and
   * returns when every job has finished; a job that failed in a worker throws here.
   */
  run(job: number, jobs: readonly (readonly number[])[], own: () => void): void {
    if (jobs.length > this.workers.length)
      throw new Error(`pool: ${jobs.length} jobs for ${this.workers.length} workers`);
    this.seq++;
    jobs.forEach((args, i) => {
      const base = i * WORDS;
      this.ctl[base + JOB] = job;
      this.ctl.set(args, base + ARGS);
      Atomics.store(this.ctl, base + SEQ, this.seq);
      Atomics.notify(this.ctl, base + SEQ);
    });
    let error: unknown = null;
    try {
      own();
    } catch (e) {
      error = e;
    }
    for (let i = 0; i < jobs.length; i++) {
      const base = i * WORDS;
      for (;;) {
        const done = Atomics.load(this.ctl, base + DONE);
        if (done === this.seq || Atomics.load(this.ctl, base + FAILED) !== 0) break;
        Atomics.wait(this.ctl, base + DONE, done, 1000);
      }
      if (Atomics.load(this.ctl, base + FAILED) !== 0) error ??= new Error(`cpu worker ${i + 1} failed its job`);
    }
    if (error) throw error;
  }

  /**
   * Makes a fused kernel's module (one that imports only the heap's memory) runnable on every
   * worker; returns its id. The workers drop it once `owner` (its runner) is collected.
   */
  addModule(module: WebAssembly.Module, owner: object): number {
    const id = this.nextModule++;
    for (const p of this.ports) p.postMessage({ id, module });
    this.dropped.register(owner, id);
    return id;
  }

  /**
   * Runs a fused kernel's rows [0, rows) split into one contiguous block per thread (a fixed
   * split: every row is computed by the same code as on one thread). `args` are its `run`
   * arguments, the last two being the row range; `own(args)` runs this thread's block.
   */
  runRows(id: number, args: number[], rows: number, own: (args: number[]) => void): void {
    const n = args.length;
    const chunk = Math.ceil(rows / this.threads);
    const jobs: number[][] = [];
    for (let t = 1; t < this.threads && t * chunk < rows; t++) {
      const job = [id, n, ...args];
      job[n] = t * chunk;
      job[n + 1] = Math.min(rows, (t + 1) * chunk);
      jobs.push(job);
    }
    args[n - 2] = 0;
    args[n - 1] = Math.min(rows, chunk);
    this.run(JOBS.fused, jobs, () => own(args));
  }

  /** Jobs each worker has finished (for tests and profiling). */
  jobsRun(): number[] {
    return this.workers.map((_, i) => Atomics.load(this.ctl, i * WORDS + RAN));
  }

  /** Stops the workers (they hold the heap's memory). */
  close(): void {
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, i * WORDS + SEQ, -1);
      Atomics.notify(this.ctl, i * WORDS + SEQ);
    }
    for (const w of this.workers) void w.terminate();
    for (const p of this.ports) p.close();
    this.workers.length = 0;
    this.ports.length = 0;
  }
}
