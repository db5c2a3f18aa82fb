import { BackendError } from "../../errors.js";
import type { Expr } from "../../ir/expr.js";
import type { Load } from "../../ir/kernel.js";
import { binaryFn, bitcastFn, castFn, unaryFn } from "./scalar.js";

type Fn = (...args: number[]) => number;

/**
 * Emits an element expression as JS statements in SSA form (a shared sub-expression is
 * computed once). Scalar functions go into `fns`, referenced as `F[i]` by the code.
 */
export class ExprEmitter {
  readonly fns: Fn[] = [];
  private readonly fnIndex = new Map<Fn, number>();
  private counter = 0;

  constructor(private readonly prefix: string) {}

  fnRef(f: Fn): string {
    let i = this.fnIndex.get(f);
    if (i === undefined) {
      i = this.fns.length;
      this.fns.push(f);
      this.fnIndex.set(f, i);
    }
    return `f${i}`;
  }

  /** Hoisted `const fN = F[N]` lines for the functions used so far. */
  preamble(): string {
    return this.fns.map((_, i) => `const f${i} = F[${i}];`).join("\n");
  }

  /**
   * Emits `e`; returns [statements, result variable]. `leaf` gives the JS source of loads,
   * indices and the accumulator.
   */
  emit(e: Expr, leaf: (e: Expr, gatherIndices?: string[]) => string, loads: readonly Load[] = []): [string[], string] {
    const lines: string[] = [];
    const memo = new Map<Expr, string>();
    const visit = (n: Expr): string => {
      const seen = memo.get(n);
      if (seen !== undefined) return seen;
      let src: string;
      switch (n.op) {
        case "load": {
          const g = loads[n.load]?.gather;
          src = leaf(
            n,
            g?.map((t) => visit(t.index)),
          );
          break;
        }
        case "index":
        case "param":
        case "acc":
          src = leaf(n);
          break;
        case "const":
          src = jsLiteral(n.value);
          break;
        case "unary": {
          const f = unaryFn(n.fn, n.x.dtype);
          if (!f) throw new BackendError(`cpu: unary op ${n.fn} is not defined for ${n.x.dtype}`);
          src = `${this.fnRef(f)}(${visit(n.x)})`;
          break;
        }
        case "binary":
          src = `${this.fnRef(binaryFn(n.fn, n.x.dtype))}(${visit(n.x)}, ${visit(n.y)})`;
          break;
        case "select":
          src = `(${visit(n.cond)} !== 0 ? ${visit(n.x)} : ${visit(n.y)})`;
          break;
        case "cast":
          src = `${this.fnRef(castFn(n.x.dtype, n.dtype))}(${visit(n.x)})`;
          break;
        case "bitcast":
          src = `${this.fnRef(bitcastFn(n.x.dtype, n.dtype))}(${visit(n.x)})`;
          break;
      }
      const v = `${this.prefix}${this.counter++}`;
      lines.push(`const ${v} = ${src};`);
      memo.set(n, v);
      return v;
    };
    const result = visit(e);
    return [lines, result];
  }
}

export function jsLiteral(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}
