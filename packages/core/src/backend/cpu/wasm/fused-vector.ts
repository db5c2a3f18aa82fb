import { children, type Expr } from "../../../ir/expr.js";
import type { Load } from "../../../ir/kernel.js";
import { kindOf } from "../scalar.js";
import type { Local, Op } from "./asm.js";
import type { Gen } from "./fused-gen.js";

/** How a reduction's vector loop reads: pointers of the innermost reduction loop, gather terms, the accumulator. */
export interface VectorReduction {
  /** The pointer level loads read (the innermost loop's, nl). */
  readonly ptrLevel: number;
  readonly loads: readonly Load[];
  /** Emits a gather index (a scalar i32 that does not depend on the lane loop). */
  readonly scalar: (e: Expr) => void;
  readonly acc?: Local;
}

/**
 * Emits `e` (already expanded, with lane forms) as f32x4/i32x4 lanes, pushing one v128. Lane
 * i is loop `depth` at its current value + i; loads read at that loop's pointers, or for a
 * reduction (`red`) at the innermost loop's plus the scalar gather offset.
 */
export function vectorEmitter(g: Gen, depth: number, broadcast: (j: number) => Local | boolean, red?: VectorReduction) {
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
        let ptr = (g.ptr[n.load] as Local[])[red ? red.ptrLevel : depth + 1] as Local;
        const gather = red?.loads[n.load]?.gather;
        let temp: Local | null = null;
        if (red && gather) {
          // One scalar address for the four lanes, clamped as the scalar loads are (for 16 bytes).
          const at = g.temp("i32");
          temp = at;
          b.get(ptr);
          for (const t of gather) {
            red.scalar(t.index);
            g.int(t.stride);
            b.op("i32.mul").i32(4).op("i32.mul").op("i32.add");
          }
          b.tee(at).get(g.limit).i32(8).op("i32.sub").get(at).get(g.limit).i32(8).op("i32.sub").op("i32.lt_u");
          b.op("select").set(at);
          ptr = at;
        }
        const bc = broadcast(n.load);
        if (typeof bc === "boolean") b.get(ptr).mem(bc ? "v128.load32_splat" : "v128.load");
        else {
          b.get(bc).raw(0x04, 0x7b);
          b.get(ptr).mem("v128.load32_splat");
          b.raw(0x05);
          b.get(ptr).mem("v128.load");
          b.raw(0x0b);
        }
        if (temp) g.release(temp);
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
        if (!red?.acc) throw new Error("internal: acc in a vector loop");
        b.get(red.acc);
        return;
    }
  };
  return { count, emit };
}
