import { assemble, FunctionBuilder, type Local, type MemoryImport } from "./asm.js";
import { gemmRows, JOBS, type WorkerPool } from "./pool.js";

/**
 * float32 GEMM in Wasm SIMD, in the BLIS layout: B is packed into KC×NR micro-panels of a KC×NC
 * block, A into MR×KC micro-panels of an MC×KC block, and an MR×NR register-blocked microkernel
 * (MR·NR/4 f32x4 accumulators) walks them, the B micro-panel staying in L1 while the A panel
 * streams from L2. Packing reads any row and column strides (transposed and strided operands
 * cost nothing extra) and pads edges with zeros, so the microkernel always runs whole; edge
 * tiles are written back through a scratch tile.
 *
 * Accumulation is float32 in k order within a KC block, then added to C block by block (BLAS's
 * order); with `fma` the microkernel uses `f32x4.relaxed_madd` (one rounding per step where the
 * hardware fuses).
 */

/** The blocking: register tile MR×NR (NR a multiple of 4), and the KC, MC, NC cache blocks. */
export interface GemmShape {
  readonly mr: number;
  readonly nr: number;
  readonly kc: number;
  readonly mc: number;
  readonly nc: number;
}

/**
 * The default blocking. 4×8: 8 accumulators + 2 B vectors + 1 A broadcast stay in the 16 xmm
 * registers V8 allocates from (6×8 spills). KC 256: the A and B micro-panels (4 + 8 KiB) sit in
 * L1; MC 96: an MC×KC panel of A (96 KiB) sits in L2; NC 2048: a KC×NC panel of B (2 MiB) is
 * reused by every MC panel from L3.
 */
export const GEMM: GemmShape = { mr: 4, nr: 8, kc: 256, mc: 96, nc: 2048 };

/** pack_a(src, rs, cs, mc, kb, dst): rows [0, mc) of A (byte strides) as MR-row micro-panels. */
function packA({ mr: MR }: GemmShape): FunctionBuilder {
  const f = new FunctionBuilder("pack_a", ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [src, rs, cs, mc, kb, dst] = f.params as [Local, Local, Local, Local, Local, Local];
  const ig = f.local("i32");
  const rows = f.local("i32");
  const k = f.local("i32");
  const koff = f.local("i32");
  const pr = Array.from({ length: MR }, () => f.local("i32"));
  f.loop(ig, 0, mc, MR, () => {
    // rows = min(MR, mc - ig)
    f.get(mc).get(ig).op("i32.sub").set(rows);
    f.i32(MR).get(rows).get(rows).i32(MR).op("i32.gt_s").op("select").set(rows);
    pr.forEach((p, r) => {
      // p = src + (ig + min(r, rows - 1)) * rs
      f.get(ig).i32(r).get(rows).i32(1).op("i32.sub").i32(r).get(rows).i32(1).op("i32.sub").op("i32.lt_s");
      f.op("select").op("i32.add").get(rs).op("i32.mul").get(src).op("i32.add").set(p);
    });
    f.i32(0).set(koff);
    f.loop(k, 0, kb, 1, () => {
      pr.forEach((p, r) => {
        f.get(dst);
        f.get(p).get(koff).op("i32.add").mem("f32.load");
        f.f32(0).i32(r).get(rows).op("i32.lt_s").op("select");
        f.mem("f32.store", r * 4);
      });
      f.addTo(dst, MR * 4).addTo(koff, cs);
    });
  });
  return f;
}

/** pack_b(src, rs, cs, kb, nc, dst): columns [0, nc) of B (byte strides) as NR-column micro-panels. */
function packB({ nr: NR }: GemmShape): FunctionBuilder {
  const NV = NR / 4;
  const f = new FunctionBuilder("pack_b", ["i32", "i32", "i32", "i32", "i32", "i32"]);
  const [src, rs, cs, kb, nc, dst] = f.params as [Local, Local, Local, Local, Local, Local];
  const jg = f.local("i32");
  const cols = f.local("i32");
  const k = f.local("i32");
  const koff = f.local("i32");
  const base = f.local("i32");
  const pc = Array.from({ length: NR }, () => f.local("i32"));
  f.loop(jg, 0, nc, NR, () => {
    f.get(nc).get(jg).op("i32.sub").set(cols);
    f.i32(NR).get(cols).get(cols).i32(NR).op("i32.gt_s").op("select").set(cols);
    f.get(jg).get(cs).op("i32.mul").get(src).op("i32.add").set(base);
    f.i32(0).set(koff);
    // Rows of whole contiguous micro-panels move as vectors.
    f.get(cs).i32(4).op("i32.eq").get(cols).i32(NR).op("i32.eq").op("i32.and");
    f.ifElse(
      () => {
        f.loop(k, 0, kb, 1, () => {
          for (let v = 0; v < NV; v++) {
            f.get(dst)
              .get(base)
              .get(koff)
              .op("i32.add")
              .mem("v128.load", v * 16)
              .mem("v128.store", v * 16);
          }
          f.addTo(dst, NR * 4).addTo(koff, rs);
        });
      },
      () => {
        pc.forEach((p, j) => {
          f.i32(j).get(cols).i32(1).op("i32.sub").i32(j).get(cols).i32(1).op("i32.sub").op("i32.lt_s");
          f.op("select").get(cs).op("i32.mul").get(base).op("i32.add").set(p);
        });
        f.loop(k, 0, kb, 1, () => {
          pc.forEach((p, j) => {
            f.get(dst);
            f.get(p).get(koff).op("i32.add").mem("f32.load");
            f.f32(0).i32(j).get(cols).op("i32.lt_s").op("select");
            f.mem("f32.store", j * 4);
          });
          f.addTo(dst, NR * 4).addTo(koff, rs);
        });
      },
    );
  });
  return f;
}

/**
 * kernel(ap, bp, c, ldc, mc, nc, kb, accumulate, tile): C[0:mc, 0:nc] (row stride ldc bytes)
 * = (accumulate ? C : 0) + Apanel·Bpanel, tile by tile.
 */
function macroKernel({ mr: MR, nr: NR }: GemmShape, fma: boolean): FunctionBuilder {
  const NV = NR / 4;
  const f = new FunctionBuilder("kernel", ["i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32", "i32"]);
  const [ap, bp, c, ldc, mc, nc, kb, accumulate, tile] = f.params as Local[] as [
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
    Local,
  ];
  const jg = f.local("i32");
  const ig = f.local("i32");
  const k = f.local("i32");
  const a = f.local("i32");
  const b = f.local("i32");
  const cp = f.local("i32");
  const rows = f.local("i32");
  const cols = f.local("i32");
  const r = f.local("i32");
  const j = f.local("i32");
  const addr = f.local("i32");
  const acc = Array.from({ length: MR * NV }, () => f.local("v128"));
  const bv = Array.from({ length: NV }, () => f.local("v128"));
  const av = f.local("v128");
  f.loop(jg, 0, nc, NR, () => {
    f.loop(ig, 0, mc, MR, () => {
      // a = ap + ig·kb·4, b = bp + jg·kb·4
      f.get(ig).get(kb).op("i32.mul").i32(2).op("i32.shl").get(ap).op("i32.add").set(a);
      f.get(jg).get(kb).op("i32.mul").i32(2).op("i32.shl").get(bp).op("i32.add").set(b);
      for (const x of acc) f.v128zero().set(x);
      // One step of k, u steps past the pointers.
      const step = (u: number) => {
        bv.forEach((x, v) => {
          f.get(b)
            .mem("v128.load", u * NR * 4 + v * 16)
            .set(x);
        });
        for (let i = 0; i < MR; i++) {
          f.get(a)
            .mem("v128.load32_splat", u * MR * 4 + i * 4)
            .set(av);
          for (let v = 0; v < NV; v++) {
            const x = acc[i * NV + v] as Local;
            if (fma)
              f.get(av)
                .get(bv[v] as Local)
                .get(x)
                .op("f32x4.relaxed_madd")
                .set(x);
            else
              f.get(x)
                .get(av)
                .get(bv[v] as Local)
                .op("f32x4.mul")
                .op("f32x4.add")
                .set(x);
          }
        }
      };
      // (Unrolling k by 2 or 4 measured slower under V8: 15–17 against 24–31 GFLOP/s.)
      f.loop(k, 0, kb, 1, () => {
        step(0);
        f.addTo(a, MR * 4).addTo(b, NR * 4);
      });
      f.get(mc).get(ig).op("i32.sub").set(rows);
      f.get(nc).get(jg).op("i32.sub").set(cols);
      // cp = c + ig·ldc + jg·4
      f.get(ig).get(ldc).op("i32.mul").get(jg).i32(2).op("i32.shl").op("i32.add").get(c).op("i32.add").set(cp);
      f.get(rows).i32(MR).op("i32.ge_s").get(cols).i32(NR).op("i32.ge_s").op("i32.and");
      f.ifElse(
        () => {
          for (let i = 0; i < MR; i++) {
            for (let v = 0; v < NV; v++) {
              const x = acc[i * NV + v] as Local;
              f.get(cp).i32(i).get(ldc).op("i32.mul").op("i32.add").set(addr);
              f.get(accumulate).ifElse(
                () => {
                  f.get(addr)
                    .get(addr)
                    .mem("v128.load", v * 16)
                    .get(x)
                    .op("f32x4.add")
                    .mem("v128.store", v * 16);
                },
                () => {
                  f.get(addr)
                    .get(x)
                    .mem("v128.store", v * 16);
                },
              );
            }
          }
        },
        () => {
          // An edge tile: spill the accumulators, then copy the rows × cols that exist.
          acc.forEach((x, q) => {
            f.get(tile)
              .get(x)
              .mem("v128.store", q * 16);
          });
          f.get(rows).i32(MR).get(rows).i32(MR).op("i32.lt_s").op("select").set(rows);
          f.get(cols).i32(NR).get(cols).i32(NR).op("i32.lt_s").op("select").set(cols);
          f.loop(r, 0, rows, 1, () => {
            f.loop(j, 0, cols, 1, () => {
              f.get(cp).get(r).get(ldc).op("i32.mul").op("i32.add").get(j).i32(2).op("i32.shl").op("i32.add").set(addr);
              f.get(addr);
              f.get(tile)
                .get(r)
                .i32(NR * 4)
                .op("i32.mul")
                .op("i32.add")
                .get(j)
                .i32(2)
                .op("i32.shl")
                .op("i32.add");
              f.mem("f32.load");
              f.get(addr).mem("f32.load").f32(0).get(accumulate).op("select").op("f32.add");
              f.mem("f32.store");
            });
          });
        },
      );
    });
  });
  return f;
}

export interface GemmExports {
  pack_a(src: number, rs: number, cs: number, mc: number, kb: number, dst: number): void;
  pack_b(src: number, rs: number, cs: number, kb: number, nc: number, dst: number): void;
  kernel(
    ap: number,
    bp: number,
    c: number,
    ldc: number,
    mc: number,
    nc: number,
    kb: number,
    accumulate: number,
    tile: number,
  ): void;
}

/** The GEMM module's bytes (a few KiB: small enough for synchronous compilation in browsers). */
export function gemmModule(fma: boolean, shape: GemmShape = GEMM, memory?: MemoryImport): Uint8Array<ArrayBuffer> {
  return assemble([packA(shape), packB(shape), macroKernel(shape, fma)], memory);
}

const packedA = (g: GemmShape) => Math.ceil(g.mc / g.mr) * g.mr * g.kc * 4;
const packedB = (g: GemmShape) => Math.ceil(g.nc / g.nr) * g.nr * g.kc * 4;
const perThread = (g: GemmShape) => packedA(g) + g.mr * g.nr * 4;

/** Bytes of scratch one GEMM call needs: the packed B block, and per thread a packed A block and an edge tile. */
export const gemmScratch = (g: GemmShape = GEMM, threads = 1) => packedB(g) + threads * perThread(g);

/** A strided float32 matrix in the heap: byte address of element [0, 0], element strides. */
export interface HeapMatrix {
  readonly ptr: number;
  readonly rs: number;
  readonly cs: number;
}

/** Multiply-adds below which a GEMM stays on one thread (waking workers costs more). */
const THREADED_MACS = 1 << 20;

/**
 * C (row-major M×N at byte address c) = A·B, blocked over NC columns and KC depth. Each block is
 * split between the pool's threads: by rows (in MR multiples, each thread walking its rows in MC
 * blocks, B's block packed once before) where the block has more rows than columns, else by
 * columns (in NR multiples, each thread packing its own panels of B and all of A's rows), so a
 * wide, short product (a batch of activations times a weight) packs B in parallel. Every
 * element is computed by one thread in the same order whatever their number and the split.
 * `scratch` is gemmScratch(g, threads) bytes of the heap; K must be positive.
 */
export function gemmF32(
  w: GemmExports,
  a: HeapMatrix,
  b: HeapMatrix,
  c: number,
  M: number,
  N: number,
  K: number,
  scratch: number,
  g: GemmShape = GEMM,
  pool: WorkerPool | null = null,
): void {
  const { kc: KC, mc: MC, nc: NC, mr: MR, nr: NR } = g;
  const bp = scratch;
  const own = (t: number) => bp + packedB(g) + t * perThread(g);
  const threads = pool && M >= 2 * MR && M * N * K >= THREADED_MACS ? pool.active : 1;
  const chunk = Math.ceil(M / threads / MR) * MR;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = Math.min(NC, N - jc);
    const byCols = threads > 1 && nc > M && nc >= threads * NR;
    const colChunk = Math.ceil(nc / threads / NR) * NR;
    for (let pc = 0; pc < K; pc += KC) {
      const kb = Math.min(KC, K - pc);
      const cols = (t: number) => {
        const j0 = t * colChunk;
        const ap = own(t);
        return [
          a.ptr + pc * a.cs * 4,
          a.rs * 4,
          a.cs * 4,
          M,
          kb,
          ap,
          bp + j0 * kb * 4,
          c + (jc + j0) * 4,
          N * 4,
          Math.max(0, Math.min(colChunk, nc - j0)),
          pc > 0 ? 1 : 0,
          ap + packedA(g),
          MC,
          1,
          b.ptr + (pc * b.rs + (jc + j0) * b.cs) * 4,
          b.rs * 4,
          b.cs * 4,
        ];
      };
      if (byCols) {
        const jobs = Array.from({ length: threads - 1 }, (_, i) => cols(i + 1));
        (pool as WorkerPool).run(JOBS.gemmRows, jobs, () => gemmRows(w, cols(0)));
        continue;
      }
      w.pack_b(b.ptr + (pc * b.rs + jc * b.cs) * 4, b.rs * 4, b.cs * 4, kb, nc, bp);
      const rows = (t: number) => {
        const r0 = t * chunk;
        const ap = own(t);
        return [
          a.ptr + (r0 * a.rs + pc * a.cs) * 4,
          a.rs * 4,
          a.cs * 4,
          Math.max(0, Math.min(chunk, M - r0)),
          kb,
          ap,
          bp,
          c + (r0 * N + jc) * 4,
          N * 4,
          nc,
          pc > 0 ? 1 : 0,
          ap + packedA(g),
          MC,
          0, // B is packed already (a worker's control words keep the last job's otherwise)
        ];
      };
      if (threads === 1) gemmRows(w, rows(0));
      else {
        const jobs = Array.from({ length: threads - 1 }, (_, i) => rows(i + 1));
        (pool as WorkerPool).run(JOBS.gemmRows, jobs, () => gemmRows(w, rows(0)));
      }
    }
  }
}
