/**
 * Vitest setup shared by every project: picks the CPU backend's mode from WEBJAX_CPU
 * ("deferred" runs queued work and reads on later tasks, on one thread; "interpreter" never calls
 * new Function). Normal and interpreter use the default threads (a worker pool where the machine
 * has more than one core), so the suite runs both on one thread and on the pool.
 */
import { configureCpu } from "@webjax/core";

const mode = process.env.WEBJAX_CPU ?? "normal";
if (mode === "deferred") configureCpu({ deferred: true, threads: 1 });
else if (mode === "interpreter") configureCpu({ codegen: "interpreter" });
else if (mode !== "normal") throw new Error(`WEBJAX_CPU=${mode}: expected normal, deferred or interpreter`);
