/**
 * The plan's dispatch order (core/schedule.ts): a greedy list schedule that keeps every
 * dependency and runs first the ready kernel that frees the most intermediate bytes net of
 * what it allocates. Hand-built programs against hand-derived orders, and random ones against
 * the dependency and placement rules.
 */
import type { Executable, ProgramStep } from "@webjax/core";
import { type PlanStep, schedule } from "@webjax/core/internal";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const exe = (name: string) => ({ kernel: { label: name } }) as unknown as Executable;
const alloc = (id: number, size: number): ProgramStep => ({ op: "alloc", id, dtype: "float32", size });
const free = (id: number): ProgramStep => ({ op: "free", id });
const dispatch = (name: string, ins: number[], outs: number[]): ProgramStep => ({
  op: "dispatch",
  exe: exe(name),
  ins,
  outs,
  params: new Int32Array(0),
});
const names = (steps: readonly PlanStep[]) =>
  steps.flatMap((s) => (s.op === "dispatch" ? [(s.exe.kernel as { label: string }).label] : []));

/** The most bytes of intermediates (allocated and freed in `steps`) live at once. */
function peak(steps: readonly PlanStep[]): number {
  const freed = new Set(steps.flatMap((s) => (s.op === "free" ? [s.id] : [])));
  let live = 0;
  let most = 0;
  const size = new Map<number, number>();
  for (const s of steps) {
    if (s.op === "alloc" && freed.has(s.id)) {
      size.set(s.id, s.size * 4);
      live += s.size * 4;
      most = Math.max(most, live);
    } else if (s.op === "free") live -= size.get(s.id) ?? 0;
  }
  return most;
}

describe("schedule", () => {
  test("a backward pass then its updates becomes each gradient's update right after it: the peak halves", () => {
    // Inputs 0, 1 (params), 2 (data). Gradients g1 (id 3) and g2 (id 4), 1,000 floats each; the
    // updates write outputs 5 and 6.
    const recorded: PlanStep[] = [
      alloc(3, 1000),
      dispatch("g1", [2], [3]),
      alloc(4, 1000),
      dispatch("g2", [2], [4]),
      alloc(5, 1000),
      dispatch("u1", [0, 3], [5]),
      free(3),
      alloc(6, 1000),
      dispatch("u2", [1, 4], [6]),
      free(4),
    ];
    const out = schedule(recorded, [0, 1, 2]);
    expect(names(out)).toEqual(["g1", "u1", "g2", "u2"]);
    expect(peak(recorded)).toBe(8000);
    expect(peak(out)).toBe(4000);
    // Allocations just before their writer, frees just after their last reader.
    expect(out.map((s) => (s.op === "dispatch" ? names([s])[0] : `${s.op} ${"id" in s ? s.id : ""}`))).toEqual([
      "alloc 3",
      "g1",
      "alloc 5",
      "u1",
      "free 3",
      "alloc 4",
      "g2",
      "alloc 6",
      "u2",
      "free 4",
    ]);
  });

  test("a donated input's recorded last reader stays last (it may write over it in place)", () => {
    // u reads donated param 0 (and writes 4); r also reads 0 and writes a small intermediate 3
    // that r2 reads. The greedy order would run u first (it frees the big 5); the donation keeps
    // r before u.
    const recorded: PlanStep[] = [
      alloc(5, 1000),
      dispatch("g", [1], [5]),
      alloc(3, 10),
      dispatch("r", [0], [3]),
      alloc(4, 1000),
      dispatch("u", [0, 5], [4]),
      { op: "donate", input: 0 },
      free(5),
      alloc(6, 10),
      dispatch("r2", [3], [6]),
      free(3),
    ];
    const out = schedule(recorded, [0, 1]);
    const order = names(out);
    expect(order.indexOf("r")).toBeLessThan(order.indexOf("u"));
    const donateAt = out.findIndex((s) => s.op === "donate");
    const uAt = out.findIndex((s) => s.op === "dispatch" && names([s])[0] === "u");
    expect(donateAt).toBeGreaterThan(uAt);
  });

  test("40,000 independent kernels (a wide program) keep their recorded order: the ready set is a heap, not rescanned", () => {
    // Every kernel allocates the same and frees nothing, so all tie and run in recorded order. A
    // schedule that rescanned the ready set per step would be quadratic here (minutes).
    const n = 40_000;
    const steps: PlanStep[] = [];
    for (let i = 0; i < n; i++) steps.push(alloc(3 + i, 16), dispatch(`k${i}`, [i % 3], [3 + i]), free(3 + i));
    const out = schedule(steps, [0, 1, 2]);
    const order = names(out);
    expect(order.length).toBe(n);
    expect(order.every((name, i) => name === `k${i}`)).toBe(true);
    expect(peak(out)).toBe(64);
  });

  test("random programs: every dependency kept, allocs before first use, frees after last, the same steps", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(fc.nat(30), { maxLength: 3 }), fc.integer({ min: 1, max: 2 }), fc.nat(200)), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.array(fc.nat(30), { maxLength: 3 }),
        (spec, keepRaw) => {
          // Ids 0..2 are inputs; each dispatch reads earlier ids and writes fresh ones.
          const nFixed = 3;
          let next = nFixed;
          const recorded: PlanStep[] = [];
          const made: number[] = [];
          spec.forEach(([reads, nOut, size], k) => {
            const avail = [0, 1, 2, ...made];
            const ins = [...new Set(reads.map((r) => avail[r % avail.length] as number))];
            const outs: number[] = [];
            for (let j = 0; j < nOut; j++) {
              recorded.push(alloc(next, size + 1));
              outs.push(next++);
            }
            recorded.push(dispatch(`k${k}`, ins, outs));
            made.push(...outs);
          });
          const keep = new Set(keepRaw.map((r) => made[r % made.length]));
          for (const id of made) if (!keep.has(id)) recorded.push(free(id));
          recorded.push({ op: "donate", input: 1 });
          const out = schedule(recorded, [0, 1, 2]);
          expect(out.length).toBe(recorded.length);
          const pos = new Map<string, number>();
          out.forEach((s, i) => {
            if (s.op === "dispatch") pos.set(names([s])[0] as string, i);
          });
          // A reader after the writer of what it reads.
          const writer = new Map<number, string>();
          for (const s of recorded) {
            if (s.op !== "dispatch") continue;
            const me = names([s])[0] as string;
            for (const i of s.ins) {
              const w = writer.get(i);
              if (w !== undefined) expect(pos.get(w)).toBeLessThan(pos.get(me) as number);
            }
            for (const o of s.outs) writer.set(o, me);
          }
          // Each alloc before every use of its id; each free after every use.
          const uses = (id: number) =>
            out.flatMap((s, i) => (s.op === "dispatch" && (s.ins.includes(id) || s.outs.includes(id)) ? [i] : []));
          out.forEach((s, i) => {
            if (s.op === "alloc") for (const u of uses(s.id)) expect(i).toBeLessThan(u);
            if (s.op === "free") for (const u of uses(s.id)) expect(i).toBeGreaterThan(u);
            if (s.op === "donate") for (const u of uses(s.input)) expect(i).toBeGreaterThan(u);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
