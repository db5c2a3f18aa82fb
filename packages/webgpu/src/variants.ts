/**
 * The kernel variants a jitted program's steps run (issue 23), each compiled through the
 * backend's pipeline cache:
 * - in place: an elementwise kernel or matmul epilogue that reads a donated input through the
 *   output written over it, the input left unbound (Dawn rejects one buffer bound read-only and
 *   writable in one dispatch, and two overlapping writable bindings);
 * - specialised: a program step's params never change, so a matmul — the shape-generic eager
 *   kernel, reading M, N, K and strides from params — gets them as WGSL constants (loop bounds
 *   and bounds checks the compiler can fold). Fused kernels are specialised by jit already.
 */
import type { Executable } from "@webjax/core";
import type { IntExpr, Load, MatmulKernel, MatmulOperand } from "@webjax/core/internal";
import { resolveInt } from "@webjax/core/internal";
import { fusedSource } from "./codegen/fused.js";
import { matmulSource } from "./codegen/matmul.js";
import { chooseTiles, type Tuning } from "./codegen/matmul-tiles.js";
import { type Compiled, GpuExecutable } from "./executables.js";

type Pipeline = (label: string, source: string) => Compiled;

/** The kernel reading each aliased input ([input, output] pairs) through its output; null for reductions, routines and float16 (atomics). */
export function inPlaceVariant(
  exe: Executable,
  pairs: readonly (readonly [number, number])[],
  pipeline: Pipeline,
): Executable | null {
  const k = exe.kernel;
  if (!(exe instanceof GpuExecutable) || (k.kind === "fused" && k.reduce)) return null;
  if (k.kind === "routine" || [...k.inputs, ...k.outputs].includes("float16")) return null;
  const alias = new Map(pairs);
  const source =
    k.kind === "fused" ? fusedSource(k, exe.nParams, false, alias) : matmulSource(k, exe.nParams, alias, exe.tiles);
  return new GpuExecutable(k, pipeline(k.label, source), exe.nParams, null, alias, exe.tiles);
}

/**
 * A matmul with the step's params as constants (keeping an in-place alias), on the tile the
 * tuning picks for its now-known sizes; other kernels as they are.
 */
export function specializedVariant(
  exe: Executable,
  params: Int32Array,
  pipeline: Pipeline,
  tuning: Tuning,
): Executable {
  if (!(exe instanceof GpuExecutable) || exe.kernel.kind !== "matmul") return exe;
  const k = bindMatmulParams(exe.kernel, params);
  const tiles = chooseTiles(k, tuning);
  const source = matmulSource(k, exe.nParams, exe.alias ?? undefined, tiles);
  return new GpuExecutable(k, pipeline(k.label, source), exe.nParams, null, exe.alias, tiles);
}

/** `k` with every integer param resolved from `p`. */
export function bindMatmulParams(k: MatmulKernel, p: ArrayLike<number>): MatmulKernel {
  const r = (e: IntExpr): number => resolveInt(e, p);
  const load = (l: Load): Load => ({
    ...l,
    offset: r(l.offset),
    strides: l.strides.map(r),
    ...(l.gather ? { gather: l.gather.map((g) => ({ index: g.index, stride: r(g.stride) })) } : {}),
  });
  const operand = (o: MatmulOperand): MatmulOperand => ({
    ...o,
    offset: r(o.offset),
    batchStrides: o.batchStrides.map(r),
    rowStride: r(o.rowStride),
    colStride: r(o.colStride),
    ...(o.prologue ? { prologue: { ...o.prologue, loads: o.prologue.loads.map(load) } } : {}),
  });
  return {
    ...k,
    batch: k.batch.map(r),
    m: r(k.m),
    n: r(k.n),
    k: r(k.k),
    lhs: operand(k.lhs),
    rhs: operand(k.rhs),
    ...(k.epilogue ? { epilogue: { ...k.epilogue, loads: k.epilogue.loads.map(load) } } : {}),
  };
}
