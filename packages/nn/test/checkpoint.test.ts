/**
 * Checkpoints as safetensors: bit-identical round trips of a whole training state, one error
 * listing every mismatch with the template (and nothing created), corrupt files, atomic file
 * writes, and a file written by the reference Python implementation
 * (fixtures/make_checkpoint.py writes fixtures/reference.safetensors).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evalShape, Array as JArray, memoryStats, np, random, ShapeDtypeStruct, tree } from "@webjax/core";
import * as nn from "@webjax/nn";
import * as optax from "@webjax/optax";
import { hasFloat64 } from "@webjax/test-utils";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  CheckpointError,
  checkpointBlob,
  checkpointMetadata,
  decodeCheckpoint,
  encodeCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
} from "../src/checkpoint/index.js";
import { grid } from "./helpers.js";

const model = nn.sequential(nn.dense(4), nn.batchNorm(), nn.dense(3));
const x = grid([5, 6], 0.7, 0.3);

/** A training state with every kind of leaf: params, batch-norm state, Adam state, numbers, a key, f16, i32, bool. */
function trainState() {
  const { params, state } = model.init(random.key(0), x);
  const opt = optax.adam(1e-3).init(params);
  return {
    params,
    state,
    opt,
    step: 1200,
    lr: 0.1,
    key: random.split(random.key(7), 2),
    extra: {
      half: np.array([1.5, -0.0, 65504, 0.000999, Number.POSITIVE_INFINITY], { dtype: "float16" }),
      counts: np.array(new Int32Array([-2147483648, -1, 0, 2147483647]), { shape: [2, 2] }),
      mask: np.array([true, false, true]),
      flag: true,
      empty: np.zeros([0, 3]),
    },
  };
}

/** The exact bits of every leaf: typed-array bytes for arrays, the value for JS leaves. */
async function bits(t: unknown): Promise<[string, string, readonly number[], unknown][]> {
  return Promise.all(
    tree.leavesWithPath(t).map(async ([p, v]) => {
      if (!(v instanceof JArray)) return [p, typeof v, [], v] as [string, string, readonly number[], unknown];
      const d = await v.data();
      return [p, v.dtype, v.shape, Array.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))];
    }),
  );
}

/** The header JSON of a safetensors file. */
function header(bytes: Uint8Array): Record<string, { dtype: string; shape: number[]; data_offsets: number[] }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

/** A file with the given header object and data bytes. */
function fileOf(head: unknown, data = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof head === "string" ? head : JSON.stringify(head));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const liveBuffers = () => Object.values(memoryStats()).reduce((n, m) => n + m.liveBuffers, 0);

/** The CheckpointError that decoding `bytes` against `template` throws, after checking that it created no buffer. */
function errorOf(bytes: Uint8Array, template: unknown): CheckpointError {
  const before = liveBuffers();
  let err: unknown;
  try {
    decodeCheckpoint(bytes, template);
  } catch (e) {
    err = e;
  }
  expect(liveBuffers(), "buffers created by a failed load").toBe(before);
  expect(err).toBeInstanceOf(CheckpointError);
  return err as CheckpointError;
}

describe("round trip", () => {
  test("a whole training state comes back bit-identical, numbers exactly", async () => {
    const t = trainState();
    const bytes = await encodeCheckpoint(t);
    const back = decodeCheckpoint(bytes, trainState());
    expect(tree.structure(back).equals(tree.structure(t))).toBe(true);
    expect(await bits(back)).toEqual(await bits(t));
    expect(back.step).toBe(1200);
    expect(back.lr).toBe(0.1);
    expect(back.extra.flag).toBe(true);
    expect(Array.from(await back.key.data())).toEqual(Array.from(await t.key.data()));
  });

  test("tensors are named by dotted tree paths, with their own dtypes", async () => {
    const h = header(await encodeCheckpoint(trainState()));
    expect(h["params.dense_0.kernel"]).toMatchObject({ dtype: "F32", shape: [6, 4] });
    expect(h["state.batchNorm_1.mean"]).toMatchObject({ dtype: "F32", shape: [4] });
    expect(h["opt.0.mu.dense_2.bias"]).toMatchObject({ dtype: "F32", shape: [3] });
    expect(h["opt.0.count"]).toMatchObject({ dtype: "I32", shape: [] });
    expect(h.step).toMatchObject({ dtype: "I64", shape: [] });
    expect(h.lr).toMatchObject({ dtype: "F64", shape: [] });
    expect(h.key).toMatchObject({ dtype: "U32", shape: [2, 2] });
    expect(h["extra.half"]).toMatchObject({ dtype: "F16", shape: [5] });
    expect(h["extra.mask"]).toMatchObject({ dtype: "BOOL", shape: [3] });
    expect(h["extra.flag"]).toMatchObject({ dtype: "BOOL", shape: [] });
    expect(h["extra.empty"]).toMatchObject({ dtype: "F32", shape: [0, 3] });
  });

  test("float16 bits are written as binary16", async () => {
    const bytes = await encodeCheckpoint({ h: np.array([1.5, -2, 65504, 2 ** -14], { dtype: "float16" }) });
    const { h } = header(bytes);
    const n = new DataView(bytes.buffer).getBigUint64(0, true);
    const at = 8 + Number(n) + (h?.data_offsets[0] as number);
    const words = Array.from({ length: 4 }, (_, i) => new DataView(bytes.buffer).getUint16(at + 2 * i, true));
    expect(words).toEqual([0x3e00, 0xc000, 0x7bff, 0x0400]);
  });

  test("loads into an evalShape template (ShapeDtypeStructs) and keeps metadata", async () => {
    const t = trainState();
    const bytes = await encodeCheckpoint(
      { params: t.params, state: t.state, step: 3 },
      { metadata: { format: "webjax", epoch: "2" } },
    );
    // (As `unknown`: the ShapesOf type of a PyTree-typed result is too deep to instantiate.)
    const shapes = evalShape((): unknown => model.init(random.key(0), x))() as Record<string, unknown>;
    expect(tree.leaves(shapes).every((l) => l instanceof ShapeDtypeStruct)).toBe(true);
    const back = decodeCheckpoint(bytes, { ...shapes, step: 0 });
    expect(await bits(back)).toEqual(await bits({ params: t.params, state: t.state, step: 3 }));
    expect(checkpointMetadata(bytes)).toEqual({ format: "webjax", epoch: "2" });
  });
});

describe("files and blobs", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "webjax-ckpt-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test("saveCheckpoint writes atomically (no temp file left) and loadCheckpoint reads it back", async () => {
    const t = trainState();
    const path = join(dir, "ckpt.safetensors");
    await saveCheckpoint(path, t, { metadata: { step: "1200" } });
    await saveCheckpoint(path, t); // overwrites in place
    expect(await readdir(dir)).toEqual(["ckpt.safetensors"]);
    expect(await bits(await loadCheckpoint(path, trainState()))).toEqual(await bits(t));
    const buf = new Uint8Array(await readFile(path)).buffer;
    expect(await bits(await loadCheckpoint(buf, trainState()))).toEqual(await bits(t));
  });

  test("a failed rename removes the temp file", async () => {
    const sub = join(dir, "fail");
    await mkdir(join(sub, "taken"), { recursive: true });
    await writeFile(join(sub, "taken", "x"), "x");
    await expect(saveCheckpoint(join(sub, "taken"), { a: 1 })).rejects.toThrow();
    expect(await readdir(sub)).toEqual(["taken"]);
  });

  test("checkpointBlob gives a Blob that loadCheckpoint reads", async () => {
    const t = trainState();
    const blob = await checkpointBlob(t);
    expect(blob.size).toBe((await encodeCheckpoint(t)).length);
    expect(await bits(await loadCheckpoint(blob, trainState()))).toEqual(await bits(t));
  });
});

describe("mismatches with the template: one error listing every problem, nothing created", () => {
  test("wrong shapes, wrong dtypes, missing and extra leaves are all listed", async () => {
    const bytes = await encodeCheckpoint({
      w: np.zeros([3, 4]),
      b: np.zeros([4]),
      n: np.zeros([2], { dtype: "int32" }),
      k: random.key(0),
      gone: np.zeros([2]),
      flag: np.zeros([1]),
    });
    const template = {
      w: np.zeros([4, 3]),
      b: np.zeros([5]),
      n: np.zeros([2]),
      k: np.zeros([2], { dtype: "int32" }),
      flag: false,
      absent: { x: np.zeros([1]) },
      step: 0,
    };
    const err = errorOf(bytes, template);
    expect(err.message).toBe(
      "decodeCheckpoint: the checkpoint does not match the template (8 problems):" +
        "\n  - absent.x: missing from the checkpoint (expected float32[1])" +
        "\n  - b: expected float32[5], found F32[4]" +
        "\n  - flag: expected a boolean (0-d BOOL), found F32[1]" +
        "\n  - k: expected int32[2], found U32[2]" +
        "\n  - n: expected float32[2], found I32[2]" +
        "\n  - step: missing from the checkpoint (expected a number (0-d))" +
        "\n  - w: expected float32[4,3], found F32[3,4]" +
        "\n  - gone: in the checkpoint (F32[2]) but not in the template",
    );
  });

  test("BF16 loads only where the template says float32; I64 into int32 only when it fits", () => {
    const bf = fileOf({ b: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, Uint8Array.of(0x80, 0x3f));
    expect(errorOf(bf, { b: np.zeros([1], { dtype: "float16" }) }).message).toBe(
      "decodeCheckpoint: b: expected float16[1], found BF16[1]",
    );
    const big = new Uint8Array(new BigInt64Array([5n, 2n ** 40n]).buffer);
    const i64 = fileOf({ c: { dtype: "I64", shape: [2], data_offsets: [0, 16] } }, big);
    expect(errorOf(i64, { c: np.zeros([2], { dtype: "int32" }) }).message).toBe(
      "decodeCheckpoint: c: the I64 value 1099511627776 does not fit the template's int32",
    );
  });

  test("leaves that cannot be saved, and names that collide, are refused before writing", async () => {
    await expect(encodeCheckpoint({ s: new ShapeDtypeStruct([2]), t: "text" })).rejects.toThrow(
      /s is a ShapeDtypeStruct.*\n.*t is a string/s,
    );
    await expect(encodeCheckpoint({ "a.b": 1, a: { b: 2 } })).rejects.toThrow(
      'encodeCheckpoint: a/b and a.b would both be stored as "a.b"',
    );
  });
});

describe("corrupt files: a clear error, nothing created", () => {
  let good = new Uint8Array(0);
  const template = () => ({ w: np.zeros([3, 4]), step: 0 });
  beforeAll(async () => {
    good = await encodeCheckpoint({ w: np.ones([3, 4]), step: 5 });
  });

  test("shorter than the header length", () => {
    expect(errorOf(good.slice(0, 5), template()).message).toBe(
      "decodeCheckpoint: truncated file: 5 bytes, but a safetensors file starts with an 8-byte header length",
    );
  });

  test("truncated header", () => {
    const n = Number(new DataView(good.buffer).getBigUint64(0, true));
    expect(errorOf(good.slice(0, 40), template()).message).toBe(
      `decodeCheckpoint: truncated file: the header length says ${n} bytes of JSON, the file has 32 after the length (not a safetensors file, or cut short)`,
    );
  });

  test("truncated data", async () => {
    const cut = good.slice(0, good.length - 10);
    const dataBytes = good.length - 8 - Number(new DataView(good.buffer).getBigUint64(0, true));
    await expect(loadCheckpoint(cut, template())).rejects.toThrow(
      `loadCheckpoint: truncated file: the header says ${dataBytes} bytes of data (tensor "w" ends there), the file has ${dataBytes - 10}`,
    );
    errorOf(cut, template());
  });

  test("a header that is not JSON", () => {
    expect(errorOf(fileOf('{"w": {"dtype": '), template()).message).toMatch(
      /^decodeCheckpoint: the 16-byte header is not valid UTF-8 JSON \(.+\); not a safetensors file, or corrupt$/,
    );
  });

  test("bad entries are all listed: unknown dtype, bad shape, wrong sizes, bad metadata", () => {
    const head = {
      __metadata__: { epoch: 3 },
      a: { dtype: "Q8", shape: [2], data_offsets: [0, 2] },
      b: { dtype: "F32", shape: [2, -1], data_offsets: [0, 8] },
      c: { dtype: "F32", shape: [3], data_offsets: [0, 8] },
      d: { dtype: "F32", shape: [1], data_offsets: [8, 4] },
    };
    const msg = errorOf(fileOf(head, new Uint8Array(16)), template()).message;
    expect(msg).toMatch(/^decodeCheckpoint: invalid safetensors header \(5 problems\):/);
    expect(msg).toContain('__metadata__ must be an object of strings, got {"epoch":3}');
    expect(msg).toContain('tensor "a": unknown dtype "Q8" (safetensors has BOOL, U8,');
    expect(msg).toContain('tensor "b": shape must be a list of non-negative integers, got [2,-1]');
    expect(msg).toContain('tensor "c": data_offsets [0, 8] hold 8 bytes, but F32[3] needs 12');
    expect(msg).toContain('tensor "d": data_offsets must be [begin, end] with 0 ≤ begin ≤ end, got [8,4]');
  });

  test("overlapping tensors", () => {
    const head = {
      w: { dtype: "F32", shape: [3, 4], data_offsets: [0, 48] },
      step: { dtype: "I64", shape: [], data_offsets: [40, 48] },
    };
    expect(errorOf(fileOf(head, new Uint8Array(48)), template()).message).toBe(
      'decodeCheckpoint: tensors "w" [0, 48] and "step" [40, 48] overlap',
    );
  });
});

describe("a file from the reference Python implementation (fixtures/make_checkpoint.py)", () => {
  const fixture = new URL("fixtures/reference.safetensors", import.meta.url);
  const template = {
    model: {
      dense: { weight: new ShapeDtypeStruct([2, 3]), bias: new ShapeDtypeStruct([4], "float16") },
      counts: new ShapeDtypeStruct([2, 2], "int32"),
      double: new ShapeDtypeStruct([2]),
      embed: { weight: new ShapeDtypeStruct([2, 2]) },
    },
    rng: { key: new ShapeDtypeStruct([2], "uint32") },
    mask: new ShapeDtypeStruct([3], "bool"),
    num_batches_tracked: 0,
  };

  test("F32, F16, I32, U32, BOOL, I64 and F64 hold the values the script states; BF16 loads as float32", async () => {
    const bytes = new Uint8Array(await readFile(fixture));
    const t = decodeCheckpoint(bytes, template);
    const values = async (a: JArray) => Array.from(await a.data());
    expect(t.model.dense.weight.dtype).toBe("float32");
    expect(await values(t.model.dense.weight)).toEqual([0.5, -1.25, 3.0, 1024.0, -0.0078125, Math.fround(0.1)]);
    expect(t.model.dense.bias.dtype).toBe("float16");
    expect(await values(t.model.dense.bias)).toEqual([1.5, -2.0, 65504.0, 0.0009765625]);
    expect(await values(t.model.counts)).toEqual([-2147483648, -1, 0, 2147483647]);
    expect(await values(t.rng.key)).toEqual([42, 4294967295]);
    expect(await values(t.mask)).toEqual([1, 0, 1]);
    expect(t.num_batches_tracked).toBe(12345);
    expect(await values(t.model.double)).toEqual([Math.fround(0.1), -2.5]);
    expect(t.model.embed.weight.dtype).toBe("float32");
    expect(t.model.embed.weight.shape).toEqual([2, 2]);
    expect(await values(t.model.embed.weight)).toEqual([1.0, -2.5, 3.140625, 9999220736.0]);
    expect(checkpointMetadata(bytes)).toEqual({ format: "np", note: "webjax fixture" });
  });

  test.runIf(hasFloat64)("F64 loads exactly into a float64 template, I64 into int32", async () => {
    const bytes = new Uint8Array(await readFile(fixture));
    const t = decodeCheckpoint(bytes, {
      ...template,
      model: { ...template.model, double: new ShapeDtypeStruct([2], "float64") },
      num_batches_tracked: new ShapeDtypeStruct([], "int32"),
    });
    expect(Array.from(await t.model.double.data())).toEqual([0.1, -2.5]);
    expect(t.num_batches_tracked.dtype).toBe("int32");
    expect(await t.num_batches_tracked.item()).toBe(12345);
  });
});

describe("strict layout, as the reference implementation", () => {
  test("trailing bytes and holes between tensors are errors", async () => {
    const bytes = await nn.encodeCheckpoint({ a: np.array([1, 2, 3]) });
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(() => nn.decodeCheckpoint(longer, { a: np.zeros([3]) })).toThrow(/4 trailing bytes after the last tensor/);
    // Move the tensor 4 bytes later in a rewritten header: a hole at the start.
    const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    header.a.data_offsets = [4, 16];
    const text = new TextEncoder().encode(
      JSON.stringify(header).padEnd(Math.ceil(JSON.stringify(header).length / 8) * 8, " "),
    );
    const out = new Uint8Array(8 + text.length + 16);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(bytes.subarray(8 + n), 8 + text.length + 4);
    expect(() => nn.decodeCheckpoint(out, { a: np.zeros([3]) })).toThrow(
      /bytes \[0, 4\) before tensor "a" belong to no tensor/,
    );
  });
});
