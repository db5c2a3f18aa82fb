/**
 * Worker threads over the shared heap: Node's `worker_threads`, or Web Workers in a browser page
 * that is cross-origin isolated. Each worker instantiates the same Wasm modules against the
 * backend's shared `WebAssembly.Memory` and waits on its own control words (pool-worker.ts); the
 * calling thread writes a job's arguments, bumps the job's sequence number and notifies, does its
 * own share, then waits for every worker's done word: `Atomics.wait` where the thread may block
 * (Node, a browser worker), a bounded spin on a browser's main thread, which may not. Jobs name
 * exported functions and pass i32 arguments, so a worker runs exactly the code the calling thread
 * would: results do not depend on the number of threads.
 *
 * Workers start in the background (a browser's only once the main thread yields), so the pool
 * splits nothing until every worker has marked itself ready (a spin on a worker that has not
 * started could never end, and a process's first kernels should not wait ~100 ms for a worker's
 * boot); until then kernels run whole on the calling thread, which gives the same bits.
 */
import {
  ARGS,
  BROWSER_WORKER_SOURCE,
  DONE,
  FAILED,
  FUSED_HEADER,
  GEN,
  JOB,
  JOBS,
  NODE_WORKER_SOURCE,
  RAN,
  READY,
  SEQ,
  WORDS,
} from "./pool-worker.js";

export { gemmRows, JOBS, MAX_FUSED_ARGS } from "./pool-worker.js";

/** How long `whenReady()` waits for the workers to start. */
const START_MS = 10_000;
/** How long a spinning main thread waits for a worker's share beyond its own before it gives up. */
const SPIN_MS = 30_000;

interface AnyWorker {
  terminate(): unknown;
}

interface NodeWorker extends AnyWorker {
  unref(): void;
  on(event: "error" | "exit", f: () => void): void;
}

type NodeWorkerCtor = new (code: string, opts: { eval: true; workerData: unknown }) => NodeWorker;

interface BrowserWorker extends AnyWorker {
  postMessage(message: unknown): void;
  onerror: ((e: unknown) => void) | null;
}

type Spawn = (data: StartData, failed: () => void) => AnyWorker;

interface StartData {
  memory: WebAssembly.Memory;
  mailbox: WebAssembly.Memory;
  bytes: Uint8Array;
  control: SharedArrayBuffer;
  slot: number;
  /** Per worker its last job's start and end (Float64, ms since the epoch), for the profiler. */
  times: SharedArrayBuffer;
}

interface Globals {
  process?: { versions?: { node?: string }; getBuiltinModule?: (m: string) => unknown };
  Worker?: new (url: string) => BrowserWorker;
  Blob?: new (parts: string[], opts: { type: string }) => unknown;
  URL?: { createObjectURL?(blob: unknown): string };
  crossOriginIsolated?: boolean;
}

/** How this environment starts a worker, or why it cannot. */
function spawner(): Spawn | string {
  const g = globalThis as Globals;
  const proc = g.process;
  if (proc?.versions?.node) {
    if (typeof proc.getBuiltinModule !== "function") return "this Node has no process.getBuiltinModule (Node 20.16+)";
    const wt = proc.getBuiltinModule("node:worker_threads") as { Worker?: NodeWorkerCtor } | undefined;
    const NodeWorkerClass = wt?.Worker;
    if (!NodeWorkerClass) return "node:worker_threads is unavailable";
    return (data, failed) => {
      const w = new NodeWorkerClass(NODE_WORKER_SOURCE, { eval: true, workerData: data });
      w.unref();
      w.on("error", failed);
      w.on("exit", failed);
      return w;
    };
  }
  const { Worker: WebWorker, Blob: BlobClass, URL: Url } = g;
  if (!WebWorker || !BlobClass || !Url?.createObjectURL) return "this environment has no Web Workers";
  if (g.crossOriginIsolated === false)
    return "the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)";
  let url: string | null = null;
  return (data, failed) => {
    url ??= (Url.createObjectURL as (b: unknown) => string)(
      new BlobClass([BROWSER_WORKER_SOURCE], { type: "text/javascript" }),
    );
    const w = new WebWorker(url);
    w.onerror = failed;
    w.postMessage(data);
    return w;
  };
}

/** Why a pool of `threads` cannot run here, or null when it can. */
export function poolUnavailable(threads: number): string | null {
  if (threads <= 1) return "one thread requested";
  if (typeof SharedArrayBuffer === "undefined") return "SharedArrayBuffer is unavailable (not cross-origin isolated)";
  const s = spawner();
  return typeof s === "string" ? s : null;
}

/** Whether this thread may block in Atomics.wait (not a browser's main thread). */
function threadCanBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

const now = () => (globalThis.performance ? performance.now() : Date.now());

/** N − 1 workers plus the calling thread. */
export class WorkerPool {
  private readonly ctl: Int32Array;
  private readonly workers: AnyWorker[] = [];
  /** Where fused kernels' module bytes are put for workers that have not compiled them. */
  private readonly mailbox = new WebAssembly.Memory({ initial: 1, maximum: 1024, shared: true });
  /** Fused kernels' module bytes by id, while their runners live. */
  private readonly modules = new Map<number, Uint8Array>();
  /** Per worker, the modules it has compiled (as of generation `gens[i]`). */
  private readonly has: Set<number>[] = [];
  private readonly gens: number[] = [];
  private readonly canBlock = threadCanBlock();
  private started = false;
  private broken: string | null = null;
  private seq = 0;
  private nextModule = 1;
  private readonly dropped = new FinalizationRegistry<number>((id) => this.modules.delete(id));
  /** Per worker, its last job's start and end (ms since the epoch: performance.timeOrigin + now). */
  private readonly times: Float64Array;
  /** While the profiler records: each finished job's [worker, start, end]. */
  shares: [number, number, number][] | null = null;

  constructor(
    memory: WebAssembly.Memory,
    bytes: Uint8Array,
    readonly threads: number,
  ) {
    const spawn = spawner();
    if (typeof spawn === "string") throw new Error(`cpu: no worker pool here: ${spawn}`);
    const control = new SharedArrayBuffer(WORDS * 4 * (threads - 1));
    this.ctl = new Int32Array(control);
    const times = new SharedArrayBuffer(16 * Math.max(1, threads - 1));
    this.times = new Float64Array(times);
    for (let slot = 0; slot < threads - 1; slot++) {
      const failed = () => {
        Atomics.store(this.ctl, slot * WORDS + FAILED, 1);
        Atomics.notify(this.ctl, slot * WORDS + DONE);
      };
      this.workers.push(spawn({ memory, mailbox: this.mailbox, bytes, control, slot, times }, failed));
      this.has.push(new Set());
      this.gens.push(0);
    }
  }

  /**
   * Threads a kernel may be split over now: all of them once every worker has started, else 1
   * (workers start in the background, so the first kernels of a process never wait for them).
   */
  get active(): number {
    if (this.started) return this.threads;
    if (this.broken) return 1;
    for (let i = 0; i < this.workers.length; i++) {
      const base = i * WORDS;
      if (Atomics.load(this.ctl, base + FAILED) !== 0) this.broken = `cpu worker ${i + 1} failed to start`;
      if (Atomics.load(this.ctl, base + READY) === 0) return 1;
    }
    this.started = true;
    return this.threads;
  }

  /** Resolves once every worker has started (or the pool gave up on one): for tests and warm-up. */
  async whenReady(): Promise<number> {
    const deadline = now() + START_MS;
    while (this.active === 1 && !this.broken) {
      if (now() > deadline) this.broken = `the cpu workers did not start within ${START_MS} ms`;
      else await new Promise((r) => setTimeout(r, 2));
    }
    return this.active;
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
    const t0 = now();
    try {
      own();
    } catch (e) {
      error = e;
    }
    const deadline = now() + SPIN_MS + 4 * (now() - t0);
    for (let i = 0; i < jobs.length; i++) {
      const base = i * WORDS;
      for (;;) {
        const done = Atomics.load(this.ctl, base + DONE);
        if (done === this.seq || Atomics.load(this.ctl, base + FAILED) !== 0) break;
        if (this.canBlock) Atomics.wait(this.ctl, base + DONE, done, 1000);
        else if (now() > deadline) {
          this.broken = `cpu worker ${i + 1} did not finish a job`;
          this.started = false;
          throw new Error(`${this.broken} within ${SPIN_MS} ms; the pool runs on one thread from now on`);
        }
      }
      if (Atomics.load(this.ctl, base + FAILED) !== 0) error ??= new Error(`cpu worker ${i + 1} failed its job`);
      this.shares?.push([i, this.times[2 * i] as number, this.times[2 * i + 1] as number]);
    }
    if (error) throw error;
  }

  /**
   * Makes a fused kernel's module (one that imports only the heap's memory) runnable on the
   * workers; returns its id. Its bytes are kept until `owner` (its runner) is collected.
   */
  addModule(bytes: Uint8Array, owner: object): number {
    const id = this.nextModule++;
    this.modules.set(id, bytes);
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
    let sent = false;
    for (let t = 1; t < this.threads && t * chunk < rows; t++) {
      const w = t - 1;
      const gen = Atomics.load(this.ctl, w * WORDS + GEN);
      const has = this.has[w] as Set<number>;
      if (gen !== this.gens[w]) {
        has.clear();
        this.gens[w] = gen;
      }
      let len = 0;
      if (!has.has(id)) {
        if (!sent) this.post(id);
        sent = true;
        len = (this.modules.get(id) as Uint8Array).length;
        has.add(id);
      }
      const job = [id, len, n, ...args];
      job[FUSED_HEADER + n - 2] = t * chunk;
      job[FUSED_HEADER + n - 1] = Math.min(rows, (t + 1) * chunk);
      jobs.push(job);
    }
    args[n - 2] = 0;
    args[n - 1] = Math.min(rows, chunk);
    this.run(JOBS.fused, jobs, () => own(args));
  }

  /** Puts module `id`'s bytes at the mailbox's start (growing it when they do not fit). */
  private post(id: number): void {
    const bytes = this.modules.get(id);
    if (!bytes) throw new Error(`pool: fused kernel ${id} is gone`);
    const pages = Math.ceil(bytes.length / 65536);
    const have = this.mailbox.buffer.byteLength / 65536;
    if (pages > have) this.mailbox.grow(pages - have);
    new Uint8Array(this.mailbox.buffer, 0, bytes.length).set(bytes);
  }

  /** Jobs each worker has finished (for tests and profiling). */
  jobsRun(): number[] {
    return this.workers.map((_, i) => Atomics.load(this.ctl, i * WORDS + RAN));
  }

  /** Why the pool runs on one thread (a worker failed to start or to answer), or null. */
  get brokenReason(): string | null {
    return this.broken;
  }

  /** Stops the workers (they hold the heap's memory). */
  close(): void {
    for (let i = 0; i < this.workers.length; i++) {
      Atomics.store(this.ctl, i * WORDS + SEQ, -1);
      Atomics.notify(this.ctl, i * WORDS + SEQ);
    }
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
  }
}
