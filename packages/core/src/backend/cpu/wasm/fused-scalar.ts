import type { DType } from "../../../dtype.js";
import { fromFloat16Bits, roundFloat16, toFloat16Bits } from "../../../float16.js";
import { type BinaryOp, children, type Expr, type UnaryOp } from "../../../ir/expr.js";
import type { Load } from "../../../ir/kernel.js";
import { roundConst } from "../expr-js.js";
import { binaryFn, kindOf, unaryFn } from "../scalar.js";
import type { FunctionBuilder, Local, Op } from "./asm.js";
import type { Gen, JsFn } from "./fused-gen.js";
import { bytesOf, valType } from "./fused-support.js";

type Kind = ReturnType<typeof kindOf>;
type F = "f32" | "f64";

/** Ops whose float16 result is already a float16 value (no rounding after them). */
const EXACT_ON_F16 = new Set(["neg", "abs", "sign", "floor", "ceil", "round", "max", "min", "not"]);

/** Loads a value of dtype `d` from the address on the stack (float16: its bits, widened to f64). */
export function loadValue(g: Gen, d: DType): void {
  if (d === "float16") {
    g.b.mem("i32.load16_u");
    g.callJs("h2d", fromFloat16Bits, ["i32"], ["f64"]);
  } else
    g.b.mem(d === "float32" ? "f32.load" : d === "float64" ? "f64.load" : d === "bool" ? "i32.load8_u" : "i32.load");
}

/** Stores the value on the stack (above its address) as dtype `d`. */
export function storeValue(g: Gen, d: DType): void {
  if (d === "float16") {
    g.callJs("d2h", toFloat16Bits, ["f64"], ["i32"]);
    g.b.mem("i32.store16");
  } else
    g.b.mem(d === "float32" ? "f32.store" : d === "float64" ? "f64.store" : d === "bool" ? "i32.store8" : "i32.store");
}

/** Rounds the f64 on the stack to float16. */
export const round16 = (g: Gen): void => g.callJs("r16", roundFloat16, ["f64"], ["f64"]);

/** A JS scalar function over Wasm values: uint32 operands arrive as signed i32 and are made unsigned. */
function jsOperands(fn: JsFn, k: Kind, arity: number): JsFn {
  if (k !== "u") return fn;
  return arity === 1 ? (a) => fn((a as number) >>> 0) : (a, b) => fn((a as number) >>> 0, (b as number) >>> 0);
}

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
  const withTemps = (types: ("i32" | "f32" | "f64")[], body: (ls: Local[]) => void) => {
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
    if (
      n.dtype === "float16" &&
      (n.op === "cast" ? n.x.dtype !== "bool" && n.x.dtype !== "float16" : n.op === "unary" || n.op === "binary") &&
      !((n.op === "unary" || n.op === "binary") && EXACT_ON_F16.has(n.fn))
    )
      round16(g);
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
        else if (n.dtype === "float64" || n.dtype === "float16") b.f64(roundConst(n.value, n.dtype));
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
        loadValue(g, d);
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
        castOp(b, n.x.dtype, n.dtype);
        return;
      case "unary":
        unaryOp(n.fn, n.x.dtype, () => emit(n.x));
        return;
      case "binary":
        binaryOp(
          n.fn,
          n.x.dtype,
          () => emit(n.x),
          () => emit(n.y),
        );
        return;
    }
  };
  /** `fn` by its JS scalar function, imported: the ops with no Wasm instruction. */
  const viaJs = (tag: string, f: JsFn, d: DType, arity: number, resultD: DType) => {
    const t = valType(d);
    g.callJs(`${tag}:${d}`, jsOperands(f, kindOf(d), arity), new Array(arity).fill(t), [valType(resultD)]);
  };
  const unaryOp = (fn: UnaryOp, d: DType, x: () => void) => {
    const k = kindOf(d);
    if (k === "f") {
      const P = valType(d) as F;
      switch (fn) {
        case "neg":
        case "abs":
        case "sqrt":
        case "floor":
        case "ceil":
          x();
          b.op(`${P}.${fn}` as Op);
          return;
        case "round":
          x();
          b.op(`${P}.nearest`);
          return;
        case "sign":
          // a > 0 ? 1 : a < 0 ? -1 : a (NaN and ±0 pass through).
          x();
          withTemps([P], ([a]) => {
            const one = (v: number) => (P === "f32" ? b.f32(v) : b.f64(v));
            one(1);
            one(-1);
            b.get(a as Local).get(a as Local);
            one(0);
            b.op(`${P}.lt`).op("select");
            b.get(a as Local);
            one(0);
            b.op(`${P}.gt`).op("select");
          });
          return;
        case "not":
          x();
          if (P === "f32") b.f32(0).op("f32.eq").op("f32.convert_i32_u");
          else b.f64(0).op("f64.eq").op("f64.convert_i32_u");
          return;
        case "isfinite":
          x();
          if (P === "f32") b.op("i32.reinterpret_f32").i32(0x7f800000).op("i32.and").i32(0x7f800000).op("i32.ne");
          else
            withTemps(["f64"], ([a]) =>
              b
                .get(a as Local)
                .get(a as Local)
                .op("f64.sub")
                .f64(0)
                .op("f64.eq"),
            );
          return;
      }
      x();
      viaJs(`u:${fn}`, unaryFn(fn, d) as JsFn, d, 1, d);
      return;
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
    const f = unaryFn(fn, d);
    if (!f) throw new Error(`internal: wasm unary ${fn} on ${d}`);
    x();
    viaJs(`u:${fn}`, f, d, 1, d);
  };
  const cmp = (fn: string, d: DType): Op => {
    const k = kindOf(d);
    if (k === "f") return `${valType(d)}.${fn}` as Op;
    if (fn === "eq" || fn === "ne") return `i32.${fn}` as Op;
    return `i32.${fn}_${k === "i" ? "s" : "u"}` as Op;
  };
  const binaryOp = (fn: BinaryOp, d: DType, x: () => void, y: () => void) => {
    const k = kindOf(d);
    const both = () => {
      x();
      y();
    };
    const js = () => {
      both();
      viaJs(`b:${fn}`, binaryFn(fn, d), d, 2, d);
    };
    if (k === "f" && !["add", "sub", "mul", "div", "max", "min", "eq", "ne", "lt", "le", "gt", "ge"].includes(fn)) {
      js();
      return;
    }
    if (k === "b" && ["sub", "div", "rem", "pow", "atan2", "shl", "shr", "shru"].includes(fn)) {
      js();
      return;
    }
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
        b.op(`${k === "f" ? valType(d) : "i32"}.${fn}` as Op);
        return;
      case "div":
        both();
        if (k === "f") b.op(`${valType(d) as F}.div`);
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
      case "pow":
      case "atan2":
        js();
        return;
      case "max":
      case "min":
        both();
        withTemps([valType(d), valType(d)], ([a, c]) => {
          const A = a as Local;
          const C = c as Local;
          // a ⊳ b || a is NaN ? a : b
          b.get(A)
            .get(C)
            .get(A)
            .get(C)
            .op(cmp(fn === "max" ? "gt" : "lt", d));
          if (k === "f")
            b.get(A)
              .get(A)
              .op(`${valType(d) as F}.ne`)
              .op("i32.or");
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
        b.op(cmp(fn, d));
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
    js();
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

function castOp(b: FunctionBuilder, fromD: DType, to: DType): void {
  const from = kindOf(fromD);
  const src = valType(fromD);
  const t = valType(to);
  if (to === "bool") {
    if (src === "f32") b.f32(0).op("f32.ne");
    else if (src === "f64") b.f64(0).op("f64.ne");
    else b.i32(0).op("i32.ne");
    return;
  }
  if (t === src) {
    if (t === "i32" || fromD === to) return;
  }
  if (t === "f32") {
    if (src === "f64") b.op("f32.demote_f64");
    else if (src === "i32") b.op(from === "i" ? "f32.convert_i32_s" : "f32.convert_i32_u");
    return;
  }
  if (t === "f64") {
    if (src === "f32") b.op("f64.promote_f32");
    else if (src === "i32") b.op(from === "i" ? "f64.convert_i32_s" : "f64.convert_i32_u");
    return;
  }
  // to int32 / uint32
  const sign = to === "int32" ? "s" : "u";
  if (src === "f32") b.op(`i32.trunc_sat_f32_${sign}`);
  else if (src === "f64") b.op(`i32.trunc_sat_f64_${sign}`);
}
