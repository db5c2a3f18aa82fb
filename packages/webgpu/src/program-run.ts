/**
 * Running a jitted program's steps on WebGPU (the backend's `run`): intermediates placed in the
 * program's arena blocks (program-state.ts), other allocations from the pool, loop and host
 * steps through the core's runners, dispatches with their step's kept param buffers and bind
 * groups — all into the current command buffer.
 */
import type { Backend, BackendProgram, DType, Executable, Slot } from "@webjax/core";
import { runLoop } from "@webjax/core/internal";
import { bytesOf, type GpuCounters, GpuSlot } from "./executables.js";
import type { GpuArena, StepCaches } from "./program-state.js";

/** What the steps need of the backend. */
export interface ProgramHost extends Backend {
  readonly counters: GpuCounters;
  readonly steps: StepCaches;
  /** A buffer of exactly `bytes` for an arena block, made in the error scope of `slot`. */
  arenaBuffer(slot: GpuSlot, bytes: number): GPUBuffer;
  dispatch(exe: Executable, inputs: readonly Slot[], outputs: readonly Slot[], params: Int32Array): void;
}

/** An intermediate's slot in its arena block (the block's buffer made at its first use). */
function arenaSlot(
  host: ProgramHost,
  arena: GpuArena,
  place: { block: number; offset: number },
  dtype: DType,
  size: number,
): GpuSlot {
  const bytes = bytesOf(dtype, size);
  const slot = new GpuSlot(dtype, size, bytes, arena.buffers[place.block] ?? null, place.offset);
  if (!slot.buffer) {
    const b = host.arenaBuffer(slot, arena.bytes[place.block] as number);
    slot.buffer = arena.buffers[place.block] = b;
    host.counters.arenaBuffers++;
    host.counters.arenaBytes += b.size;
  }
  host.counters.arenaSlots++;
  host.counters.arenaSlotBytes += bytes;
  return slot;
}

/** Runs `program`'s steps over `slots` (its arena `arena`). */
export function runProgramSteps(host: ProgramHost, arena: GpuArena, program: BackendProgram, slots: Slot[]): void {
  for (const s of program.steps) {
    if (s.op === "alloc") {
      const place = arena.placeOf.get(s);
      slots[s.id] = place === undefined ? host.alloc(s.dtype, s.size) : arenaSlot(host, arena, place, s.dtype, s.size);
    } else if (s.op === "free") {
      // An intermediate's buffer stays the arena's; the slot is only marked freed.
      if (arena.ids.has(s.id)) (slots[s.id] as GpuSlot).buffer = null;
      else host.free(slots[s.id] as Slot);
    } else if (s.op === "loop") runLoop(host, s, slots);
    else if (s.op === "host") s.run(s.ins.map((i) => slots[i] as Slot));
    else {
      // Each dispatch step keeps its param buffers and recent bind groups (program-state.ts).
      host.steps.enter(s);
      try {
        host.dispatch(
          s.exe,
          s.ins.map((i) => slots[i] as Slot),
          s.outs.map((i) => slots[i] as Slot),
          s.params,
        );
      } finally {
        host.steps.leave();
      }
    }
  }
}
