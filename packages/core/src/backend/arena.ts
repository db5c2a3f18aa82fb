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

/** Programs' arenas, planned at each program's first run; a collected program's storage goes to `release`. */
export class Arenas<T> {
  private readonly arenas = new WeakMap<BackendProgram, Arena<T>>();
  private readonly collected: FinalizationRegistry<(T | null)[]>;

  constructor(
    private readonly classOf: (dtype: DType, size: number) => number,
    release: (storage: T) => void,
  ) {
    this.collected = new FinalizationRegistry((storage) => {
      for (const b of storage) if (b !== null) release(b);
    });
  }

  of(program: BackendProgram): Arena<T> {
    let arena = this.arenas.get(program);
    if (!arena) {
      arena = planArena<T>(program.steps, this.classOf);
      this.arenas.set(program, arena);
      this.collected.register(program, arena.storage);
    }
    return arena;
  }
}
