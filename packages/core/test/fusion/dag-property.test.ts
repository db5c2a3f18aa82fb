/**
 * Fusion's rule against an independent count, over random DAGs: elementwise ops (cheap and
 * transcendental), movement ops (transpose, a row broadcast) and reductions (a row sum
 * broadcast back), with fan-out. The jitted, fused program's kernel count equals the count
 * the reference below derives from docs/architecture.md's rule, and its results equal the
 * eager ones: bit for bit on the CPU (each fused op rounds as its own kernel did), within
 * float32 tolerance on WebGPU (its transcendentals and sums are its own).
 */
import { getBackend, type Array as JArray, jit, np } from "@webjax/core";
import { testBackend } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const N = 5;
const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 40);

type Node =
  | { op: "input"; i: number }
  | { op: "tanh" | "neg"; a: number }
  | { op: "add" | "mul" | "max"; a: number; b: number }
  | { op: "transpose"; a: number }
  | { op: "rowsum"; a: number }
  /** The row sums broadcast back over columns (a reshape and a broadcast: movement ops). */
  | { op: "spread"; a: number };

const INPUTS = 3;

/** A DAG: 3 inputs, then ops reading earlier nodes; `spread` reads only a `rowsum`, a `rowsum` is read only by `spread`. */
const dagArb = fc.integer({ min: 3, max: 16 }).chain((n) =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat(), fc.nat()), { minLength: n, maxLength: n }).chain((ops) =>
    fc.array(fc.nat(), { minLength: 1, maxLength: 4 }).map((outs) => {
      const nodes: Node[] = Array.from({ length: INPUTS }, (_, i) => ({ op: "input", i }));
      const square = () => nodes.map((_, k) => k).filter((k) => (nodes[k] as Node).op !== "rowsum");
      for (const [kind, x, y] of ops) {
        const sq = square();
        // The first operand is one of the last few values (chains grow costly), the second any.
        const a = sq[sq.length - 1 - (x % Math.min(3, sq.length))] as number;
        const b = sq[y % sq.length] as number;
        switch (kind) {
          case 0:
            nodes.push({ op: x % 2 ? "tanh" : "neg", a });
            break;
          case 1:
            nodes.push({ op: (["add", "mul", "max"] as const)[y % 3] as "add", a, b });
            break;
          case 2:
            nodes.push({ op: "add", a, b });
            break;
          case 3:
            nodes.push({ op: "transpose", a });
            break;
          default:
            nodes.push({ op: "rowsum", a });
            nodes.push({ op: "spread", a: nodes.length - 1 });
        }
      }
      const sq = square().filter((k) => k >= INPUTS);
      const outputs = [...new Set([sq[sq.length - 1] as number, ...outs.map((o) => sq[o % sq.length] as number)])];
      return { nodes, outputs };
    }),
  ),
);

function evaluate(nodes: readonly Node[], outputs: readonly number[], xs: readonly JArray[]): JArray[] {
  const v: JArray[] = [];
  for (const n of nodes) {
    const get = (k: number) => v[k] as JArray;
    switch (n.op) {
      case "input":
        v.push(xs[n.i] as JArray);
        break;
      case "tanh":
        v.push(np.tanh(get(n.a)));
        break;
      case "neg":
        v.push(np.negative(get(n.a)));
        break;
      case "add":
        v.push(np.add(get(n.a), get(n.b)));
        break;
      case "mul":
        v.push(np.multiply(get(n.a), get(n.b)));
        break;
      case "max":
        v.push(np.maximum(get(n.a), get(n.b)));
        break;
      case "transpose":
        v.push(np.transpose(get(n.a)));
        break;
      case "rowsum":
        v.push(np.sum(get(n.a), 1));
        break;
      case "spread":
        v.push(np.broadcastTo(get(n.a).reshape([N, 1]), [N, N]));
        break;
    }
  }
  return outputs.map((k) => v[k] as JArray);
}

/**
 * The rule, derived independently over the DAG: inputs, reductions and outputs' sources are
 * buffers; movement ops are views or index maps; an elementwise value read by kernels of two or
 * more roots is a buffer when its cone costs more than 2 (tanh 4, the rest 1). The non-input,
 * non-movement buffers are kernel roots, which rule 7 then groups. (A rowsum's only reader is a
 * movement op, so it never fuses into a post expression here.)
 */
function referenceKernels(
  nodes: readonly Node[],
  outputs: readonly number[],
  maxInputs: number,
): { kernels: number; shared: number } {
  let shared = 0;
  const isMove = (k: number) => ["transpose", "spread"].includes((nodes[k] as Node).op);
  const src = (k: number): number => (isMove(k) ? src((nodes[k] as { a: number }).a) : k);
  const buf = new Set<number>();
  nodes.forEach((n, k) => {
    if (n.op === "input" || n.op === "rowsum") buf.add(k);
  });
  for (const o of outputs) buf.add(src(o));
  const readers = nodes.map(() => [] as number[]);
  nodes.forEach((n, k) => {
    const ins = "b" in n ? [n.a, n.b] : "a" in n ? [n.a] : [];
    for (const i of new Set(ins)) readers[i]?.push(k);
  });
  for (let changed = true; changed; ) {
    changed = false;
    const roots = nodes.map(() => new Set<number>());
    for (let k = nodes.length - 1; k >= 0; k--) {
      if (buf.has(src(k))) {
        if (!isMove(k)) roots[k] = new Set([k]);
        continue;
      }
      for (const r of readers[k] as number[]) for (const x of roots[r] as Set<number>) roots[k]?.add(x);
    }
    const cost: number[] = [];
    nodes.forEach((n, k) => {
      const c = (i: number) => (buf.has(src(i)) ? 0 : (cost[i] ?? 0));
      if (buf.has(src(k))) return;
      if (isMove(k)) cost[k] = c((n as { a: number }).a);
      else {
        const ins = "b" in n ? [n.a, n.b] : [(n as { a: number }).a];
        cost[k] = (n.op === "tanh" ? 4 : 1) + ins.reduce((s, i) => s + c(i), 0);
        if ((roots[k]?.size ?? 0) >= 2 && (cost[k] as number) > 2) {
          buf.add(k);
          shared++;
          changed = true;
        }
      }
    });
  }
  return { kernels: multiOutputKernels(nodes, outputs, buf, maxInputs), shared };
}

/**
 * Rule 7 over the buffers the rules above chose, in node order. Stages: each kernel (its root a
 * non-input, non-movement buffer) and each movement node over a buffer (a view). An elementwise
 * kernel joins the first open group whose kernels read one of its operand buffers or whose roots
 * it reads, if the group's buffers (the reads' sources less its roots, plus the roots read by stages outside
 * it or returned) stay within maxInputs + 1; a stage reading an open group's root closes it.
 * Kernels: the groups plus the row sums.
 */
function multiOutputKernels(
  nodes: readonly Node[],
  outputs: readonly number[],
  buf: ReadonlySet<number>,
  maxInputs: number,
): number {
  const isMove = (k: number) => ["transpose", "spread"].includes((nodes[k] as Node).op);
  const src = (k: number): number => (isMove(k) ? src((nodes[k] as { a: number }).a) : k);
  const operands = (n: Node): number[] => ("b" in n ? [n.a, n.b] : "a" in n ? [n.a] : []);
  /** The buffers (as read: views included) kernel k's cone reads. */
  const readsOf = (k: number): Set<number> => {
    const r = new Set<number>();
    const walk = (i: number) => {
      if (buf.has(src(i))) r.add(i);
      else for (const j of operands(nodes[i] as Node)) walk(j);
    };
    for (const j of operands(nodes[k] as Node)) walk(j);
    return r;
  };
  interface Stage {
    reads: Set<number>;
    root: number | null;
    elementwise: boolean;
  }
  const stages: Stage[] = [];
  nodes.forEach((n, k) => {
    if (n.op === "input" || !buf.has(src(k))) return;
    if (isMove(k)) stages.push({ reads: new Set([(n as { a: number }).a]), root: null, elementwise: false });
    else stages.push({ reads: readsOf(k), root: k, elementwise: n.op !== "rowsum" });
  });
  const returned = new Set(outputs.map(src));
  const sources = (st: Stage) => new Set([...st.reads].map(src));
  interface Group {
    members: Stage[];
    reads: Set<number>;
    roots: Set<number>;
  }
  const written = (roots: Set<number>, members: Stage[]) =>
    [...roots].filter((r) => returned.has(r) || stages.some((st) => !members.includes(st) && sources(st).has(r)))
      .length;
  let open: Group[] = [];
  let kernels = 0;
  for (const st of stages) {
    const target = st.elementwise
      ? open.find((g) => {
          if (![...st.reads].some((i) => g.reads.has(i) || g.roots.has(i))) return false;
          const roots = new Set([...g.roots, st.root as number]);
          const reads = [...new Set([...g.reads, ...st.reads].map(src))].filter((i) => !roots.has(i));
          return reads.length + written(roots, [...g.members, st]) <= maxInputs + 1;
        })
      : undefined;
    const srcs = sources(st);
    open = open.filter((g) => g === target || ![...g.roots].some((r) => srcs.has(r)));
    if (target) {
      target.members.push(st);
      for (const i of st.reads) target.reads.add(i);
      target.roots.add(st.root as number);
    } else if (st.root !== null) {
      kernels++;
      if (st.elementwise) open.push({ members: [st], reads: new Set(st.reads), roots: new Set([st.root]) });
    }
  }
  return kernels;
}

describe("fusion: random DAGs", () => {
  test("kernel count equals the rule's, and fused results equal eager", async () => {
    const xs = [0, 1, 2].map((s) =>
      np.array(Array.from({ length: N * N }, (_, i) => Math.sin(i * 1.7 + s) * 0.9)).reshape([N, N]),
    );
    let shared = 0;
    await fc.assert(
      fc.asyncProperty(dagArb, async ({ nodes, outputs }) => {
        const f = jit((a: JArray, b: JArray, c: JArray) => evaluate(nodes, outputs, [a, b, c]));
        const lowered = f.lower(xs[0] as JArray, xs[1] as JArray, xs[2] as JArray);
        const want0 = referenceKernels(nodes, outputs, getBackend().maxKernelInputs ?? Number.POSITIVE_INFINITY);
        expect(lowered.kernels.length, lowered.text()).toBe(want0.kernels);
        shared += want0.shared;
        const got = f(xs[0] as JArray, xs[1] as JArray, xs[2] as JArray);
        const want = evaluate(nodes, outputs, xs);
        for (let k = 0; k < got.length; k++) {
          const g = Array.from((await (got[k] as JArray).data()) as Float32Array);
          const w = Array.from((await (want[k] as JArray).data()) as Float32Array);
          if (testBackend === "cpu") expect(g).toEqual(w);
          else
            g.forEach((x, i) =>
              expect(Math.abs(x - (w[i] as number))).toBeLessThanOrEqual(1e-5 + 1e-5 * Math.abs(w[i] as number)),
            );
        }
        for (const a of [...got, ...want]) if (!xs.includes(a)) a.dispose();
      }),
      // A fixed seed: the coverage check below is then deterministic for a run count.
      { numRuns: RUNS, seed: 22 },
    );
    for (const x of xs) x.dispose();
    // The generator reaches rule 3 (a costly value shared by kernels), not only the easy cases.
    expect(shared).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
