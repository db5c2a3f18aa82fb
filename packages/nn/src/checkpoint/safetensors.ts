/**
 * The safetensors file format (huggingface/safetensors), read and written byte for byte:
 *
 * ```text
 * [8 bytes]  N, the header length, a little-endian u64
 * [N bytes]  UTF-8 JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *                          "__metadata__": { "<key>": "<string>" } }, padded with spaces to a multiple of 8
 * [rest]     the tensors' bytes, little-endian, row-major; offsets count from the end of the header
 * ```
 *
 * `parseSafetensors` checks the whole header (every entry, every offset) and throws one
 * `CheckpointError` listing every problem it found; it reads no tensor data. `tensorValues`
 * then turns one entry's bytes into a typed array of values.
 */
import { WebjaxError } from "@webjax/core";
import * as E from "fp-ts/lib/Either.js";
import * as NEA from "fp-ts/lib/NonEmptyArray.js";
import * as RA from "fp-ts/lib/ReadonlyArray.js";

/** A checkpoint file is malformed, or does not match the template it is loaded into. */
export class CheckpointError extends WebjaxError {
  override name = "CheckpointError";
}

/** Bytes per element of every dtype the safetensors spec names (webjax reads and writes a subset). */
export const SAFETENSORS_ITEM_SIZE = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
} as const;

/** A dtype the safetensors spec names. */
export type SafeDType = keyof typeof SAFETENSORS_ITEM_SIZE;

/** One tensor of a file: offsets are into `SafetensorsFile.data`. */
export interface TensorEntry {
  readonly name: string;
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** A parsed file: its tensors by name (in header order), its metadata, and its data section. */
export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  readonly metadata: Readonly<Record<string, string>>;
  readonly data: Uint8Array;
}

/** A tensor to write: `bytes` are its little-endian elements. */
export interface TensorRecord {
  readonly name: string;
  readonly dtype: SafeDType;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

/** Problems collected by fp-ts' validation applicative: every failure is kept, not just the first. */
export const Validation = E.getApplicativeValidation(NEA.getSemigroup<string>());
/** Runs `f` over `xs`, keeping every failure (a `Left` of all problems) or every result. */
export const validateAll = RA.traverse(Validation);

const fail = (problem: string): E.Either<NEA.NonEmptyArray<string>, never> => E.left([problem]);

/** Throws one `CheckpointError` for `problems`: alone on the line, or as a list under `title`. */
export function throwProblems(op: string, title: string, problems: readonly string[]): never {
  if (problems.length === 1) throw new CheckpointError(`${op}: ${problems[0]}`);
  const list = problems.map((p) => `\n  - ${p}`).join("");
  throw new CheckpointError(`${op}: ${title} (${problems.length} problems):${list}`);
}

const isSafeDType = (d: unknown): d is SafeDType => typeof d === "string" && Object.hasOwn(SAFETENSORS_ITEM_SIZE, d);
const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
const show = (x: unknown): string => JSON.stringify(x) ?? String(x);

/** Checks one header entry: a known dtype, a shape of counts, offsets that fit the shape. */
function checkEntry(name: string, raw: unknown): E.Either<NEA.NonEmptyArray<string>, TensorEntry> {
  const at = `tensor ${show(name)}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return fail(`${at}: expected {"dtype", "shape", "data_offsets"}, got ${show(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (!isSafeDType(dtype))
    problems.push(
      `${at}: unknown dtype ${show(dtype)} (safetensors has ${Object.keys(SAFETENSORS_ITEM_SIZE).join(", ")})`,
    );
  if (!Array.isArray(shape) || !shape.every(isCount))
    problems.push(`${at}: shape must be a list of non-negative integers, got ${show(shape)}`);
  const okOffsets = Array.isArray(offsets) && offsets.length === 2 && offsets.every(isCount);
  if (!okOffsets || (offsets[0] as number) > (offsets[1] as number))
    problems.push(`${at}: data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got ${show(offsets)}`);
  if (problems.length > 0) return E.left(problems as NEA.NonEmptyArray<string>);
  const entry: TensorEntry = {
    name,
    dtype: dtype as SafeDType,
    shape: shape as number[],
    begin: (offsets as number[])[0] as number,
    end: (offsets as number[])[1] as number,
  };
  const need = sizeOf(entry.shape) * SAFETENSORS_ITEM_SIZE[entry.dtype];
  if (entry.end - entry.begin !== need)
    return fail(
      `${at}: data_offsets [${entry.begin}, ${entry.end}] hold ${entry.end - entry.begin} bytes, but ${entry.dtype}[${entry.shape.join(",")}] needs ${need}`,
    );
  return E.right(entry);
}

function checkMetadata(raw: unknown): E.Either<NEA.NonEmptyArray<string>, Record<string, string>> {
  if (raw === undefined) return E.right({});
  const ok =
    typeof raw === "object" &&
    raw !== null &&
    !Array.isArray(raw) &&
    Object.values(raw).every((v) => typeof v === "string");
  return ok
    ? E.right(raw as Record<string, string>)
    : fail(`__metadata__ must be an object of strings, got ${show(raw).slice(0, 80)}`);
}

/** Offsets past the data section, and tensors whose byte ranges overlap. */
function layoutProblems(entries: readonly TensorEntry[], dataBytes: number): string[] {
  const problems: string[] = [];
  const last = entries.reduce<TensorEntry | null>((m, e) => (m === null || e.end > m.end ? e : m), null);
  if (last && last.end > dataBytes)
    problems.push(
      `truncated file: the header says ${last.end} bytes of data (tensor ${show(last.name)} ends there), the file has ${dataBytes}`,
    );
  const sorted = entries.filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  // As the reference implementation: the tensors tile the data section, from 0 to its end.
  let covered = 0;
  for (let i = 0; i < sorted.length; i++) {
    const e = sorted[i] as TensorEntry;
    const prev = sorted[i - 1];
    if (e.begin < covered && prev)
      problems.push(
        `tensors ${show(prev.name)} [${prev.begin}, ${prev.end}] and ${show(e.name)} [${e.begin}, ${e.end}] overlap`,
      );
    else if (e.begin > covered)
      problems.push(`bytes [${covered}, ${e.begin}) before tensor ${show(e.name)} belong to no tensor`);
    covered = Math.max(covered, e.end);
  }
  if (problems.length === 0 && covered < dataBytes)
    problems.push(`${dataBytes - covered} trailing bytes after the last tensor (the file is not fully covered)`);
  return problems;
}

/**
 * Parses a safetensors file's header and checks it against the file: the header length, the
 * JSON, every entry's dtype, shape and offsets (they must lie in the file, match
 * shape × item size and not overlap). Throws one `CheckpointError` naming `op` and every
 * problem; reads no tensor data.
 */
export function parseSafetensors(bytes: Uint8Array, op: string): SafetensorsFile {
  if (bytes.length < 8)
    throw new CheckpointError(
      `${op}: truncated file: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(bytes.length - 8))
    throw new CheckpointError(
      `${op}: truncated file: the header length says ${n} bytes of JSON, the file has ${bytes.length - 8} after the length (not a safetensors file, or cut short)`,
    );
  const headerEnd = 8 + Number(n);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, headerEnd)));
  } catch (e) {
    throw new CheckpointError(
      `${op}: the ${n}-byte header is not valid UTF-8 JSON (${(e as Error).message}); not a safetensors file, or corrupt`,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new CheckpointError(`${op}: the header must be a JSON object, got ${show(json).slice(0, 80)}`);
  const { __metadata__: rawMeta, ...rawEntries } = json as Record<string, unknown>;
  const data = bytes.subarray(headerEnd);
  const checked = Validation.ap(
    Validation.map(checkMetadata(rawMeta), (metadata) => (entries: readonly TensorEntry[]) => ({ metadata, entries })),
    validateAll(([name, raw]: readonly [string, unknown]) => checkEntry(name, raw))(Object.entries(rawEntries)),
  );
  if (E.isLeft(checked)) throwProblems(op, "invalid safetensors header", checked.left);
  const { metadata, entries } = checked.right;
  const layout = layoutProblems(entries, data.length);
  if (layout.length > 0) throwProblems(op, "invalid safetensors file", layout);
  return { tensors: new Map(entries.map((e) => [e.name, e])), metadata, data };
}

/**
 * Writes tensors and string metadata as one safetensors file. Tensors are laid out by item
 * size, widest first (as the reference implementation does), so every tensor is aligned to
 * its element size within the 8-aligned data section; names must be unique.
 */
export function encodeSafetensors(
  records: readonly TensorRecord[],
  metadata: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  const order = records
    .map((r, i) => ({ r, i }))
    .sort((a, b) => SAFETENSORS_ITEM_SIZE[b.r.dtype] - SAFETENSORS_ITEM_SIZE[a.r.dtype] || a.i - b.i)
    .map(({ r }) => r);
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const r of order) {
    header[r.name] = { dtype: r.dtype, shape: r.shape, data_offsets: [offset, offset + r.bytes.length] };
    offset += r.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  let at = 8 + padded;
  for (const r of order) {
    out.set(r.bytes, at);
    at += r.bytes.length;
  }
  return out;
}

/** The product of a shape's dims (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** A copy of `bytes` in a fresh (aligned) buffer, swapped to host order in groups of `size`. */
function hostOrder(bytes: Uint8Array, size: number): ArrayBuffer {
  const copy = new Uint8Array(bytes.length); // not bytes.slice(): a Node Buffer's slice is a view of its pool
  copy.set(bytes);
  if (!littleEndian && size > 1) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  return copy.buffer;
}

/** Little-endian bytes of a typed array (a copy). */
export function leBytes(x: ArrayBufferView): Uint8Array {
  const size = (x as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  return new Uint8Array(hostOrder(new Uint8Array(x.buffer, x.byteOffset, x.byteLength), size));
}

/** The values one entry holds, as the typed array of its dtype; BF16 widens to float32. */
export type TensorValues = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array | BigInt64Array;

/**
 * The values of `entry` (F32, F64, I32, U32, I64, BOOL as their typed arrays; F16 and BF16
 * widened exactly to Float32Array), or `null` for a dtype webjax does not read.
 */
export function tensorValues(file: SafetensorsFile, entry: TensorEntry): TensorValues | null {
  const size = SAFETENSORS_ITEM_SIZE[entry.dtype];
  const buf = hostOrder(file.data.subarray(entry.begin, entry.end), size);
  switch (entry.dtype) {
    case "F32":
      return new Float32Array(buf);
    case "F64":
      return new Float64Array(buf);
    case "I32":
      return new Int32Array(buf);
    case "U32":
      return new Uint32Array(buf);
    case "I64":
      return new BigInt64Array(buf);
    case "BOOL":
      return new Uint8Array(buf);
    case "F16":
      return float16Values(new Uint16Array(buf));
    case "BF16": {
      const bits = new Uint16Array(buf);
      const wide = new Uint32Array(bits.length);
      for (let i = 0; i < bits.length; i++) wide[i] = (bits[i] as number) << 16;
      return new Float32Array(wide.buffer);
    }
    default:
      return null;
  }
}

/** The values of binary16 bits (exact in float32). */
export function float16Values(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i] as number;
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    out[i] =
      exp === 0
        ? sign * mant * 2 ** -24
        : exp === 0x1f
          ? mant
            ? Number.NaN
            : sign * Number.POSITIVE_INFINITY
          : sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The binary16 bits of float32 values, rounded to nearest even (exact for values that came from float16). */
export function float16Bits(values: Float32Array): Uint16Array {
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const w = words[i] as number;
    const sign = (w >>> 16) & 0x8000;
    const exp = (w >>> 23) & 0xff;
    const mant = w & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
      continue;
    }
    // Keep 10 mantissa bits (fewer for subnormals), rounding the dropped ones half to even.
    const full = exp === 0 ? mant : mant | 0x800000;
    const shift = e > 0 ? 13 : Math.min(14 - e, 25);
    const kept = full >>> shift;
    const rest = full - kept * 2 ** shift;
    const half = 2 ** (shift - 1);
    const rounded = kept + (rest > half || (rest === half && kept & 1) ? 1 : 0);
    out[i] = e > 0 ? sign | ((e << 10) + rounded - 0x400) : sign | rounded;
  }
  return out;
}
