import { BackendError, type DType } from "@webjax/core";
import { type BinaryOp, type Expr, expandMath, type Load, roundFloat16, type UnaryOp } from "@webjax/core/internal";

/** The WGSL value type of each dtype (bool is a u32 of 0 or 1; float16 computes in f32). */
export function wgslType(d: DType): "f32" | "i32" | "u32" {
  switch (d) {
    case "float32":
    case "float16":
      return "f32";
    case "int32":
      return "i32";
    case "uint32":
    case "bool":
      return "u32";
    case "float64":
      throw new BackendError("webgpu: float64 is not supported on WebGPU; it lives on the cpu backend (devicePut)");
  }
}

/** A WGSL literal of `value` as dtype `d` (floats by their bits, so NaN and ±Inf are exact). */
export function literal(value: number, d: DType): string {
  switch (wgslType(d)) {
    case "f32": {
      const v = d === "float16" ? roundFloat16(value) : value;
      if (Number.isNaN(v)) return "wj_nan()";
      if (!Number.isFinite(v)) return v > 0 ? "wj_inf()" : "(-wj_inf())";
      const bits = new Uint32Array(Float32Array.of(v).buffer)[0] as number;
      return `bitcast<f32>(0x${bits.toString(16)}u)`;
    }
    case "i32":
      return `i32(${value | 0})`;
    case "u32":
      return `${d === "bool" ? (value !== 0 ? 1 : 0) : value >>> 0}u`;
  }
}

type Kind = "f" | "i" | "u" | "b";
const kindOf = (d: DType): Kind =>
  d === "float32" || d === "float16" ? "f" : d === "int32" ? "i" : d === "uint32" ? "u" : "b";

/**
 * Emits expressions as WGSL `let` statements (SSA, so shared sub-expressions are computed once),
 * collecting the helper functions they call.
 */
export class WgslEmitter {
  readonly helpers = new Set<string>();
  private counter = 0;

  constructor(private readonly prefix = "t") {}

  private use(name: string): string {
    this.helpers.add(name);
    return name;
  }

  /** Marks a helper as used (for loads and stores the caller writes itself). */
  need(name: string): string {
    return this.use(name);
  }

  unary(fn: UnaryOp, a: string, d: DType): string {
    const k = kindOf(d);
    if (d === "float64") wgslType(d);
    switch (fn) {
      case "neg":
        return k === "f" ? `(-${a})` : k === "i" ? `(0 - ${a})` : k === "u" ? `(0u - ${a})` : a;
      case "abs":
        return k === "f" || k === "i" ? `abs(${a})` : a;
      case "sign":
        return k === "f"
          ? `${this.use("wj_fsign")}(${a})`
          : k === "i"
            ? `select(select(0, -1, ${a} < 0), 1, ${a} > 0)`
            : `select(0u, 1u, ${a} > 0u)`;
      case "not":
        return k === "b" ? `(${a} ^ 1u)` : `(~${a})`;
      case "floor":
      case "ceil":
      case "round":
        return k === "f" ? `${fn}(${a})` : a;
      case "sqrt":
        return `${this.use("wj_sqrt")}(${a})`;
      case "isfinite":
        return k === "f" ? `${this.use("wj_isfinite")}(${a})` : "1u";
      default:
        // The IR math library expanded every transcendental before emission (emit).
        throw new BackendError(`webgpu: internal: ${fn} on ${d} reached WGSL unexpanded`);
    }
  }

  binary(fn: BinaryOp, a: string, b: string, d: DType): string {
    const k = kindOf(d);
    const cmp = (op: string) => `select(0u, 1u, ${a} ${op} ${b})`;
    switch (fn) {
      case "add":
        return k === "b" ? `(${a} | ${b})` : `(${a} + ${b})`;
      case "sub":
        return `(${a} - ${b})`;
      case "mul":
        return k === "b" ? `(${a} & ${b})` : `(${a} * ${b})`;
      case "div":
        return k === "f"
          ? `(${a} / ${b})`
          : k === "u"
            ? `${this.use("wj_udiv")}(${a}, ${b})`
            : `${this.use("wj_idiv")}(${a}, ${b})`;
      case "rem":
        return k === "f"
          ? `(${a} % ${b})`
          : k === "u"
            ? `${this.use("wj_urem")}(${a}, ${b})`
            : `${this.use("wj_irem")}(${a}, ${b})`;
      case "pow":
        if (k === "f") throw new BackendError("webgpu: internal: float pow reached WGSL unexpanded");
        return k === "i" ? `${this.use("wj_ipow")}(${a}, ${b})` : `${this.use("wj_upow")}(${a}, ${b})`;
      case "max":
        return k === "f" ? `${this.use("wj_fmax")}(${a}, ${b})` : k === "b" ? `(${a} | ${b})` : `max(${a}, ${b})`;
      case "min":
        return k === "f" ? `${this.use("wj_fmin")}(${a}, ${b})` : k === "b" ? `(${a} & ${b})` : `min(${a}, ${b})`;
      case "eq":
        return cmp("==");
      case "ne":
        return `select(1u, 0u, ${a} == ${b})`;
      case "lt":
        return cmp("<");
      case "le":
        return cmp("<=");
      case "gt":
        return cmp(">");
      case "ge":
        return cmp(">=");
      case "and":
        return `(${a} & ${b})`;
      case "or":
        return `(${a} | ${b})`;
      case "xor":
        return `(${a} ^ ${b})`;
      case "atan2":
        throw new BackendError("webgpu: internal: atan2 reached WGSL unexpanded");
      case "shl":
        return `select(${k === "i" ? "0" : "0u"}, ${a} << u32(${b}), u32(${b}) < 32u)`;
      case "shr":
        return k === "i" ? `(${a} >> min(u32(${b}), 31u))` : `bitcast<u32>(bitcast<i32>(${a}) >> min(${b}, 31u))`;
      case "shru":
        return k === "i"
          ? `select(0, bitcast<i32>(bitcast<u32>(${a}) >> u32(${b})), u32(${b}) < 32u)`
          : `select(0u, ${a} >> ${b}, ${b} < 32u)`;
    }
  }

  cast(a: string, from: DType, to: DType): string {
    const kf = kindOf(from);
    switch (to) {
      case "float32":
        return kf === "f" ? a : `f32(${a})`;
      case "float16":
        return `${this.use("wj_r16")}(${kf === "f" ? a : `f32(${a})`})`;
      case "int32":
        return kf === "f"
          ? `${this.use("wj_f2i")}(${a})`
          : kf === "u"
            ? `bitcast<i32>(${a})`
            : kf === "b"
              ? `i32(${a})`
              : a;
      case "uint32":
        return kf === "f" ? `${this.use("wj_f2u")}(${a})` : kf === "i" ? `bitcast<u32>(${a})` : a;
      case "bool":
        return kf === "f"
          ? `${this.use("wj_fnonzero")}(${a})`
          : kf === "i"
            ? `select(0u, 1u, ${a} != 0)`
            : `select(0u, 1u, ${a} != 0u)`;
      case "float64":
        return wgslType(to);
    }
  }

  /**
   * Emits `e` as `let` statements, its transcendentals expanded by the IR math library (the same
   * expansions the CPU paths run); `leaf` gives the WGSL of loads, indices and the accumulator.
   */
  emit(e: Expr, leaf: (e: Expr, gatherIndices?: string[]) => string, loads: readonly Load[] = []): [string[], string] {
    const [lines, [v]] = this.emitAll([e], leaf, loads);
    return [lines, v as string];
  }

  /** Emits several expressions (a multi-output kernel's) as one list of statements: shared subexpressions once. */
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
        case "acc":
          src = leaf(n);
          break;
        case "param":
          src = n.dtype === "int32" ? `prm(${n.param}u)` : `${wgslType(n.dtype)}(prm(${n.param}u))`;
          break;
        case "const":
          src = literal(n.value, n.dtype);
          if (src.includes("wj_nan")) this.helpers.add("wj_nan");
          if (src.includes("wj_inf")) this.helpers.add("wj_inf");
          break;
        case "unary":
          src = this.unary(n.fn, visit(n.x), n.x.dtype);
          break;
        case "binary":
          src = this.binary(n.fn, visit(n.x), visit(n.y), n.x.dtype);
          break;
        case "select":
          src = `select(${visit(n.y)}, ${visit(n.x)}, ${visit(n.cond)} != 0u)`;
          break;
        case "cast":
          src = this.cast(visit(n.x), n.x.dtype, n.dtype);
          break;
        case "bitcast":
          src = `bitcast<${wgslType(n.dtype)}>(${visit(n.x)})`;
          break;
      }
      const v = `${this.prefix}${this.counter++}`;
      lines.push(`let ${v}: ${wgslType(n.dtype)} = ${src};`);
      memo.set(n, v);
      return v;
    };
    const expanded = new Map<Expr, Expr>();
    const results = exprs.map((e) => visit(expandMath(e, expanded)));
    return [lines, results];
  }
}
