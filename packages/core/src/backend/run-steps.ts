import type { Backend, BackendProgram, Slot } from "./backend.js";
import { runLoop } from "./loop.js";

/** Runs a program's steps through the backend's alloc, dispatch and free, in order. */
export function runSteps(backend: Backend, program: BackendProgram, slots: Slot[]): void {
  for (const s of program.steps) {
    switch (s.op) {
      case "alloc":
        slots[s.id] = backend.alloc(s.dtype, s.size);
        break;
      case "dispatch":
        backend.dispatch(
          s.exe,
          s.ins.map((i) => slots[i] as Slot),
          s.outs.map((i) => slots[i] as Slot),
          s.params,
        );
        break;
      case "free":
        backend.free(slots[s.id] as Slot);
        break;
      case "loop":
        runLoop(backend, s, slots);
        break;
      case "host":
        s.run(s.ins.map((i) => slots[i] as Slot));
        break;
    }
  }
}
