/**
 * The matmul's tile shapes and the tuning table that picks one per adapter vendor and problem
 * size. A workgroup of `wx × wy` threads computes a `(wy·rm) × (wx·rn)` tile of C, each thread an
 * `rm × rn` register tile (vec4 accumulators), over K in steps of `bk` through shared memory.
 * The shapes are the usual ones for fp32 GEMM on GPUs (a 128×128 tile of 8×8 per thread for
 * big products on discrete GPUs, 64×64 of 4×4 for mid sizes and integrated GPUs, 32×32 for
 * small ones); every entry is tested against the CPU on SwiftShader, which proves correctness
 * only: the table's speed needs the real GPUs.
 */
import { BackendError } from "@webjax/core";
import type { MatmulKernel } from "@webjax/core/internal";

export interface MatmulTiles {
  /** Threads along N and M. */
  readonly wx: number;
  readonly wy: number;
  /** Rows and columns of C per thread (multiples of 4: vec4 accumulators). */
  readonly rm: number;
  readonly rn: number;
  /** K per shared-memory step. */
  readonly bk: number;
}

export const TILE_32: MatmulTiles = { wx: 8, wy: 8, rm: 4, rn: 4, bk: 32 };
export const TILE_64: MatmulTiles = { wx: 16, wy: 16, rm: 4, rn: 4, bk: 16 };
export const TILE_128: MatmulTiles = { wx: 16, wy: 16, rm: 8, rn: 8, bk: 8 };

export const tileM = (t: MatmulTiles): number => t.wy * t.rm;
export const tileN = (t: MatmulTiles): number => t.wx * t.rn;

/**
 * Per vendor: tile shapes from the largest down, and the workgroups a product must fill with
 * one before it is used (a big tile on a small product leaves most of the GPU idle); `generic`
 * is the tile of a shape-generic (eager) kernel, whose sizes are not known when it compiles.
 */
export interface Tuning {
  readonly tiles: readonly MatmulTiles[];
  readonly minWorkgroups: number;
  readonly generic: MatmulTiles;
}

const DISCRETE: Tuning = { tiles: [TILE_128, TILE_64, TILE_32], minWorkgroups: 128, generic: TILE_64 };
const INTEGRATED: Tuning = { tiles: [TILE_64, TILE_32], minWorkgroups: 32, generic: TILE_32 };

/** Vendors as `GPUAdapterInfo.vendor` names them; anything else (SwiftShader's "google" included) gets `default`. */
export const TUNING: Readonly<Record<string, Tuning>> = {
  nvidia: DISCRETE,
  amd: DISCRETE,
  apple: { tiles: [TILE_128, TILE_64, TILE_32], minWorkgroups: 64, generic: TILE_64 },
  intel: INTEGRATED,
  qualcomm: INTEGRATED,
  arm: INTEGRATED,
  default: { tiles: [TILE_32], minWorkgroups: 1, generic: TILE_32 },
};

/** The tuning of an adapter vendor (case-insensitive; unknown vendors get `default`). */
export function tuningFor(vendor: string): Tuning {
  return TUNING[vendor.toLowerCase()] ?? (TUNING.default as Tuning);
}

/** The tile for matmul `k`: the largest whose grid fills `minWorkgroups`, when M, N and the batch are known. */
export function chooseTiles(k: MatmulKernel, tuning: Tuning): MatmulTiles {
  if (typeof k.m !== "number" || typeof k.n !== "number" || !k.batch.every((b) => typeof b === "number"))
    return tuning.generic;
  const batch = (k.batch as number[]).reduce((a, b) => a * b, 1);
  const m = k.m;
  const n = k.n;
  const fits = tuning.tiles.find(
    (t) => Math.ceil(m / tileM(t)) * Math.ceil(n / tileN(t)) * batch >= tuning.minWorkgroups,
  );
  return fits ?? (tuning.tiles[tuning.tiles.length - 1] as MatmulTiles);
}

/** Workgroup limits every WebGPU device has (the spec's defaults, which webjax does not raise). */
const MAX_INVOCATIONS = 256;
const MAX_WORKGROUP_BYTES = 16384;

/** `tuning` if each of its tiles compiles on any device, else a named error. */
export function checkTuning(tuning: Tuning): Tuning {
  if (tuning.tiles.length === 0) throw new BackendError("webgpu: matmulTuning lists no tiles");
  for (const t of [...tuning.tiles, tuning.generic]) {
    const shape = `{ wx: ${t.wx}, wy: ${t.wy}, rm: ${t.rm}, rn: ${t.rn}, bk: ${t.bk} }`;
    const positive = [t.wx, t.wy, t.rm, t.rn, t.bk].every((v) => Number.isInteger(v) && v > 0);
    if (!positive || t.rm % 4 !== 0 || t.rn % 4 !== 0 || t.bk % 4 !== 0) {
      throw new BackendError(
        `webgpu: matmulTuning tile ${shape}: wx and wy must be positive integers and rm, rn, bk multiples of 4`,
      );
    }
    if (t.wx * t.wy > MAX_INVOCATIONS) {
      throw new BackendError(
        `webgpu: matmulTuning tile ${shape} has ${t.wx * t.wy} threads, past ${MAX_INVOCATIONS} per workgroup`,
      );
    }
    const bytes = 2 * t.bk * (tileM(t) + tileN(t)) * 4;
    if (bytes > MAX_WORKGROUP_BYTES) {
      throw new BackendError(
        `webgpu: matmulTuning tile ${shape} needs ${bytes} bytes of workgroup memory, past ${MAX_WORKGROUP_BYTES}`,
      );
    }
  }
  return tuning;
}
