/**
 * A program's buffer plan (issue 23), shared by the backends: every buffer a program allocates
 * and frees itself (an intermediate) gets a byte range of the program's arena, ranges being
 * shared by intermediates whose lifetimes do not overlap (a range is free again once the step
 * that frees its occupant has run: the backends run steps in order, so every later kernel runs
 * after the last read). A backend makes the arena's storage at the first run and keeps it, so a
 * call allocates nothing for its intermediates and binds the same storage as the last call; a
 * collected program's storage goes back through `release`. The CPU packs one heap block; WebGPU
 * packs a few buffers (webgpu/program-state.ts).
 */
import type { DType } from "../dtype.js";
import type { BackendProgram, ProgramStep } from "./backend.js";

/**
 * A program's intermediates packed into one block (the CPU's arena): each gets an offset, and
 * two whose lifetimes overlap never share a byte. Greedy by size (largest first, each at the
 * lowest offset free over its lifetime), so the block is close to the program's peak of live
 * intermediates rather than their sum.
 */
export interface PackedArena {
  /** Per alloc step of an intermediate, its byte offset in the block. */
  readonly offsetOf: ReadonlyMap<object, number>;
  /** The block's size in bytes. */
  readonly bytes: number;
  /** The ids of intermediates (their free steps release nothing). */
  readonly ids: ReadonlySet<number>;
}

export function packArena(
  steps: readonly ProgramStep[],
  bytesOf: (dtype: DType, size: number) => number,
  align = 16,
): PackedArena {
  const freeAt = new Map<number, number>();
  steps.forEach((s, i) => {
    if (s.op === "free") freeAt.set(s.id, i);
  });
  const items: { step: object; start: number; end: number; bytes: number }[] = [];
  const ids = new Set<number>();
  steps.forEach((s, i) => {
    if (s.op !== "alloc") return;
    const end = freeAt.get(s.id);
    if (end === undefined || end < i) return;
    ids.add(s.id);
    items.push({ step: s, start: i, end, bytes: Math.ceil(bytesOf(s.dtype, s.size) / align) * align });
  });
  items.sort((a, b) => b.bytes - a.bytes || a.start - b.start);
  const placed: { start: number; end: number; offset: number; bytes: number }[] = [];
  const offsetOf = new Map<object, number>();
  let total = 0;
  for (const it of items) {
    // The ranges taken over its lifetime, by offset; it goes in the first gap that fits.
    const busy = placed.filter((p) => p.start <= it.end && it.start <= p.end).sort((a, b) => a.offset - b.offset);
    let offset = 0;
    for (const p of busy) {
      if (offset + it.bytes <= p.offset) break;
      offset = Math.max(offset, p.offset + p.bytes);
    }
    placed.push({ start: it.start, end: it.end, offset, bytes: it.bytes });
    offsetOf.set(it.step, offset);
    total = Math.max(total, offset + it.bytes);
  }
  return { offsetOf, bytes: total, ids };
}

/**
 * Per program, its arena: planned from its steps at its first run (`plan`), kept while the
 * program lives; when the program is collected, `release` hands the arena's storage back.
 */
export class ProgramArenas<A extends object> {
  private readonly arenas = new WeakMap<BackendProgram, A>();
  private readonly collected: FinalizationRegistry<A>;

  constructor(
    private readonly plan: (steps: readonly ProgramStep[]) => A,
    release: (arena: A) => void,
  ) {
    this.collected = new FinalizationRegistry(release);
  }

  of(program: BackendProgram): A {
    let arena = this.arenas.get(program);
    if (!arena) {
      arena = this.plan(program.steps);
      this.arenas.set(program, arena);
      this.collected.register(program, arena);
    }
    return arena;
  }
}
