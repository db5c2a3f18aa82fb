import type { DType } from "../../../dtype.js";
import { children, type Expr } from "../../../ir/expr.js";
import type { Load } from "../../../ir/kernel.js";
import { kindOf } from "../scalar.js";
import type { FunctionBuilder, Local, Op } from "./asm.js";
import type { Gen } from "./fused-gen.js";
import { bytesOf, valType } from "./fused-support.js";

type Kind = ReturnType<typeof kindOf>;

/**
 * Emits `e` (already expanded) as scalar Wasm, pushing its value. Nodes used more than once
 * are computed once per element into a local.
 */
export function scalarEmitter(g: Gen, loads: readonly Load[], depth: () => number) {
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
