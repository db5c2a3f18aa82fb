/**
 * jit: trace a function once per signature into a program and run the program on later calls
 * without re-entering the user's JS (so JS side effects happen at trace time only).
 *
 * The signature is the arguments' tree structure, each array leaf's shape, dtype, weak type and
 * backend, the values of static leaves (booleans, strings: `{ train: true }` and `{ train:
 * false }` are two programs) and of `staticArgnums` arguments. JS numbers are weak scalars
 * traced as inputs — int32 for integers, float32 otherwise, as eager ops type them — so a
 * changing learning rate or step counter does not recompile.
 * Under another transform (grad, vmap) the cached program is evaluated under that transform's
 * trace; inside a staged function (another jit, makeJaxpr) jit inlines.
 */
import { Array } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { getBackend } from "../backend/registry.js";
import { type Aval, aval } from "../core/aval.js";
import { tracingSites } from "../core/call-sites.js";
import { ConcreteArray, nextArraySerial } from "../core/concrete.js";
import { checkingNans, checkJitted, quietly } from "../core/debug-nans.js";
import { later } from "../core/effects.js";
import { type ClosedJaxpr, evalJaxpr } from "../core/jaxpr.js";
import { checkIfEnabled } from "../core/jaxpr-check.js";
import { fmtType } from "../core/jaxpr-print.js";
import { type Lowered, lowerProgram } from "../core/lower.js";
import { profiling, THREAD, traceNow, traceSpan } from "../core/profiler.js";
import { Program, setFusion } from "../core/program.js";
import { stage } from "../core/staging.js";
import { bind, currentStager, Tracer } from "../core/trace.js";
import { TracerError, WebjaxError } from "../errors.js";
import { LruCache } from "../lru.js";
import { scalar } from "../numpy/convert.js";
import { checkOptions } from "../numpy/options.js";
import { flattenWithPathAs } from "../tree/flatten.js";
import type { TreeDef } from "../tree/treedef.js";
import type { AnyFn } from "./autodiff.js";
import { arrayLeaves, checkSync, owned } from "./leaves.js";

export interface JitOptions {
  /** Arguments that are part of the signature by value (a new value compiles a new program). */
  staticArgnums?: number | readonly number[];
  /** Arguments whose buffers the call may consume: the passed arrays can no longer be used after it. */
  donateArgnums?: number | readonly number[];
  /** Programs kept per function (least recently used dropped past it); default 64. */
  cacheSize?: number;
}

/** One (re)compile: which function, why, and how long tracing took. */
export interface CompileEvent {
  readonly fn: string;
  readonly reason: string;
  readonly ms: number;
}

let logCompiles: boolean | ((e: CompileEvent) => void) = false;

/** jit's settings: `logCompiles` prints every (re)compile with its reason (or calls your function with it). */
export function configureJit(o: { logCompiles?: boolean | ((e: CompileEvent) => void); fusion?: boolean }): void {
  checkOptions("configureJit", o, ["logCompiles", "fusion"]);
  if (o.logCompiles !== undefined) logCompiles = o.logCompiles;
  // Off: every equation runs as its own eager kernel (to compare, or to bisect a fusion bug).
  if (o.fusion !== undefined) setFusion(o.fusion);
}

const caches = new Set<WeakRef<LruCache<string, Entry>>>();

/** Drops every jitted function's compiled programs (they recompile on their next call). */
export function clearCaches(): void {
  for (const ref of caches) {
    const c = ref.deref();
    if (c) c.clear();
    else caches.delete(ref);
  }
}

/** A jitted function: f's signature, plus its cache. */
export type Jitted<F extends AnyFn> = F & {
  /** Drops this function's compiled programs. */
  clearCache(): void;
  /** Programs cached now. */
  readonly cacheSize: number;
  /**
   * The program's kernels for these arguments (running it once, outputs discarded, nothing
   * donated): each kernel's label, the equations it covers, its inputs and output;
   * `String(lowered)` prints them, `lowered.text({ code: true })` adds the generated code.
   */
  lower(...args: Parameters<F>): Lowered;
  /**
   * Traces and plans f for these arguments and builds its kernels without running them —
   * asynchronously on WebGPU (`createComputePipelineAsync`), so a page does not stall — and
   * resolves when they are ready: the first call with arguments like these compiles nothing.
   * Nothing is donated.
   */
  compile(...args: Parameters<F>): Promise<void>;
  /** Times f has been traced (once per new signature). */
  readonly traceCount: number;
};

interface Entry {
  readonly closed: ClosedJaxpr;
  readonly program: Program;
  readonly outDef: TreeDef;
}

/** What a call looks like: the pieces of its cache key, kept to explain the next recompile. */
interface Signature {
  readonly key: string;
  readonly def: TreeDef;
  /** Per leaf: its argument's index, its path inside it, and its description. */
  readonly leaves: readonly { arg: number; path: string; desc: string }[];
  readonly statics: readonly { arg: number; key: string }[];
}

const argnums = (op: string, what: string, v: number | readonly number[] | undefined): number[] => {
  const list = v === undefined ? [] : typeof v === "number" ? [v] : [...v];
  for (const n of list) {
    if (!Number.isInteger(n)) throw new TracerError(`${op}: ${what} must be integers, got ${n}`);
  }
  return list;
};

let nextObjectId = 0;
const objectIds = new WeakMap<object, number>();

/** A static argument's part of the key: plain data by value, functions and class instances by identity. */
function staticKey(v: unknown): string {
  if (v === null || v === undefined || typeof v !== "object") {
    if (typeof v === "function") return `f${idOf(v)}`;
    if (typeof v === "string") return `s${JSON.stringify(v)}`;
    if (typeof v === "number") return `n${Object.is(v, -0) ? "-0" : String(v)}`;
    return `${typeof v}:${String(v)}`;
  }
  if (globalThis.Array.isArray(v)) return `[${v.map(staticKey).join(",")}]`;
  if (Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${staticKey((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return `o${idOf(v)}`;
}

function idOf(o: object): number {
  let id = objectIds.get(o);
  if (id === undefined) {
    id = nextObjectId++;
    objectIds.set(o, id);
  }
  return id;
}

function fmtStatic(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : typeof v === "function" ? "a function" : String(v);
}

/** JS numbers as eager ops see them: an integer in int32's range is a weak int32, else a weak float32. */
const isInt32 = (x: number) => Number.isInteger(x) && x >= -2147483648 && x <= 2147483647;
const numberDtype = (x: number) => (isInt32(x) ? "int32" : "float32");

const leafDesc = (x: unknown, backend: Backend | null): string => {
  if (x instanceof Array)
    return `${fmtType(x.aval)}${x.weakType ? "(weak)" : ""}@${x.backendHint()?.name ?? backend?.name}`;
  if (typeof x === "number") return isInt32(x) ? "a JS integer" : "a JS number";
  if (typeof x === "string") return `string ${JSON.stringify(x)}`;
  return `${typeof x} ${fmtStatic(x)}`;
};

/** Why `now` missed the cache, given the previous call's signature. */
function reasonFor(now: Signature, prev: Signature | undefined): string {
  if (!prev) return "first call";
  for (const s of now.statics) {
    const p = prev.statics.find((q) => q.arg === s.arg);
    if (!p || p.key !== s.key) return `new value for static argument ${s.arg}`;
  }
  if (!now.def.equals(prev.def)) return `new tree structure of the arguments: ${now.def} (was ${prev.def})`;
  for (let i = 0; i < now.leaves.length; i++) {
    const a = now.leaves[i] as Signature["leaves"][number];
    const b = prev.leaves[i];
    if (b && a.desc !== b.desc) {
      const where = `argument ${a.arg}${a.path ? ` at ${a.path}` : ""}`;
      const [ta, tb] = [a.desc.split("@")[0] as string, b.desc.split("@")[0] as string];
      const kind =
        a.desc.startsWith("boolean") || a.desc.startsWith("string")
          ? "value"
          : ta.split("[")[0] !== tb.split("[")[0]
            ? "dtype"
            : ta !== tb
              ? "shape"
              : "backend";
      return `new ${kind} for ${where}: ${a.desc.replace(/@.*$/, "")} (was ${b.desc.replace(/@.*$/, "")})`;
    }
  }
  return "the cached program was evicted";
}

/**
 * `f` compiled (jax.jit): traced once per signature, then run as its program. Options:
 * `staticArgnums` (arguments keyed by value, e.g. an activation name), `donateArgnums`
 * (arguments whose buffers the call may reuse; the passed arrays are poisoned), `cacheSize`.
 *
 * @example
 * const step = jit((params, x, y, lr) => tree.map((p, g) => p.sub(g.mul(lr)), params, grad(loss)(params, x, y)),
 *   { donateArgnums: 0 });
 */
export function jit<F extends AnyFn>(f: F, opts: JitOptions = {}): Jitted<F> {
  if (typeof f !== "function") throw new TracerError(`jit: expected a function, got ${typeof f}`);
  checkOptions(
    "jit",
    opts,
    ["staticArgnums", "donateArgnums", "cacheSize"],
    "jit(f, { staticArgnums, donateArgnums })",
  );
  const name = `jit(${f.name || "fn"})`;
  const staticNums = argnums("jit", "staticArgnums", opts.staticArgnums);
  const donateNums = argnums("jit", "donateArgnums", opts.donateArgnums);
  const cache = new LruCache<string, Entry>(opts.cacheSize ?? 64, (e) => e.closed.dispose());
  caches.add(new WeakRef(cache));
  let prev: Signature | undefined;
  // Tree structures seen, by structural equality (a TreeDef's display string abbreviates).
  const defs: TreeDef[] = [];
  const defId = (d: TreeDef): number => {
    let i = defs.findIndex((e) => e.equals(d));
    if (i < 0) {
      i = defs.length;
      defs.push(d);
    }
    return i;
  };
  let traces = 0;
  let warned = false;

  /** The call's program (traced on a new signature) and its flat inputs. */
  const prepare = (args: unknown[]) => {
    const n = args.length;
    const norm = (i: number) => (i < 0 ? i + n : i);
    const statics = new Set(staticNums.map(norm));
    const donated = new Set(donateNums.map(norm));
    for (const i of donated) {
      if (statics.has(i)) throw new TracerError(`${name}: argument ${i} is both static and donated`);
    }
    const traced: number[] = [];
    for (let i = 0; i < n; i++) if (!statics.has(i)) traced.push(i);
    const [withPath, def] = flattenWithPathAs(
      name,
      traced.map((i) => args[i]),
    );
    const arrays = withPath.map(([, x]) => x).filter((x): x is Array => x instanceof Array);
    const backend = arrays.map((x) => x.backendHint()).find((b) => b) ?? getBackend();
    const leaves = withPath.map(([path, x]) => {
      const [head, ...rest] = path.split("/");
      return { arg: traced[Number(head)] as number, path: rest.join("/"), desc: leafDesc(x, backend), x };
    });
    const staticParts = [...statics].sort((a, b) => a - b).map((i) => ({ arg: i, key: staticKey(args[i]) }));
    const key = `${defId(def)}|${leaves.map((l) => l.desc).join(";")}|${staticParts.map((s) => `${s.arg}=${s.key}`).join(";")}|${idOf(backend)}`;
    const sig: Signature = { key, def, leaves, statics: staticParts };
    const dynamic = leaves.filter((l) => l.x instanceof Array || typeof l.x === "number");

    let entry = cache.get(key);
    let lifted: Array[] = [];
    if (!entry) {
      const t0 = performance.now();
      const avals: Aval[] = dynamic.map((l) =>
        l.x instanceof Array ? l.x.aval : aval([], numberDtype(l.x as number), true),
      );
      let outDef: TreeDef | undefined;
      let staged: { closed: ClosedJaxpr; lifted: Array[] };
      try {
        // Every equation notes the user's line that staged it (core/call-sites.ts).
        staged = tracingSites(() =>
          stage(
            name,
            (xs) => {
              let k = 0;
              const leafVals = leaves.map((l) => (l.x instanceof Array || typeof l.x === "number" ? xs[k++] : l.x));
              const tracedArgs = def.unflatten(leafVals) as unknown[];
              const full = args.slice();
              traced.forEach((i, j) => {
                full[i] = tracedArgs[j];
              });
              const out = f(...full);
              checkSync(name, out);
              const o = arrayLeaves(name, "the function's output", out);
              outDef = o.def;
              return o.leaves;
            },
            avals,
            backend,
          ),
        );
      } catch (e) {
        if (e instanceof WebjaxError && !e.message.startsWith(name)) e.message = `${name}: ${e.message}`;
        throw e;
      }
      traces++;
      checkIfEnabled(staged.closed, `${name}'s program`);
      const donatedMask = dynamic.map((l) => donated.has(l.arg));
      entry = { closed: staged.closed, program: new Program(staged.closed, donatedMask), outDef: outDef as TreeDef };
      lifted = staged.lifted;
      // A program that reads an enclosing transform's values is that transform's alone: not cached.
      if (lifted.length === 0) cache.set(key, entry);
      const event = { fn: name, reason: reasonFor(sig, prev), ms: performance.now() - t0 };
      if (profiling())
        traceSpan(`trace ${name}`, "compile", THREAD.host, traceNow() - event.ms * 1000, { reason: event.reason });
      if (typeof logCompiles === "function") logCompiles(event);
      else if (logCompiles) console.info(`${name}: compiled in ${event.ms.toFixed(1)} ms (${event.reason})`);
    }
    prev = sig;

    const made: ConcreteArray[] = [];
    const inputs = dynamic.map((l) => {
      if (l.x instanceof Array) return l.x;
      const s = scalar(l.x as number, numberDtype(l.x as number), true, backend);
      if (s instanceof ConcreteArray) made.push(s);
      return s;
    });
    return { entry, lifted, inputs, made, dynamic, donated };
  };

  const call = (...args: unknown[]): unknown => {
    // Inside a staged function jit inlines: the enclosing program records f's operations.
    if (currentStager()) return f(...args);
    const { entry, lifted, inputs, made, dynamic, donated } = prepare(args);
    const mark = nextArraySerial();
    if (lifted.length > 0 || inputs.some((x) => x instanceof Tracer)) {
      // Under an enclosing transform: the program is evaluated under its trace (grad(jit(f))
      // differentiates the program, vmap(jit(f)) batches it); donation does not apply.
      const outs = owned(evalJaxpr(entry.closed, [...lifted, ...inputs]), mark);
      if (lifted.length > 0) entry.closed.dispose();
      return entry.outDef.unflatten(outs);
    }
    // The same array twice where one is donated would free it under the other.
    const seen = new Map<Array, number>();
    dynamic.forEach((l, i) => {
      const x = inputs[i];
      if (!(x instanceof ConcreteArray)) return;
      const j = seen.get(x);
      if (j !== undefined && (donated.has(l.arg) || donated.has((dynamic[j] as { arg: number }).arg))) {
        const at = (k: number) => `argument ${dynamic[k]?.arg}${dynamic[k]?.path ? ` at ${dynamic[k]?.path}` : ""}`;
        throw new TracerError(
          `${name}: the same array is passed twice (${at(j)} and ${at(i)}) and donated; donate distinct arrays (copy one with np.array(x))`,
        );
      }
      seen.set(x, i);
    });
    // A donated buffer that another array also holds cannot be reused (checked before anything
    // runs: kernels queued by this call hold references of their own).
    dynamic.forEach((l, i) => {
      const x = inputs[i];
      if (!warned && donated.has(l.arg) && x instanceof ConcreteArray && x.buffer.refCount > 1) {
        warned = true;
        console.warn(
          `${name}: donated argument ${l.arg} shares its buffer with another array, so it cannot be reused; ` +
            "donate arrays nothing else holds",
        );
      }
    });
    const donate = (x: ConcreteArray) => {
      x.donatedTo = name;
      x.dispose();
    };
    // The NaN checker keeps the inputs (nothing donated) to run the program again op by op.
    const checking = checkingNans();
    const t0 = profiling() ? traceNow() : -1;
    const outs = checking ? quietly(() => entry.program.run(inputs, () => {})) : entry.program.run(inputs, donate);
    if (t0 >= 0) traceSpan(name, "program", THREAD.host, t0);
    if (checking) {
      try {
        checkJitted(
          name,
          entry.closed,
          inputs,
          outs,
          (prim, xs, params) => quietly(() => bind(prim, xs, params)),
          later,
        );
      } catch (e) {
        // The error is the call's result: its outputs (and the scalars it made) go now.
        for (const o of new Set(outs)) if (o instanceof ConcreteArray && !inputs.includes(o)) o.dispose();
        for (const s of made) s.dispose();
        throw e;
      }
    }
    const result = owned(outs, mark);
    // Donated inputs the program kept to the end (returned, or never read) are released now:
    // an output that was one holds its own handle on the buffer.
    dynamic.forEach((l, i) => {
      const x = inputs[i];
      if (!checking && donated.has(l.arg) && x instanceof ConcreteArray && !x.disposed && !made.includes(x)) donate(x);
    });
    for (const s of made) if (!result.includes(s)) s.dispose();
    return entry.outDef.unflatten(result);
  };
  const jitted = call as Jitted<F>;
  Object.defineProperties(jitted, {
    name: { value: name },
    toString: { value: () => `${name} (a jitted function)` },
    clearCache: { value: () => cache.clear() },
    cacheSize: { get: () => cache.size },
    traceCount: { get: () => traces },
    lower: {
      value: (...args: unknown[]) => {
        if (currentStager()) throw new TracerError(`${name}.lower: called inside a traced function`);
        const { entry, lifted, inputs, made } = prepare(args);
        if (lifted.length > 0 || inputs.some((x) => !(x instanceof ConcreteArray)))
          throw new TracerError(`${name}.lower: takes concrete arguments (not tracers of an enclosing transform)`);
        try {
          return lowerProgram(name, entry.program, inputs as ConcreteArray[]);
        } finally {
          for (const s of made) s.dispose();
        }
      },
    },
    compile: {
      value: async (...args: Parameters<F>): Promise<void> => {
        if (currentStager()) throw new TracerError(`${name}.compile: called inside a traced function`);
        const { entry, lifted, inputs, made } = prepare(args);
        try {
          if (lifted.length > 0 || inputs.some((x) => !(x instanceof ConcreteArray)))
            throw new TracerError(`${name}.compile: takes concrete arguments (not tracers of an enclosing transform)`);
          await entry.program.prepare(inputs as ConcreteArray[]);
        } finally {
          for (const s of made) s.dispose();
        }
      },
    },
  });
  return jitted;
}
