import type { DType } from "../../../dtype.js";
import { acc, binary, type Expr } from "../../../ir/expr.js";
import { type FusedKernel, type IntExpr, outputExprs, resolveInt } from "../../../ir/kernel.js";
import { expandMath } from "../../../ir/math.js";
import { kindOf, reduceInit } from "../scalar.js";
import { assemble, type Local, type MemoryImport, type Op } from "./asm.js";
import { Gen, type JsFn } from "./fused-gen.js";
import { round16, scalarEmitter, storeValue } from "./fused-scalar.js";
import { bytesOf, paramCount, valType, vectorizable, vectorReducible } from "./fused-support.js";
import { vectorEmitter } from "./fused-vector.js";
import { MAX_FUSED_ARGS, type WorkerPool } from "./pool.js";

export { wasmFusedUnsupported } from "./fused-support.js";

/**
 * Fused kernels as Wasm, from the same IR the JS generator reads and with its semantics op for
 * op (every float32 op rounded, float32 sums accumulated in f64 and rounded once, max/min
 * NaN-propagating with JS's choice between equal zeros), so the two agree bit for bit.
 *
 * The function takes (out0…, in0…, p0…, rowBegin, rowEnd): byte addresses of the outputs and
 * inputs in the heap, the dispatch's integer params and the rows of loop 0 it computes. Loops nest as in the JS kernel, each load's pointer advancing
 * by its byte stride per level. An elementwise kernel's innermost loop runs four lanes at a time
 * (f32x4/i32x4) when its expression has lane forms and, at run time, every load's innermost
 * stride is 0 (one element splatted) or 1; a scalar loop does the tail and every other case.
 */

/** The Wasm module of a fused kernel: one exported function `run(out, in…, p…)`. */
export function fusedModule(
  k: FusedKernel,
  memory: MemoryImport,
): { bytes: Uint8Array<ArrayBuffer>; nParams: number; imports: Record<string, JsFn> } {
  // One memo for every output expression, so the sub-expressions they share stay shared.
  const expanded = new Map<Expr, Expr>();
  const outExprs = outputExprs(k).map((e) => expandMath(e, expanded));
  const expr = outExprs[0] as Expr;
  const post = k.post ? expandMath(k.post) : undefined;
  const loads = k.loads.map((l) =>
    l.gather ? { ...l, gather: l.gather.map((t) => ({ ...t, index: expandMath(t.index) })) } : l,
  );
  const nParams = paramCount(k, [...outExprs, ...(post ? [post] : [])]);
  const g = new Gen(k, nParams);
  const b = g.b;
  const nl = k.loops.length;
  const r = k.outRank;
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
  k.outputs.forEach((_, j) => {
    b.get(g.outs[j] as Local).set(g.os[j] as Local);
  });
  if (r > 0) {
    // This call's rows of loop 0: it ends at rowEnd, and each output starts rowBegin rows in.
    b.get(g.rowEnd).set(g.loopSize[0] as Local);
    const rowStart = b.local("i32");
    b.get(g.rowBegin);
    for (let d = 1; d < r; d++) b.get(g.loopSize[d] as Local).op("i32.mul");
    b.set(rowStart);
    k.outputs.forEach((t, j) => {
      const o = g.os[j] as Local;
      b.get(rowStart).i32(bytesOf(t)).op("i32.mul").get(o).op("i32.add").set(o);
    });
  }
  b.raw(0x3f, 0x00).i32(16).op("i32.shl").i32(8).op("i32.sub").set(g.limit);

  const vector = vectorizable(k, outExprs);
  const vecReduce = !vector && vectorReducible(k, expr, post);
  // The loop the lanes run along: an elementwise kernel's innermost, a reduction's innermost output loop.
  const laneLoop = vector ? nl - 1 : r - 1;
  // Per load, whether its lane-loop stride is 0 (splat) — a constant, or a local set at entry.
  const broadcast: (Local | boolean)[] = [];
  let vecOk: Local | null = null;
  if (vector || vecReduce) {
    vecOk = b.local("i32");
    b.i32(1).set(vecOk);
    loads.forEach((l) => {
      const s = l.strides[laneLoop] as IntExpr;
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
  /**
   * Stores `exprs[j]` at output j's pointer and advances it (a node they share is computed
   * once). Several outputs are all computed before any is stored: an output may be written over
   * an input it and its siblings read at the same element (a donated, in-place update).
   */
  const scalarStore = (exprs: readonly Expr[]) => {
    const em = scalarEmitter(g, loads, () => depth + 1);
    for (const e of exprs) em.count(e);
    const temps = exprs.length > 1 ? exprs.map((_, j) => g.temp(valType(k.outputs[j] as DType))) : [];
    exprs.forEach((e, j) => {
      if (temps.length > 0) {
        em.emit(e);
        b.set(temps[j] as Local);
      }
    });
    exprs.forEach((e, j) => {
      const t = k.outputs[j] as DType;
      b.get(g.os[j] as Local);
      if (temps.length > 0) b.get(temps[j] as Local);
      else em.emit(e);
      storeValue(g, t);
      b.addTo(g.os[j] as Local, bytesOf(t));
    });
    for (const l of temps) g.release(l);
  };
  /** i_d = 0 (loop 0 of an output: rowBegin) and each load's pointer at that row. */
  const loopStart = (d: number) => {
    const i = g.loopVar[d] as Local;
    const rows = d === 0 && r > 0;
    if (rows) b.get(g.rowBegin).set(i);
    else b.i32(0).set(i);
    loads.forEach((_, j) => {
      const ptrs = g.ptr[j] as Local[];
      b.get(ptrs[d] as Local);
      if (rows)
        b.get(i)
          .get((g.stride[j] as Local[])[d] as Local)
          .op("i32.mul")
          .op("i32.add");
      b.set(ptrs[d + 1] as Local);
    });
  };
  /** for (i_d = start or continue; i_d < n_d; i_d++, ptr += stride) body(). */
  const loopAt = (d: number, body: () => void, init = true) => {
    const i = g.loopVar[d] as Local;
    if (init) loopStart(d);
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
  /**
   * Loop d four lanes at a time while four remain and every load's lane stride is 0 or 1:
   * `body` stores one v128 at the output pointer; the scalar loop (init = false) does the rest.
   */
  const fourLanes = (d: number, body: () => void) => {
    const i = g.loopVar[d] as Local;
    loopStart(d);
    b.get(vecOk as Local);
    b.ifElse(() => {
      b.raw(0x02, 0x40, 0x03, 0x40);
      b.get(g.loopSize[d] as Local)
        .get(i)
        .op("i32.sub")
        .i32(4)
        .op("i32.lt_s")
        .raw(0x0d, 1);
      body();
      for (const o of g.os) b.addTo(o, 16);
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
  const vectorLoop = (d: number) =>
    fourLanes(d, () => {
      const em = vectorEmitter(g, d, (j) => broadcast[j] as Local | boolean);
      for (const e of outExprs) em.count(e);
      // As in scalarStore: every output is computed before any is stored.
      const temps = outExprs.length > 1 ? outExprs.map(() => g.temp("v128")) : [];
      outExprs.forEach((e, j) => {
        if (temps.length > 0) {
          em.emit(e);
          b.set(temps[j] as Local);
        }
      });
      outExprs.forEach((e, j) => {
        b.get(g.os[j] as Local);
        if (temps.length > 0) b.get(temps[j] as Local);
        else em.emit(e);
        b.mem("v128.store");
      });
      for (const l of temps) g.release(l);
    });

  if (!k.reduce) {
    const nest = (d: number): void => {
      if (d === nl) {
        scalarStore(outExprs);
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
    // Float sums and products accumulate in f64 and round once (float32, float16), as the JS kernels do.
    const wide = kindOf(dt) === "f" && (valueOp === "sum" || valueOp === "prod");
    const accT = wide ? "f64" : valType(dt);
    const accLoc = b.local(accT);
    const accValue = wide && dt === "float32" ? b.local("f32") : wide && dt === "float16" ? b.local("f64") : accLoc;
    g.acc = accValue;
    const best = isArg ? b.local("i32") : null;
    const flat = isArg ? b.local("i32") : null;
    const init = reduceInit(valueOp, dt);
    const outBody = () => {
      if (accT === "f64") b.f64(init);
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
          const F = valType(dt) as "f32" | "f64";
          const gtOp: Op =
            k2 === "f"
              ? k.reduce === "argmax"
                ? `${F}.gt`
                : `${F}.lt`
              : k.reduce === "argmax"
                ? k2 === "i"
                  ? "i32.gt_s"
                  : "i32.gt_u"
                : k2 === "i"
                  ? "i32.lt_s"
                  : "i32.lt_u";
          b.get(v).get(accLoc).op(gtOp);
          if (k2 === "f")
            b.get(v).get(v).op(`${F}.ne`).get(accLoc).get(accLoc).op(`${F}.eq`).op("i32.and").op("i32.or");
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
          if (dt === "float32") b.op("f64.promote_f32");
          b.op(valueOp === "sum" ? "f64.add" : "f64.mul").set(accLoc);
          return;
        }
        const step = binary(valueOp === "sum" ? "add" : valueOp === "prod" ? "mul" : valueOp, acc(dt), expr);
        em.count(step);
        em.emit(step);
        b.set(accLoc);
      };
      inner(r);
      if (dt === "float32" && wide) b.get(accLoc).op("f32.demote_f64").set(accValue);
      if (wide && dt === "float16") {
        b.get(accLoc);
        round16(g);
        b.set(accValue);
      }
      if (isArg && best) {
        b.get(g.o).get(best).mem("i32.store");
        b.addTo(g.o, 4);
      } else scalarStore([post ?? acc(dt)]);
    };
    /** Four outputs at a time along loop r − 1, each lane reducing in the scalar loop's order. */
    const vectorReduceLoop = () => {
      const d = r - 1;
      const accV = b.local("v128");
      const lo = wide ? b.local("v128") : null;
      const hi = wide ? b.local("v128") : null;
      fourLanes(d, () => {
        if (lo && hi) {
          b.f64(init).op("f64x2.splat").tee(lo).set(hi);
        } else if (accT === "f32") b.f32(init).op("f32x4.splat").set(accV);
        else
          b.i32(init | 0)
            .op("i32x4.splat")
            .set(accV);
        const inner = (dd: number): void => {
          if (dd < nl) {
            loopAt(dd, () => inner(dd + 1));
            return;
          }
          const sc = scalarEmitter(g, loads, () => nl);
          for (const l of loads) for (const t of l.gather ?? []) sc.count(t.index);
          const red = { ptrLevel: nl, loads, scalar: (e: Expr) => sc.emit(e), acc: accV };
          const em = vectorEmitter(g, d, (j) => broadcast[j] as Local | boolean, red);
          if (lo && hi) {
            const v = g.temp("v128");
            const f = valueOp === "sum" ? "f64x2.add" : "f64x2.mul";
            em.count(expr);
            em.emit(expr);
            b.set(v);
            b.get(lo).get(v).op("f64x2.promote_low_f32x4").op(f).set(lo);
            b.get(hi).get(v).get(v);
            b.shuffle([8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7]);
            b.op("f64x2.promote_low_f32x4").op(f).set(hi);
            g.release(v);
            return;
          }
          const step = binary(valueOp === "sum" ? "add" : valueOp === "prod" ? "mul" : valueOp, acc(dt), expr);
          em.count(step);
          em.emit(step);
          b.set(accV);
        };
        inner(r);
        if (lo && hi) {
          b.get(lo).op("f32x4.demote_f64x2_zero").get(hi).op("f32x4.demote_f64x2_zero");
          b.shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]).set(accV);
        }
        const fin = post ?? acc(dt);
        const em = vectorEmitter(g, d, (j) => broadcast[j] as Local | boolean, {
          ptrLevel: r,
          loads,
          scalar: () => {
            throw new Error("internal: a gather in a reduction's post");
          },
          acc: accV,
        });
        em.count(fin);
        b.get(g.o);
        em.emit(fin);
        b.mem("v128.store");
      });
    };
    const nest = (d: number): void => {
      if (d === r) {
        outBody();
        return;
      }
      if (d === r - 1 && vecReduce) {
        vectorReduceLoop();
        loopAt(d, () => nest(d + 1), false);
        return;
      }
      loopAt(d, () => nest(d + 1));
    };
    nest(0);
  }
  const imports = Object.fromEntries(g.imports.map((f) => [f.name, f.fn]));
  return { bytes: assemble([b], memory, g.imports), nParams, imports };
}

export type WasmRun = ((
  ins: readonly { byteOffset: number }[],
  outs: readonly { byteOffset: number }[],
  p: Int32Array,
) => void) & {
  readonly wasm: true;
};

/** Work (loop iterations) from which a kernel's rows are split over the worker pool. */
export const PARALLEL_WORK = 1 << 17;

/**
 * Compiles a fused kernel to Wasm against the heap's memory; the runner passes byte addresses
 * and params, allocating nothing. With a pool, a kernel of at least PARALLEL_WORK iterations
 * whose outermost output loop has a row per thread runs its rows split over the threads (the
 * module must import nothing but the memory; the argument block must fit a worker's words).
 */
export function wasmFusedRunner(
  k: FusedKernel,
  mem: WebAssembly.Memory,
  memory: MemoryImport,
  pool: WorkerPool | null = null,
): WasmRun {
  const { bytes, nParams, imports } = fusedModule(k, memory);
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { mem, ...imports } });
  const run = instance.exports.run as (...args: number[]) => void;
  const nIn = k.inputs.length;
  const nOut = k.outputs.length;
  const n = nOut + nIn + nParams + 2;
  const args = new Array<number>(n).fill(0);
  const rowsLoop = k.outRank > 0 ? (k.loops[0] as IntExpr) : 0;
  const split =
    pool !== null && pool.threads > 1 && k.outRank > 0 && Object.keys(imports).length === 0 && n <= MAX_FUSED_ARGS
      ? pool
      : null;
  let moduleId = 0;
  const own = (a: number[]) => run.apply(null, a);
  const f = (ins: readonly { byteOffset: number }[], outs: readonly { byteOffset: number }[], p: Int32Array) => {
    for (let j = 0; j < nOut; j++) args[j] = (outs[j] as { byteOffset: number }).byteOffset;
    for (let i = 0; i < nIn; i++) args[nOut + i] = (ins[i] as { byteOffset: number }).byteOffset;
    for (let i = 0; i < nParams; i++) args[nOut + nIn + i] = p[i] as number;
    const rows = resolveInt(rowsLoop, p);
    args[n - 2] = 0;
    args[n - 1] = rows;
    if (split && rows >= split.threads && work(k, p) >= PARALLEL_WORK && split.active > 1) {
      if (moduleId === 0) moduleId = split.addModule(bytes, f);
      split.runRows(moduleId, args, rows, own);
      return;
    }
    run.apply(null, args);
  };
  return Object.assign(f, { wasm: true as const });
}

function work(k: FusedKernel, p: Int32Array): number {
  let w = 1;
  for (const l of k.loops) w *= resolveInt(l, p);
  return w;
}
