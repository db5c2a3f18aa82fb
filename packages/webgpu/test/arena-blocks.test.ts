/**
 * WebGPU's program arena (program-state.ts): intermediates in sub-ranges of a few buffers, no
 * intermediate in the same buffer as one its kernel reads while writing it (WebGPU tracks usage
 * per buffer, so one dispatch may not bind a buffer both read-only and writable), ranges at the
 * storage offset alignment, and no two live intermediates of a buffer sharing a byte.
 */
import type { Executable, ProgramStep } from "@webjax/core";
import { describe, expect, test } from "vitest";
import type { WebGPULimits } from "../src/limits.js";
import { planGpuArena } from "../src/program-state.js";

const limits: WebGPULimits = {
  maxStorageBufferBindingSize: 1 << 27,
  maxStorageBuffersPerShaderStage: 8,
  maxComputeWorkgroupsPerDimension: 65535,
  maxBufferSize: 1 << 28,
  minStorageBufferOffsetAlignment: 256,
};
const exe = { kernel: { label: "k" } } as unknown as Executable;
const alloc = (id: number, size: number): ProgramStep => ({ op: "alloc", id, dtype: "float32", size });
const free = (id: number): ProgramStep => ({ op: "free", id });
const dispatch = (ins: number[], outs: number[]): ProgramStep => ({
  op: "dispatch",
  exe,
  ins,
  outs,
  params: new Int32Array(0),
});

describe("planGpuArena", () => {
  test("a chain: each link in another buffer than the one it reads, two buffers in all, each one link wide", () => {
    // x(0) → 1 → 2 → … → 9, each 1,000 floats, freed after the next is written.
    const steps: ProgramStep[] = [alloc(1, 1000), dispatch([0], [1])];
    for (let i = 2; i < 10; i++) steps.push(alloc(i, 1000), dispatch([i - 1], [i]), free(i - 1));
    steps.push(free(9));
    const arena = planGpuArena(steps, limits);
    const blockOf = (id: number) =>
      arena.placeOf.get(steps.find((s) => s.op === "alloc" && s.id === id) as object)?.block;
    for (let i = 2; i < 10; i++) expect(blockOf(i)).not.toBe(blockOf(i - 1));
    expect(arena.bytes).toEqual([4096, 4096]);
    expect([...arena.ids].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("outputs (never freed) get no place", () => {
    const steps = [alloc(1, 10), dispatch([0], [1]), alloc(2, 10), dispatch([1], [2]), free(1)];
    const arena = planGpuArena(steps, limits);
    expect(arena.placeOf.has(steps[2] as object)).toBe(false);
    expect(arena.placeOf.has(steps[0] as object)).toBe(true);
  });

  test("random programs: no read/write pair shares a buffer, live ranges never overlap, offsets aligned", () => {
    // A seeded generator (mulberry32): 300 programs of up to 30 kernels.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n;
    };
    const int = (n: number) => Math.floor(rand(n));
    for (let run = 0; run < 300; run++) {
      const spec = Array.from({ length: 1 + int(30) }, () => [
        Array.from({ length: int(5) }, () => int(41)),
        1 + int(3),
        int(3001),
      ]) as [number[], number, number][];
      const keepRaw = Array.from({ length: int(4) }, () => int(41));
      {
        let next = 3;
        const steps: ProgramStep[] = [];
        const made: number[] = [];
        const lastUse = new Map<number, number>();
        for (const [reads, nOut, size] of spec) {
          const avail = [0, 1, 2, ...made];
          const ins = [...new Set(reads.map((r) => avail[r % avail.length] as number))];
          const outs: number[] = [];
          for (let j = 0; j < nOut; j++) {
            steps.push(alloc(next, size + 1));
            outs.push(next++);
          }
          steps.push(dispatch(ins, outs));
          for (const id of [...ins, ...outs]) lastUse.set(id, steps.length);
          made.push(...outs);
        }
        const keep = new Set(keepRaw.map((r) => made[r % made.length]));
        // Free each intermediate right after its last use, in that order.
        const frees = made.filter((id) => !keep.has(id)).sort((a, b) => (lastUse.get(a) ?? 0) - (lastUse.get(b) ?? 0));
        const program: ProgramStep[] = [];
        steps.forEach((s, i) => {
          program.push(s);
          for (const id of frees) if (lastUse.get(id) === i + 1) program.push(free(id));
        });
        const arena = planGpuArena(program, limits);
        const place = new Map<number, { block: number; offset: number; bytes: number; start: number; end: number }>();
        program.forEach((s, i) => {
          if (s.op !== "alloc") return;
          const p = arena.placeOf.get(s);
          if (!p) return;
          const end = program.findIndex((t) => t.op === "free" && t.id === s.id);
          place.set(s.id, { ...p, bytes: s.size * 4, start: i, end });
        });
        expect(place.size).toBe(frees.length);
        for (const p of place.values()) {
          expect(p.offset % 256).toBe(0);
          expect(p.offset + p.bytes).toBeLessThanOrEqual(arena.bytes[p.block] as number);
        }
        for (const s of program) {
          if (s.op !== "dispatch") continue;
          for (const o of s.outs)
            for (const i of s.ins) {
              const [po, pi] = [place.get(o), place.get(i)];
              if (po && pi) expect(po.block).not.toBe(pi.block);
            }
        }
        const all = [...place.values()];
        for (const a of all)
          for (const b of all) {
            if (a === b || a.block !== b.block || a.end < b.start || b.end < a.start) continue;
            expect(a.offset + a.bytes <= b.offset || b.offset + b.bytes <= a.offset).toBe(true);
          }
      }
    }
  });
});
