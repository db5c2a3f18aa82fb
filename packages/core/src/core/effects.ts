/**
 * Host-side work a program owes after it returns (debug callbacks on a backend that reads
 * asynchronously, asynchronous NaN checks), kept in program order; `debug.barrier()` awaits it
 * and throws the first error any of it raised.
 */
let pending: Promise<void> = Promise.resolve();
let failure: unknown = null;
let count = 0;

/** How many pieces of work are still waiting. */
export function pendingEffects(): number {
  return count;
}

/** Notes an error to throw at the next barrier (the first one wins) and logs it now. */
export function noteFailure(what: string, e: unknown): void {
  failure ??= e;
  console.error(what, e);
}

/** Runs `then(value of ready)` after every earlier piece of work; an error goes to the barrier. */
export function chain<T>(ready: Promise<T>, then: (v: T) => void, what = "webjax: deferred host work failed"): void {
  count++;
  const prev = pending;
  pending = Promise.all([ready, prev])
    .then(([v]) => then(v))
    .catch((e: unknown) => noteFailure(what, e))
    .finally(() => {
      count--;
    });
}

/** Queues a check that rejects with the error to report. */
export function later(check: Promise<void>): void {
  chain(check, () => {}, "webjax: a deferred check failed");
}

/** Resolves once every piece of work issued so far has run; rejects with the first error since the last barrier. */
export async function barrier(): Promise<void> {
  // Work may queue more work (a check that runs a search): wait until nothing new came.
  for (let seen = pending; ; seen = pending) {
    await seen;
    if (seen === pending) break;
  }
  if (failure !== null) {
    const e = failure;
    failure = null;
    throw e;
  }
}
