import { BackendError } from "../../errors.js";
import { roundFloat16 } from "../../float16.js";
import type { Expr } from "../../ir/expr.js";
import type { Load } from "../../ir/kernel.js";
import { expandMath } from "../../ir/math.js";
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
   * Emits `e` with its transcendentals expanded by the IR math library; returns [statements,
   * result variable]. `leaf` gives the JS source of loads, indices and the accumulator. Every
   * float32 op is rounded (`Math.fround`) and every float16 op to float16, so a chain computes
   * what the Wasm and WGSL kernels compute, bit for bit.
   */
  emit(e: Expr, leaf: (e: Expr, gatherIndices?: string[]) => string, loads: readonly Load[] = []): [string[], string] {
    const [lines, [v]] = this.emitAll([e], leaf, loads);
    return [lines, v as string];
  }

  /** `emit` of several expressions (a multi-output kernel's): a node they share is computed once. */
  emitAll(
    exprs: readonly Expr[],
    leaf: (e: Expr, gatherIndices?: string[]) => string,
    loads: readonly Load[] = [],
  ): [string[], string[]] {
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
          src = jsLiteral(roundConst(n.value, n.dtype));
          break;
        case "unary": {
          const f = unaryFn(n.fn, n.x.dtype);
          if (!f) throw new BackendError(`cpu: unary op ${n.fn} is not defined for ${n.x.dtype}`);
          src = this.rounded(`${this.fnRef(f)}(${visit(n.x)})`, n.dtype);
          break;
        }
        case "binary":
          src = this.rounded(`${this.fnRef(binaryFn(n.fn, n.x.dtype))}(${visit(n.x)}, ${visit(n.y)})`, n.dtype);
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
    const expanded = new Map<Expr, Expr>();
    const results = exprs.map((e) => visit(expandMath(e, expanded)));
    return [lines, results];
  }

  private rounded(src: string, d: string): string {
    if (d === "float32") return `${this.fnRef(Math.fround)}(${src})`;
    if (d === "float16") return `${this.fnRef(roundFloat16)}(${src})`;
    return src;
  }
}

/** A literal as the value its dtype holds (0.1 as float32 is 0.100000001…). */
export function roundConst(v: number, d: string): number {
  return d === "float32" ? Math.fround(v) : d === "float16" ? roundFloat16(v) : v;
}

export function jsLiteral(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "Infinity";
  if (v === -Infinity) return "-Infinity";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}
