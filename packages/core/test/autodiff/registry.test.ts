/**
 * The registry's autodiff rules: every primitive has a jvp rule (the compiler enforces it), and
 * exactly the primitives linear in some operand have a transpose rule. This list is the table of
 * DESIGN's "a test lists which".
 */
import { registry } from "@webjax/core/internal";
import { describe, expect, test } from "vitest";

/** Primitives linear in (some of) their operands: reverse mode runs their transpose rules. */
const LINEAR = [
  "add",
  "broadcast_in_dim",
  "concatenate",
  // Linear in its undefined operands given the others when a jvp stages it (its body's jvp).
  "checkpoint",
  // Linear in its linear operands when a jvp stages it (its branches' tangent parts).
  "cond",
  "convert_element_type",
  "conv_general_dilated",
  "copy",
  "cumsum",
  "custom_lin",
  "dot_general",
  "dynamic_slice",
  "dynamic_update_slice",
  "gather",
  "mul",
  "neg",
  "reduce_sum",
  "reduce_window",
  "reshape",
  "rev",
  // Linear in its undefined operands and carries when a jvp stages it (its body's tangent part).
  "scan",
  "scatter",
  "scatter_general",
  "select",
  "slice",
  "squeeze",
  "sub",
  "take",
  "take_along_axis",
  "transpose",
  "div",
].sort();

describe("autodiff rules in the registry", () => {
  test("every primitive has a jvp rule", () => {
    const missing = Object.entries(registry).filter(([, def]) => typeof def.jvp !== "function");
    expect(missing.map(([p]) => p)).toEqual([]);
  });

  test("exactly the linear primitives have a transpose rule", () => {
    const withTranspose = Object.entries(registry)
      .filter(([, def]) => typeof (def as { transpose?: unknown }).transpose === "function")
      .map(([p]) => p)
      .sort();
    expect(withTranspose).toEqual(LINEAR);
  });
});
