/**
 * iota: the staged form of the creation functions that are not a broadcast literal (arange,
 * eye, linspace), so a staged `np.eye(4096)` is one equation, not a 64 MB captured constant.
 */
import { aval } from "../core/aval.js";
import { TracerError } from "../errors.js";
import { cast, index } from "../ir/expr.js";
import { checkShape } from "../shape.js";
import type { PrimitiveTable } from "./types.js";

export const creationPrimitives: PrimitiveTable<"iota"> = {
  iota: {
    abstractEval: (avals, p) => {
      if (avals.length !== 0) throw new TracerError(`iota: takes no operands, got ${avals.length}`);
      const shape = checkShape(p.shape, "iota");
      if (!Number.isInteger(p.dimension) || p.dimension < 0 || p.dimension >= shape.length) {
        throw new TracerError(`iota: dimension ${p.dimension} is not a dimension of shape [${shape}]`);
      }
      return [aval(shape, p.dtype)];
    },
    lowering: { kind: "loads", kernel: (_inputs, p) => ({ expr: cast(index(p.dimension), p.dtype) }) },
    // No operands: nothing to differentiate or batch (the transforms never call these).
    jvp: (_primals, _tangents, p) => {
      throw new TracerError(`internal: iota[${p.shape}] has no operands to differentiate`);
    },
    batch: (_args, _dims, p) => {
      throw new TracerError(`internal: iota[${p.shape}] has no operands to batch`);
    },
  },
};
