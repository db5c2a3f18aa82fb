/**
 * Fusion of a jaxpr into kernels (issue 22): which values get a buffer, and which kernel
 * computes each one. The rule (docs/architecture.md, "Fusion"), so a program's kernel count can
 * be predicted:
 *
 * 1. Buffers: the program's inputs and consts; the outputs of routines, loads kernels, custom
 *    calls and other non-fusing equations; every value a non-fusing equation reads, and every
 *    operand of a `dot_general` but rule 5b's prologues (back through movement ops: the
 *    movement itself stays a view); every program output
 *    (its movement source, where it is a movement op).
 * 2. Movement ops (reshape, transpose, broadcast, squeeze, slice, rev, stop_gradient) are never
 *    kernels: over a buffer they are views, over an unmaterialised value index maps inside the
 *    kernel that reads them.
 * 3. Every other value is computed inside the kernels that read it — unless kernels of two or
 *    more different roots read it and its cost (elementwise ops in its unmaterialised cone;
 *    transcendentals count 4) is above 2: then it is a buffer, computed once. (3b) So is an
 *    elementwise value of cost above 2 that a broadcast makes larger (it would be recomputed
 *    for every element it is broadcast over).
 * 4. A reduction fuses its elementwise prologue. Its result is a buffer, except where its only
 *    reader is an elementwise chain whose other operands are literals (a mean's division, a
 *    log-sum-exp's log): that chain becomes the kernel's `post`.
 * 5. A `dot_general` with one free dim per side and an elementwise reader of its own dtype that
 *    reaches a root through elementwise ops only (bias, activation, scaling, a residual add)
 *    takes that reader's kernel as its epilogue; otherwise its result is a buffer.
 *    (5b) A float32 `dot_general` with one free and one contracting dim per side computes an
 *    operand made by elementwise ops (through movement ops) in its kernel, as a prologue, where
 *    that operand's cone costs at most PROLOGUE_COST (4: one transcendental or four cheap ops),
 *    reads some buffer and holds no dot; otherwise, and for every other operand, the operand is
 *    a buffer. A reduction in a prologue's cone is a buffer.
 *    A dot with a prologue is a kernel even without an epilogue.
 *    (5c) On a backend whose float32 matmul is a GEMM, a float32 `conv_general_dilated` with one
 *    feature group and its output laid out [N, spatial…, features] (`convDot`) is a dot: an
 *    im2col patches kernel, then a matmul writing the output, which takes rule 5's epilogue. Its
 *    input may be a prologue under rule 5b's bounds, computed by the patches kernel as it reads
 *    (the weights are a buffer); it dispatches two kernels, counted as one.
 * 6. A kernel holds at most one reduction or dot (others in its cone become buffers), and reads
 *    at most the backend's `maxKernelInputs` distinct buffers (past that, its largest operand
 *    cones become buffers, one at a time).
 * 7. Elementwise kernels of one root shape that read a common buffer, or one another's roots,
 *    run as one multi-output kernel while its buffers fit (see `multiOutput`).
 *
 * Kernels = rule 7's groups of the values that are buffers by rules 3–6 and made by
 * elementwise, reduction or dot equations, plus one kernel per other equation (the eager
 * kernels of routines, loads and dot_generals without an epilogue).
 */

import { MAX_PATCH_ELEMENTS } from "../primitives/conv-dot.js";
import { registry } from "../primitives/registry.js";
import type { Primitive } from "../primitives/types.js";
import type { ConvParams } from "../primitives/window.js";
import { multiOutput } from "./fusion-multi-output.js";
import { type Atom, type Eqn, type Jaxpr, Literal, Var } from "./jaxpr.js";

export type EqnClass = "elementwise" | "movement" | "reduce" | "dot" | "other";

const CHEAP_UNARY = new Set(["neg", "abs", "sign", "floor", "ceil", "round", "not", "isfinite"]);
const DEAR_BINARY = new Set(["pow", "atan2", "rem"]);
/** A shared value is recomputed in each reading kernel up to this cost (rule 3). */
export const RECOMPUTE_COST = 2;
/** A dot operand is computed in the dot's kernel (its prologue) up to this cost (rule 5b). */
export const PROLOGUE_COST = 4;

export function classify(eqn: Eqn): EqnClass {
  const low = (registry as unknown as Record<Primitive, { lowering: { kind: string } }>)[eqn.prim].lowering;
  switch (low.kind) {
    case "elementwise":
      return "elementwise";
    case "view":
      return "movement";
    case "reduce":
      return "reduce";
    case "dot":
      return "dot";
    default:
      return "other";
  }
}

/**
 * A convolution that runs as im2col and a matmul writing its output in place (rule 5c): float32,
 * one feature group, output laid out [N, spatial…, features], at most `maxPatches` patch elements
 * (the im2col limit, or less where the backend binds less).
 */
export function convDot(e: Eqn, maxPatches = MAX_PATCH_ELEMENTS): boolean {
  if (e.prim !== "conv_general_dilated") return false;
  const p = e.params as ConvParams;
  const out = (e.outputs[0] as Var).aval;
  const dn = p.dimensionNumbers;
  const r = dn.out.length;
  const nhwc = [0, r - 1, ...range(r - 2).map((j) => 1 + j)];
  if (out.dtype !== "float32" || p.featureGroupCount !== 1 || !dn.out.every((d, i) => d === nhwc[i])) return false;
  const [lhs, rhs] = e.inputs as [Atom, Atom];
  const rows = out.shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const window = dn.rhs.slice(2).reduce((a, d) => a * (rhs.aval.shape[d] as number), 1);
  const patches = rows * window * (lhs.aval.shape[dn.lhs[1] as number] as number);
  return patches > 0 && patches <= Math.min(maxPatches, MAX_PATCH_ELEMENTS);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

const MOVES = new Set(["copy", "convert_element_type", "bitcast_convert_type"]);

const elements = (v: Var): number => v.aval.shape.reduce((a, b) => a * b, 1);

function weight(eqn: Eqn): number {
  if (eqn.inputs.length === 1) return CHEAP_UNARY.has(eqn.prim) || MOVES.has(eqn.prim) ? 1 : 4;
  return DEAR_BINARY.has(eqn.prim) ? 4 : 1;
}

/** One kernel of a fused program: the values it writes and the equations it covers. */
export interface KernelStage {
  readonly kind: "kernel";
  /** The equation whose output the kernel writes (a multi-output kernel's last root's). */
  readonly index: number;
  /** `roots[0]`: the value a single-output kernel writes. */
  readonly root: Var;
  /** The values whose equations end the kernel's cones (several: a multi-output kernel, rule 7). */
  readonly roots: readonly Var[];
  /** The roots it writes to buffers, in order: those read outside the kernel or returned. */
  readonly writes: readonly Var[];
  /** "reduce": a reduction (at `heavy`) with prologue and maybe post; "dot": a dot_general (at `heavy`) with an epilogue. */
  readonly form: "elementwise" | "reduce" | "dot";
  readonly heavy: number | null;
  /** The equations computed inside the kernel, in program order. */
  readonly covers: readonly number[];
  /** The buffers it reads (variables; movement views of buffers included). */
  readonly reads: readonly Var[];
}

/** An equation run as it is (bound eagerly): a view over a buffer, a routine, a dot without epilogue. */
export interface EqnStage {
  readonly kind: "eqn";
  readonly index: number;
}

export type FusionStage = KernelStage | EqnStage;

export interface Fusion {
  readonly stages: readonly FusionStage[];
  /** The number of kernels the program dispatches by the rule (other equations count one each, views none). */
  readonly kernels: number;
}

/**
 * Partitions `jaxpr` by the rule above. `maxInputs`: the most buffers one kernel may read
 * (WebGPU's storage-buffer limit less the output); `maxPatches`: the most im2col patch elements a
 * convolution may gather to run as a matmul (rule 5c; 0 where the backend has no float32 GEMM).
 */
export function fuse(jaxpr: Jaxpr, maxInputs = Number.POSITIVE_INFINITY, maxPatches = 0): Fusion {
  const eqns = jaxpr.eqns;
  const cls = eqns.map((e) => (maxPatches > 0 && convDot(e, maxPatches) ? "dot" : classify(e)));
  const producer = new Map<Var, number>();
  eqns.forEach((e, i) => {
    for (const o of e.outputs) producer.set(o, i);
  });
  const readers = new Map<Var, number[]>();
  eqns.forEach((e, i) => {
    for (const a of e.inputs) {
      if (!(a instanceof Var)) continue;
      const r = readers.get(a);
      if (!r) readers.set(a, [i]);
      else if (r[r.length - 1] !== i) r.push(i);
    }
  });
  const outputs = new Set(jaxpr.outvars.filter((a): a is Var => a instanceof Var));
  const classOf = (v: Var): EqnClass | "input" => {
    const p = producer.get(v);
    return p === undefined ? "input" : (cls[p] as EqnClass);
  };
  /** The value a movement chain starts from (a literal, for a broadcast JS number). */
  const source = (a: Atom): Atom => {
    let x = a;
    while (x instanceof Var && classOf(x) === "movement")
      x = (eqns[producer.get(x) as number] as Eqn).inputs[0] as Atom;
    return x;
  };
  const mat = new Set<Var>();
  const markSource = (a: Atom) => {
    const s = source(a);
    if (s instanceof Var) mat.add(s);
  };
  for (const v of [...jaxpr.invars, ...jaxpr.constvars]) mat.add(v);
  eqns.forEach((e, i) => {
    const c = cls[i];
    if (c === "other") for (const o of e.outputs) mat.add(o);
    if (c === "other") for (const a of e.inputs) markSource(a);
    // Rule 5b: an elementwise operand of a prologue dot stays unmaterialised (its prologue).
    if (c === "dot")
      e.inputs.forEach((a, side) => {
        if (!prologueSide(i, side) || !elementwiseSource(a)) markSource(a);
      });
  });
  for (const v of outputs) markSource(v);
  // Reductions and dots are buffers unless rule 4 or 5 lets one fuse into its reader.
  eqns.forEach((e, i) => {
    const c = cls[i];
    const out = e.outputs[0] as Var;
    if (c === "reduce" && !postCandidate(i)) mat.add(out);
    if (c === "dot" && !epilogueCandidate(i)) mat.add(out);
  });

  /** Whether operand `side` of dot `i` may be a prologue: rule 5b's dots, or a convolution's input (5c). */
  function prologueSide(i: number, side: number): boolean {
    return (eqns[i] as Eqn).prim === "dot_general" ? prologueDot(i) : side === 0;
  }
  /** A float32 dot_general with one free and one contracting dim per side (rule 5b). */
  function prologueDot(i: number): boolean {
    const e = eqns[i] as Eqn & { prim: "dot_general" };
    if (e.prim !== "dot_general") return false;
    const nb = e.params.batch[0].length;
    return (
      (e.inputs[0] as Atom).aval.dtype === "float32" &&
      e.inputs.every((x, side) => x.aval.shape.length === nb + 2 && e.params.contracting[side]?.length === 1)
    );
  }
  function elementwiseSource(a: Atom): boolean {
    const s = source(a);
    return s instanceof Var && classOf(s) === "elementwise";
  }

  function postCandidate(i: number): boolean {
    const e = eqns[i] as Eqn;
    if (e.prim === "argmax" || e.prim === "argmin") return false;
    const rs = readers.get(e.outputs[0] as Var) ?? [];
    return rs.length === 1 && cls[rs[0] as number] === "elementwise";
  }
  function epilogueCandidate(i: number): boolean {
    const e = eqns[i] as Eqn & { prim: "dot_general" };
    const out = e.outputs[0] as Var;
    if (e.prim !== "dot_general") {
      const rs = readers.get(out) ?? [];
      return rs.length === 1 && cls[rs[0] as number] === "elementwise";
    }
    const [l, r] = e.inputs as [Atom, Atom];
    const nb = e.params.batch[0].length;
    const lFree = l.aval.shape.length - nb - e.params.contracting[0].length;
    const rFree = r.aval.shape.length - nb - e.params.contracting[1].length;
    const rs = readers.get(out) ?? [];
    return lFree === 1 && rFree === 1 && rs.length === 1 && cls[rs[0] as number] === "elementwise";
  }

  const isBuf = (a: Atom): boolean => {
    const s = source(a);
    return !(s instanceof Var) || mat.has(s);
  };

  // Rules 3–6 to a fixpoint: each pass only adds buffers.
  let roots = new Map<Var, Set<Var>>();
  for (let pass = 0; pass <= eqns.length; pass++) {
    roots = rootsOf();
    const added = sharedCones() || oneHeavy() || inputLimit();
    if (!added) break;
  }

  /** For every unmaterialised value, the kernel roots whose cones hold it. */
  function rootsOf(): Map<Var, Set<Var>> {
    const m = new Map<Var, Set<Var>>();
    for (let i = eqns.length - 1; i >= 0; i--) {
      const c = cls[i];
      if (c === "other") continue;
      for (const v of (eqns[i] as Eqn).outputs) {
        if (c !== "movement" && mat.has(v)) {
          m.set(v, new Set([v]));
          continue;
        }
        if (isBuf(v)) continue;
        const s = new Set<Var>();
        for (const r of readers.get(v) ?? []) {
          const rc = cls[r];
          if (rc === "other") continue;
          for (const x of m.get((eqns[r] as Eqn).outputs[0] as Var) ?? []) s.add(x);
        }
        m.set(v, s);
      }
    }
    return m;
  }

  /** Rule 3: a costly value read by several kernels is computed once. */
  function sharedCones(): boolean {
    const cost = new Map<Var, number>();
    const costOf = (a: Atom): number => (a instanceof Var && !isBuf(a) ? (cost.get(a) ?? 0) : 0);
    let added = false;
    let stale = false;
    eqns.forEach((e, i) => {
      const c = cls[i];
      if (c === "other") return;
      if (c === "dot") {
        // Rule 5b's bounds: a prologue costs at most PROLOGUE_COST, reads a buffer, and holds
        // no reduction (its result becomes a buffer) or dot (that dot keeps its epilogue up to
        // the operand, which becomes the buffer).
        for (const a of e.inputs) {
          const s = source(a);
          if (!(s instanceof Var) || isBuf(s)) continue;
          const inner = cone(s);
          const reductions = inner.filter((j) => cls[j] === "reduce");
          for (const j of reductions) mat.add((eqns[j] as Eqn).outputs[0] as Var);
          if (reductions.length) added = true;
          else if (costOf(s) > PROLOGUE_COST || !readsBuffer(s) || inner.some((j) => cls[j] === "dot")) {
            mat.add(s);
            added = true;
          }
        }
      }
      const v = e.outputs[0] as Var;
      if (isBuf(v)) return;
      const own =
        c === "movement"
          ? costOf(e.inputs[0] as Atom)
          : c === "elementwise"
            ? weight(e) + e.inputs.reduce((s, a) => s + costOf(a), 0)
            : Number.POSITIVE_INFINITY;
      cost.set(v, own);
      if (c === "elementwise" && Number.isFinite(own) && own > RECOMPUTE_COST && broadcastInto(v)) {
        // Rule 3b: a costly value broadcast into a larger kernel would be recomputed for
        // every element it is broadcast over (a bias correction 1 − β^t in each leaf's update).
        mat.add(v);
        added = true;
        return;
      }
      if (!stale && c !== "movement" && (roots.get(v)?.size ?? 0) >= 2 && own > RECOMPUTE_COST) {
        // A shared reduction or dot keeps its epilogue up to where its single reader chain
        // fans out: that value is the buffer (a dense layer's dot + bias, read by the
        // activation and by the backward pass). The chain's roots are stale from here on in
        // this pass (the next pass recomputes them).
        const heavy = c === "reduce" || c === "dot";
        mat.add(heavy ? fanOutPoint(v) : v);
        stale ||= heavy;
        added = true;
      }
    });
    return added;
  }

  /** Whether unmaterialised `v`'s cone reads a variable buffer. */
  function readsBuffer(v: Var): boolean {
    const p = producer.get(v);
    if (p === undefined) return true;
    return (eqns[p] as Eqn).inputs.some((a) => {
      const s = source(a);
      if (!(s instanceof Var)) return false;
      return isBuf(s) || readsBuffer(s);
    });
  }

  /** Whether movement ops reading `v` (directly or through other movement ops) make it larger. */
  function broadcastInto(v: Var): boolean {
    const n = elements(v);
    const grows = (u: Var): boolean =>
      (readers.get(u) ?? []).some((r) => {
        if (cls[r] !== "movement") return false;
        const o = (eqns[r] as Eqn).outputs[0] as Var;
        return elements(o) > n || grows(o);
      });
    return grows(v);
  }

  /** Along `v`'s single elementwise readers, the last value before the kernels that read it diverge. */
  function fanOutPoint(v: Var): Var {
    let u = v;
    for (;;) {
      const rs = readers.get(u) ?? [];
      if (rs.length !== 1 || cls[rs[0] as number] !== "elementwise") return u;
      const next = (eqns[rs[0] as number] as Eqn).outputs[0] as Var;
      if (mat.has(next) || (roots.get(next)?.size ?? 0) < 2) return u;
      u = next;
    }
  }

  /** The unmaterialised equations of root `v`'s kernel, in program order. */
  function cone(v: Var): number[] {
    const seen = new Set<number>();
    const visit = (a: Atom, top: boolean) => {
      if (!(a instanceof Var)) return;
      if (!top && isBuf(a)) return;
      const p = producer.get(a);
      if (p === undefined || seen.has(p)) return;
      seen.add(p);
      for (const x of (eqns[p] as Eqn).inputs) visit(x, false);
    };
    visit(v, true);
    return [...seen].sort((a, b) => a - b);
  }

  /** Rules 4–6's shape checks: one reduction or dot per kernel, and what may surround it. */
  function oneHeavy(): boolean {
    let added = false;
    for (const [v, rs] of roots) {
      if (!rs.has(v) || !mat.has(v)) continue;
      const c = cone(v);
      const heavy = c.filter((i) => (cls[i] === "reduce" || cls[i] === "dot") && (eqns[i] as Eqn).outputs[0] !== v);
      const rootClass = classOf(v);
      const extra = rootClass === "reduce" || rootClass === "dot" ? heavy : heavy.slice(1);
      for (const i of extra) {
        mat.add((eqns[i] as Eqn).outputs[0] as Var);
        added = true;
      }
      if (extra.length) continue;
      const h = heavy[0];
      if (h === undefined || rootClass === "reduce" || rootClass === "dot") continue;
      const hv = (eqns[h] as Eqn).outputs[0] as Var;
      if (!surroundingOk(v, hv, cls[h] === "reduce")) {
        mat.add(hv);
        added = true;
      }
    }
    return added;
  }

  /**
   * Between the reduction or dot `hv` and the root `v`: only elementwise ops; for a reduction's
   * post also no buffer or other unmaterialised value but literals; for a dot's epilogue the
   * root of the dot's dtype and shape.
   */
  function surroundingOk(v: Var, hv: Var, post: boolean): boolean {
    if (!post && (v.aval.dtype !== hv.aval.dtype || v.aval.shape.join() !== hv.aval.shape.join())) return false;
    const seen = new Set<Var>();
    const ok = (a: Atom): boolean => {
      if (a === hv) return true;
      if (!(a instanceof Var)) return true;
      if (seen.has(a)) return true;
      seen.add(a);
      const s = source(a);
      if (!(s instanceof Var)) return true;
      if (a !== v && isBuf(a)) return !post;
      const p = producer.get(a) as number;
      const c = cls[p];
      if (c === "movement") return !reaches(a, hv) && !post;
      if (c !== "elementwise") return !reaches(a, hv) && !post;
      return (eqns[p] as Eqn).inputs.every(ok);
    };
    return ok(v);
  }

  /** Whether unmaterialised `a`'s cone holds `target`. */
  function reaches(a: Atom, target: Var): boolean {
    if (a === target) return true;
    if (!(a instanceof Var) || isBuf(a)) return false;
    const p = producer.get(a);
    return p !== undefined && (eqns[p] as Eqn).inputs.some((x) => reaches(x, target));
  }

  /** Rule 6's input limit: the buffers a kernel reads. */
  function inputLimit(): boolean {
    if (!Number.isFinite(maxInputs)) return false;
    let added = false;
    for (const [v, rs] of roots) {
      if (!rs.has(v) || !mat.has(v)) continue;
      while (readsOf(v) > maxInputs) {
        // The largest unmaterialised cone that is a legal kernel itself (it reads fewer than
        // the limit, so the root still gains a slot) becomes a buffer; else the largest.
        const cands = cone(v)
          .map((i) => (eqns[i] as Eqn).outputs[0] as Var)
          .filter((x) => x !== v && classOf(x) !== "movement" && !mat.has(x))
          .sort((a, b) => cone(b).length - cone(a).length);
        const best = cands.find((x) => readsOf(x) < maxInputs) ?? cands[0];
        if (!best) break;
        mat.add(best);
        added = true;
      }
    }
    return added;
  }

  /** How many buffers root `v`'s kernel binds: distinct sources, and each literal it cannot compile in. */
  function readsOf(v: Var): number {
    const sources = new Set<Atom>();
    // A prologue operand may bind one of its buffers a second time, as the operand's input.
    let again = 0;
    for (const i of cone(v)) {
      if (cls[i] === "dot") again += (eqns[i] as Eqn).inputs.filter((a) => !isBuf(a)).length;
      for (const a of (eqns[i] as Eqn).inputs) {
        if (a instanceof Literal) {
          if (!inlinableLiteral(a)) sources.add(a);
        } else if (isBuf(a)) {
          const s = source(a);
          if (s instanceof Var || !inlinableLiteral(s as Literal)) sources.add(s);
        }
      }
    }
    return sources.size + again;
  }

  const stages: FusionStage[] = [];
  let kernels = 0;
  eqns.forEach((e, i) => {
    const c = cls[i] as EqnClass;
    const v = e.outputs[0] as Var;
    if (c === "other") {
      stages.push({ kind: "eqn", index: i });
      kernels++;
      return;
    }
    if (c === "movement") {
      if (isBuf(v)) stages.push({ kind: "eqn", index: i });
      return;
    }
    if (!mat.has(v)) return;
    if (c === "dot" && !cone(v).some((j) => j !== i)) {
      stages.push({ kind: "eqn", index: i });
      kernels++;
      return;
    }
    const covers = cone(v);
    const heavyIdx = covers.find((j) => cls[j] === "reduce" || cls[j] === "dot");
    const form = heavyIdx === undefined ? "elementwise" : cls[heavyIdx] === "reduce" ? "reduce" : "dot";
    const reads: Var[] = [];
    for (const j of covers) {
      for (const a of (eqns[j] as Eqn).inputs) {
        if (a instanceof Var && isBuf(a) && !reads.includes(a) && !(a === v)) reads.push(a);
      }
    }
    stages.push({
      kind: "kernel",
      index: i,
      root: v,
      roots: [v],
      writes: [v],
      form,
      heavy: heavyIdx ?? null,
      covers,
      reads,
    });
    kernels++;
  });
  const merged = multiOutput(stages, { eqns, outputs, source, maxInputs });
  return { stages: merged, kernels: kernels - (stages.length - merged.length) };
}

/**
 * A literal compiled into a kernel as a constant: finite and non-zero (a shader compiler may
 * fold x·0 to 0, where IEEE gives NaN for x = ±Inf), and not float16 (rounded on store).
 */
export function inlinableLiteral(l: Literal): boolean {
  return l.dtype !== "float16" && l.value !== 0 && Number.isFinite(l.value);
}
