import type { DataArray } from "../../../dtype.js";
import { type ScatterRoutine, scatterPlan, scatterShapes } from "../../../ir/routine.js";
import { isContiguous } from "../../../ir/view.js";
import type { CpuRun } from "../codegen.js";
import { binaryFn } from "../scalar.js";

type Combine = (a: number, b: number) => number;

function combiner(s: ScatterRoutine): Combine | null {
  const { mode, dtype } = s;
  if (mode === "set" || mode === "add") return null; // inlined below
  if (mode === "mul" && (dtype === "int32" || dtype === "uint32")) return Math.imul;
  if (mode === "mul") return (a, b) => a * b;
  return binaryFn(mode, dtype);
}

/** Copies a strided view of `src` into the row-major `dst` (one odometer over all dims but the last). */
function copyView(
  src: DataArray,
  shape: readonly number[],
  view: { offset: number; strides: readonly number[] },
  dst: DataArray,
): void {
  const size = dst.length;
  if (size === 0) return;
  const r = shape.length;
  if (r === 0 || isContiguous({ shape, strides: view.strides, offset: 0 })) {
    dst.set(src.subarray(view.offset, view.offset + size) as never);
    return;
  }
  const inner = shape[r - 1] as number;
  const is = view.strides[r - 1] as number;
  const pos = new Int32Array(r);
  let base = view.offset;
  for (let o = 0; o < size; o += inner) {
    if (is === 0) dst.fill(src[base] as never, o, o + inner);
    else for (let i = 0, q = base; i < inner; i++, q += is) dst[o + i] = src[q] as number;
    for (let d = r - 2; d >= 0; d--) {
      const st = view.strides[d] as number;
      if ((pos[d] as number) + 1 < (shape[d] as number)) {
        pos[d] = (pos[d] as number) + 1;
        base += st;
        break;
      }
      base -= (pos[d] as number) * st;
      pos[d] = 0;
    }
  }
}

/**
 * XLA's scatter in update order (O(operand + updates)): the operand (a view) is copied to the output,
 * then each update window that fits is folded into it element by element. Typed-array stores
 * round floats and wrap integers at every step, as XLA's CPU scatter does.
 */
export function scatterRunner(s: ScatterRoutine): CpuRun {
  const combine = combiner(s);
  return (ins, outs, p) => {
    const shapes = scatterShapes(s, p);
    const plan = scatterPlan(s, shapes);
    const idx = ins[1] as Int32Array;
    const upd = ins[2] as DataArray;
    const out = outs[0] as DataArray;
    copyView(ins[0] as DataArray, shapes.operand, shapes.operandView, out);
    const { batchShape, windowShape, scattered, batching } = plan;
    const nb = batchShape.length;
    const wr = windowShape.length;
    const batchSize = batchShape.reduce((a, b) => a * b, 1);
    const windowSize = windowShape.reduce((a, b) => a * b, 1);
    if (batchSize === 0 || windowSize === 0) return;
    const coord = new Int32Array(nb);
    const wpos = new Int32Array(Math.max(wr - 1, 0));
    const inner = wr === 0 ? 1 : (windowShape[wr - 1] as number);
    const ti = wr === 0 ? 0 : (plan.operandWindowStrides[wr - 1] as number);
    const ui = wr === 0 ? 0 : (plan.updateWindowStrides[wr - 1] as number);
    const ns = scattered.length;
    const scStride = Int32Array.from(scattered, (sc) => sc.stride);
    const scRoom = Int32Array.from(scattered, (sc) => sc.room);
    const scSize = Int32Array.from(scattered, (sc) => sc.size);
    const btDim = Int32Array.from(batching, (bt) => bt.batchDim);
    const btStride = Int32Array.from(batching, (bt) => bt.stride);
    const vs = plan.vectorStride;
    const wrap = s.wrapNegative;
    const set = s.mode === "set";
    let idxBase = 0;
    let updBase = plan.updatesOffset;
    for (let b = 0; b < batchSize; b++) {
      let target = 0;
      let fits = true;
      for (let k = 0; k < ns; k++) {
        let start = idx[idxBase + k * vs] as number;
        if (start < 0 && wrap) start += scSize[k] as number;
        if (start < 0 || start > (scRoom[k] as number)) {
          fits = false;
          break;
        }
        target += start * (scStride[k] as number);
      }
      if (fits) {
        for (let i = 0; i < btDim.length; i++)
          target += (coord[btDim[i] as number] as number) * (btStride[i] as number);
        if (wr > 1) wpos.fill(0);
        let t0 = target;
        let u0 = updBase;
        for (let w = 0; w < windowSize; w += inner) {
          if (combine !== null) {
            for (let i = 0, t = t0, u = u0; i < inner; i++, t += ti, u += ui)
              out[t] = combine(out[t] as number, upd[u] as number);
          } else if (set) {
            for (let i = 0, t = t0, u = u0; i < inner; i++, t += ti, u += ui) out[t] = upd[u] as number;
          } else {
            for (let i = 0, t = t0, u = u0; i < inner; i++, t += ti, u += ui)
              out[t] = (out[t] as number) + (upd[u] as number);
          }
          // Next row of the window (an odometer over all window dims but the last).
          for (let d = wr - 2; d >= 0; d--) {
            const os = plan.operandWindowStrides[d] as number;
            const us = plan.updateWindowStrides[d] as number;
            if ((wpos[d] as number) + 1 < (windowShape[d] as number)) {
              wpos[d] = (wpos[d] as number) + 1;
              t0 += os;
              u0 += us;
              break;
            }
            t0 -= (wpos[d] as number) * os;
            u0 -= (wpos[d] as number) * us;
            wpos[d] = 0;
          }
        }
      }
      // Next batch position.
      for (let d = nb - 1; d >= 0; d--) {
        const is = plan.indexBatchStrides[d] as number;
        const us = plan.updateBatchStrides[d] as number;
        if ((coord[d] as number) + 1 < (batchShape[d] as number)) {
          coord[d] = (coord[d] as number) + 1;
          idxBase += is;
          updBase += us;
          break;
        }
        idxBase -= (coord[d] as number) * is;
        updBase -= (coord[d] as number) * us;
        coord[d] = 0;
      }
    }
  };
}
