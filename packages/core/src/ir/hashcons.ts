import { children, type Expr, withChildren } from "./expr.js";
import type { FusedKernel, IntExpr, Load } from "./kernel.js";

/**
 * Hash-consing of element expressions (DESIGN decision 11): structurally equal sub-expressions
 * become one node, so every code generator's per-node memo computes each distinct value once
 * (common-subexpression elimination), and each canonical node has a small id from which
 * structural keys are built in time linear in the DAG.
 */
export class ExprTable {
  private readonly byKey = new Map<string, Expr>();
  private readonly canonical = new Map<Expr, Expr>();
  private readonly ids = new Map<Expr, number>();

  /** The canonical node structurally equal to `e` (its sub-expressions canonical too). */
  intern(e: Expr): Expr {
    const seen = this.canonical.get(e);
    if (seen) return seen;
    const kids = children(e).map((c) => this.intern(c));
    const key = nodeKey(
      e,
      kids.map((c) => this.ids.get(c) as number),
    );
    let node = this.byKey.get(key);
    if (!node) {
      node = withChildren(e, kids);
      this.byKey.set(key, node);
      this.ids.set(node, this.ids.size);
      this.canonical.set(node, node);
    }
    this.canonical.set(e, node);
    return node;
  }

  /** The id of `e`'s canonical node: equal ids mean structurally equal expressions. */
  id(e: Expr): number {
    return this.ids.get(this.intern(e)) as number;
  }
}

/** One node's key given its children's ids: op, function, dtype and the leaf's payload. */
function nodeKey(e: Expr, kids: readonly number[]): string {
  switch (e.op) {
    case "load":
      return `L${e.load}:${e.dtype}`;
    case "const":
      // −0 and NaN are distinct literals; String(−0) would merge the first with 0.
      return `C${Object.is(e.value, -0) ? "-0" : e.value}:${e.dtype}`;
    case "index":
      return `I${e.loop}`;
    case "param":
      return `P${e.param}`;
    case "acc":
      return `A:${e.dtype}`;
    case "unary":
      return `U${e.fn}:${e.dtype}:${kids[0]}`;
    case "binary":
      return `B${e.fn}:${e.dtype}:${kids[0]},${kids[1]}`;
    case "select":
      return `S:${e.dtype}:${kids.join(",")}`;
    case "cast":
      return `K:${e.dtype}:${kids[0]}`;
    case "bitcast":
      return `T:${e.dtype}:${kids[0]}`;
  }
}

/** `e` with structurally equal sub-expressions shared. */
export function hashCons(e: Expr, table: ExprTable = new ExprTable()): Expr {
  return table.intern(e);
}

/** An IntExpr's part of a key. */
export const intKey = (e: IntExpr): string => (typeof e === "number" ? String(e) : `p${e.param}`);

/**
 * A structural key of expressions: nodes numbered in first-visit order, each listed once, so
 * the key is linear in the DAG's size and equal exactly for structurally equal expressions.
 */
export function exprKey(...exprs: readonly Expr[]): string {
  const table = new ExprTable();
  const order = new Map<Expr, number>();
  const parts: string[] = [];
  const visit = (n: Expr): number => {
    const seen = order.get(n);
    if (seen !== undefined) return seen;
    const kids = children(n).map(visit);
    const i = order.size;
    order.set(n, i);
    parts.push(nodeKey(n, kids));
    return i;
  };
  const roots = exprs.map((e) => visit(table.intern(e)));
  return `${parts.join(";")}|${roots.join(",")}`;
}

function loadKey(l: Load): string {
  const gather = (l.gather ?? []).map((g) => `${exprKey(g.index)}*${intKey(g.stride)}`).join("/");
  return `${l.input}@${intKey(l.offset)}[${l.strides.map(intKey).join(",")}]{${gather}}`;
}

/**
 * The key of a fused kernel from its structure alone (its label is not part of it): two
 * kernels with equal keys compile to the same code, whatever built them.
 */
export function kernelKey(k: FusedKernel): string {
  return [
    k.inputs.join(","),
    k.outputs.join(","),
    k.outRank,
    k.loops.map(intKey).join(","),
    k.loads.map(loadKey).join(";"),
    k.reduce ?? "",
    exprKey(k.expr, ...(k.post ? [k.post] : []), ...(k.siblings ?? [])),
  ].join("|");
}

/** The key of a matmul epilogue (its loads and expression). */
export function epilogueKey(loads: readonly Load[], expr: Expr): string {
  return `${loads.map(loadKey).join(";")}|${exprKey(expr)}`;
}
