/**
 * The one accessor of a `loads` lowering's inputs (DESIGN decision 7): a lowering asks an
 * input for its element at a logical index, `x.at([i, j, …])`, and never sees the view's
 * offset or strides. The accessor turns each index into a kernel `Load`: a dim whose index is
 * a loop variable (plus anything else) walks that loop with the dim's stride, so the codegens
 * keep their pointer-increment loops and the Wasm lanes; what remains of an index is a gather
 * term; a dim of stride 0 (a broadcast) is not read at all. Equal loads are one load.
 */
import type { Aval } from "../core/aval.js";
import { BackendError } from "../errors.js";
import { binary, type Expr, load } from "../ir/expr.js";
import { ExprTable, intKey } from "../ir/hashcons.js";
import type { IntExpr, Load } from "../ir/kernel.js";
import type { LoweringInput } from "./types.js";

/** Where an input's elements are: its view's offset and per-dim strides, in elements. */
export interface InputLayout {
  readonly offset: IntExpr;
  readonly strides: readonly IntExpr[];
}

interface PendingLoad {
  readonly input: number;
  readonly offset: IntExpr;
  readonly affine: ReadonlyMap<number, IntExpr>;
  readonly gather: readonly { readonly index: Expr; readonly stride: IntExpr }[];
}

/** c·s as an IntExpr: exact for a numeric stride, the stride itself for c = 1. */
function scaled(c: number, s: IntExpr): IntExpr | undefined {
  if (c === 1) return s;
  return typeof s === "number" ? c * s : undefined;
}

/** The terms of an int32 sum (`a + b + …`; wrapping adds reassociate exactly). */
function terms(e: Expr, out: Expr[] = []): Expr[] {
  if (e.op === "binary" && e.fn === "add" && e.dtype === "int32") {
    terms(e.x, out);
    terms(e.y, out);
  } else out.push(e);
  return out;
}

/** A loop variable times a constant: `index(k)` or `index(k) · c`. */
function loopTerm(e: Expr): { loop: number; coeff: number } | undefined {
  if (e.op === "index") return { loop: e.loop, coeff: 1 };
  if (e.op === "binary" && e.fn === "mul" && e.dtype === "int32") {
    if (e.x.op === "index" && e.y.op === "const") return { loop: e.x.loop, coeff: e.y.value };
    if (e.y.op === "index" && e.x.op === "const") return { loop: e.y.loop, coeff: e.x.value };
  }
  return undefined;
}

/** The loads of one kernel, collected as its lowering reads its inputs through `at`. */
export class KernelLoads {
  private readonly pending: PendingLoad[] = [];
  private readonly byKey = new Map<string, number>();
  private readonly table = new ExprTable();

  /** The accessor of kernel input `input`. */
  input(
    input: number,
    aval: Aval,
    layout: InputLayout,
    shape: readonly Expr[],
    dims: readonly IntExpr[],
  ): LoweringInput {
    const rank = aval.shape.length;
    if (layout.strides.length !== rank || shape.length !== rank || dims.length !== rank) {
      throw new BackendError(`loads: input ${input} of rank ${rank} was given a layout of another rank`);
    }
    return {
      aval,
      shape,
      dims,
      at: (idx) => {
        if (idx.length !== rank) {
          throw new BackendError(`loads: input ${input} has rank ${rank} but was read at ${idx.length} indices`);
        }
        return this.read(input, aval, layout, idx);
      },
    };
  }

  private read(input: number, aval: Aval, layout: InputLayout, idx: readonly Expr[]): Expr {
    const affine = new Map<number, IntExpr>();
    const gather: { index: Expr; stride: IntExpr }[] = [];
    // Constant index terms fold into a constant offset (jit's kernels: slices, reversals).
    let offset = layout.offset;
    idx.forEach((e, d) => {
      if (e.dtype !== "int32") throw new BackendError(`loads: index ${d} of input ${input} is ${e.dtype}, not int32`);
      const stride = layout.strides[d] as IntExpr;
      if (stride === 0) return;
      const rest: Expr[] = [];
      for (const t of terms(e)) {
        if (t.op === "const" && t.value === 0) continue;
        if (t.op === "const" && typeof offset === "number" && typeof stride === "number") {
          offset += t.value * stride;
          continue;
        }
        const lt = loopTerm(t);
        const s = lt && !affine.has(lt.loop) ? scaled(lt.coeff, stride) : undefined;
        if (lt && s !== undefined) affine.set(lt.loop, s);
        else rest.push(t);
      }
      if (rest.length) {
        const index = this.table.intern(rest.reduce((a, b) => binary("add", a, b)));
        gather.push({ index, stride });
      }
    });
    const loops = [...affine.keys()].sort((a, b) => a - b);
    const key = [
      input,
      intKey(offset),
      loops.map((l) => `${l}:${intKey(affine.get(l) as IntExpr)}`).join(","),
      gather.map((g) => `${this.table.id(g.index)}*${intKey(g.stride)}`).join(","),
    ].join("|");
    let slot = this.byKey.get(key);
    if (slot === undefined) {
      slot = this.pending.length;
      this.pending.push({ input, offset, affine, gather });
      this.byKey.set(key, slot);
    }
    return load(slot, aval.dtype);
  }

  /** The kernel's loads, each with one stride per loop (0 for loops it does not walk). */
  finish(loops: number): Load[] {
    return this.pending.map((p) => {
      for (const l of p.affine.keys()) {
        if (l < 0 || l >= loops) throw new BackendError(`loads: input ${p.input} is read at loop ${l} of ${loops}`);
      }
      const strides = Array.from({ length: loops }, (_, l) => p.affine.get(l) ?? 0);
      return { input: p.input, offset: p.offset, strides, ...(p.gather.length ? { gather: p.gather } : {}) };
    });
  }
}
