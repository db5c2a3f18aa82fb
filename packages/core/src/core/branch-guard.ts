/**
 * Which `cond` branch is running where every branch runs and the outputs are selected (WebGPU,
 * and recorded jit programs): a host callback in a branch (debug.print) reads the index too and
 * calls back only where its branch was the one taken, as if only that branch had run.
 */
import type { ConcreteArray } from "./concrete.js";

export interface BranchGuard {
  /** The cond's int32 index (clamped into range as the cond does). */
  readonly index: ConcreteArray;
  readonly branch: number;
  readonly count: number;
}

let guards: readonly BranchGuard[] = [];

/** Runs `f` (branch `branch` of `count`) under the guard. */
export function withBranch<T>(index: ConcreteArray, branch: number, count: number, f: () => T): T {
  const prev = guards;
  guards = [...prev, { index, branch, count }];
  try {
    return f();
  } finally {
    guards = prev;
  }
}

/** The guards of the branches running now (outermost first). */
export function currentGuards(): readonly BranchGuard[] {
  return guards;
}

/** Whether index value `v` selects the guard's branch. */
export function taken(g: BranchGuard, v: number): boolean {
  return Math.min(Math.max(v, 0), g.count - 1) === g.branch;
}
