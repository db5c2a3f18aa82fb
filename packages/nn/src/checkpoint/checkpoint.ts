/**
 * Checkpoints of whole pytrees (params, batch-norm state, optimiser state, step counters, PRNG
 * keys) as safetensors files, readable by PyTorch's and JAX's `safetensors` packages.
 *
 * A tensor's name is its tree path with `.` between levels, as PyTorch's `state_dict` names
 * them: `{ params: { dense_0: { kernel } } }` gives `params.dense_0.kernel`, list items go by
 * index (`opt.0.mu.dense_0.kernel`). The tree's structure is not stored: loading takes a
 * template (the freshly initialised tree, or `evalShape` of the init) and checks the file
 * against all of it before creating any array.
 */
import { type DType, Array as JArray, np, ShapeDtypeStruct, tree } from "@webjax/core";
import * as E from "fp-ts/lib/Either.js";
import type * as NEA from "fp-ts/lib/NonEmptyArray.js";
import * as RA from "fp-ts/lib/ReadonlyArray.js";
import {
  CheckpointError,
  encodeSafetensors,
  float16Bits,
  leBytes,
  parseSafetensors,
  type SafeDType,
  type SafetensorsFile,
  type TensorEntry,
  type TensorRecord,
  tensorValues,
  throwProblems,
  Validation,
  validateAll,
} from "./safetensors.js";

/** Options of `encodeCheckpoint`, `saveCheckpoint` and `checkpointBlob`. */
export interface CheckpointOptions {
  /** String key–values stored in the file's `__metadata__` (read back with `checkpointMetadata`). */
  metadata?: Record<string, string>;
}

/** What `loadCheckpoint` reads: a file path (Node only), a Blob or File, or the file's bytes. */
export type CheckpointSource = string | Blob | Uint8Array | ArrayBuffer;

const SAFE_OF: Record<DType, SafeDType> = {
  float32: "F32",
  float16: "F16",
  float64: "F64",
  int32: "I32",
  uint32: "U32",
  bool: "BOOL",
};

/**
 * The file dtypes each template dtype accepts: its own, plus BF16 → float32 (exact), F64 → float32 (rounded, as
 * JAX does without x64) and I64 → int32 (each value checked to fit).
 */
const LOADS_FROM: Record<DType, readonly SafeDType[]> = {
  float32: ["F32", "BF16", "F64"],
  float16: ["F16"],
  float64: ["F64"],
  int32: ["I32", "I64"],
  uint32: ["U32"],
  bool: ["BOOL"],
};
/** The file dtypes a JS-number template leaf accepts (0-d). */
const NUMBER_FROM: readonly SafeDType[] = ["I64", "F64", "I32", "U32", "F32", "F16", "BF16"];

/** A pytree path (`a/b/0`) as a tensor name (`a.b.0`). */
const tensorName = (path: string): string => path.replaceAll("/", ".");
const fmt = (dtype: string, shape: readonly number[]) => `${dtype}[${shape.join(",")}]`;
const show = (s: string) => JSON.stringify(s);

/** The names of a tree's leaves, checked unique and not reserved. */
function leafNames(op: string, t: unknown): { names: string[]; leaves: unknown[]; def: tree.TreeDef } {
  const [pairs, def] = tree.flattenWithPath(t);
  const names = pairs.map(([p]) => tensorName(p));
  const seen = new Map<string, string>();
  const problems: string[] = [];
  pairs.forEach(([p], i) => {
    const name = names[i] as string;
    if (name === "__metadata__") problems.push(`${p}: the name __metadata__ is reserved by safetensors`);
    const first = seen.get(name);
    if (first !== undefined) problems.push(`${first} and ${p} would both be stored as ${show(name)}`);
    else seen.set(name, p);
  });
  if (problems.length > 0) throwProblems(op, "the tree's paths do not give unique tensor names", problems);
  return { names, leaves: pairs.map(([, x]) => x), def };
}

/** One leaf's tensor: arrays as their dtype, integers as a 0-d I64, other numbers as a 0-d F64, booleans as BOOL. */
async function leafRecord(name: string, x: unknown): Promise<TensorRecord> {
  if (typeof x === "boolean") return { name, dtype: "BOOL", shape: [], bytes: Uint8Array.of(x ? 1 : 0) };
  if (typeof x === "number") {
    const int = Number.isSafeInteger(x) && !Object.is(x, -0);
    const bytes = leBytes(int ? BigInt64Array.of(BigInt(x)) : Float64Array.of(x));
    return { name, dtype: int ? "I64" : "F64", shape: [], bytes };
  }
  const a = x as JArray;
  const values = await a.data();
  const bytes = a.dtype === "float16" ? leBytes(float16Bits(values as Float32Array)) : leBytes(values);
  return { name, dtype: SAFE_OF[a.dtype], shape: a.shape, bytes };
}

/** Why a leaf cannot be saved, or null: only concrete Arrays, numbers and booleans can. */
function unsavable(x: unknown): string | null {
  if (x instanceof ShapeDtypeStruct) return `is a ShapeDtypeStruct (${x}), which has no values to save`;
  if (typeof x === "number" || typeof x === "boolean" || x instanceof JArray) return null;
  return `is a ${typeof x} (${String(x).slice(0, 40)}); only Arrays, numbers and booleans can be saved`;
}

/**
 * The bytes of a safetensors file holding every leaf of `t`, named by its path with `.`
 * between levels (`params.dense_0.kernel`). Arrays keep their dtype (F32, F16, F64, I32, U32,
 * BOOL); a JS number is a 0-d I64 when it is a safe integer (a step counter), else a 0-d F64,
 * so every number comes back exactly; a boolean is a 0-d BOOL. `metadata` goes into the
 * header's `__metadata__`. The tree's structure is not stored: `decodeCheckpoint` takes a
 * template.
 *
 * @example
 * const bytes = await encodeCheckpoint({ params, state, opt: optState, step: 1200, key });
 * // Python: safetensors.numpy.load(bytes)["params.dense_0.kernel"]
 */
export async function encodeCheckpoint(t: unknown, opts: CheckpointOptions = {}): Promise<Uint8Array<ArrayBuffer>> {
  const op = "encodeCheckpoint";
  const { names, leaves } = leafNames(op, t);
  const problems = leaves.flatMap((x, i) => {
    const why = unsavable(x);
    return why === null ? [] : [`${names[i]} ${why}`];
  });
  for (const [k, v] of Object.entries(opts.metadata ?? {}))
    if (typeof v !== "string") problems.push(`metadata ${show(k)} is a ${typeof v}; metadata values must be strings`);
  if (problems.length > 0) throwProblems(op, "cannot save this tree", problems);
  const records = await Promise.all(leaves.map((x, i) => leafRecord(names[i] as string, x)));
  return encodeSafetensors(records, opts.metadata ?? {});
}

/** What a template leaf asks for. */
type Want =
  | { readonly kind: "array"; readonly dtype: DType; readonly shape: readonly number[] }
  | { readonly kind: "number" }
  | { readonly kind: "boolean" };

const wantOf = (x: unknown): Want | null =>
  x instanceof JArray
    ? { kind: "array", dtype: x.dtype, shape: x.shape }
    : typeof x === "number"
      ? { kind: "number" }
      : typeof x === "boolean"
        ? { kind: "boolean" }
        : null;

const describeWant = (w: Want) =>
  w.kind === "array" ? fmt(w.dtype, w.shape) : w.kind === "number" ? "a number (0-d)" : "a boolean (0-d BOOL)";

type Loaded = JArray | number | boolean;
type Checked = E.Either<NEA.NonEmptyArray<string>, () => Loaded>;

/** I64 values as int32, or the first that does not fit. */
function int64AsInt32(v: BigInt64Array): Int32Array | bigint {
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const b = v[i] as bigint;
    if (b < -2147483648n || b > 2147483647n) return b;
    out[i] = Number(b);
  }
  return out;
}

/** Checks one template leaf against its tensor; on success, a thunk that makes the leaf. */
function checkLeaf(file: SafetensorsFile, name: string, leaf: unknown): Checked {
  const want = wantOf(leaf);
  const bad = (why: string): Checked => E.left([`${name}: ${why}`]);
  if (want === null)
    return bad(`the template leaf is a ${typeof leaf}; only Arrays, ShapeDtypeStructs, numbers and booleans load`);
  const entry = file.tensors.get(name);
  if (entry === undefined) return bad(`missing from the checkpoint (expected ${describeWant(want)})`);
  const found = fmt(entry.dtype, entry.shape);
  const scalar = entry.shape.length === 0;
  if (want.kind === "boolean") {
    if (entry.dtype !== "BOOL" || !scalar) return bad(`expected a boolean (0-d BOOL), found ${found}`);
    return E.right(() => (tensorValues(file, entry) as Uint8Array)[0] !== 0);
  }
  if (want.kind === "number") {
    if (!NUMBER_FROM.includes(entry.dtype) || !scalar) return bad(`expected a number (a 0-d tensor), found ${found}`);
    const v = (tensorValues(file, entry) as ArrayLike<number | bigint>)[0] as number | bigint;
    if (typeof v === "bigint" && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)))
      return bad(`the I64 value ${v} is beyond JS numbers' exact integers (±2^53)`);
    return E.right(() => Number(v));
  }
  const sameShape = want.shape.length === entry.shape.length && want.shape.every((d, i) => d === entry.shape[i]);
  if (!LOADS_FROM[want.dtype].includes(entry.dtype) || !sameShape)
    return bad(`expected ${fmt(want.dtype, want.shape)}, found ${found}`);
  return loadArray(file, entry, want.dtype, name);
}

/** The array thunk for a checked entry (I64 is range-checked now, so a bad value is a validation problem). */
function loadArray(file: SafetensorsFile, entry: TensorEntry, dtype: DType, name: string): Checked {
  const shape = entry.shape;
  if (entry.dtype === "I64") {
    const v = int64AsInt32(tensorValues(file, entry) as BigInt64Array);
    if (typeof v === "bigint") return E.left([`${name}: the I64 value ${v} does not fit the template's int32`]);
    return E.right(() => np.array(v, { dtype, shape }));
  }
  // float16 arrays take their (exact) values as float32; BF16 and F64 come as float32 or float64 values.
  return E.right(() => np.array(tensorValues(file, entry) as Float32Array, { dtype, shape }));
}

/** The bytes of `bytes` as a Uint8Array view (no copy). */
const asBytes = (bytes: Uint8Array | ArrayBuffer): Uint8Array =>
  bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);

function decodeAs<T>(op: string, bytes: Uint8Array | ArrayBuffer, template: T): T {
  const file = parseSafetensors(asBytes(bytes), op);
  const { names, leaves, def } = leafNames(op, template);
  const known = new Set(names);
  const extra = [...file.tensors.values()]
    .filter((e) => !known.has(e.name))
    .map((e) => `${e.name}: in the checkpoint (${fmt(e.dtype, e.shape)}) but not in the template`);
  const noExtra = RA.isNonEmpty(extra) ? E.left(extra) : E.right(null);
  const checked = validateAll((i: number) => checkLeaf(file, names[i] as string, leaves[i]))(names.map((_, i) => i));
  // Both sides' problems are kept: the template's leaves first, in tree order, then the file's extra tensors.
  const all = Validation.ap(
    Validation.map(checked, (makes) => (_: null) => makes),
    noExtra,
  );
  if (E.isLeft(all)) throwProblems(op, "the checkpoint does not match the template", all.left);
  return tree.unflatten(
    def,
    all.right.map((make) => make()),
  ) as T;
}

/**
 * Reads a safetensors file into a tree of `template`'s structure. The template's leaves say
 * what each tensor must be: an Array or `ShapeDtypeStruct` (e.g. `evalShape(model.init)(…)`)
 * its dtype and shape, a number a 0-d tensor, a boolean a 0-d BOOL. The whole file is checked
 * first, and every problem (a missing, extra, mis-shaped or mis-typed tensor, each with its
 * name, what the template expects and what the file holds) is reported in one
 * `CheckpointError`; nothing is created unless all of it matches.
 *
 * Besides each dtype itself, a float32 leaf loads BF16 (exactly) and F64 (rounded) tensors, an
 * int32 leaf I64 tensors whose values fit, and a number any 0-d float or integer tensor.
 * The result's type is the template's; its leaves are new Arrays, numbers and booleans.
 *
 * @example
 * const restored = decodeCheckpoint(bytes, { params, state, opt: optState, step: 0, key });
 */
export function decodeCheckpoint<T>(bytes: Uint8Array | ArrayBuffer, template: T): T {
  return decodeAs("decodeCheckpoint", bytes, template);
}

/** The `__metadata__` of a safetensors file (`{}` when it has none). */
export function checkpointMetadata(bytes: Uint8Array | ArrayBuffer): Record<string, string> {
  return { ...parseSafetensors(asBytes(bytes), "checkpointMetadata").metadata };
}

/** The part of `node:fs/promises` used here. */
interface Fs {
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, opts: { force: boolean }): Promise<void>;
}

/** Node's fs, by a specifier bundlers leave alone (this package runs in browsers too). */
async function nodeFs(op: string): Promise<Fs> {
  const fsName = "node:fs/promises";
  const hint = `${op}: a file path needs Node's fs; in a browser use a Blob, File, Uint8Array or ArrayBuffer`;
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) throw new CheckpointError(hint);
  try {
    return (await import(/* @vite-ignore */ fsName)) as Fs;
  } catch (e) {
    throw new CheckpointError(`${hint} (importing ${fsName} failed: ${(e as Error).message})`);
  }
}

/**
 * Writes `t` as a safetensors file at `path` (Node only), atomically: the bytes go to
 * `<path>.tmp-<random>`, which is then renamed over `path`, so a crash never leaves a half
 * file under the real name. See `encodeCheckpoint` for the names and dtypes.
 */
export async function saveCheckpoint(path: string, t: unknown, opts: CheckpointOptions = {}): Promise<void> {
  const fs = await nodeFs("saveCheckpoint");
  const bytes = await encodeCheckpoint(t, opts);
  const suffix = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
  const tmp = `${path}.tmp-${suffix}`;
  try {
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

/** `t` as a safetensors Blob, for browsers (download it, or put it in IndexedDB or OPFS). */
export async function checkpointBlob(t: unknown, opts: CheckpointOptions = {}): Promise<Blob> {
  return new Blob([await encodeCheckpoint(t, opts)], { type: "application/octet-stream" });
}

/**
 * Reads a checkpoint from a file path (Node), a Blob or File (browsers), or bytes, and decodes
 * it against `template` as `decodeCheckpoint` does.
 *
 * @example
 * const { params, opt, step } = await loadCheckpoint("run/ckpt.safetensors", { params, opt, step: 0 });
 */
export async function loadCheckpoint<T>(source: CheckpointSource, template: T): Promise<T> {
  const op = "loadCheckpoint";
  let bytes: Uint8Array | ArrayBuffer;
  if (typeof source === "string") bytes = await (await nodeFs(op)).readFile(source);
  else if (typeof Blob !== "undefined" && source instanceof Blob) bytes = await source.arrayBuffer();
  else if (source instanceof Uint8Array || source instanceof ArrayBuffer) bytes = source;
  else throw new CheckpointError(`${op}: expected a path, Blob, Uint8Array or ArrayBuffer, got ${typeof source}`);
  return decodeAs(op, bytes, template);
}
