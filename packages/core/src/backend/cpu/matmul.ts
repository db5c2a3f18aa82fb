import { allocHost, type DataArray, type DType, isFloat } from "../../dtype.js";
import { float16ToFloat32 } from "../../float16.js";
import { type FusedKernel, type Load, type MatmulKernel, type MatmulOperand, resolveInt } from "../../ir/kernel.js";
import type { CpuRun } from "./codegen.js";
import type { Heap } from "./heap.js";
import { compileExpr, type InterpState, interpretFused, nextGeneration } from "./interpret.js";
import { contiguousOperand, prologueKernel } from "./matmul-prologue.js";
import { storeFn } from "./scalar.js";
import { compiledEpilogue, type EpilogueRun } from "./wasm/epilogue.js";
import { GEMM, type GemmExports, gemmF32, gemmScratch } from "./wasm/gemm.js";
import type { WorkerPool } from "./wasm/pool.js";

/** Cache blocking: a KC×NC panel of B and an MC×KC panel of A stay in cache while reused. */
const KC = 128;
const NC = 256;
const MC = 64;

interface Strided {
  data: DataArray;
  offset: number;
  rs: number;
  cs: number;
}

/**
 * C = A·B for one batch, float dtypes: packed panels and a 4×4 register tile of accumulators.
 * C is written as its own dtype after each KC block (float32 accumulation, as BLAS does).
 */
function gemmFloat(a: Strided, b: Strided, c: DataArray, cOff: number, M: number, N: number, K: number): void {
  c.fill(0, cOff, cOff + M * N);
  const bp = new Float64Array(KC * (NC + 3));
  const ap = new Float64Array(KC * (MC + 3));
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const ncp = (nc + 3) & ~3;
    for (let kc = 0; kc < K; kc += KC) {
      const kb = Math.min(KC, K - kc);
      // Pack B[kc:kc+kb, jc:jc+nc] as column-quads: bp[(j/4)·kb·4 + k·4 + (j%4)].
      for (let jq = 0; jq < ncp; jq += 4) {
        const base = jq * kb;
        for (let k = 0; k < kb; k++) {
          const row = b.offset + (kc + k) * b.rs;
          for (let t = 0; t < 4; t++) {
            const j = jq + t;
            bp[base + k * 4 + t] = j < nc ? (b.data[row + (jc + j) * b.cs] as number) : 0;
          }
        }
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = Math.min(MC, M - ic);
        const mcp = (mc + 3) & ~3;
        // Pack A[ic:ic+mc, kc:kc+kb] as row-quads: ap[(i/4)·kb·4 + k·4 + (i%4)].
        for (let iq = 0; iq < mcp; iq += 4) {
          const base = iq * kb;
          for (let t = 0; t < 4; t++) {
            const i = iq + t;
            const row = a.offset + (ic + i) * a.rs + kc * a.cs;
            for (let k = 0; k < kb; k++) ap[base + k * 4 + t] = i < mc ? (a.data[row + k * a.cs] as number) : 0;
          }
        }
        for (let iq = 0; iq < mcp; iq += 4) {
          const abase = iq * kb;
          for (let jq = 0; jq < ncp; jq += 4) {
            const bbase = jq * kb;
            let c00 = 0,
              c01 = 0,
              c02 = 0,
              c03 = 0,
              c10 = 0,
              c11 = 0,
              c12 = 0,
              c13 = 0;
            let c20 = 0,
              c21 = 0,
              c22 = 0,
              c23 = 0,
              c30 = 0,
              c31 = 0,
              c32 = 0,
              c33 = 0;
            for (let k = 0; k < kb; k++) {
              const ak = abase + k * 4;
              const bk = bbase + k * 4;
              const a0 = ap[ak] as number,
                a1 = ap[ak + 1] as number,
                a2 = ap[ak + 2] as number,
                a3 = ap[ak + 3] as number;
              const b0 = bp[bk] as number,
                b1 = bp[bk + 1] as number,
                b2 = bp[bk + 2] as number,
                b3 = bp[bk + 3] as number;
              c00 += a0 * b0;
              c01 += a0 * b1;
              c02 += a0 * b2;
              c03 += a0 * b3;
              c10 += a1 * b0;
              c11 += a1 * b1;
              c12 += a1 * b2;
              c13 += a1 * b3;
              c20 += a2 * b0;
              c21 += a2 * b1;
              c22 += a2 * b2;
              c23 += a2 * b3;
              c30 += a3 * b0;
              c31 += a3 * b1;
              c32 += a3 * b2;
              c33 += a3 * b3;
            }
            const tile = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
            const rows = Math.min(4, mc - iq);
            const cols = Math.min(4, nc - jq);
            for (let t = 0; t < rows; t++) {
              const crow = cOff + (ic + iq + t) * N + jc + jq;
              for (let u = 0; u < cols; u++) c[crow + u] = (c[crow + u] as number) + (tile[t * 4 + u] as number);
            }
          }
        }
      }
    }
  }
}

/** Integer matmul with wrap-around (int32 / uint32). */
function gemmInt(
  a: Strided,
  b: Strided,
  c: DataArray,
  cOff: number,
  M: number,
  N: number,
  K: number,
  unsigned: boolean,
): void {
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        s =
          (s +
            Math.imul(
              a.data[a.offset + i * a.rs + k * a.cs] as number,
              b.data[b.offset + k * b.rs + j * b.cs] as number,
            )) |
          0;
      }
      c[cOff + i * N + j] = unsigned ? s >>> 0 : s;
    }
  }
}

/** Each batch's element offsets into A and B, in row-major batch order. */
function batchOffsets(
  batch: readonly number[],
  A: { offset: number; bs: readonly number[] },
  B: { offset: number; bs: readonly number[] },
): [number, number][] {
  const out: [number, number][] = [];
  const idx = new Array<number>(batch.length).fill(0);
  const nb = batch.reduce((x, y) => x * y, 1);
  for (let t = 0; t < nb; t++) {
    let a = A.offset;
    let b = B.offset;
    idx.forEach((v, d) => {
      a += v * (A.bs[d] as number);
      b += v * (B.bs[d] as number);
    });
    out.push([a, b]);
    for (let d = batch.length - 1; d >= 0; d--) {
      if ((idx[d] as number) + 1 < (batch[d] as number)) {
        idx[d] = (idx[d] as number) + 1;
        break;
      }
      idx[d] = 0;
    }
  }
  return out;
}

/** A compiled prologue: it writes its operand contiguously, row- or (`colMajor`) column-major. */
interface Prologue {
  readonly run: CpuRun;
  readonly colMajor: boolean;
}

/** The Wasm kernels of one CPU backend instance (compiled against its heap). */
export interface WasmKernels {
  readonly heap: Heap;
  readonly gemm: GemmExports;
  /** Whether the microkernel uses f32x4.relaxed_madd. */
  readonly fma: boolean;
  /** Worker threads sharing the heap (null: one thread). */
  readonly pool: WorkerPool | null;
}

/**
 * Builds the CPU runner of a (batched) matmul kernel, with its epilogue if any: compiled to
 * Wasm beside the Wasm GEMM, else mapped in JS (`fallback` hears why when Wasm could not take it).
 */
export function matmulRunner(
  k: MatmulKernel,
  wasm: WasmKernels | null,
  fallback: (why: string) => void = () => {},
  fused: (f: FusedKernel) => CpuRun = interpretFused,
): CpuRun {
  const compiledPrologue = (side: "lhs" | "rhs") => {
    if (!k[side].prologue) return null;
    const { kernel, colMajor } = prologueKernel(k, side);
    return { run: fused(kernel), colMajor };
  };
  const pro = { lhs: compiledPrologue("lhs"), rhs: compiledPrologue("rhs") };
  const epilogue = k.epilogue;
  const epiExpr = epilogue ? compileExpr(epilogue.expr, epilogue.loads, k.inputs) : undefined;
  const float = isFloat(k.dtype);
  const half = k.dtype === "float16";
  const store = storeFn(k.outputs[0]) ?? ((v: number) => v);
  const f32 = (side: 0 | 1) => k.inputs[side] === "float32" || (side === 0 ? k.lhs : k.rhs).prologue !== undefined;
  if (wasm && k.dtype === "float32" && f32(0) && f32(1)) {
    return Object.assign(
      wasmRunner(
        k,
        wasm,
        pro,
        epilogue && epiExpr ? { loads: epilogue.loads, expr: epiExpr } : null,
        epilogue ? compiledEpilogue(k, wasm.heap, wasm.pool, fallback) : null,
        store,
      ),
      {
        wasm: true,
      },
    );
  }
  return (ins, outs, p) => {
    const out = outs[0] as DataArray;
    const batch = k.batch.map((e) => resolveInt(e, p));
    const M = resolveInt(k.m, p);
    const N = resolveInt(k.n, p);
    const K = resolveInt(k.k, p);
    const nb = batch.reduce((x, y) => x * y, 1);
    // float16 operands are read as float32 values; the product is rounded once, when stored.
    const target = epilogue || half ? allocHost(half ? "float32" : k.dtype, nb * M * N) : out;
    const operand = (o: MatmulOperand, data: DataArray) => ({
      data,
      offset: resolveInt(o.offset, p),
      bs: o.batchStrides.map((e) => resolveInt(e, p)),
      rs: resolveInt(o.rowStride, p),
      cs: resolveInt(o.colStride, p),
    });
    const values = (d: DataArray) => (half ? float16ToFloat32(d as Uint16Array) : d);
    // A prologue operand is computed first, contiguously, in the matmul's dtype.
    const computed = (o: MatmulOperand, pr: Prologue | null, rows: number, cols: number, i: number) => {
      if (!pr) return operand(o, values(ins[i] as DataArray));
      const c = contiguousOperand(batch, rows, cols, pr.colMajor);
      const data = allocHost(k.dtype, c.size);
      pr.run(ins, [data], p);
      return { data: values(data), offset: 0, bs: c.bs, rs: c.rs, cs: c.cs };
    };
    const A = computed(k.lhs, pro.lhs, M, K, 0);
    const B = computed(k.rhs, pro.rhs, K, N, 1);
    batchOffsets(batch, A, B).forEach(([aOff, bOff], t) => {
      const a = { data: A.data, offset: aOff, rs: A.rs, cs: A.cs };
      const b = { data: B.data, offset: bOff, rs: B.rs, cs: B.cs };
      if (float) gemmFloat(a, b, target, t * M * N, M, N, K);
      else gemmInt(a, b, target, t * M * N, M, N, K, k.dtype === "uint32");
    });
    if (epilogue && epiExpr) applyEpilogue(epilogue.loads, epiExpr, ins, target, out, [...batch, M, N], p, store);
    else if (half) for (let i = 0; i < target.length; i++) out[i] = store(target[i] as number);
  };
}

/**
 * float32 matmul on the Wasm GEMM: operands are read in place in the heap (their strides go to
 * the packing), batches run one after another with no allocation beyond one scratch block
 * (and, with an epilogue, one accumulator block, which the epilogue then maps into the output).
 */
function wasmRunner(
  k: MatmulKernel,
  wasm: WasmKernels,
  pro: { readonly lhs: Prologue | null; readonly rhs: Prologue | null },
  epi: { loads: readonly Load[]; expr: (s: InterpState) => number } | null,
  compiled: ((nParams: number) => EpilogueRun | null) | null,
  store: (v: number) => number,
): CpuRun {
  const { heap, gemm, pool } = wasm;
  return (ins, outs, p) => {
    const batch = k.batch.map((e) => resolveInt(e, p));
    const M = resolveInt(k.m, p);
    const N = resolveInt(k.n, p);
    const K = resolveInt(k.k, p);
    const nb = batch.reduce((x, y) => x * y, 1);
    if (nb * M * N === 0) return;
    // Byte addresses first: an alloc below may grow the heap, which detaches every view.
    const where = [...ins, ...outs].map((x) => [x.byteOffset, x.length] as const);
    const operand = (o: MatmulOperand, i: number) => ({
      base: (where[i] as readonly [number, number])[0],
      offset: resolveInt(o.offset, p),
      bs: o.batchStrides.map((e) => resolveInt(e, p)),
      rs: resolveInt(o.rowStride, p),
      cs: resolveInt(o.colStride, p),
    });
    const outAt = (where[ins.length] as readonly [number, number])[0];
    // Prologue operands get a contiguous scratch block each, filled before the GEMM.
    const proBlock = (pr: Prologue | null, rows: number, cols: number) => {
      if (!pr) return null;
      const c = contiguousOperand(batch, rows, cols, pr.colMajor);
      return { ...c, base: heap.alloc(c.size * 4) };
    };
    const pa = proBlock(pro.lhs, M, K);
    const pb = proBlock(pro.rhs, K, N);
    const A = pa ?? operand(k.lhs, 0);
    const B = pb ?? operand(k.rhs, 1);
    const scratch = heap.alloc(gemmScratch(GEMM, pool?.threads ?? 1));
    const acc = epi ? heap.alloc(nb * M * N * 4) : outAt;
    try {
      if (pa || pb) {
        // Fresh views: an alloc above may have grown (and so detached) a non-shared heap.
        const views = k.inputs.map((d, i) => {
          const [at, n] = where[i] as readonly [number, number];
          return heap.view(d, at, n);
        });
        if (pa) pro.lhs?.run(views, [heap.view("float32", pa.base, pa.size)], p);
        if (pb) pro.rhs?.run(views, [heap.view("float32", pb.base, pb.size)], p);
      }
      batchOffsets(batch, A, B).forEach(([aOff, bOff], t) => {
        const c = acc + t * M * N * 4;
        if (K === 0) heap.view("float32", c, M * N).fill(0);
        else {
          gemmF32(
            gemm,
            { ptr: A.base + aOff * 4, rs: A.rs, cs: A.cs },
            { ptr: B.base + bOff * 4, rs: B.rs, cs: B.cs },
            c,
            M,
            N,
            K,
            scratch,
            GEMM,
            pool,
          );
        }
      });
      const run = compiled?.(p.length);
      // Addresses from `where`: an alloc above may have grown (and so detached) a non-shared heap.
      if (run) run(acc, where, p, batch, M * N);
      else if (epi) {
        const fresh = (i: number, d: DType) => {
          const [at, n] = where[i] as readonly [number, number];
          return heap.view(d, at, n);
        };
        const views = k.inputs.map((d, i) => fresh(i, d));
        const out = fresh(ins.length, k.outputs[0]);
        applyEpilogue(
          epi.loads,
          epi.expr,
          views,
          heap.view("float32", acc, nb * M * N),
          out,
          [...batch, M, N],
          p,
          store,
        );
      }
    } finally {
      heap.free(scratch);
      if (epi) heap.free(acc);
      if (pa) heap.free(pa.base);
      if (pb) heap.free(pb.base);
    }
  };
}

function applyEpilogue(
  loads: readonly Load[],
  expr: (s: InterpState) => number,
  ins: readonly DataArray[],
  accs: DataArray,
  out: DataArray,
  dims: number[],
  p: Int32Array,
  store: (v: number) => number,
): void {
  const offsets = loads.map((l) => resolveInt(l.offset, p));
  const strides = loads.map((l) => l.strides.map((e) => resolveInt(e, p)));
  const s: InterpState = {
    ins,
    ptr: new Float64Array(loads.length),
    idx: new Float64Array(dims.length),
    acc: 0,
    p,
    gen: nextGeneration(),
  };
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < accs.length; o++) {
    for (let j = 0; j < loads.length; j++) {
      let q = offsets[j] as number;
      idx.forEach((v, d) => {
        q += v * ((strides[j] as number[])[d] as number);
      });
      s.ptr[j] = q;
    }
    idx.forEach((v, d) => {
      s.idx[d] = v;
    });
    s.acc = accs[o] as number;
    s.gen = nextGeneration();
    out[o] = store(expr(s));
    for (let d = dims.length - 1; d >= 0; d--) {
      if ((idx[d] as number) + 1 < (dims[d] as number)) {
        idx[d] = (idx[d] as number) + 1;
        break;
      }
      idx[d] = 0;
    }
  }
}
