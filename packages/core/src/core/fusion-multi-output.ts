/** Fusion's rule 7 (core/fusion.ts): elementwise kernels of one shape merged into multi-output kernels. */
import { type FusionStage, inlinableLiteral, type KernelStage } from "./fusion.js";
import { type Atom, type Eqn, Literal, Var } from "./jaxpr.js";

/**
 * Rule 7, multi-output fusion: over the stages in order, an elementwise kernel whose root is not
 * float16 joins an open group of elementwise kernels of the same root shape when it reads a
 * buffer a member reads (siblings: an Adam leaf's new mu and nu both read the gradient) or a
 * member's root (the new param reads the new mu: computed inline). A stage that reads a root of
 * an open group otherwise closes it, and a kernel joins only while the group's buffers — reads
 * other than its own roots, plus the roots it writes — stay within `maxInputs + 1`. A group runs
 * as one kernel at its last member's place, writing the roots that are returned or read outside
 * it.
 */
export function multiOutput(
  stages: readonly FusionStage[],
  ctx: {
    eqns: readonly Eqn[];
    outputs: ReadonlySet<Var>;
    source: (a: Atom) => Atom;
    maxInputs: number;
  },
): FusionStage[] {
  const { eqns, outputs, source, maxInputs } = ctx;
  interface Group {
    members: KernelStage[];
    covers: Set<number>;
    reads: Set<Var>;
    roots: Set<Var>;
    /** Where the group sits in `out` (moved to the end as members join). */
    at: number;
  }
  const out: (FusionStage | Group | null)[] = [];
  const isGroup = (x: FusionStage | Group): x is Group => "members" in x;
  let open: Group[] = [];
  const literalBuffers = (covers: Iterable<number>): number => {
    const ls = new Set<Literal>();
    for (const j of covers)
      for (const a of (eqns[j] as Eqn).inputs) if (a instanceof Literal && !inlinableLiteral(a)) ls.add(a);
    return ls.size;
  };
  const readsOfStage = (st: FusionStage): Atom[] =>
    st.kind === "kernel" ? st.reads.map(source) : (eqns[st.index] as Eqn).inputs.map(source);
  // Which stages read each buffer (through views), and which buffers the program returns.
  const readBy = new Map<Atom, FusionStage[]>();
  for (const st of stages)
    for (const a of readsOfStage(st)) {
      const l = readBy.get(a);
      if (!l) readBy.set(a, [st]);
      else if (!l.includes(st)) l.push(st);
    }
  const returned = new Set([...outputs].map(source));
  /** The roots a group writes: returned, or read by a stage outside it. */
  const writesOf = (roots: Iterable<Var>, members: readonly KernelStage[]): Var[] =>
    [...roots].filter(
      (r) => returned.has(r) || (readBy.get(r) ?? []).some((st) => !members.includes(st as KernelStage)),
    );
  const eligible = (st: FusionStage): st is KernelStage =>
    st.kind === "kernel" && st.form === "elementwise" && st.root.aval.dtype !== "float16";
  const sameShape = (a: Var, b: Var) => a.aval.shape.join() === b.aval.shape.join();
  const fits = (g: Group, st: KernelStage): boolean => {
    const covers = new Set([...g.covers, ...st.covers]);
    const roots = new Set([...g.roots, st.root]);
    // Bound buffers: the reads' distinct sources other than the group's roots (a literal's
    // broadcast binds nothing unless the literal cannot be compiled in).
    const bound = new Set<Atom>();
    for (const v of [...g.reads, ...st.reads]) {
      const src = source(v);
      if (src instanceof Var ? !roots.has(src) : !inlinableLiteral(src as Literal)) bound.add(src);
    }
    return bound.size + literalBuffers(covers) + writesOf(roots, [...g.members, st]).length <= maxInputs + 1;
  };
  for (const st of stages) {
    const srcs = readsOfStage(st);
    const target = eligible(st)
      ? open.find(
          (g) =>
            sameShape(g.members[0]?.root as Var, st.root) &&
            st.reads.some((v) => g.reads.has(v) || g.roots.has(v)) &&
            fits(g, st),
        )
      : undefined;
    // Open groups whose roots this stage reads, other than the one it joins, are closed.
    open = open.filter((g) => g === target || !srcs.some((a) => a instanceof Var && g.roots.has(a)));
    if (target && eligible(st)) {
      target.members.push(st);
      for (const j of st.covers) target.covers.add(j);
      for (const v of st.reads) target.reads.add(v);
      target.roots.add(st.root);
      out[target.at] = null;
      target.at = out.length;
      out.push(target);
      continue;
    }
    if (eligible(st)) {
      const g: Group = {
        members: [st],
        covers: new Set(st.covers),
        reads: new Set(st.reads),
        roots: new Set([st.root]),
        at: out.length,
      };
      open.push(g);
      out.push(g);
    } else out.push(st);
  }
  const result: FusionStage[] = [];
  for (const x of out) {
    if (x === null) continue;
    if (!isGroup(x)) {
      result.push(x);
      continue;
    }
    if (x.members.length === 1) {
      result.push(x.members[0] as KernelStage);
      continue;
    }
    const last = x.members[x.members.length - 1] as KernelStage;
    const roots = x.members.map((m) => m.root);
    result.push({
      kind: "kernel",
      index: last.index,
      root: roots[0] as Var,
      roots,
      writes: writesOf(roots, x.members),
      form: "elementwise",
      heavy: null,
      covers: [...x.covers].sort((a, b) => a - b),
      reads: [...x.reads].filter((v) => !x.roots.has(v)),
    });
  }
  return result;
}
