/**
 * Vitest setup shared by every project: picks the CPU backend's mode from WEBJAX_CPU
 * ("deferred" runs queued work and reads on later tasks; "interpreter" never calls new Function).
 */
import { configureCpu } from "@webjax/core";

const mode = process.env.WEBJAX_CPU ?? "normal";
if (mode === "deferred") configureCpu({ deferred: true });
else if (mode === "interpreter") configureCpu({ codegen: "interpreter" });
else if (mode !== "normal") throw new Error(`WEBJAX_CPU=${mode}: expected normal, deferred or interpreter`);
