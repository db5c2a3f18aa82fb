/**
 * Recording what a program's eager run asks of the backend (allocations, dispatches, frees), so
 * later calls replay that list without binding, abstract evaluation or kernel-cache lookups.
 * The eager executor and the buffer layer report here while a recorder is installed.
 */
import type { Executable, Slot } from "../backend/backend.js";
import type { StepLoop } from "../backend/loop.js";
import type { DType } from "../dtype.js";

export interface Recorder {
  alloc(slot: Slot, dtype: DType, size: number, label: string): void;
  dispatch(exe: Executable, inputs: readonly Slot[], outputs: readonly Slot[], params: Int32Array): void;
  free(slot: Slot): void;
  /** Host data written into a new buffer: a program that does this cannot be replayed. */
  write(): void;
  /**
   * A loop step (a scan's body recorded once, run `length` times: backend/loop.ts) reading `ins`
   * and writing `outs`. Absent: loops are recorded as their steps, unrolled.
   */
  loop?(loop: StepLoop, ins: readonly Slot[], outs: readonly Slot[]): void;
  /** A host callback reading `ins` (a program step: backend/backend.ts's HostStep). Absent: not replayed. */
  host?(ins: readonly Slot[], run: (slots: readonly Slot[]) => void): void;
}

let active: Recorder | null = null;

export function recorder(): Recorder | null {
  return active;
}

/** Runs `f` with `r` receiving the backend calls it makes. */
export function withRecorder<T>(r: Recorder, f: () => T): T {
  const prev = active;
  active = r;
  try {
    return f();
  } finally {
    active = prev;
  }
}

/** Runs `f` with nothing recording (a loop body's own recording and its scratch arrays). */
export function withoutRecorder<T>(f: () => T): T {
  const prev = active;
  active = null;
  try {
    return f();
  } finally {
    active = prev;
  }
}

let rehearsals = 0;

/**
 * Runs `f` as a rehearsal: a run made only to record or compile (a loop body's recording,
 * `jit(f).compile`), whose host callbacks are recorded but not called.
 */
export function rehearse<T>(f: () => T): T {
  rehearsals++;
  try {
    return f();
  } finally {
    rehearsals--;
  }
}

/** Whether a rehearsal is running (host callbacks stay silent). */
export function rehearsing(): boolean {
  return rehearsals > 0;
}
