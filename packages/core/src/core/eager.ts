import type { Backend, Executable } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { itemSize } from "../dtype.js";
import { constant, load, param } from "../ir/expr.js";
import type { FusedKernel, IntExpr, Kernel, Load } from "../ir/kernel.js";
import type { RoutineKernel } from "../ir/routine.js";
import { isContiguous, reshapeView, transposeView, type View } from "../ir/view.js";
import { LruCache } from "../lru.js";
import { freeDims } from "../primitives/dot.js";
import { KernelLoads } from "../primitives/lowering-input.js";
import { registry } from "../primitives/registry.js";
import type {
  DotPlan,
  LoadsKernel,
  Lowering,
  LoweringInput,
  Params,
  Primitive,
  PrimitiveDef,
} from "../primitives/types.js";
import { sizeOf } from "../shape.js";
import type { Aval } from "./aval.js";
import { DeviceBuffer } from "./buffer.js";
import { noteDispatch } from "./call-sites.js";
import { ConcreteArray, setMaterialize } from "./concrete.js";
import { checkingNans } from "./debug-nans.js";
import { type DotEpilogue, runDot } from "./eager-dot.js";
import { recorder } from "./recording.js";
import { checkSameBackend } from "./trace.js";

/**
 * Eager execution: each primitive runs its own one-op kernel, built from its lowering. Eager
 * kernels are shape-generic (sizes, offsets and strides are integer arguments), so they are
 * compiled once per (primitive, params, dtypes, rank) and cached per backend.
 */

/** Compiled eager kernels kept per backend; past this the least recently used are dropped (and recompiled on reuse). */
export const EAGER_CACHE_CAPACITY = 4096;

const executables = new WeakMap<Backend, LruCache<string, Executable>>();

/** The eager kernel cache of a backend (size, evictions, capacity), for tests and profiling. */
export function eagerCache(backend: Backend): LruCache<string, Executable> | undefined {
  return executables.get(backend);
}

export function compiled(backend: Backend, key: string, build: () => Kernel): Executable {
  let m = executables.get(backend);
  if (!m) {
    m = new LruCache(EAGER_CACHE_CAPACITY);
    executables.set(backend, m);
  }
  let exe = m.get(key);
  if (!exe) {
    exe = backend.compile(build());
    m.set(key, exe);
  }
  return exe;
}

/** Empties the compiled-kernel caches (e.g. after a backend is re-created). */
export function clearEagerCache(backend: Backend): void {
  executables.delete(backend);
}

export const P = (i: number): IntExpr => ({ param: i });

/**
 * A cache key of primitive params: a compact serialisation (4× faster than JSON.stringify with
 * a replacer) that keeps every number's identity, -0, NaN and ±Infinity included.
 */
function paramsKey(params: unknown): string {
  // Most elementwise primitives have no params: skip the walk.
  if (typeof params === "object" && params !== null && isEmpty(params)) return "{}";
  return keyOf(params);
}

function keyOf(v: unknown): string {
  switch (typeof v) {
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "t" : "f";
    case "object": {
      if (v === null) return "n";
      if (Array.isArray(v)) {
        let s = "[";
        for (let i = 0; i < v.length; i++) s += (i ? "," : "") + keyOf(v[i]);
        return `${s}]`;
      }
      let s = "{";
      for (const k in v) s += `${k}:${keyOf((v as Record<string, unknown>)[k])};`;
      return `${s}}`;
    }
    default:
      return String(v);
  }
}
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

export function dispatchNew(
  backend: Backend,
  exe: Executable,
  inputs: readonly ConcreteArray[],
  out: Aval,
  params: number[],
  label: string,
): ConcreteArray {
  const size = sizeOf(out.shape);
  const slot = backend.alloc(out.dtype, size);
  const result = new ConcreteArray(out, new DeviceBuffer(backend, slot, out.dtype, size, label));
  if (size > 0) {
    const ins = inputs.map((x) => x.buffer.slot);
    const ps = Int32Array.from(params);
    recorder()?.dispatch(exe, ins, [slot], ps);
    noteDispatch(exe, [slot], checkingNans);
    backend.dispatch(exe, ins, [slot], ps);
  }
  return result;
}

/**
 * Merges adjacent output dims that every input walks contiguously, so most elementwise kernels
 * run as one flat loop: returns the merged sizes and each input's merged strides.
 */
function collapse(shape: readonly number[], strides: number[][]): [number[], number[][]] {
  if (shape.length === 0) return [[], strides.map(() => [])];
  const outShape = [shape[0] as number];
  const outStrides = strides.map((s) => [s[0] as number]);
  for (let d = 1; d < shape.length; d++) {
    const n = shape[d] as number;
    const last = outShape.length - 1;
    const mergeable = strides.every((s, j) => (outStrides[j] as number[])[last] === (s[d] as number) * n);
    if (mergeable) {
      outShape[last] = (outShape[last] as number) * n;
      strides.forEach((s, j) => {
        (outStrides[j] as number[])[last] = s[d] as number;
      });
    } else {
      outShape.push(n);
      strides.forEach((s, j) => (outStrides[j] as number[]).push(s[d] as number));
    }
  }
  return [outShape, outStrides];
}

/** A literal that every code generator compiles exactly: a finite, non-zero number. */
function safeConstant(v: number | undefined): boolean {
  return v !== undefined && v !== 0 && Number.isFinite(v);
}

function runElementwise<K extends Primitive>(
  prim: K,
  low: Extract<Lowering<K>, { kind: "elementwise" }>,
  inputs: readonly ConcreteArray[],
  params: Params[K],
  out: Aval,
  backend: Backend,
): ConcreteArray {
  // In a jitted program (its run is being recorded) a JS number is compiled into the kernel as
  // a constant: no load, no binding. Eager kernels keep loading it, so a changing value (a
  // learning rate) does not compile a kernel per value.
  // Zeros and non-finite values stay loads: a shader compiler may fold x·0 to 0 (WGSL lets
  // implementations assume finite values), where IEEE arithmetic gives NaN for x = ±Inf.
  const inline = recorder()
    ? inputs.map((x) => (x.inlinable && x.dtype !== "float16" && safeConstant(x.literal) ? x.literal : undefined))
    : [];
  const read = inputs.filter((_, j) => inline[j] === undefined);
  const [shape, strides] = collapse(
    out.shape,
    read.map((x) => [...x.view.strides]),
  );
  const r = shape.length;
  const lits = inline.map((v, j) => (v === undefined ? "" : `${j}=${Object.is(v, -0) ? "-0" : v}`)).join(",");
  const key = `${prim}|${paramsKey(params)}|${inputs.map((x) => x.dtype).join(",")}|${r}${lits.replace(/,/g, "") ? `|lit:${lits}` : ""}`;
  const exe = compiled(backend, key, (): FusedKernel => {
    const loads: Load[] = read.map((_, j) => ({
      input: j,
      offset: P(r + j * (r + 1)),
      strides: range(r).map((d) => P(r + j * (r + 1) + 1 + d)),
    }));
    let k = 0;
    const expr = low.expr(
      inputs.map((x, j) => {
        const v = inline[j];
        return v === undefined ? load(k++, x.dtype) : constant(v, x.dtype);
      }),
      params,
      out,
    );
    return {
      kind: "fused",
      label: prim,
      inputs: read.map((x) => x.dtype),
      outputs: [out.dtype],
      outRank: r,
      loops: range(r).map(P),
      loads,
      expr,
    };
  });
  const args = [...shape];
  read.forEach((x, j) => args.push(x.view.offset, ...(strides[j] as number[])));
  return dispatchNew(backend, exe, read, out, args, prim);
}

function runReduce<K extends Primitive>(
  prim: K,
  low: Extract<Lowering<K>, { kind: "reduce" }>,
  x: ConcreteArray,
  params: Params[K],
  out: Aval,
  backend: Backend,
): ConcreteArray {
  const axes = low.axes(params);
  const kept = range(x.ndim).filter((d) => !axes.includes(d));
  const order = [...kept, ...axes];
  const r = kept.length;
  const nl = order.length;
  const key = `${prim}|${x.dtype}|${r}|${nl}`;
  const exe = compiled(
    backend,
    key,
    (): FusedKernel => ({
      kind: "fused",
      label: prim,
      inputs: [x.dtype],
      outputs: [out.dtype],
      outRank: r,
      loops: range(nl).map(P),
      loads: [{ input: 0, offset: P(nl), strides: range(nl).map((d) => P(nl + 1 + d)) }],
      expr: load(0, x.dtype),
      reduce: low.op,
    }),
  );
  const args = [
    ...order.map((d) => x.shape[d] as number),
    x.view.offset,
    ...order.map((d) => x.view.strides[d] as number),
  ];
  return dispatchNew(backend, exe, [x], out, args, prim);
}

/** A new array over `x`'s buffer with another view (no copy). */
export function viewOf(x: ConcreteArray, out: Aval, view: View): ConcreteArray {
  x.buffer.retain();
  const v = new ConcreteArray(out, x.buffer, view);
  // Every element of a view of a literal scalar is that literal (a broadcast JS number).
  if (x.literal !== undefined) {
    v.literal = x.literal;
    v.inlinable = x.inlinable;
  }
  return v;
}

/** A contiguous copy of any view. */
export function materialize(x: ConcreteArray): ConcreteArray {
  return evalPrimitive("copy", [x], {})[0] as ConcreteArray;
}
setMaterialize(materialize);

/** `x` seen through `view(x.view)`, copying `x` to contiguous first when the view needs it. */
function reviewed(x: ConcreteArray, out: Aval, view: (v: View) => View | null): ConcreteArray {
  const v = view(x.view);
  if (v) return viewOf(x, out, v);
  const c = materialize(x);
  const v2 = view(c.view);
  if (!v2) throw new Error(`internal: view of a contiguous array failed for ${out.shape}`);
  const result = viewOf(c, out, v2);
  c.dispose();
  return result;
}

/** Compiles (cached by `key`) and dispatches a kernel writing one new array of `out`, without params. */
export function dispatchKernel(
  backend: Backend,
  key: string,
  build: () => Kernel,
  inputs: readonly ConcreteArray[],
  out: Aval,
  label: string,
): ConcreteArray {
  return dispatchNew(backend, compiled(backend, key, build), inputs, out, [], label);
}

/** `dispatchKernel` of a multi-output kernel: one new array per aval of `outs`, written by one dispatch. */
export function dispatchKernels(
  backend: Backend,
  key: string,
  build: () => Kernel,
  inputs: readonly ConcreteArray[],
  outs: readonly Aval[],
  label: string,
): ConcreteArray[] {
  const exe = compiled(backend, key, build);
  const results = outs.map((a) => {
    const size = sizeOf(a.shape);
    return new ConcreteArray(a, new DeviceBuffer(backend, backend.alloc(a.dtype, size), a.dtype, size, label));
  });
  if ((results[0] as ConcreteArray).size > 0) {
    const ins = inputs.map((x) => x.buffer.slot);
    const slots = results.map((r) => r.buffer.slot);
    const ps = new Int32Array(0);
    recorder()?.dispatch(exe, ins, slots, ps);
    noteDispatch(exe, slots, checkingNans);
    backend.dispatch(exe, ins, slots, ps);
  }
  return results;
}

/**
 * A `loads` lowering eagerly: loops over the output shape; each input's shape, offset and
 * strides are params, so the kernel is shape-generic like the elementwise ones.
 * Params: [out shape…, then per input: offset, strides…, shape…].
 */
function runLoads<K extends Primitive>(
  prim: K,
  low: Extract<Lowering<K>, { kind: "loads" }>,
  inputs: readonly ConcreteArray[],
  params: Params[K],
  out: Aval,
  backend: Backend,
): ConcreteArray {
  if (low.asDot && backend.gemmDtypes?.includes(out.dtype)) {
    const plan = low.asDot(
      inputs.map((x) => x.aval),
      params,
      out,
      inputs.map((x) => x.view.strides),
    );
    if (plan && sizeOf(plan.gathered.shape) * itemSize(out.dtype) <= (backend.maxBindingBytes ?? Infinity)) {
      return runDotPlan(plan, paramsKey(params), inputs, out, backend);
    }
  }
  return runLoadsKernel(prim, paramsKey(params), (lin) => low.kernel(lin, params, out), inputs, out, backend);
}

/**
 * A primitive as a gather kernel over input 0 and a `dot_general` with a view of input 1; with
 * `epi` (jit's fusion, rule 5c), the matmul maps its product through a fused epilogue.
 */
export function runDotPlan(
  plan: DotPlan,
  key: string,
  inputs: readonly ConcreteArray[],
  out: Aval,
  backend: Backend,
  epi?: { epilogue: DotEpilogue | null; inputs: readonly ConcreteArray[]; label: string },
  /** Input 0 is the gathered array already (computed with a fused prologue). */
  gathered0 = false,
): ConcreteArray {
  const [x, y] = inputs as [ConcreteArray, ConcreteArray];
  // The operands keep their dtype (an epilogue's output may have another).
  const aval = (shape: readonly number[], dtype = out.dtype): Aval => ({
    shape: [...shape],
    dtype,
    weakType: out.weakType,
  });
  const gathered = gathered0
    ? x.retained()
    : runLoadsKernel(
        plan.label,
        `${key}|${plan.key}`,
        ([l]) => plan.gathered.kernel(l as LoweringInput),
        [x],
        aval(plan.gathered.shape, x.dtype),
        backend,
      );
  const t = transposeView(y.view, plan.other.perm);
  const moved = viewOf(y, aval(t.shape, y.dtype), t);
  const other = reviewed(moved, aval(plan.other.shape, y.dtype), (v) => reshapeView(v, plan.other.shape));
  moved.dispose();
  const [lhs, rhs] = plan.gatheredFirst ? [gathered, other] : [other, gathered];
  const dims = plan.dims;
  const dotShape = [
    ...dims.batch[0].map((d) => lhs.shape[d] as number),
    ...freeDims(lhs.ndim, dims.contracting[0], dims.batch[0]).map((d) => lhs.shape[d] as number),
    ...freeDims(rhs.ndim, dims.contracting[1], dims.batch[1]).map((d) => rhs.shape[d] as number),
  ];
  const product = runDot(dims, lhs, rhs, aval(dotShape), backend, epi);
  gathered.dispose();
  other.dispose();
  const shaped = reviewed(product, aval(plan.result.shape), (v) => reshapeView(v, plan.result.shape));
  product.dispose();
  const result = reviewed(shaped, out, (v) => transposeView(v, plan.result.perm));
  shaped.dispose();
  return result;
}

function runLoadsKernel(
  label: string,
  paramKey: string,
  kernel: (inputs: readonly LoweringInput[]) => LoadsKernel,
  inputs: readonly ConcreteArray[],
  out: Aval,
  backend: Backend,
): ConcreteArray {
  const r = out.shape.length;
  const key = `${label}|${paramKey}|${inputs.map((x) => `${x.dtype}${x.ndim}`).join(",")}|${r}`;
  const exe = compiled(backend, key, (): FusedKernel => {
    let at = r;
    const reads = new KernelLoads();
    const lin: LoweringInput[] = inputs.map((x, i) => {
      const base = at;
      at += 1 + 2 * x.ndim;
      const layout = { offset: P(base), strides: range(x.ndim).map((d) => P(base + 1 + d)) };
      const shape = range(x.ndim).map((d) => param(base + 1 + x.ndim + d));
      return reads.input(
        i,
        x.aval,
        layout,
        shape,
        range(x.ndim).map((d) => P(base + 1 + x.ndim + d)),
      );
    });
    const { expr, reduce, post } = kernel(lin);
    const loads = reads.finish(r + (reduce?.sizes.length ?? 0));
    return {
      kind: "fused",
      label,
      inputs: inputs.map((x) => x.dtype),
      outputs: [out.dtype],
      outRank: r,
      loops: [...range(r).map(P), ...(reduce?.sizes ?? [])],
      loads,
      expr,
      ...(reduce ? { reduce: reduce.op } : {}),
      ...(post ? { post } : {}),
    };
  });
  const args = [...out.shape];
  for (const x of inputs) args.push(x.view.offset, ...x.view.strides, ...x.shape);
  return dispatchNew(backend, exe, inputs, out, args, label);
}

/**
 * A routine eagerly: its inputs as contiguous buffers (float16 widened to float32, exactly;
 * the lowering's `views` as they are, their offsets and strides appended to the params),
 * one dispatch writing every output, float16 outputs narrowed back. The spec is the compile
 * key; sizes travel as params, so a new shape (or topK's k) compiles nothing.
 */
function runRoutine<K extends Primitive>(
  prim: K,
  low: Extract<Lowering<K>, { kind: "routine" }>,
  inputs: readonly ConcreteArray[],
  params: Params[K],
  outs: readonly Aval[],
  backend: Backend,
): ConcreteArray[] {
  const temps: ConcreteArray[] = [];
  const views = low.views ?? [];
  const prepared = inputs.map((x, i) => {
    let y = x;
    if (y.dtype === "float16") {
      y = evalPrimitive("convert_element_type", [y], { newDtype: "float32", weakType: y.weakType })[0] as ConcreteArray;
      temps.push(y);
    } else if (!views.includes(i) && !isContiguous(y.view)) {
      y = materialize(y);
      temps.push(y);
    }
    return y;
  });
  const wide = outs.map((a) => (a.dtype === "float16" ? { ...a, dtype: "float32" as const } : a));
  try {
    const call = low.routine(
      prepared.map((x) => x.aval),
      params,
      wide,
    );
    const exe = compiled(
      backend,
      `routine|${prim}|${paramsKey(call.spec)}`,
      (): RoutineKernel => ({
        kind: "routine",
        label: prim,
        inputs: prepared.map((x) => x.dtype),
        outputs: wide.map((a) => a.dtype),
        routine: call.spec,
      }),
    );
    const results = wide.map((a) => {
      const size = sizeOf(a.shape);
      return new ConcreteArray(a, new DeviceBuffer(backend, backend.alloc(a.dtype, size), a.dtype, size, prim));
    });
    if (results.some((r) => r.size > 0)) {
      try {
        const ins = prepared.map((x) => x.buffer.slot);
        const outSlots = results.map((r) => r.buffer.slot);
        const ps = Int32Array.from([
          ...call.params,
          ...views.flatMap((i) => {
            const v = (prepared[i] as ConcreteArray).view;
            return [v.offset, ...v.strides];
          }),
        ]);
        recorder()?.dispatch(exe, ins, outSlots, ps);
        noteDispatch(exe, outSlots, checkingNans);
        backend.dispatch(exe, ins, outSlots, ps);
      } catch (e) {
        for (const r of results) r.dispose();
        throw e;
      }
    }
    return results.map((r, i) => {
      const want = outs[i] as Aval;
      if (want.dtype === r.dtype) return r;
      const narrowed = evalPrimitive("convert_element_type", [r], { newDtype: want.dtype, weakType: want.weakType });
      r.dispose();
      return narrowed[0] as ConcreteArray;
    });
  } finally {
    for (const t of temps) t.dispose();
  }
}

/** The backend of the jitted program being run: where its operand-free equations (iota) run. */
let programBackend: Backend | null = null;

/** Runs `f` with operand-free primitives placed on `backend` (a program's, not the default). */
export function withProgramBackend<T>(backend: Backend | null, f: () => T): T {
  const prev = programBackend;
  programBackend = backend;
  try {
    return f();
  } finally {
    programBackend = prev;
  }
}

/** Evaluates one primitive on concrete arrays (the EvalTrace's rule). */
export function evalPrimitive<K extends Primitive>(
  prim: K,
  inputs: readonly ConcreteArray[],
  params: Params[K],
): ConcreteArray[] {
  const def = (registry as unknown as Record<K, PrimitiveDef<K>>)[prim];
  const outs = def.abstractEval(
    inputs.map((x) => x.aval),
    params,
  );
  checkSameBackend(prim, inputs);
  const out = outs[0] as Aval;
  const backend = inputs[0]?.backend ?? programBackend ?? getBackend();
  const low = def.lowering;
  switch (low.kind) {
    case "routine":
      return runRoutine(prim, low, inputs, params, outs, backend);
    case "elementwise":
      return [runElementwise(prim, low, inputs, params, out, backend)];
    case "reduce":
      return [runReduce(prim, low, inputs[0] as ConcreteArray, params, out, backend)];
    case "view":
      return [reviewed(inputs[0] as ConcreteArray, out, (v) => low.view(v, params))];
    case "loads":
      return [runLoads(prim, low, inputs, params, out, backend)];
    case "dot":
      return [runDot(low.dims(params), inputs[0] as ConcreteArray, inputs[1] as ConcreteArray, out, backend)];
    case "impl":
      return low.impl(inputs, params) as ConcreteArray[];
  }
}
