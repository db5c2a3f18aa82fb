import type { Array } from "../array.js";
import { type Aval, fmtAval } from "../core/aval.js";
import { TracerError } from "../errors.js";
import { shapesEqual } from "../shape.js";
import { avalOf, isLinearInput, known } from "./ad-util.js";
import type { PrimitiveTable } from "./types.js";

function forwardModeError(name: string): TracerError {
  return new TracerError(
    `${name}: forward-mode differentiation (jvp, linearize's tangents) of a customVjp function is not supported, ` +
      "as in JAX; give it a customJvp rule instead, or differentiate it in reverse mode (grad, vjp)",
  );
}

/**
 * custom_lin: the linear part of a customVjp function as linearize records it. Its operands are
 * the residuals (known) and the input tangents (linear); it is never evaluated forward, and its
 * transpose is the user's backward function.
 */
export const customPrimitives: PrimitiveTable<"custom_lin"> = {
  custom_lin: {
    abstractEval: (_avals, p) => p.outAvals.slice(),
    lowering: {
      kind: "impl",
      impl: (_inputs, p) => {
        throw forwardModeError(p.name);
      },
    },
    jvp: (_primals, _tangents, p) => {
      throw forwardModeError(p.name);
    },
    // custom_lin is bound only by linearize, above any vmap of the function; a vmap of the
    // linear program itself (vmap of a linearized customVjp function) is forward mode.
    batch: (_args, _dims, p) => {
      throw forwardModeError(p.name);
    },
    transpose: (cts, inputs, p) => {
      const residuals = inputs.slice(0, p.numResiduals).map((r) => known(r, "custom_lin"));
      const linear = inputs.slice(p.numResiduals);
      const got = p.bwd(residuals, cts);
      if (got.length !== linear.length) {
        throw new TracerError(
          `${p.name}: the backward function returned ${got.length} cotangent(s); the function takes ${linear.length} input(s)`,
        );
      }
      const checked = got.map((ct, i) => {
        const x = linear[i];
        return isLinearInput(x) ? checkCotangent(p.name, ct, avalOf(x), i) : null;
      });
      return [...residuals.map(() => null), ...checked];
    },
  },
};

function checkCotangent(name: string, ct: Array | null, want: Aval, i: number): Array | null {
  if (ct === null) return null;
  if (!shapesEqual(ct.shape, want.shape) || ct.dtype !== want.dtype) {
    throw new TracerError(
      `${name}: the backward function's cotangent for input leaf ${i} is ${fmtAval(ct.aval)}; expected ${fmtAval({ ...want, weakType: false })} (the input's shape and dtype)`,
    );
  }
  return ct;
}
