/**
 * Transfer learning as the lectures teach it (Géron ch. 11): reuse a trained model's lower
 * layers under a new head, train with the reused layers frozen, then unfreeze the top few and
 * continue with a lower learning rate. The frozen set is an optax label tree, so the optimiser
 * is an ordinary `optax.multiTransform` and frozen params stay bit-identical.
 */
import { type Array, np, type PyTree, tree, WebjaxError } from "@webjax/core";
import { type GradientTransformation, multiTransform, setToZero } from "@webjax/optax";
import type { Variables } from "../module.js";

/** A params label: trained by the optimiser, or held fixed. */
export type TrainLabel = "trainable" | "frozen";

/** Options of `transfer`. */
export interface TransferOptions {
  /** The new model's freshly initialised variables (its reused layers named as in the trained model's). */
  readonly init: Variables;
  /**
   * The new model's layers that keep their fresh values: the top `k` layers (by their `_i`
   * index, default 1) or their names.
   */
  readonly replaceHead?: number | readonly string[];
  /** Freeze the reused layers (default true). */
  readonly freeze?: boolean;
}

/** What `transfer` returns. */
export interface Transferred {
  /** The new model's variables: reused layers copied from the trained ones, the head fresh. */
  readonly variables: Variables;
  /** Per top-level layer of params: "frozen" or "trainable" (a prefix tree of the params). */
  readonly labels: Record<string, TrainLabel>;
  /** The reused layers, bottom to top. */
  readonly reused: readonly string[];
  /** The head's layers. */
  readonly head: readonly string[];
}

const indexOf = (name: string): number => {
  const m = /_(\d+)$/.exec(name);
  return m ? Number(m[1]) : Number.NaN;
};

/** Layer names of a variables tree, bottom to top (by their `_i` suffix). */
export function layerOrder(variables: Variables): string[] {
  const names = new Set([...Object.keys(variables.params as object), ...Object.keys(variables.state as object)]);
  const list = [...names];
  const unindexed = list.filter((n) => Number.isNaN(indexOf(n)));
  if (unindexed.length > 0) {
    throw new WebjaxError(
      `transfer: cannot order the layers ${unindexed.join(", ")} (no _i index); pass replaceHead as layer names`,
    );
  }
  return list.sort((a, b) => indexOf(a) - indexOf(b));
}

function describeLeaf(x: unknown): string {
  const a = x as Array;
  return typeof x === "object" && x !== null && "shape" in a ? `${a.dtype}[${a.shape.join(",")}]` : String(x);
}

/**
 * Reuses `trained`'s layers in a new model: every layer of `opts.init` outside the head is
 * copied from `trained` (same name, same shapes and dtypes, else one error listing every
 * mismatch), the head keeps its fresh values, and the labels freeze the reused layers.
 *
 * ```ts
 * const { variables, labels } = nn.transfer(varsA, { init: modelB.init(key, x), replaceHead: 1 });
 * const tx = nn.freezeWith(optax.adam(1e-3), labels);
 * ```
 */
export function transfer(trained: Variables, opts: TransferOptions): Transferred {
  const fresh = opts.init;
  const order = typeof opts.replaceHead === "object" ? null : layerOrder(fresh);
  const head =
    typeof opts.replaceHead === "object"
      ? [...opts.replaceHead]
      : (order as string[]).slice((order as string[]).length - (opts.replaceHead ?? 1));
  const all = new Set([...Object.keys(fresh.params as object), ...Object.keys(fresh.state as object)]);
  for (const h of head) {
    if (!all.has(h))
      throw new WebjaxError(`transfer: the head layer ${h} is not in the new model (${[...all].join(", ")})`);
  }
  const reused = (order ?? [...all]).filter((n) => !head.includes(n));
  const problems: string[] = [];
  const copy = (part: "params" | "state"): Record<string, PyTree> => {
    const src = trained[part] as Record<string, PyTree>;
    const dst = fresh[part] as Record<string, PyTree>;
    const out: Record<string, PyTree> = { ...dst };
    for (const name of reused) {
      if (!(name in dst)) continue;
      if (!(name in src)) {
        problems.push(`${part}/${name}: missing from the trained variables`);
        continue;
      }
      const want = tree.leavesWithPath(dst[name] as PyTree);
      const got = new Map(tree.leavesWithPath(src[name] as PyTree).map(([p, l]) => [p, l]));
      for (const [p, l] of want) {
        const g = got.get(p);
        if (g === undefined) problems.push(`${part}/${name}/${p}: missing from the trained variables`);
        else if (describeLeaf(g) !== describeLeaf(l)) {
          problems.push(`${part}/${name}/${p}: trained ${describeLeaf(g)}, new model expects ${describeLeaf(l)}`);
        }
      }
      // A copy: a jitted loop that donates the new variables must not poison the trained model's.
      out[name] = tree.map((a: unknown) => np.copy(a as Array), src[name] as PyTree);
    }
    return out;
  };
  const variables = { params: copy("params"), state: copy("state") };
  if (problems.length > 0) {
    throw new WebjaxError(`transfer: the trained layers do not fit the new model:\n  ${problems.join("\n  ")}`);
  }
  const freeze = opts.freeze ?? true;
  const labels: Record<string, TrainLabel> = {};
  for (const name of Object.keys(fresh.params as object)) {
    labels[name] = freeze && reused.includes(name) ? "frozen" : "trainable";
  }
  return { variables, labels, reused, head };
}

/**
 * Unfreezes layers: the top `k` frozen layers (by `_i` index), or every layer with `all: true`.
 * The lectures then lower the learning rate and train on.
 */
export function unfreeze(
  labels: Readonly<Record<string, TrainLabel>>,
  opts: { top?: number; all?: boolean },
): Record<string, TrainLabel> {
  const frozen = Object.keys(labels)
    .filter((n) => labels[n] === "frozen")
    .sort((a, b) => indexOf(a) - indexOf(b));
  const k = opts.all ? frozen.length : (opts.top ?? 0);
  if (!Number.isInteger(k) || k < 0) throw new WebjaxError(`unfreeze: top must be a non-negative integer, got ${k}`);
  const thaw = new Set(frozen.slice(Math.max(0, frozen.length - k)));
  return Object.fromEntries(Object.entries(labels).map(([n, l]) => [n, thaw.has(n) ? "trainable" : l]));
}

/**
 * `tx` on the trainable params and zero updates on the frozen ones:
 * `optax.multiTransform({ trainable: tx, frozen: optax.setToZero() }, labels)`.
 */
export function freezeWith(
  tx: GradientTransformation,
  labels: Readonly<Record<string, TrainLabel>>,
): GradientTransformation {
  return multiTransform({ trainable: tx, frozen: setToZero() }, labels) as GradientTransformation;
}
