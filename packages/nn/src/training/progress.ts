/**
 * Progress of `fit`: in a Node terminal a progress bar (cli-progress) with loss, metrics, the
 * learning rate, steps/s and the ETA; outside a terminal one line per epoch (Keras' verbose=2);
 * in browsers, or on request, a callback with the same numbers.
 */

/** What a progress report carries. */
export interface ProgressInfo {
  /** 0-based epoch, and the number of epochs. */
  readonly epoch: number;
  readonly epochs: number;
  /** Batches done in this epoch, of `batches`. */
  readonly batch: number;
  readonly batches: number;
  /** The running means of this epoch (loss, metrics), and at epoch end the validation ones. */
  readonly logs: Readonly<Record<string, number>>;
  readonly stepsPerSecond: number;
  /** Seconds left in this epoch. */
  readonly etaSeconds: number;
  /** The learning rate, when the optimiser exposes it (`injectHyperparams`). */
  readonly learningRate?: number;
  /** True for the report that closes an epoch. */
  readonly epochEnd: boolean;
}

/** `fit`'s `progress` option: a bar, a line per epoch, nothing, or your callback. */
export type ProgressOption = "bar" | "line" | false | ((info: ProgressInfo) => void);

/** Where `fit` sends progress. */
export interface Reporter {
  start(epoch: number, epochs: number, batches: number): void;
  update(info: ProgressInfo): void;
  end(info: ProgressInfo): void;
  close(): void;
}

const fmt = (v: number) => (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(2));

/** `name value` pairs for a log line. */
export function formatLogs(logs: Readonly<Record<string, number>>, lr?: number): string {
  const parts = Object.entries(logs)
    .filter(([k]) => k !== "learning_rate" || lr === undefined)
    .map(([k, v]) => `${k} ${fmt(v)}`);
  if (lr !== undefined) parts.push(`lr ${lr.toExponential(2)}`);
  return parts.join(" · ");
}

const isNode = () => typeof process !== "undefined" && process.versions?.node !== undefined;

/** The default: a bar in a Node terminal, a line per epoch elsewhere in Node, nothing in browsers. */
export function defaultProgress(): ProgressOption {
  if (!isNode()) return false;
  return process.stdout.isTTY ? "bar" : "line";
}

/** The reporter for an option; the bar loads cli-progress (Node only). */
export async function makeReporter(opt: ProgressOption): Promise<Reporter> {
  if (opt === false) return { start() {}, update() {}, end() {}, close() {} };
  if (typeof opt === "function") return { start() {}, update: opt, end: opt, close() {} };
  const line = (info: ProgressInfo, seconds: number) =>
    `epoch ${info.epoch + 1}/${info.epochs} · ${formatLogs(info.logs, info.learningRate)} · ${seconds.toFixed(1)} s`;
  if (opt === "line") {
    let t0 = 0;
    return {
      start() {
        t0 = performance.now();
      },
      update() {},
      end(info) {
        console.log(line(info, (performance.now() - t0) / 1000));
      },
      close() {},
    };
  }
  const name = "cli-progress";
  const mod = (await import(/* @vite-ignore */ name)) as typeof import("cli-progress");
  const cli = (mod as unknown as { default?: typeof import("cli-progress") }).default ?? mod;
  let bar: InstanceType<typeof cli.SingleBar> | undefined;
  let t0 = 0;
  return {
    start(epoch, epochs, batches) {
      t0 = performance.now();
      bar = new cli.SingleBar(
        {
          format: `epoch ${epoch + 1}/${epochs} {bar} {value}/{total} · {logs} · {rate} steps/s · ETA {eta_formatted}`,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cli.Presets.shades_classic,
      );
      bar.start(batches, 0, { logs: "", rate: "0" });
    },
    update(info) {
      bar?.update(info.batch, { logs: formatLogs(info.logs, info.learningRate), rate: info.stepsPerSecond.toFixed(1) });
    },
    end(info) {
      bar?.stop();
      bar = undefined;
      console.log(line(info, (performance.now() - t0) / 1000));
    },
    close() {
      bar?.stop();
    },
  };
}

/** Lets the event loop run (a page stays responsive): setImmediate in Node, a message in browsers. */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === "function") return new Promise((r) => setImmediate(r));
  if (typeof MessageChannel === "function") {
    return new Promise((r) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        ch.port1.close();
        r();
      };
      ch.port2.postMessage(null);
    });
  }
  return new Promise((r) => setTimeout(r, 0));
}
