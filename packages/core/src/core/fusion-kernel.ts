/**
 * Builds and dispatches one fused kernel (a `KernelStage` of core/fusion.ts) over the concrete
 * buffers it reads. Every value of the kernel's cone is an element expression at an index:
 * elementwise equations apply their lowering's expression, movement ops map the index
 * (broadcast, transpose, squeeze, slice, rev; reshape through its common refinement, exact
 * div/mod only where dims merge), buffers are loads through the one accessor (DESIGN decision
 * 7), so a view's offset and strides fold into the load. Sizes, offsets and strides are
 * constants: a jitted kernel is specialised to its program's shapes.
 */
import type { Backend } from "../backend/backend.js";
import { acc, binary, constant, type Expr, index } from "../ir/expr.js";
import { ExprTable, kernelKey } from "../ir/hashcons.js";
import type { FusedKernel } from "../ir/kernel.js";
import { KernelLoads } from "../primitives/lowering-input.js";
import { registry } from "../primitives/registry.js";
import type { DotPlan, Lowering, LoweringInput, Params, Primitive } from "../primitives/types.js";
import type { ConcreteArray } from "./concrete.js";
import { dispatchKernel, dispatchKernels, runDotPlan } from "./eager.js";
import { type DotEpilogue, type PrologueOperand, runFusedDot } from "./eager-dot.js";
import { inlinableLiteral, type KernelStage } from "./fusion.js";
import { type Atom, type Eqn, Literal, type Var } from "./jaxpr.js";

const c32 = (v: number): Expr => constant(v, "int32");
const isConst = (e: Expr, v?: number) => e.op === "const" && (v === undefined || e.value === v);
const add = (a: Expr, b: Expr): Expr => (isConst(a, 0) ? b : isConst(b, 0) ? a : binary("add", a, b));
const mul = (a: Expr, k: number): Expr => (k === 1 ? a : k === 0 || isConst(a, 0) ? c32(0) : binary("mul", a, c32(k)));
const div = (a: Expr, k: number): Expr => (k === 1 ? a : binary("div", a, c32(k)));
const rem = (a: Expr, k: number): Expr => (k === 1 ? c32(0) : binary("rem", a, c32(k)));

/**
 * The input index of a reshape from `inShape` read at `idx` of `outShape` (row-major). A
 * zero-size reshape is read at no index at all (its kernel runs no iterations), so it reads 0.
 */
export function reshapeIndex(inShape: readonly number[], outShape: readonly number[], idx: readonly Expr[]): Expr[] {
  if (inShape.includes(0) || outShape.includes(0)) return inShape.map(() => c32(0));
  const res: Expr[] = [];
  let i = 0;
  let o = 0;
  while (i < inShape.length || o < outShape.length) {
    // One group of the common refinement: in dims [i, i2) and out dims [o, o2) of equal product.
    let pi = 1;
    let po = 1;
    let i2 = i;
    let o2 = o;
    do {
      if (pi <= po && i2 < inShape.length) pi *= inShape[i2++] as number;
      else if (o2 < outShape.length) po *= outShape[o2++] as number;
      else if (i2 < inShape.length) pi *= inShape[i2++] as number;
      else throw new Error(`internal: reshape [${inShape}] -> [${outShape}] has no common refinement`);
    } while (pi !== po || (i2 < inShape.length && inShape[i2] === 1) || (o2 < outShape.length && outShape[o2] === 1));
    let flat = c32(0);
    let s = 1;
    for (let d = o2 - 1; d >= o; d--) {
      flat = add(flat, mul(idx[d] as Expr, s));
      s *= outShape[d] as number;
    }
    const dims = inShape.slice(i, i2);
    let stride = dims.reduce((a, b) => a * b, 1);
    dims.forEach((n, k) => {
      stride /= n;
      res.push(n === 1 ? c32(0) : k === 0 ? div(flat, stride) : rem(div(flat, stride), n));
    });
    i = i2;
    o = o2;
  }
  return res;
}

/** The operand index that movement equation `e` reads for output index `idx`. */
function movedIndex(e: Eqn, idx: readonly Expr[]): Expr[] {
  const inShape = (e.inputs[0] as Atom).aval.shape;
  switch (e.prim) {
    case "stop_gradient":
      return [...idx];
    case "broadcast_in_dim":
      return e.params.broadcastDimensions.map((d, j) => (inShape[j] === 1 ? c32(0) : (idx[d] as Expr)));
    case "transpose": {
      const r: Expr[] = new globalThis.Array(idx.length);
      e.params.perm.forEach((p, d) => {
        r[p] = idx[d] as Expr;
      });
      return r;
    }
    case "squeeze": {
      const r: Expr[] = [];
      let k = 0;
      for (let d = 0; d < inShape.length; d++) r.push(e.params.dimensions.includes(d) ? c32(0) : (idx[k++] as Expr));
      return r;
    }
    case "slice":
      return idx.map((x, d) => add(c32(e.params.start[d] as number), mul(x, e.params.strides[d] as number)));
    case "rev":
      return idx.map((x, d) =>
        e.params.dimensions.includes(d) ? add(c32((inShape[d] as number) - 1), mul(x, -1)) : x,
      );
    case "reshape":
      return reshapeIndex(inShape, e.params.newShape, idx);
    default:
      throw new Error(`internal: ${e.prim} is not a movement op`);
  }
}

const defOf = (p: Primitive) =>
  (registry as unknown as Record<Primitive, { lowering: Lowering<Primitive> }>)[p].lowering;

/**
 * Runs kernel stage `st` of a program: `value(a)` is the concrete array of a buffer the kernel
 * reads (a variable, or a literal's cached scalar). Returns the new arrays of `st.writes`.
 */
export function runKernelStage(
  st: KernelStage,
  eqns: readonly Eqn[],
  producer: ReadonlyMap<Var, number>,
  value: (a: Atom) => ConcreteArray,
  backend: Backend,
  label: string,
): ConcreteArray[] {
  const covered = new Set(st.covers);
  const operandInputs: (ConcreteArray | undefined)[] = [];
  const operandOf = new Map<unknown, number>();
  const heavy = st.heavy === null ? null : (eqns[st.heavy] as Eqn);
  const heavyOut = heavy ? (heavy.outputs[0] as Var) : null;
  const rootIsHeavy = heavyOut === st.root;
  // A matmul's inputs 0 and 1 are its operands (or, for a prologue operand, the first buffer
  // its prologue reads); the other buffers its prologues and epilogue read are inputs 2….
  const inputs: ConcreteArray[] = [];
  const inputOf = new Map<unknown, number>();
  const table = new ExprTable();
  const base = st.form === "dot" ? 2 : 0;
  /** Set while a prologue of operand `claim` is built: the first new buffer takes that slot. */
  let claim: number | null = null;

  /**
   * The element expression of `a` at `idx`, in the loads `reads` collects (`mode` says what
   * `heavyOut` is). `own`: the buffers of a kernel of its own (a convolution's patches kernel
   * with a prologue), numbered from 0, instead of the stage's.
   */
  const builder = (reads: KernelLoads, mode: "plain" | "acc", own?: ConcreteArray[]) => {
    const memo = new Map<string, Expr>();
    const accessors = new Map<ConcreteArray, ReturnType<KernelLoads["input"]>>();
    const at = (a: Atom, idx: readonly Expr[]): Expr => {
      const key = `${idOf(a)}|${idx.map((x) => table.id(x)).join(",")}`;
      let e = memo.get(key);
      if (!e) {
        e = table.intern(compute(a, idx));
        memo.set(key, e);
      }
      return e;
    };
    /** The kernel input that binds `x`'s buffer, taking the next one on first sight. */
    const slotOf = (x: ConcreteArray): number => {
      if (own) {
        const at = own.findIndex((y) => y.buffer === x.buffer);
        return at >= 0 ? at : own.push(x) - 1;
      }
      // An epilogue reads the operands' buffers at inputs 2… too (its loads index those).
      let slot = inputOf.get(x.buffer) ?? (mode === "plain" ? operandOf.get(x.buffer) : undefined);
      if (slot === undefined && claim !== null) {
        slot = claim;
        claim = null;
        operandInputs[slot] = x;
        operandOf.set(x.buffer, slot);
      } else if (slot === undefined) {
        slot = base + inputs.length;
        inputs.push(x);
        inputOf.set(x.buffer, slot);
      }
      return slot;
    };
    const external = (x: ConcreteArray, idx: readonly Expr[]): Expr => {
      if (
        x.inlinable &&
        x.literal !== undefined &&
        x.dtype !== "float16" &&
        x.literal !== 0 &&
        Number.isFinite(x.literal)
      )
        return constant(x.literal, x.dtype);
      let acc = accessors.get(x);
      if (!acc) {
        acc = reads.input(slotOf(x), x.aval, { offset: x.view.offset, strides: x.view.strides }, x.shape.map(c32), [
          ...x.shape,
        ]);
        accessors.set(x, acc);
      }
      return acc.at(idx);
    };
    const compute = (a: Atom, idx: readonly Expr[]): Expr => {
      if (a instanceof Literal) {
        if (inlinableLiteral(a)) return constant(a.value, a.dtype);
        return external(value(a), []);
      }
      const p = producer.get(a);
      if (a === heavyOut && mode === "acc") return acc(a.aval.dtype);
      if (p === undefined || !covered.has(p)) return external(value(a), idx);
      const e = eqns[p] as Eqn;
      const low = defOf(e.prim);
      if (low.kind === "view") return at(e.inputs[0] as Atom, movedIndex(e, idx));
      if (low.kind === "elementwise")
        return low.expr(
          e.inputs.map((x) => at(x, idx)),
          e.params as Params[Primitive],
          a.aval,
        );
      throw new Error(`internal: fusion reached ${e.prim} inside a kernel's elementwise part`);
    };
    return at;
  };

  const out = st.root.aval;
  if (st.form === "dot" && heavy?.prim === "conv_general_dilated") return [runConvDot(heavy)];
  if (st.form === "dot") {
    const d = heavy as Eqn & { prim: "dot_general" };
    const nb = d.params.batch[0].length;
    // Prologues first, so each claims its operand's slot with its first buffer.
    const operands = d.inputs.map((x, side): ConcreteArray | PrologueOperand => {
      const p = x instanceof Literal ? undefined : producer.get(x);
      if (p === undefined || !covered.has(p)) return value(x);
      // Loops (batch…, row, col): an lhs is (batch…, free, contracting), an rhs (batch…, contracting, free).
      const shape = x.aval.shape;
      const batchDims = d.params.batch[side] as number[];
      const contract = (d.params.contracting[side] as number[])[0] as number;
      const free = shape.findIndex((_, j) => j !== contract && !batchDims.includes(j));
      const row = side === 0 ? free : contract;
      const idx = shape.map((_, j) => {
        const b = batchDims.indexOf(j);
        return index(b >= 0 ? b : j === row ? nb : nb + 1);
      });
      const reads = new KernelLoads();
      claim = side;
      const expr = builder(reads, "plain")(x, idx);
      if (claim !== null) {
        // Its first buffer was claimed already (the other operand's prologue reads it too):
        // bind that buffer again as this operand's input, and read it there.
        const loads = reads.finish(nb + 2);
        const first = loads[0]?.input;
        if (first === undefined) throw new Error(`internal: a matmul prologue reads no buffer (${label})`);
        claim = null;
        operandInputs[side] = first < base ? operandInputs[first] : inputs[first - base];
        const moved = loads.map((l) => (l.input === first ? { ...l, input: side } : l));
        return { aval: x.aval, input: operandInputs[side] as ConcreteArray, prologue: { loads: moved, expr } };
      }
      return {
        aval: x.aval,
        input: operandInputs[side] as ConcreteArray,
        prologue: { loads: reads.finish(nb + 2), expr },
      };
    }) as [ConcreteArray | PrologueOperand, ConcreteArray | PrologueOperand];
    let epilogue: DotEpilogue | null = null;
    if (!rootIsHeavy) {
      const reads = new KernelLoads();
      const at = builder(reads, "acc");
      const expr = at(
        st.root,
        out.shape.map((_, l) => index(l)),
      );
      epilogue = { loads: reads.finish(out.shape.length), expr };
    }
    return [runFusedDot(d.params, operands[0], operands[1], out, backend, epilogue, inputs, label)];
  }

  /**
   * Rule 5c: a convolution as its im2col plan, the matmul writing [N·spatial…, features] with
   * the epilogue read at loops (m, n): output index (m split over [N, spatial…], n).
   */
  function runConvDot(conv: Eqn): ConcreteArray {
    const convOut = (conv.outputs[0] as Var).aval;
    const [x0, w0] = conv.inputs as [Atom, Atom];
    const w = value(w0);
    const p0 = x0 instanceof Literal ? undefined : producer.get(x0);
    const prologue = p0 !== undefined && covered.has(p0);
    const low = defOf("conv_general_dilated") as Extract<Lowering<Primitive>, { kind: "loads" }>;
    const plan = low.asDot?.([x0.aval, w.aval], conv.params as never, convOut, [[], w.view.strides]);
    if (!plan) throw new Error(`internal: fusion took a convolution with no im2col plan as a dot (${label})`);
    // Rule 5c's prologue: the patches kernel computes the input's elementwise cone as it reads it.
    const x = prologue ? patchesWithPrologue(plan, x0) : value(x0);
    let epilogue: DotEpilogue | null = null;
    if (!rootIsHeavy) {
      // The product [M, features] is the output reshaped: read the output at its reshape index.
      const reads = new KernelLoads();
      const features = convOut.shape[convOut.shape.length - 1] as number;
      const rows = convOut.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const idx = reshapeIndex(convOut.shape, [rows, features], [index(0), index(1)]);
      const expr = builder(reads, "acc")(st.root, idx);
      epilogue = { loads: reads.finish(2), expr };
    }
    const key = JSON.stringify(conv.params);
    const result = runDotPlan(plan, key, [x, w], out, backend, { epilogue, inputs, label }, prologue);
    if (prologue) x.dispose();
    return result;
  }

  /** The im2col patches of the unmaterialised `x`, its cone computed in the patches kernel. */
  function patchesWithPrologue(plan: DotPlan, x: Atom): ConcreteArray {
    const reads = new KernelLoads();
    const own: ConcreteArray[] = [];
    const at = builder(reads, "plain", own);
    const input: LoweringInput = {
      aval: x.aval,
      shape: x.aval.shape.map(c32),
      dims: [...x.aval.shape],
      at: (idx) => at(x, idx),
    };
    const { expr } = plan.gathered.kernel(input);
    const loops = [...plan.gathered.shape];
    const kernel: FusedKernel = {
      kind: "fused",
      label: `${label} (patches)`,
      inputs: own.map((b) => b.dtype),
      outputs: [x.aval.dtype],
      outRank: loops.length,
      loops,
      loads: reads.finish(loops.length),
      expr,
    };
    const aval = { shape: loops, dtype: x.aval.dtype, weakType: x.aval.weakType };
    return dispatchKernel(backend, `fused|${kernelKey(kernel)}`, () => kernel, own, aval, `${label} (patches)`);
  }

  const reads = new KernelLoads();
  const identity = out.shape.map((_, l) => index(l));
  let loops: number[] = [...out.shape];
  let expr: Expr;
  let reduce: Pick<FusedKernel, "reduce" | "post"> = {};
  let siblings: Expr[] = [];
  if (st.form === "reduce") {
    // Loops: the kept dims, then the reduced ones; the root after the reduction is the post.
    const r = heavy as Eqn & { prim: "reduce_sum" };
    const low = defOf(r.prim) as Extract<Lowering<Primitive>, { kind: "reduce" }>;
    const x = r.inputs[0] as Atom;
    const axes = low.axes(r.params as never);
    const xShape = x.aval.shape;
    const order = [...xShape.map((_, d) => d).filter((d) => !axes.includes(d)), ...axes];
    const at = builder(reads, "acc");
    const loopOf = new Map(order.map((d, l) => [d, l]));
    expr = at(
      x,
      xShape.map((_, d) => index(loopOf.get(d) as number)),
    );
    loops = order.map((d) => xShape[d] as number);
    reduce = { reduce: low.op, ...(rootIsHeavy ? {} : { post: at(st.root, identity) }) };
  } else {
    // Every written root over the same loops, through one builder: shared values are one node.
    const at = builder(reads, "plain");
    const [first, ...rest] = st.writes.map((w) => at(w, identity));
    expr = first as Expr;
    siblings = rest;
  }
  const kernel: FusedKernel = {
    kind: "fused",
    label,
    inputs: inputs.map((y) => y.dtype),
    outputs:
      st.form === "reduce"
        ? [out.dtype]
        : [st.writes[0]?.aval.dtype ?? out.dtype, ...st.writes.slice(1).map((w) => w.aval.dtype)],
    outRank: out.shape.length,
    loops,
    loads: reads.finish(loops.length),
    expr,
    ...reduce,
    ...(siblings.length ? { siblings } : {}),
  };
  const key = `fused|${kernelKey(kernel)}`;
  if (st.form === "reduce" || st.writes.length === 1)
    return [dispatchKernel(backend, key, () => kernel, inputs, (st.writes[0] ?? st.root).aval, label)];
  return dispatchKernels(
    backend,
    key,
    () => kernel,
    inputs,
    st.writes.map((w) => w.aval),
    label,
  );
}

/** A small id per variable or literal, for the expression memo's keys. */
const ids = new WeakMap<object, number>();
let nextId = 0;
function idOf(x: object): number {
  let i = ids.get(x);
  if (i === undefined) {
    i = nextId++;
    ids.set(x, i);
  }
  return i;
}
