/**
 * Tensor contractions over dot_general: outer, inner, vdot, tensordot and einsum (one or two
 * operands). bool operands contract as int32 and give bool (nonzero), numpy's or-of-ands.
 */
import type { Array, ArrayLike } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { ShapeError } from "../errors.js";
import type { DotDims } from "../primitives/types.js";
import { normalizeAxis } from "../shape.js";
import { convert, fresh, prepare, promoteOnly } from "./convert.js";
import { multiply } from "./elementwise.js";
import { dotGeneral } from "./linalg.js";

function asArray(x: ArrayLike, op: string): Array {
  return prepare(op, [x])[0] as Array;
}

const range = (n: number, from = 0) => globalThis.Array.from({ length: n }, (_, i) => i + from);
const asList = (v: number | readonly number[]): number[] => (typeof v === "number" ? [v] : [...v]);

/** Runs `f` on the operands promoted to a common dtype; bool computes as int32 and returns to bool. */
function promoted(xs: readonly Array[], f: (ys: Array[]) => Array): Array {
  const ys = promoteOnly(xs);
  if ((ys[0] as Array).dtype !== "bool") return f(ys);
  return convert(
    f(ys.map((y) => convert(y, "int32"))),
    "bool",
    ys.every((y) => y.weakType),
  );
}

/** Outer product of the flattened inputs: out[i, j] = a[i] · b[j]. */
export function outer(a: ArrayLike, b: ArrayLike): Array {
  return scoped(() => {
    const x = asArray(a, "outer");
    const y = asArray(b, "outer");
    return multiply(bind1("reshape", [x], { newShape: [x.size, 1] }), bind1("reshape", [y], { newShape: [y.size] }));
  });
}

/** Sum product over the last axes: out[…a, …b] = Σₖ a[…a, k] · b[…b, k]. Scalars multiply. */
export function inner(a: ArrayLike, b: ArrayLike): Array {
  return scoped(() => {
    const x = asArray(a, "inner");
    const y = asArray(b, "inner");
    if (x.ndim === 0 || y.ndim === 0) return multiply(x, y);
    if (x.shape[x.ndim - 1] !== y.shape[y.ndim - 1]) {
      throw new ShapeError(`inner: last dims differ: ${fmtAval(x.aval)} and ${fmtAval(y.aval)}`);
    }
    const dims: DotDims = { contracting: [[x.ndim - 1], [y.ndim - 1]], batch: [[], []] };
    return promoted([x, y], ([p, q]) => dotGeneral(p as Array, q as Array, dims));
  });
}

/** Dot product of the flattened inputs (equal sizes): Σᵢ a[i] · b[i], a scalar. */
export function vdot(a: ArrayLike, b: ArrayLike): Array {
  return scoped(() => {
    const x = asArray(a, "vdot");
    const y = asArray(b, "vdot");
    if (x.size !== y.size) {
      throw new ShapeError(
        `vdot: the inputs must have equal sizes, got ${fmtAval(x.aval)} (${x.size}) and ${fmtAval(y.aval)} (${y.size})`,
      );
    }
    const fx = bind1("reshape", [x], { newShape: [x.size] });
    const fy = bind1("reshape", [y], { newShape: [y.size] });
    const dims: DotDims = { contracting: [[0], [0]], batch: [[], []] };
    return promoted([fx, fy], ([p, q]) => dotGeneral(p as Array, q as Array, dims));
  });
}

/**
 * Contracts `axes` of a with those of b (numpy's tensordot): an int N pairs the last N axes of
 * a with the first N of b; `[aAxes, bAxes]` names them. The result has a's free axes, then b's.
 */
export function tensordot(
  a: ArrayLike,
  b: ArrayLike,
  axes: number | readonly [number | readonly number[], number | readonly number[]] = 2,
): Array {
  return scoped(() => {
    const x = asArray(a, "tensordot");
    const y = asArray(b, "tensordot");
    let ax: number[];
    let bx: number[];
    if (typeof axes === "number") {
      if (!Number.isInteger(axes) || axes < 0 || axes > x.ndim || axes > y.ndim) {
        throw new ShapeError(
          `tensordot: axes=${axes} must be an integer from 0 to the smaller rank of ${fmtAval(x.aval)} and ${fmtAval(y.aval)}`,
        );
      }
      ax = range(axes, x.ndim - axes);
      bx = range(axes);
    } else {
      ax = asList(axes[0]).map((d) => normalizeAxis(d, x.ndim, "tensordot"));
      bx = asList(axes[1]).map((d) => normalizeAxis(d, y.ndim, "tensordot"));
      if (ax.length !== bx.length) {
        throw new ShapeError(`tensordot: ${ax.length} axes of a but ${bx.length} of b in axes ${JSON.stringify(axes)}`);
      }
    }
    ax.forEach((d, i) => {
      const e = bx[i] as number;
      if (x.shape[d] !== y.shape[e]) {
        throw new ShapeError(
          `tensordot: axis ${d} of ${fmtAval(x.aval)} has size ${x.shape[d]} but axis ${e} of ${fmtAval(y.aval)} has size ${y.shape[e]}`,
        );
      }
    });
    const dims: DotDims = { contracting: [ax, bx], batch: [[], []] };
    return promoted([x, y], ([p, q]) => dotGeneral(p as Array, q as Array, dims));
  });
}

// ---------------------------------------------------------------------------------------------
// einsum

const ELLIPSIS = "...";
/** The label of broadcast dim j (of E, right-aligned across operands) of "..."; never a letter. */
const ellLabel = (j: number) => `…${j}`;
const show = (l: string) => (l.startsWith("…") ? `'...' dim ${l.slice(1)}` : `'${l}'`);

/** A term's items: letters and at most one "...". */
function parseTerm(term: string, at: number, spec: string): string[] {
  const items: string[] = [];
  for (let i = 0; i < term.length; ) {
    const c = term[i] as string;
    if (/[a-zA-Z]/.test(c)) {
      items.push(c);
      i++;
    } else if (c === ".") {
      if (term.slice(i, i + 3) !== ELLIPSIS || items.includes(ELLIPSIS)) {
        throw new ShapeError(`einsum: malformed or repeated '...' at position ${at + i} of '${spec}'`);
      }
      items.push(ELLIPSIS);
      i += 3;
    } else {
      throw new ShapeError(`einsum: invalid character '${c}' at position ${at + i} of '${spec}'`);
    }
  }
  return items;
}

interface Operand {
  x: Array;
  labels: string[];
}

/** Takes the diagonal of every label repeated within one operand ('ii->i'): a strided slice of the merged axes. */
function diagonals(op: Operand): Operand {
  let { x, labels } = op;
  for (;;) {
    const p = labels.findIndex((l, i) => labels.indexOf(l) !== i);
    if (p < 0) return { x, labels };
    const l = labels[p] as string;
    const first = labels.indexOf(l);
    const rest = range(labels.length).filter((i) => i !== first && i !== p);
    const n = x.shape[first] as number;
    const t = bind1("transpose", [x], { perm: [...rest, first, p] });
    const lead = rest.map((i) => x.shape[i] as number);
    const flat = bind1("reshape", [t], { newShape: [...lead, n * n] });
    x = bind1("slice", [flat], {
      start: [...lead.map(() => 0), 0],
      limit: [...lead, n * n],
      strides: [...lead.map(() => 1), n + 1],
    });
    labels = [...rest.map((i) => labels[i] as string), l];
  }
}

/** Sums out the axes whose labels `keep` rejects. */
function sumOut(op: Operand, keep: (l: string) => boolean): Operand {
  const axes = op.labels.flatMap((l, i) => (keep(l) ? [] : [i]));
  if (axes.length === 0) return op;
  return { x: bind1("reduce_sum", [op.x], { axes }), labels: op.labels.filter((l) => keep(l)) };
}

/** Transposes an operand holding exactly the labels of `out` into that order. */
function arrange(op: Operand, out: readonly string[]): Array {
  return bind1("transpose", [op.x], { perm: out.map((l) => op.labels.indexOf(l)) });
}

/** The labels, sizes and output of a spec checked against its operands. */
function analyse(spec: string, xs: readonly Array[]): { ops: Operand[]; out: string[]; sizes: Map<string, number> } {
  const s = spec.replace(/\s+/g, "");
  const arrow = s.indexOf("->");
  if (arrow >= 0 && s.indexOf("->", arrow + 1) >= 0) throw new ShapeError(`einsum: more than one '->' in '${s}'`);
  const lhs = arrow < 0 ? s : s.slice(0, arrow);
  const terms = lhs.split(",");
  if (terms.length !== xs.length) {
    throw new ShapeError(`einsum: '${s}' has ${terms.length} operand terms but ${xs.length} operands were given`);
  }
  let at = 0;
  const parsed = terms.map((t) => {
    const items = parseTerm(t, at, s);
    at += t.length + 1;
    return items;
  });
  const ellDims = parsed.map((items, k) => {
    const x = xs[k] as Array;
    const named = items.filter((it) => it !== ELLIPSIS).length;
    const hasEll = items.includes(ELLIPSIS);
    if (hasEll ? x.ndim < named : x.ndim !== named) {
      throw new ShapeError(
        `einsum: operand ${k} has ${x.ndim} dims but its subscripts '${terms[k]}' name ${hasEll ? "at least " : ""}${named}`,
      );
    }
    return hasEll ? x.ndim - named : 0;
  });
  const E = Math.max(0, ...ellDims);
  const ops = parsed.map((items, k) => ({
    x: xs[k] as Array,
    labels: items.flatMap((it) =>
      it === ELLIPSIS ? range(ellDims[k] as number, E - (ellDims[k] as number)).map(ellLabel) : [it],
    ),
  }));

  // Sizes: equal within an operand (diagonals); across operands a size of 1 broadcasts.
  const sizes = new Map<string, number>();
  const from = new Map<string, number>();
  ops.forEach(({ x, labels }, k) => {
    labels.forEach((l, i) => {
      const n = x.shape[i] as number;
      const j = labels.indexOf(l);
      if (j !== i && x.shape[j] !== n) {
        throw new ShapeError(`einsum: ${show(l)} is repeated in operand ${k} with sizes ${x.shape[j]} and ${n}`);
      }
      const seen = sizes.get(l);
      if (seen === undefined || seen === 1) {
        sizes.set(l, n);
        from.set(l, k);
      } else if (n !== 1 && n !== seen) {
        throw new ShapeError(
          `einsum: ${show(l)} has size ${seen} in operand ${from.get(l)} but ${n} in operand ${k} of '${s}'`,
        );
      }
    });
  });

  let out: string[];
  const letters = parsed.flat().filter((it) => it !== ELLIPSIS);
  const anyEll = parsed.some((items) => items.includes(ELLIPSIS));
  if (arrow < 0) {
    const once = [...new Set(letters)].filter((l) => letters.indexOf(l) === letters.lastIndexOf(l)).sort();
    out = [...(anyEll ? range(E).map(ellLabel) : []), ...once];
  } else {
    const rhs = s.slice(arrow + 2);
    const items = parseTerm(rhs, arrow + 2, s);
    out = [];
    for (const it of items) {
      if (it === ELLIPSIS) {
        out.push(...range(E).map(ellLabel));
        continue;
      }
      if (!letters.includes(it)) throw new ShapeError(`einsum: '${it}' appears in the output but in no operand`);
      if (out.includes(it)) throw new ShapeError(`einsum: '${it}' appears more than once in the output '${rhs}'`);
      out.push(it);
    }
    if (E > 0 && !items.includes(ELLIPSIS)) {
      throw new ShapeError(`einsum: operands have '...' dims but the output '${rhs}' has no '...' to place them`);
    }
  }
  return { ops, out, sizes };
}

/**
 * Einstein summation (numpy's einsum) over any number of operands. Each operand's subscripts
 * name its axes with letters; a letter repeated in one operand takes the diagonal; letters
 * missing from the output are summed; `...` stands for broadcast leading axes. Without `->` the
 * output is `...` then the letters seen once, in alphabetical order. Operands contract two at a
 * time, each pair in one dot_general (shared kept letters as batch dims, shared others as
 * contracting dims), in opt_einsum's greedy order: at each step the pair whose result is
 * smallest relative to its inputs.
 *
 * `einsum("ij,jk->ik", a, b)` (matmul), `einsum("ii->", a)` (trace), `einsum("ii->i", a)`
 * (diagonal), `einsum("bij,bjk->bik", a, b)`, `einsum("...ij,...jk->...ik", a, b)`,
 * `einsum("ij,jk,kl->il", a, b, c)` (a chain, contracted in the cheaper order).
 */
export function einsum(spec: string, ...operands: ArrayLike[]): Array {
  return scoped(() => {
    if (operands.length === 0) throw new ShapeError(`einsum: '${spec}' needs at least one operand`);
    const raw = operands.map((x) => asArray(x, "einsum"));
    const { ops, out, sizes } = analyse(spec, raw);
    const outSet = new Set(out);
    const xs = promoted(
      ops.map((o) => o.x),
      (ys) => {
        // Diagonals, then drop size-1 axes that broadcast against a larger size elsewhere.
        let rest = ops.map((o, k) => {
          const d = diagonals({ x: ys[k] as Array, labels: o.labels });
          const bcast = d.labels.flatMap((l, i) => (d.x.shape[i] === 1 && sizes.get(l) !== 1 ? [i] : []));
          if (bcast.length === 0) return d;
          return {
            x: bind1("squeeze", [d.x], { dimensions: bcast }),
            labels: d.labels.filter((_, i) => !bcast.includes(i)),
          };
        });
        while (rest.length > 1) {
          const [i, j] = greedyPair(rest, out, sizes);
          const a = rest[i] as Operand;
          const b = rest[j] as Operand;
          const others = rest.filter((_, k) => k !== i && k !== j);
          // Kept: the output's letters and those another operand still needs.
          const needed = new Set([...out, ...others.flatMap((o) => o.labels)]);
          const keep =
            others.length === 0 ? out : [...new Set([...a.labels, ...b.labels])].filter((l) => needed.has(l));
          rest = [...others, { x: contractTwo(a, b, keep), labels: [...keep] }];
        }
        const only = sumOut(rest[0] as Operand, (l) => outSet.has(l));
        return arrange(only, out);
      },
    );
    return fresh(xs, operands[0] as ArrayLike);
  });
}

/** opt_einsum's greedy choice: the pair whose contraction result is smallest minus its inputs. */
function greedyPair(ops: readonly Operand[], out: readonly string[], sizes: Map<string, number>): [number, number] {
  const size = (labels: Iterable<string>) => [...labels].reduce((p, l) => p * (sizes.get(l) ?? 1), 1);
  let best: [number, number] = [0, 1];
  let bestCost = Number.POSITIVE_INFINITY;
  for (let i = 0; i < ops.length; i++) {
    for (let j = i + 1; j < ops.length; j++) {
      const a = ops[i] as Operand;
      const b = ops[j] as Operand;
      const needed = new Set([...out, ...ops.filter((_, k) => k !== i && k !== j).flatMap((o) => o.labels)]);
      const kept = new Set([...a.labels, ...b.labels].filter((l) => needed.has(l)));
      const cost = size(kept) - size(new Set(a.labels)) - size(new Set(b.labels));
      if (cost < bestCost) {
        bestCost = cost;
        best = [i, j];
      }
    }
  }
  return best;
}

/** Two operands with distinct labels each: sum private labels, then one dot_general (or a product). */
function contractTwo(a0: Operand, b0: Operand, out: readonly string[]): Array {
  const outSet = new Set(out);
  const inA = new Set(a0.labels);
  const inB = new Set(b0.labels);
  const a = sumOut(a0, (l) => outSet.has(l) || inB.has(l));
  const b = sumOut(b0, (l) => outSet.has(l) || inA.has(l));
  const shared = a.labels.filter((l) => inB.has(l));
  const contract = shared.filter((l) => !outSet.has(l));
  if (contract.length === 0) {
    // No contraction: a broadcast product, each operand laid out in output order.
    const place = (o: Operand) => {
      const mine = out.filter((l) => o.labels.includes(l));
      const t = arrange(o, mine);
      return bind1("reshape", [t], {
        newShape: out.map((l) => (mine.includes(l) ? (o.x.shape[o.labels.indexOf(l)] as number) : 1)),
      });
    };
    return multiply(place(a), place(b));
  }
  const batch = shared.filter((l) => outSet.has(l));
  const posA = (l: string) => a.labels.indexOf(l);
  const posB = (l: string) => b.labels.indexOf(l);
  const r = dotGeneral(a.x, b.x, {
    contracting: [contract.map(posA), contract.map(posB)],
    batch: [batch.map(posA), batch.map(posB)],
  });
  const labels = [...batch, ...a.labels.filter((l) => !inB.has(l)), ...b.labels.filter((l) => !inA.has(l))];
  return arrange({ x: r, labels }, out);
}
