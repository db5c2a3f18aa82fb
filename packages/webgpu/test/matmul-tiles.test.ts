/**
 * The matmul's tile shapes (codegen/matmul-tiles.ts): every tile of the tuning table computes
 * the same products as a reference loop in this file — over sizes that are not tile multiples,
 * operands read four at a time along either dimension or one at a time, a broadcast batch, an
 * epilogue that reads a vec4 operand, integers — and the table picks tiles by size.
 */
import type { DType } from "@webjax/core";
import type { MatmulKernel, MatmulOperand } from "@webjax/core/internal";
import {
  activeBackend,
  type MatmulTiles,
  TILE_32,
  TILE_64,
  TILE_128,
  TUNING,
  WebGPUBackend,
} from "@webjax/webgpu/node";
import { describe, expect, test } from "vitest";
import { operandLoad } from "../src/codegen/matmul.js";
import { chooseTiles } from "../src/codegen/matmul-tiles.js";

/** A backend on the test device that always uses `tiles`. */
const withTiles = (tiles: MatmulTiles) => {
  const b = activeBackend() as WebGPUBackend;
  return new WebGPUBackend(b.device, b.limits, b.adapterInfo, {
    matmulTuning: { tiles: [tiles], minWorkgroups: 1, generic: tiles },
  });
};

interface Case {
  name: string;
  dtype: DType;
  batch: number[];
  m: number;
  n: number;
  k: number;
  lhs: MatmulOperand;
  rhs: MatmulOperand;
  /** Elements of the A and B buffers. */
  sizes: [number, number];
  /** out = acc + A[flat m·K + n] (an epilogue reading input 0). */
  epilogueReadsA?: boolean;
  loads: [string, string];
}

const op = (offset: number, batchStrides: number[], rowStride: number, colStride: number): MatmulOperand => ({
  offset,
  batchStrides,
  rowStride,
  colStride,
});

const CASES: Case[] = [
  {
    name: "row-major A and B, sizes past the tiles: vec4 along K for A, along N for B",
    ...{ dtype: "float32", batch: [], m: 37, n: 44, k: 52 },
    lhs: op(0, [], 52, 1),
    rhs: op(0, [], 44, 1),
    sizes: [37 * 52, 52 * 44],
    loads: ["vec4-k", "vec4-outer"],
  },
  {
    name: "odd sizes: one element per load",
    ...{ dtype: "float32", batch: [], m: 33, n: 35, k: 29 },
    lhs: op(0, [], 29, 1),
    rhs: op(0, [], 35, 1),
    sizes: [33 * 29, 29 * 35],
    loads: ["scalar-k", "scalar-outer"],
  },
  {
    name: "transposed operands: A stored K×M (vec4 along M), B stored N×K (vec4 along K)",
    ...{ dtype: "float32", batch: [], m: 40, n: 19, k: 36 },
    lhs: op(0, [], 1, 40),
    rhs: op(0, [], 1, 36),
    sizes: [36 * 40, 19 * 36],
    loads: ["vec4-outer", "vec4-k"],
  },
  {
    name: "a batch of 3 against a broadcast B at an offset",
    ...{ dtype: "float32", batch: [3], m: 20, n: 12, k: 16 },
    lhs: op(0, [20 * 16], 16, 1),
    rhs: op(8, [0], 12, 1),
    sizes: [3 * 20 * 16, 8 + 16 * 12],
    loads: ["vec4-k", "vec4-outer"],
  },
  {
    name: "an epilogue reading the vec4 operand A",
    ...{ dtype: "float32", batch: [], m: 24, n: 24, k: 24 },
    lhs: op(0, [], 24, 1),
    rhs: op(0, [], 24, 1),
    sizes: [24 * 24, 24 * 24],
    epilogueReadsA: true,
    loads: ["vec4-k", "vec4-outer"],
  },
  {
    name: "int32, exact",
    ...{ dtype: "int32", batch: [], m: 36, n: 28, k: 20 },
    lhs: op(0, [], 20, 1),
    rhs: op(0, [], 28, 1),
    sizes: [36 * 20, 20 * 28],
    loads: ["vec4-k", "vec4-outer"],
  },
];

const kernelOf = (c: Case): MatmulKernel => ({
  kind: "matmul",
  label: `tiles: ${c.name}`,
  dtype: c.dtype,
  inputs: [c.dtype, c.dtype],
  outputs: [c.dtype],
  batch: c.batch,
  m: c.m,
  n: c.n,
  k: c.k,
  lhs: c.lhs,
  rhs: c.rhs,
  ...(c.epilogueReadsA
    ? {
        epilogue: {
          loads: [{ input: 0, offset: 0, strides: [c.k, 1] }],
          expr: {
            op: "binary",
            fn: "add",
            dtype: c.dtype,
            x: { op: "acc", dtype: c.dtype },
            y: { op: "load", load: 0, dtype: c.dtype },
          },
        } as never,
      }
    : {}),
});

/** C by the definition, in float64 (integers: exact, the products are small). */
function reference(c: Case, a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const nb = c.batch.reduce((x, y) => x * y, 1);
  const out: number[] = [];
  for (let bi = 0; bi < nb; bi++) {
    for (let m = 0; m < c.m; m++) {
      for (let n = 0; n < c.n; n++) {
        let s = 0;
        for (let k = 0; k < c.k; k++) {
          const ai = c.lhs.offset as number;
          const ia =
            ai +
            bi * ((c.lhs.batchStrides[0] as number) ?? 0) +
            m * (c.lhs.rowStride as number) +
            k * (c.lhs.colStride as number);
          const ib =
            (c.rhs.offset as number) +
            bi * ((c.rhs.batchStrides[0] as number) ?? 0) +
            k * (c.rhs.rowStride as number) +
            n * (c.rhs.colStride as number);
          s += (a[ia] as number) * (b[ib] as number);
        }
        out.push(c.epilogueReadsA ? s + (a[m * c.k + n] as number) : s);
      }
    }
  }
  return out;
}

const filled = (dtype: DType, size: number, seed: number) =>
  dtype === "int32"
    ? Int32Array.from({ length: size }, (_, i) => ((i * 7 + seed) % 11) - 5)
    : Float32Array.from({ length: size }, (_, i) => (((i * 37 + seed * 11) % 101) - 50) / 25);

describe("the matmul's tiles", () => {
  test("operands are read four at a time where a dimension is contiguous and sizes are multiples of 4", () => {
    for (const c of CASES) expect([operandLoad(kernelOf(c), "lhs"), operandLoad(kernelOf(c), "rhs")]).toEqual(c.loads);
  });

  for (const [name, tiles] of [
    ["32×32", TILE_32],
    ["64×64", TILE_64],
    ["128×128", TILE_128],
  ] as const) {
    test(`the ${name} tile equals the reference on every case`, async () => {
      const b = withTiles(tiles);
      for (const c of CASES) {
        const k = kernelOf(c);
        const exe = b.compile(k);
        const source = b.kernelSource(k);
        expect(source).toContain(`@workgroup_size(${tiles.wx}, ${tiles.wy})`);
        if (c.loads[0].startsWith("vec4")) expect(source).toContain(`var<storage, read> A: array<vec4<`);
        const a = filled(c.dtype, c.sizes[0], 1);
        const bb = filled(c.dtype, c.sizes[1], 2);
        const total = c.batch.reduce((x, y) => x * y, 1) * c.m * c.n;
        const [sa, sb, out] = [b.alloc(c.dtype, a.length), b.alloc(c.dtype, bb.length), b.alloc(c.dtype, total)];
        b.write(sa, a);
        b.write(sb, bb);
        b.dispatch(exe, [sa, sb], [out], new Int32Array(0));
        const got = Array.from(await b.read(out, c.dtype, 0, total));
        const want = reference(c, a, bb);
        if (c.dtype === "int32") expect(got, c.name).toEqual(want);
        else {
          // Each element sums K float32 products in order: within K·2⁻²³·Σ|aᵢbᵢ| of the float64 value.
          for (let i = 0; i < total; i++)
            expect(Math.abs((got[i] as number) - (want[i] as number)), c.name).toBeLessThan(1e-4 * c.k);
        }
        for (const s of [sa, sb, out]) b.free(s);
      }
    });
  }

  test("the table: big products get big tiles on discrete GPUs, small ones small tiles; unknown vendors 32×32", () => {
    const square = (n: number, batch: number[] = []): MatmulKernel =>
      kernelOf({
        ...(CASES[0] as Case),
        m: n,
        n,
        k: n,
        batch,
        lhs: op(
          0,
          batch.map(() => n * n),
          n,
          1,
        ),
        rhs: op(
          0,
          batch.map(() => n * n),
          n,
          1,
        ),
      });
    const nvidia = TUNING.nvidia as NonNullable<(typeof TUNING)["nvidia"]>;
    expect(chooseTiles(square(4096), nvidia)).toBe(TILE_128);
    expect(chooseTiles(square(1024), nvidia)).toBe(TILE_64); // 8×8 = 64 workgroups of 128² < 128
    expect(chooseTiles(square(1024, [4]), nvidia)).toBe(TILE_128);
    expect(chooseTiles(square(128), nvidia)).toBe(TILE_32);
    expect(chooseTiles(square(4096), TUNING.default as never)).toBe(TILE_32);
    // A shape-generic kernel (eager: sizes in params) takes the row's generic tile.
    expect(chooseTiles({ ...square(64), m: { param: 0 } }, nvidia)).toBe(TILE_64);
  });

  test("a tuning of one's own is checked when the backend is made", () => {
    const b = activeBackend() as WebGPUBackend;
    const make = (tiles: MatmulTiles) =>
      new WebGPUBackend(b.device, b.limits, b.adapterInfo, {
        matmulTuning: { tiles: [tiles], minWorkgroups: 1, generic: tiles },
      });
    expect(() => make({ wx: 16, wy: 32, rm: 4, rn: 4, bk: 8 })).toThrow(/512 threads, past 256 per workgroup/);
    expect(() => make({ wx: 16, wy: 16, rm: 6, rn: 4, bk: 8 })).toThrow(/rm, rn, bk multiples of 4/);
    expect(() => make({ wx: 16, wy: 16, rm: 8, rn: 8, bk: 16 })).toThrow(/32768 bytes of workgroup memory, past 16384/);
  });
});
