/**
 * A program's buffer plan (issue 23), shared by the backends: every buffer a program allocates
 * and frees itself (an intermediate) gets a place in the program's arena, places being shared
 * by intermediates whose lifetimes do not overlap and whose size class matches (a place is free
 * again once the step that frees its occupant has run: the backends run steps in order, so
 * every later kernel runs after the last read). A backend makes the places' storage at the
 * first run and keeps it, so a call allocates nothing for its intermediates and binds the same
 * storage as the last call; a collected program's storage goes back through `release`.
 */
import type { DType } from "../dtype.js";
import type { BackendProgram, ProgramStep } from "./backend.js";

export interface Arena<T> {
  /** Per alloc step of an intermediate, its place. */
  readonly placeOf: ReadonlyMap<object, number>;
  /** Per place, its size class in bytes. */
  readonly classes: readonly number[];
  /** Per place, its storage (made at the first run that reaches it). */
  readonly storage: (T | null)[];
  /** The ids of intermediates (their free steps release nothing: the storage is the arena's). */
  readonly ids: ReadonlySet<number>;
}

/** The arena plan of `steps`; `classOf(dtype, size)` is a buffer's size class in bytes. */
export function planArena<T>(steps: readonly ProgramStep[], classOf: (dtype: DType, size: number) => number): Arena<T> {
  const freed = new Set<number>();
  const allocated = new Set<number>();
  for (const s of steps) {
    if (s.op === "free") freed.add(s.id);
    else if (s.op === "alloc") allocated.add(s.id);
  }
  const placeOf = new Map<object, number>();
  const placeOfId = new Map<number, number>();
  const classes: number[] = [];
  const open = new Map<number, number[]>();
  for (const s of steps) {
    if (s.op === "alloc" && freed.has(s.id)) {
      const cls = classOf(s.dtype, s.size);
      const place = open.get(cls)?.pop() ?? classes.push(cls) - 1;
      placeOf.set(s, place);
      placeOfId.set(s.id, place);
    } else if (s.op === "free" && placeOfId.has(s.id)) {
      const place = placeOfId.get(s.id) as number;
      placeOfId.delete(s.id);
      const cls = classes[place] as number;
      let list = open.get(cls);
      if (!list) {
        list = [];
        open.set(cls, list);
      }
      list.push(place);
    }
  }
  const ids = new Set([...freed].filter((id) => allocated.has(id)));
  return { placeOf, classes, storage: classes.map(() => null), ids };
}

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
