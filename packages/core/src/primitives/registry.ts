import { checkpointPrimitives } from "./checkpoint.js";
import { condPrimitives } from "./cond.js";
import { creationPrimitives } from "./creation.js";
import { customPrimitives } from "./custom.js";
import { customCallPrimitives } from "./custom-call.js";
import { debugPrimitives } from "./debug-callback.js";
import { dotPrimitives } from "./dot.js";
import { binaryPrimitives, otherElementwise, unaryPrimitives } from "./elementwise.js";
import { gatherPrimitives } from "./gather.js";
import { generalGatherPrimitives } from "./gather-general.js";
import { indexingPrimitives } from "./indexing.js";
import { randomPrimitives } from "./random.js";
import { reducePrimitives } from "./reduce.js";
import { scanPrimitives } from "./scan.js";
import { scanLoopPrimitives } from "./scan-loop.js";
import { viewPrimitives } from "./shape.js";
import { sortPrimitives } from "./sort.js";
import type { Primitive, PrimitiveTable } from "./types.js";
import { whileLoopPrimitives } from "./while-loop.js";
import { windowPrimitives } from "./window.js";

/**
 * The registry: one entry per primitive, each holding all of its rules. Typed as a total map,
 * so a primitive without a rule does not compile.
 */
export const registry: PrimitiveTable<Primitive> = {
  ...unaryPrimitives,
  ...binaryPrimitives,
  ...otherElementwise,
  ...reducePrimitives,
  ...dotPrimitives,
  ...viewPrimitives,
  ...gatherPrimitives,
  ...indexingPrimitives,
  ...generalGatherPrimitives,
  ...randomPrimitives,
  ...scanPrimitives,
  ...sortPrimitives,
  ...windowPrimitives,
  ...customPrimitives,
  ...customCallPrimitives,
  ...creationPrimitives,
  ...condPrimitives,
  ...scanLoopPrimitives,
  ...whileLoopPrimitives,
  ...checkpointPrimitives,
  ...debugPrimitives,
};
