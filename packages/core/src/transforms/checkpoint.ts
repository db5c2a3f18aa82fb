/**
 * `checkpoint(f, { policy })` (JAX's `jax.checkpoint` / remat): f as it is, but its
 * derivative saves only f's inputs and recomputes the rest in the backward pass
 * (primitives/checkpoint.ts). Checkpoint each layer of a deep net to trade a second forward
 * pass for the memory of its intermediates.
 */
import type { Array, ArrayLike } from "../array.js";
import { stage } from "../core/staging.js";
import { bind } from "../core/trace.js";
import { TracerError } from "../errors.js";
import { asArray } from "../numpy/convert.js";
import { releaseMade, releaseUnstaged } from "../primitives/higher-order.js";
import { flattenAs } from "../tree/flatten.js";
import type { TreeDef } from "../tree/treedef.js";

/** What a checkpointed function's derivative keeps: its inputs only (the default), or everything (no recomputation). */
export type CheckpointPolicy = "nothingSaveable" | "everythingSaveable";

export interface CheckpointOptions {
  policy?: CheckpointPolicy;
  /** A name for errors and printed programs (default: f's name). */
  name?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a checkpointed function keeps f's signature
export function checkpoint<F extends (...args: any[]) => unknown>(f: F, opts: CheckpointOptions = {}): F {
  const policy = opts.policy ?? "nothingSaveable";
  if (policy !== "nothingSaveable" && policy !== "everythingSaveable") {
    throw new TracerError(
      `checkpoint: policy must be "nothingSaveable" or "everythingSaveable", got ${String(policy)}`,
    );
  }
  const name = `checkpoint(${opts.name ?? (f.name || "fn")})`;
  const wrapped = (...args: unknown[]): unknown => {
    const [leaves, inDef] = flattenAs(name, args);
    const xs = leaves.map((l) => asArray(l as ArrayLike, name));
    const made = xs.filter((x, i) => x !== leaves[i]);
    let outDef: TreeDef | null = null;
    const { closed, lifted } = stage(
      name,
      (vs) => {
        const [outs, def] = flattenAs(name, f(...(inDef.unflatten(vs) as unknown[])));
        outDef = def;
        return outs.map((o) => asArray(o as ArrayLike, name));
      },
      xs.map((x) => x.aval),
    );
    const outs = bind("checkpoint", [...lifted, ...xs], { name, body: closed, policy });
    releaseUnstaged([closed]);
    releaseMade(made);
    return (outDef as unknown as TreeDef).unflatten(outs as Array[]);
  };
  return wrapped as F;
}
