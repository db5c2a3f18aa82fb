import type { DType } from "../../../dtype.js";
import { children, type Expr } from "../../../ir/expr.js";
import type { FusedKernel, IntExpr, Load } from "../../../ir/kernel.js";
import { expandMath } from "../../../ir/math.js";
import { unaryFn } from "../scalar.js";
import { assemble, FunctionBuilder, type Local, type MemoryImport, type Op } from "./asm.js";

/**
 * Fused kernels as Wasm, from the same IR the JS generator reads and with its semantics op for
 * op (every float32 op rounded, float32 sums accumulated in f64 and rounded once, max/min
 * NaN-propagating with JS's choice between equal zeros), so the two agree bit for bit.
 *
 * The function takes (out, in0…, p0…): byte addresses of the output and inputs in the heap and
 * the dispatch's integer params. Loops nest as in the JS kernel, each load's pointer advancing
 * by its byte stride per level. An elementwise kernel's innermost loop runs four lanes at a time
 * (f32x4/i32x4) when its expression has lane forms and, at run time, every load's innermost
 * stride is 0 (one element splatted) or 1; a scalar loop does the tail and every other case.
 */

type Kind = "f" | "i" | "u" | "b";
const kindOf = (d: DType): Kind => (d === "float32" ? "f" : d === "int32" ? "i" : d === "uint32" ? "u" : "b");
const WASM_DTYPES: ReadonlySet<DType> = new Set(["float32", "int32", "uint32", "bool"]);
const bytesOf = (d: DType) => (d === "bool" ? 1 : 4);

/** Why this kernel cannot run as Wasm (null: it can). */
export function wasmFusedUnsupported(k: FusedKernel): string | null {
  for (const d of [...k.inputs, k.outputs[0]]) if (!WASM_DTYPES.has(d)) return `${d} storage`;
  const exprs = [k.expr, ...(k.post ? [k.post] : []), ...k.loads.flatMap((l) => (l.gather ?? []).map((g) => g.index))];
  const seen = new Set<Expr>();
  let why: string | null = null;
  const walk = (n: Expr): void => {
    if (why !== null || seen.has(n)) return;
    seen.add(n);
    why = scalarUnsupported(n);
    for (const c of children(n)) walk(c);
  };
  for (const e of exprs) walk(expandMath(e));
  return why;
}

function scalarUnsupported(n: Expr): string | null {
  if (!WASM_DTYPES.has(n.dtype)) return `${n.dtype} values`;
  if (n.op === "unary") {
    if (!unaryFn(n.fn, n.x.dtype)) return `${n.fn} on ${n.x.dtype}`;
    const k = kindOf(n.x.dtype);
    if (k === "f" && !F_UNARY.has(n.fn)) return `${n.fn} on float32`;
    if (k === "b" && n.fn === "neg") return "neg on bool";
  }
  if (n.op === "binary") {
    const k = kindOf(n.x.dtype);
    if (n.fn === "pow") return `pow on ${n.x.dtype}`;
    if (k === "f" && (n.fn === "rem" || ["and", "or", "xor", "shl", "shr", "shru"].includes(n.fn)))
      return `${n.fn} on float32`;
    if (k === "b" && ["sub", "div", "rem", "shl", "shr", "shru"].includes(n.fn)) return `${n.fn} on bool`;
  }
  return null;
}

const F_UNARY = new Set(["neg", "abs", "sign", "sqrt", "floor", "ceil", "round", "not", "isfinite"]);

/** Whether an expression has lane forms throughout (the vector loop's compile-time condition). */
function vectorizable(k: FusedKernel, e: Expr): boolean {
  if (k.reduce || k.loops.length === 0 || k.outputs[0] === "bool") return false;
  if (k.loads.some((l) => l.gather) || k.inputs.some((d) => d === "bool")) return false;
  const seen = new Set<Expr>();
  const ok = (n: Expr): boolean => {
    if (seen.has(n)) return true;
    seen.add(n);
    const kind = kindOf(n.op === "unary" || n.op === "binary" || n.op === "cast" ? n.x.dtype : n.dtype);
    switch (n.op) {
      case "unary":
        if (kind === "f" && !["neg", "abs", "sqrt", "floor", "ceil", "round", "isfinite"].includes(n.fn)) return false;
        if (kind !== "f" && !["neg", "abs", "not", "floor", "ceil", "round"].includes(n.fn)) return false;
        if (kind === "b" && n.fn === "neg") return false;
        break;
      case "binary":
        if (["shl", "shr", "shru"].includes(n.fn)) {
          // Lanes shift by one scalar amount: a constant in range only.
          if (kind === "f" || kind === "b" || n.y.op !== "const" || !(n.y.value >= 0 && n.y.value < 32)) return false;
          return ok(n.x);
        }
        if (["div", "rem", "pow", "atan2"].includes(n.fn)) {
          if (!(n.fn === "div" && kind === "f")) return false;
        }
        if (kind === "f" && ["and", "or", "xor"].includes(n.fn)) return false;
        if (kind === "b" && n.fn === "sub") return false;
        break;
      case "acc":
        return false;
    }
    return children(n).every(ok);
  };
  return ok(e);
}

/** The highest param index a kernel reads, plus one. */
function paramCount(k: FusedKernel, exprs: readonly Expr[]): number {
  let n = 0;
  const int = (e: IntExpr) => {
    if (typeof e !== "number") n = Math.max(n, e.param + 1);
  };
  k.loops.forEach(int);
  for (const l of k.loads) {
    int(l.offset);
    l.strides.forEach(int);
    for (const g of l.gather ?? []) int(g.stride);
  }
  const seen = new Set<Expr>();
  const walk = (e: Expr) => {
    if (seen.has(e)) return;
    seen.add(e);
    if (e.op === "param") n = Math.max(n, e.param + 1);
    children(e).forEach(walk);
  };
  exprs.forEach(walk);
  for (const l of k.loads) for (const g of l.gather ?? []) walk(g.index);
  return n;
}

class Gen {
  readonly b: FunctionBuilder;
  readonly out: Local;
  readonly ins: Local[];
  readonly prm: Local[];
  readonly loopSize: Local[] = [];
  readonly loopVar: Local[] = [];
  /** Byte strides per load per loop, and pointers per load per depth (-1: the load's base). */
  readonly stride: Local[][] = [];
  readonly ptr: Local[][] = [];
  readonly base: Local[] = [];
  readonly o: Local;
  /** The last byte address a 4-byte load may read: (memory pages · 64 KiB) − 4. */
  readonly limit: Local;
  acc: Local | null = null;
  private scratch = new Map<string, Local[]>();

  constructor(
    readonly k: FusedKernel,
    nParams: number,
  ) {
    const nIn = k.inputs.length;
    this.b = new FunctionBuilder("run", [
      "i32",
      ...k.inputs.map(() => "i32" as const),
      ...new Array(nParams).fill("i32"),
    ]);
    this.out = this.b.params[0] as Local;
    this.ins = this.b.params.slice(1, 1 + nIn);
    this.prm = this.b.params.slice(1 + nIn);
    this.o = this.b.local("i32");
    this.limit = this.b.local("i32");
  }

  int(e: IntExpr): void {
    if (typeof e === "number") this.b.i32(e);
    else this.b.get(this.prm[e.param] as Local);
  }

  /** A temporary local of `type` for one use site (released by `release`). */
  temp(type: "i32" | "f32" | "f64" | "v128"): Local {
    const free = this.scratch.get(type) ?? [];
    this.scratch.set(type, free);
    return free.pop() ?? this.b.local(type);
  }

  release(l: Local): void {
    this.scratch.get(l.type)?.push(l);
  }
}

const valType = (d: DType) => (d === "float32" ? "f32" : "i32");

/**
 * Emits `e` (already expanded) as scalar Wasm, pushing its value. Nodes used more than once
 * are computed once per element into a local.
 */
function scalarEmitter(g: Gen, loads: readonly Load[], depth: () => number) {
  const b = g.b;
  const uses = new Map<Expr, number>();
  const count = (n: Expr): void => {
    const c = uses.get(n) ?? 0;
    uses.set(n, c + 1);
    if (c > 0) return;
    children(n).forEach(count);
    if (n.op === "load") for (const t of loads[n.load]?.gather ?? []) count(t.index);
  };
  let memo = new Map<Expr, Local>();
  const withTemps = (types: ("i32" | "f32")[], body: (ls: Local[]) => void) => {
    const ls = types.map((t) => g.temp(t));
    for (let i = ls.length - 1; i >= 0; i--) b.set(ls[i] as Local);
    body(ls);
    ls.forEach((l) => g.release(l));
  };
  const emit = (n: Expr): void => {
    const seen = memo.get(n);
    if (seen) {
      b.get(seen);
      return;
    }
    emitNode(n);
    if ((uses.get(n) ?? 0) > 1 && n.op !== "const" && n.op !== "param") {
      const l = b.local(valType(n.dtype));
      b.tee(l);
      memo.set(n, l);
    }
  };
  const emitNode = (n: Expr): void => {
    switch (n.op) {
      case "const":
        if (n.dtype === "float32") b.f32(n.value);
        else b.i32(n.dtype === "bool" ? (n.value !== 0 ? 1 : 0) : n.value | 0);
        return;
      case "param":
        b.get(g.prm[n.param] as Local);
        return;
      case "index":
        b.get(g.loopVar[n.loop] as Local);
        return;
      case "acc":
        b.get(g.acc as Local);
        return;
      case "load": {
        const l = loads[n.load] as Load;
        const d = g.k.inputs[l.input] as DType;
        b.get((g.ptr[n.load] as Local[])[depth()] as Local);
        for (const t of l.gather ?? []) {
          emit(t.index);
          g.int(t.stride);
          b.op("i32.mul").i32(bytesOf(d)).op("i32.mul").op("i32.add");
        }
        if (l.gather) {
          // Lowerings may read a gather's unselected arm out of range (concatenate reads every
          // input at every position); JS gets undefined there, Wasm would trap, so the address
          // is clamped into the memory (the value is discarded by the select above it).
          const at = g.temp("i32");
          b.tee(at).get(g.limit).get(at).get(g.limit).op("i32.lt_u").op("select");
          g.release(at);
        }
        b.mem(d === "float32" ? "f32.load" : d === "bool" ? "i32.load8_u" : "i32.load");
        return;
      }
      case "select":
        emit(n.x);
        emit(n.y);
        emit(n.cond);
        b.op("select");
        return;
      case "bitcast":
        emit(n.x);
        if (n.x.dtype === "float32" && n.dtype !== "float32") b.op("i32.reinterpret_f32");
        else if (n.x.dtype !== "float32" && n.dtype === "float32") b.op("f32.reinterpret_i32");
        return;
      case "cast":
        emit(n.x);
        castOp(b, kindOf(n.x.dtype), n.dtype);
        return;
      case "unary":
        unaryOp(n.fn, kindOf(n.x.dtype), () => emit(n.x));
        return;
      case "binary":
        binaryOp(
          n.fn,
          kindOf(n.x.dtype),
          () => emit(n.x),
          () => emit(n.y),
        );
        return;
    }
  };
  const unaryOp = (fn: string, k: Kind, x: () => void) => {
    if (k === "f") {
      switch (fn) {
        case "neg":
        case "abs":
        case "sqrt":
        case "floor":
        case "ceil":
          x();
          b.op(`f32.${fn}` as Op);
          return;
        case "round":
          x();
          b.op("f32.nearest");
          return;
        case "sign":
          // a > 0 ? 1 : a < 0 ? -1 : a (NaN and ±0 pass through).
          x();
          withTemps(["f32"], ([a]) => {
            b.f32(1)
              .f32(-1)
              .get(a as Local)
              .get(a as Local)
              .f32(0)
              .op("f32.lt")
              .op("select");
            b.get(a as Local)
              .f32(0)
              .op("f32.gt")
              .op("select");
          });
          return;
        case "not":
          x();
          b.f32(0).op("f32.eq").op("f32.convert_i32_u");
          return;
        case "isfinite":
          x();
          b.op("i32.reinterpret_f32").i32(0x7f800000).op("i32.and").i32(0x7f800000).op("i32.ne");
          return;
      }
      throw new Error(`internal: wasm unary ${fn} on float32`);
    }
    switch (fn) {
      case "neg":
        b.i32(0);
        x();
        b.op("i32.sub");
        return;
      case "abs":
        x();
        if (k === "i")
          withTemps(["i32"], ([a]) => {
            b.i32(0)
              .get(a as Local)
              .op("i32.sub")
              .get(a as Local)
              .get(a as Local)
              .i32(0)
              .op("i32.lt_s")
              .op("select");
          });
        return;
      case "sign":
        x();
        if (k === "u") b.i32(0).op("i32.ne");
        else
          withTemps(["i32"], ([a]) => {
            b.i32(1)
              .i32(-1)
              .i32(0)
              .get(a as Local)
              .i32(0)
              .op("i32.lt_s")
              .op("select");
            b.get(a as Local)
              .i32(0)
              .op("i32.gt_s")
              .op("select");
          });
        return;
      case "not":
        x();
        b.i32(k === "b" ? 1 : -1).op("i32.xor");
        return;
      case "floor":
      case "ceil":
      case "round":
        x();
        return;
      case "isfinite":
        x();
        b.op("drop").i32(1);
        return;
    }
    throw new Error(`internal: wasm unary ${fn} on ${k}`);
  };
  const cmp = (fn: string, k: Kind): Op => {
    if (k === "f") return `f32.${fn}` as Op;
    if (fn === "eq" || fn === "ne") return `i32.${fn}` as Op;
    return `i32.${fn}_${k === "i" ? "s" : "u"}` as Op;
  };
  const binaryOp = (fn: string, k: Kind, x: () => void, y: () => void) => {
    const both = () => {
      x();
      y();
    };
    if (k === "b") {
      const map: Record<string, Op> = {
        add: "i32.or",
        mul: "i32.and",
        max: "i32.or",
        min: "i32.and",
        and: "i32.and",
        or: "i32.or",
        xor: "i32.xor",
      };
      const op = map[fn];
      if (op) {
        both();
        b.op(op);
        return;
      }
    }
    switch (fn) {
      case "add":
      case "sub":
      case "mul":
        both();
        b.op(`${k === "f" ? "f32" : "i32"}.${fn}` as Op);
        return;
      case "div":
        both();
        if (k === "f") b.op("f32.div");
        else
          withTemps(["i32", "i32"], ([a, d]) => {
            const A = a as Local;
            const D = d as Local;
            if (k === "i") {
              // b = 0 → -1; b = -1 → -a (wrapping: INT_MIN / -1 = INT_MIN); else a / b truncated,
              // dividing by 1 where b is 0 or -1 ((b + 1) <u 2) so div_s cannot trap.
              b.i32(-1);
              b.i32(0).get(A).op("i32.sub");
              b.get(A).i32(1).get(D).get(D).i32(1).op("i32.add").i32(2).op("i32.lt_u").op("select").op("i32.div_s");
              b.get(D).i32(-1).op("i32.eq").op("select");
              b.get(D).op("i32.eqz").op("select");
            } else {
              b.i32(-1).get(A).get(D).i32(1).get(D).op("select").op("i32.div_u").get(D).op("i32.eqz").op("select");
            }
          });
        return;
      case "rem":
        both();
        withTemps(["i32", "i32"], ([a, d]) => {
          const A = a as Local;
          const D = d as Local;
          // x % 0 = x; INT_MIN % -1 = 0 (Wasm's rem_s does not trap on it).
          b.get(A)
            .get(A)
            .get(D)
            .i32(1)
            .get(D)
            .op("select")
            .op(k === "i" ? "i32.rem_s" : "i32.rem_u");
          b.get(D).op("i32.eqz").op("select");
        });
        return;
      case "max":
      case "min":
        both();
        withTemps([valType(k === "f" ? "float32" : "int32"), valType(k === "f" ? "float32" : "int32")], ([a, c]) => {
          const A = a as Local;
          const C = c as Local;
          // a ⊳ b || a is NaN ? a : b
          b.get(A)
            .get(C)
            .get(A)
            .get(C)
            .op(cmp(fn === "max" ? "gt" : "lt", k));
          if (k === "f") b.get(A).get(A).op("f32.ne").op("i32.or");
          b.op("select");
        });
        return;
      case "eq":
      case "ne":
      case "lt":
      case "le":
      case "gt":
      case "ge":
        both();
        b.op(cmp(fn, k));
        return;
      case "and":
      case "or":
      case "xor":
        both();
        b.op(`i32.${fn}` as Op);
        return;
      case "shl":
      case "shr":
      case "shru":
        both();
        withTemps(["i32", "i32"], ([a, s]) => {
          const A = a as Local;
          const S = s as Local;
          if (fn === "shr") {
            // Out-of-range amounts fill with the sign: shift by 31.
            b.get(A).i32(31).get(S).get(S).i32(32).op("i32.ge_u").op("select").op("i32.shr_s");
          } else {
            b.i32(0)
              .get(A)
              .get(S)
              .op(fn === "shl" ? "i32.shl" : "i32.shr_u")
              .get(S)
              .i32(32)
              .op("i32.ge_u")
              .op("select");
          }
        });
        return;
    }
    throw new Error(`internal: wasm binary ${fn} on ${k}`);
  };
  return {
    count,
    emit,
    /** A fresh memo: values computed in one loop body are not live in another. */
    reset() {
      memo = new Map();
    },
  };
}

function castOp(b: FunctionBuilder, from: Kind, to: DType): void {
  switch (to) {
    case "float32":
      if (from === "i") b.op("f32.convert_i32_s");
      else if (from !== "f") b.op("f32.convert_i32_u");
      return;
    case "int32":
      if (from === "f") b.op("i32.trunc_sat_f32_s");
      return;
    case "uint32":
      if (from === "f") b.op("i32.trunc_sat_f32_u");
      return;
    case "bool":
      if (from === "f") b.f32(0).op("f32.ne");
      else b.i32(0).op("i32.ne");
      return;
    default:
      throw new Error(`internal: wasm cast to ${to}`);
  }
}

/** Emits `e` (already expanded, `vectorizable`) as f32x4/i32x4 lanes, pushing one v128. */
function vectorEmitter(g: Gen, depth: number, broadcast: (j: number) => Local | boolean) {
  const b = g.b;
  const uses = new Map<Expr, number>();
  const count = (n: Expr): void => {
    const c = uses.get(n) ?? 0;
    uses.set(n, c + 1);
    if (c === 0) children(n).forEach(count);
  };
  const memo = new Map<Expr, Local>();
  const splat = (v: number) => b.v128i32x4([v, v, v, v]);
  const zeroOne = () => splat(1).op("v128.and");
  const emit = (n: Expr): void => {
    const seen = memo.get(n);
    if (seen) {
      b.get(seen);
      return;
    }
    emitNode(n);
    if ((uses.get(n) ?? 0) > 1 && n.op !== "const") {
      const l = b.local("v128");
      b.tee(l);
      memo.set(n, l);
    }
  };
  const emitNode = (n: Expr): void => {
    const k = kindOf(n.op === "unary" || n.op === "binary" || n.op === "cast" ? n.x.dtype : n.dtype);
    switch (n.op) {
      case "const": {
        const bits =
          n.dtype === "float32"
            ? (new Int32Array(Float32Array.of(n.value).buffer)[0] as number)
            : n.dtype === "bool"
              ? Number(n.value !== 0)
              : n.value | 0;
        splat(bits);
        return;
      }
      case "param":
        b.get(g.prm[n.param] as Local).op("i32x4.splat");
        return;
      case "index":
        b.get(g.loopVar[n.loop] as Local).op("i32x4.splat");
        if (n.loop === depth) b.v128i32x4([0, 1, 2, 3]).op("i32x4.add");
        return;
      case "load": {
        const ptr = (g.ptr[n.load] as Local[])[depth + 1] as Local;
        const bc = broadcast(n.load);
        if (typeof bc === "boolean") b.get(ptr).mem(bc ? "v128.load32_splat" : "v128.load");
        else {
          b.get(bc).raw(0x04, 0x7b);
          b.get(ptr).mem("v128.load32_splat");
          b.raw(0x05);
          b.get(ptr).mem("v128.load");
          b.raw(0x0b);
        }
        return;
      }
      case "select":
        emit(n.x);
        emit(n.y);
        b.v128zero();
        emit(n.cond);
        b.op("i32x4.sub").op("v128.bitselect");
        return;
      case "bitcast":
        emit(n.x);
        return;
      case "cast":
        emit(n.x);
        if (n.dtype === "float32") {
          if (k === "i") b.op("f32x4.convert_i32x4_s");
          else if (k !== "f") b.op("f32x4.convert_i32x4_u");
        } else if (n.dtype === "int32" && k === "f") b.op("i32x4.trunc_sat_f32x4_s");
        else if (n.dtype === "uint32" && k === "f") b.op("i32x4.trunc_sat_f32x4_u");
        else if (n.dtype === "bool") {
          b.v128zero().op(k === "f" ? "f32x4.ne" : "i32x4.ne");
          zeroOne();
        }
        return;
      case "unary":
        emit(n.x);
        if (k === "f") {
          if (n.fn === "isfinite") {
            splat(0x7f800000).op("v128.and");
            splat(0x7f800000).op("i32x4.ne");
            zeroOne();
          } else b.op(n.fn === "round" ? "f32x4.nearest" : (`f32x4.${n.fn}` as Op));
        } else if (n.fn === "neg") b.op("i32x4.neg");
        else if (n.fn === "abs" && k === "i") b.op("i32x4.abs");
        else if (n.fn === "not") {
          if (k === "b") splat(1).op("v128.xor");
          else b.op("v128.not");
        }
        return;
      case "binary": {
        const fn = n.fn;
        if (k === "b" && ["add", "max", "or", "mul", "min", "and", "xor"].includes(fn)) {
          emit(n.x);
          emit(n.y);
          b.op(fn === "add" || fn === "max" || fn === "or" ? "v128.or" : fn === "xor" ? "v128.xor" : "v128.and");
          return;
        }
        if (fn === "shl" || fn === "shr" || fn === "shru") {
          emit(n.x);
          b.i32((n.y as { value: number }).value);
          b.op(fn === "shl" ? "i32x4.shl" : fn === "shr" ? "i32x4.shr_s" : "i32x4.shr_u");
          return;
        }
        if (fn === "max" || fn === "min") {
          const A = g.temp("v128");
          const C = g.temp("v128");
          emit(n.x);
          b.set(A);
          emit(n.y);
          b.set(C);
          b.get(A).get(C);
          if (k === "f") {
            b.get(A)
              .get(C)
              .op(fn === "max" ? "f32x4.gt" : "f32x4.lt");
            b.get(A).get(A).op("f32x4.ne").op("v128.or").op("v128.bitselect");
          } else b.op(`i32x4.${fn}_${k === "i" ? "s" : "u"}` as Op);
          g.release(A);
          g.release(C);
          return;
        }
        emit(n.x);
        emit(n.y);
        if (["add", "sub", "mul", "div"].includes(fn)) b.op(`${k === "f" ? "f32x4" : "i32x4"}.${fn}` as Op);
        else if (["and", "or", "xor"].includes(fn)) b.op(`v128.${fn}` as Op);
        else {
          const sign = k === "i" ? "_s" : "_u";
          b.op((k === "f" ? `f32x4.${fn}` : fn === "eq" || fn === "ne" ? `i32x4.${fn}` : `i32x4.${fn}${sign}`) as Op);
          zeroOne();
        }
        return;
      }
      case "acc":
        throw new Error("internal: acc in a vector loop");
    }
  };
  return { count, emit };
}

const storeOp = (d: DType) => (d === "float32" ? "f32.store" : d === "bool" ? "i32.store8" : "i32.store");

/** The Wasm module of a fused kernel: one exported function `run(out, in…, p…)`. */
export function fusedModule(k: FusedKernel, memory: MemoryImport): { bytes: Uint8Array<ArrayBuffer>; nParams: number } {
  const expr = expandMath(k.expr);
  const post = k.post ? expandMath(k.post) : undefined;
  const loads = k.loads.map((l) =>
    l.gather ? { ...l, gather: l.gather.map((t) => ({ ...t, index: expandMath(t.index) })) } : l,
  );
  const nParams = paramCount(k, [expr, ...(post ? [post] : [])]);
  const g = new Gen(k, nParams);
  const b = g.b;
  const nl = k.loops.length;
  const r = k.outRank;
  const outType = k.outputs[0];
  // Entry: loop sizes, byte strides, base pointers.
  k.loops.forEach((n) => {
    const l = b.local("i32");
    g.int(n);
    b.set(l);
    g.loopSize.push(l);
    g.loopVar.push(b.local("i32"));
  });
  loads.forEach((l) => {
    const size = bytesOf(k.inputs[l.input] as DType);
    const base = b.local("i32");
    b.get(g.ins[l.input] as Local);
    g.int(l.offset);
    b.i32(size).op("i32.mul").op("i32.add").set(base);
    g.base.push(base);
    g.stride.push(
      l.strides.map((s) => {
        const loc = b.local("i32");
        g.int(s);
        b.i32(size).op("i32.mul").set(loc);
        return loc;
      }),
    );
    g.ptr.push([base, ...l.strides.map(() => b.local("i32"))]);
  });
  b.get(g.out).set(g.o);
  b.raw(0x3f, 0x00).i32(16).op("i32.shl").i32(4).op("i32.sub").set(g.limit);

  const vector = vectorizable(k, expr);
  // Per load, whether its innermost stride is 0 (splat) — a constant, or a local set at entry.
  const broadcast: (Local | boolean)[] = [];
  let vecOk: Local | null = null;
  if (vector) {
    vecOk = b.local("i32");
    b.i32(1).set(vecOk);
    loads.forEach((l) => {
      const s = l.strides[nl - 1] as IntExpr;
      if (typeof s === "number") {
        if (s !== 0 && s !== 1) b.i32(0).set(vecOk as Local);
        broadcast.push(s === 0);
        return;
      }
      const bc = b.local("i32");
      g.int(s);
      b.op("i32.eqz").set(bc);
      g.int(s);
      b.i32(2)
        .op("i32.lt_u")
        .get(vecOk as Local)
        .op("i32.and")
        .set(vecOk as Local);
      broadcast.push(bc);
    });
  }

  let depth = -1;
  const scalarStore = (e: Expr) => {
    const em = scalarEmitter(g, loads, () => depth + 1);
    em.count(e);
    b.get(g.o);
    em.emit(e);
    b.mem(storeOp(outType));
    b.addTo(g.o, bytesOf(outType));
  };
  /** for (i_d = 0 or continue; i_d < n_d; i_d++, ptr += stride) body(). */
  const loopAt = (d: number, body: () => void, init = true) => {
    const i = g.loopVar[d] as Local;
    if (init) {
      b.i32(0).set(i);
      loads.forEach((_, j) => {
        const ptrs = g.ptr[j] as Local[];
        b.get(ptrs[d] as Local).set(ptrs[d + 1] as Local);
      });
    }
    b.raw(0x02, 0x40, 0x03, 0x40);
    b.get(i)
      .get(g.loopSize[d] as Local)
      .op("i32.ge_s")
      .raw(0x0d, 1);
    const saved = depth;
    depth = d;
    body();
    depth = saved;
    b.addTo(i, 1);
    loads.forEach((_, j) => {
      b.addTo((g.ptr[j] as Local[])[d + 1] as Local, (g.stride[j] as Local[])[d] as Local);
    });
    b.raw(0x0c, 0, 0x0b, 0x0b);
  };
  const vectorLoop = (d: number) => {
    const i = g.loopVar[d] as Local;
    b.i32(0).set(i);
    loads.forEach((_, j) => {
      const ptrs = g.ptr[j] as Local[];
      b.get(ptrs[d] as Local).set(ptrs[d + 1] as Local);
    });
    b.get(vecOk as Local);
    b.ifElse(() => {
      b.raw(0x02, 0x40, 0x03, 0x40);
      b.get(g.loopSize[d] as Local)
        .get(i)
        .op("i32.sub")
        .i32(4)
        .op("i32.lt_s")
        .raw(0x0d, 1);
      const em = vectorEmitter(g, d, (j) => broadcast[j] as Local | boolean);
      em.count(expr);
      b.get(g.o);
      em.emit(expr);
      b.mem("v128.store");
      b.addTo(g.o, 16);
      b.addTo(i, 4);
      loads.forEach((_, j) => {
        const p = (g.ptr[j] as Local[])[d + 1] as Local;
        b.get(p)
          .get((g.stride[j] as Local[])[d] as Local)
          .i32(2)
          .op("i32.shl")
          .op("i32.add")
          .set(p);
      });
      b.raw(0x0c, 0, 0x0b, 0x0b);
    });
  };

  if (!k.reduce) {
    const nest = (d: number): void => {
      if (d === nl) {
        scalarStore(expr);
        return;
      }
      if (d === nl - 1 && vector) {
        vectorLoop(d);
        loopAt(d, () => nest(d + 1), false);
        return;
      }
      loopAt(d, () => nest(d + 1));
    };
    nest(0);
  } else {
    const isArg = k.reduce === "argmax" || k.reduce === "argmin";
    const valueOp = k.reduce === "argmax" ? "max" : k.reduce === "argmin" ? "min" : k.reduce;
    const dt = expr.dtype;
    const wide = dt === "float32" && (valueOp === "sum" || valueOp === "prod");
    const accT = wide ? "f64" : valType(dt);
    const accLoc = b.local(accT);
    const accValue = wide ? b.local("f32") : accLoc;
    g.acc = accValue;
    const best = isArg ? b.local("i32") : null;
    const flat = isArg ? b.local("i32") : null;
    const init = reduceInitValue(valueOp, dt);
    const outBody = () => {
      if (wide) b.raw(0x44, ...new Uint8Array(Float64Array.of(init).buffer));
      else if (accT === "f32") b.f32(init);
      else b.i32(init | 0);
      b.set(accLoc);
      if (best && flat) b.i32(0).set(best).i32(0).set(flat);
      const inner = (d: number): void => {
        if (d < nl) {
          loopAt(d, () => inner(d + 1));
          return;
        }
        const em = scalarEmitter(g, loads, () => depth + 1);
        if (isArg && best && flat) {
          em.count(expr);
          const v = b.local(valType(dt));
          em.emit(expr);
          b.set(v);
          const k2 = kindOf(dt);
          const gtOp: Op =
            k2 === "f"
              ? k.reduce === "argmax"
                ? "f32.gt"
                : "f32.lt"
              : k.reduce === "argmax"
                ? k2 === "i"
                  ? "i32.gt_s"
                  : "i32.gt_u"
                : k2 === "i"
                  ? "i32.lt_s"
                  : "i32.lt_u";
          b.get(v).get(accLoc).op(gtOp);
          if (k2 === "f") b.get(v).get(v).op("f32.ne").get(accLoc).get(accLoc).op("f32.eq").op("i32.and").op("i32.or");
          b.ifElse(() => {
            b.get(v).set(accLoc).get(flat).set(best);
          });
          b.addTo(flat, 1);
          return;
        }
        if (wide) {
          em.count(expr);
          b.get(accLoc);
          em.emit(expr);
          b.op("f64.promote_f32")
            .op(valueOp === "sum" ? "f64.add" : "f64.mul")
            .set(accLoc);
          return;
        }
        const step = {
          op: "binary",
          fn: valueOp === "sum" ? "add" : valueOp === "prod" ? "mul" : valueOp,
          x: { op: "acc", dtype: dt },
          y: expr,
          dtype: dt,
        } as Expr;
        em.count(step);
        em.emit(step);
        b.set(accLoc);
      };
      inner(r);
      if (wide) b.get(accLoc).op("f32.demote_f64").set(accValue);
      if (isArg && best) {
        b.get(g.o).get(best).mem("i32.store");
        b.addTo(g.o, 4);
      } else scalarStore(post ?? { op: "acc", dtype: dt });
    };
    const nest = (d: number): void => {
      if (d === r) {
        outBody();
        return;
      }
      loopAt(d, () => nest(d + 1));
    };
    nest(0);
  }
  return { bytes: assemble([b], memory), nParams };
}

function reduceInitValue(op: "sum" | "prod" | "max" | "min", d: DType): number {
  if (op === "sum") return 0;
  if (op === "prod") return 1;
  const k = kindOf(d);
  if (op === "max") return k === "f" ? -Infinity : k === "i" ? -2147483648 : 0;
  return k === "f" ? Infinity : k === "i" ? 2147483647 : k === "u" ? -1 : 1;
}

export type WasmRun = ((
  ins: readonly { byteOffset: number }[],
  outs: readonly { byteOffset: number }[],
  p: Int32Array,
) => void) & {
  readonly wasm: true;
};

/** Compiles a fused kernel to Wasm against the heap's memory; the runner passes byte addresses and params, allocating nothing. */
export function wasmFusedRunner(k: FusedKernel, mem: WebAssembly.Memory, memory: MemoryImport): WasmRun {
  const { bytes, nParams } = fusedModule(k, memory);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
  const run = instance.exports.run as (...args: number[]) => void;
  const nIn = k.inputs.length;
  const args = new Array<number>(1 + nIn + nParams).fill(0);
  const f = (ins: readonly { byteOffset: number }[], outs: readonly { byteOffset: number }[], p: Int32Array) => {
    args[0] = (outs[0] as { byteOffset: number }).byteOffset;
    for (let i = 0; i < nIn; i++) args[1 + i] = (ins[i] as { byteOffset: number }).byteOffset;
    for (let i = 0; i < nParams; i++) args[1 + nIn + i] = p[i] as number;
    run.apply(null, args);
  };
  return Object.assign(f, { wasm: true as const });
}
