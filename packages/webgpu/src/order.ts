/**
 * The order of the WebGPU queue while device loops run (issue 24). A `whileLoop` on the device
 * submits its iterations in chunks and reads a flag between them, so it ends at a time the host
 * learns asynchronously; work enqueued after it must run after it. So command buffers finished
 * while a loop runs (or waits its turn) are held here, in order, with what their submit does
 * afterwards (pool recycling, reads waiting on it); loops wait their turn too. When a loop ends
 * the queue drains — held command buffers submitted in order — up to the next loop, which
 * starts. Nothing is held when no loop is in flight: a command buffer is submitted at once.
 */
import { BackendError } from "@webjax/core";
import { profiling } from "@webjax/core/internal";
import { describe } from "./executables.js";
import type { Batch } from "./passes.js";
import { resolveTimes, traceSubmit } from "./timestamps.js";

/** The validation errors of a held command buffer's submit (in an error scope of its own), or null: submitted at once, in its batch's scopes. */
export type SubmitErrors = Promise<GPUError | null> | null;

type Segment =
  | { readonly kind: "commands"; readonly commands: GPUCommandBuffer; readonly after: (submit: SubmitErrors) => void }
  | { readonly kind: "loop"; readonly start: () => Promise<void> };

export class SubmitOrder {
  private readonly waiting: Segment[] = [];
  private driving = false;
  private idlers: (() => void)[] = [];
  /** Command buffers held behind a loop so far (for tests). */
  held = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Whether a loop runs or work waits: a command buffer finished now would be held. */
  get busy(): boolean {
    return this.driving || this.waiting.length > 0;
  }

  /** Submits `commands` (then runs `after`), or holds both behind the loop in flight. */
  submit(commands: GPUCommandBuffer, after: (submit: SubmitErrors) => void): void {
    if (this.busy) {
      this.held++;
      this.waiting.push({ kind: "commands", commands, after });
      return;
    }
    this.device.queue.submit([commands]);
    after(null);
  }

  /**
   * Starts a device loop now, or once everything before it has been submitted. `start` submits
   * the loop's own command buffers directly and settles when the loop has ended (it must not
   * reject: a loop reports its failure through its outputs).
   */
  loop(start: () => Promise<void>): void {
    if (this.busy) this.waiting.push({ kind: "loop", start });
    else this.drive(start);
  }

  /** Resolves once nothing is held and no loop runs. */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  private drive(start: () => Promise<void>): void {
    this.driving = true;
    start().then(
      () => this.next(),
      () => this.next(),
    );
  }

  private next(): void {
    this.driving = false;
    for (let s = this.waiting.shift(); s; s = this.waiting.shift()) {
      if (s.kind === "loop") {
        this.drive(s.start);
        return;
      }
      // Its batch's error scopes were popped when it was held: its submit gets one of its own.
      this.device.pushErrorScope("validation");
      this.device.queue.submit([s.commands]);
      s.after(this.device.popErrorScope());
    }
    const idlers = this.idlers;
    this.idlers = [];
    for (const f of idlers) f();
  }
}

/**
 * Ends a batch (its pass, its timestamp resolve) into a command buffer, and what follows its
 * submit: `submitted()` right after it (timestamps, reads waiting on it, the profiler's trace),
 * `scopes()` once it is submitted or held (the batch's error scopes popped, its errors settled
 * with the kernels' names and call sites).
 */
export function endBatch(
  device: GPUDevice,
  b: Batch,
): { commands: GPUCommandBuffer; settle: { submitted: (submit: SubmitErrors) => void; scopes: () => void } } {
  b.pass.end();
  const reportTimes = b.times ? resolveTimes(device, b.encoder, b.times) : null;
  const commands = b.encoder.finish();
  let onSubmit: (e: SubmitErrors) => void = () => {};
  const submitErrors = new Promise<GPUError | null>((resolve) => {
    onSubmit = (e) => resolve(e ?? null);
  });
  const submitted = (submit: SubmitErrors) => {
    onSubmit(submit);
    reportTimes?.();
    for (const done of b.afterSubmit ?? []) done();
    if (profiling()) traceSubmit(device, b.dispatches);
  };
  const scopes = () => {
    const oom = device.popErrorScope();
    const validation = device.popErrorScope();
    Promise.all([oom, validation, submitErrors]).then(
      ([o, v, s]) => {
        const err = o ?? v ?? s;
        // Which kernels: the core names their ops' call sites (core/call-sites.ts).
        const origins = { origin: b.faulted, origins: b.exes };
        b.settle(
          err
            ? Object.assign(new BackendError(`webgpu: kernel(s) ${describe(b.labels)} failed: ${err.message}`), origins)
            : null,
        );
      },
      (e: unknown) => b.settle(new BackendError(`webgpu: kernel(s) ${describe(b.labels)} failed: ${String(e)}`)),
    );
  };
  return { commands, settle: { submitted, scopes } };
}
