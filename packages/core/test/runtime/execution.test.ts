import { BackendError, DTypeError, devicePut, getBackend, np, registerBackend, ShapeError } from "@webjax/core";
import { CpuBackend } from "@webjax/core/internal";
import { cpuMode, syncReads, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

const cpu = () => getBackend("cpu") as CpuBackend;
/** Tests of the CPU backend's own machinery (counters, flush policy, modes) run where it is the default backend. */
const onCpu = testBackend === "cpu";

describe("execution: the ordered queue", () => {
  test("a failed kernel poisons its outputs and everything computed from them", async () => {
    using x = np.array([1, 2, 3]);
    (getBackend() as unknown as { failNextKernel(message: string): void }).failNextKernel("injected fault");
    using y = np.exp(x);
    using z = y.add(1);
    await expect(y.data()).rejects.toThrow(BackendError);
    // cpu: "kernel 'exp' failed: injected fault"; webgpu: "kernel(s) 'exp (injected fault: …)' failed: …".
    await expect(z.data()).rejects.toThrow(/kernel.*'exp\b.*injected fault/);
    await expect(z.blockUntilReady()).rejects.toThrow(BackendError);
    // The queue goes on: later work is unaffected.
    using w = x.mul(2);
    expect(await w.toArray()).toEqual([2, 4, 6]);
  });

  test.runIf(onCpu)("eager kernels are shape-generic: new sizes of the same rank compile nothing", async () => {
    const b = cpu();
    for (const n of [3, 5]) {
      using a = np.ones([n, 4]);
      using s = a.mul(a).sum(1);
      await s.data();
    }
    const compiles = b.counters.compiles;
    for (const n of [7, 11, 64]) {
      using a = np.ones([n, 4]);
      using s = a.mul(a).sum(1);
      expect(Array.from(await s.data())).toEqual(new Array(n).fill(4));
    }
    expect(b.counters.compiles).toBe(compiles);
  });

  test("reads see every op enqueued before them, in order", async () => {
    using x = np.zeros([4]);
    const reads: Promise<Float32Array | Uint8Array | Int32Array | Uint32Array | Float64Array>[] = [];
    let acc = x.add(0);
    for (let i = 1; i <= 5; i++) {
      const next = acc.add(1);
      reads.push(next.data());
      acc.dispose();
      acc = next;
    }
    const values = await Promise.all(reads);
    values.forEach((v, i) => expect(Array.from(v)).toEqual([i + 1, i + 1, i + 1, i + 1]));
    acc.dispose();
  });

  test.runIf(onCpu)("the queue flushes every N dispatches without a read", () => {
    const b = cpu();
    const before = b.counters.kernels;
    using x = np.ones([2]);
    const made = [];
    for (let i = 0; i < b.options.flushEvery + 1; i++) made.push(x.add(i));
    expect(b.counters.kernels).toBeGreaterThan(before);
    for (const m of made) m.dispose();
  });

  test.runIf(onCpu && cpuMode === "deferred")(
    "deferred mode: work runs on a later task and dataSync names data()",
    async () => {
      const b = cpu();
      using x = np.ones([3]);
      await x.blockUntilReady();
      const before = b.counters.kernels;
      using y = x.add(1);
      await Promise.resolve();
      expect(b.counters.kernels).toBe(before);
      expect(() => y.dataSync()).toThrow(/await x\.data\(\)/);
      expect(String(y)).toMatch(/float32\[3\], on cpu/);
      expect(Array.from(await y.data())).toEqual([2, 2, 2]);
      expect(b.counters.kernels).toBe(before + 1);
    },
  );

  test.runIf(syncReads)("normal mode: dataSync drains the queue on this thread", () => {
    using x = np.ones([3]);
    using y = x.add(1);
    expect(Array.from(y.dataSync())).toEqual([2, 2, 2]);
  });

  test.runIf(onCpu && cpuMode === "interpreter")("interpreter mode never generates code", () => {
    expect(cpu().usesCodegen).toBe(false);
  });

  test.runIf(onCpu)("the default modes run fused kernels in Wasm; js and interpreter run none", async () => {
    const before = cpu().counters.wasmKernels;
    using x = np.arange(10).astype("float32");
    using y = np.tanh(x.mul(0.5));
    await y.data();
    const wasmRan = cpu().counters.wasmKernels - before;
    if (cpuMode === "js" || cpuMode === "interpreter") {
      expect(cpu().wasm).toBeNull();
      expect(wasmRan).toBe(0);
    } else expect(wasmRan).toBeGreaterThanOrEqual(2);
  });

  test("arrays of two backends in one op are a named error", () => {
    registerBackend("cpu-second", () => new CpuBackend(cpu().options, "cpu-second"));
    using a = np.ones([2]);
    using b = np.ones([2], { backend: "cpu-second" });
    const names = `(${testBackend}, cpu-second|cpu-second, ${testBackend})`;
    expect(() => a.add(b)).toThrow(new RegExp(`different backends \\(${names}\\).*devicePut`));
  });
});

describe("errors: invalid arguments are rejected before any kernel runs", () => {
  test.each([
    ["negative size", () => np.zeros([2, -1])],
    ["fractional size", () => np.ones([2.5])],
    ["NaN in a shape", () => np.full([Number.NaN], 1)],
  ])("%s → ShapeError naming the shape", (_, f) => {
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/shape/);
  });

  test("bad axes name the axis and the rank", () => {
    using x = np.ones([2, 3]);
    expect(() => x.sum(2)).toThrow(/axis 2 is out of bounds for an array of rank 2/);
    expect(() => x.sum([0, 0])).toThrow(/repeated axis/);
    expect(() => x.transpose([0, 0])).toThrow(ShapeError);
  });

  test("an unknown dtype lists the valid ones", () => {
    expect(() => np.zeros([2], { dtype: "bfloat16" as never })).toThrow(DTypeError);
    expect(() => np.zeros([2], { dtype: "int8" as never })).toThrow(/float32, int32, uint32, bool, float64, float16/);
  });

  test("shape errors name the op and the shapes", () => {
    using a = np.ones([128, 784]);
    using b = np.ones([300, 10]);
    expect(() => a.matmul(b)).toThrow(
      /matmul: contracting dims 784 ≠ 300 in shapes float32\[128,784\] @ float32\[300,10\]/,
    );
    using c = np.ones([2, 3]);
    using d = np.ones([4, 3]);
    expect(() => c.add(d)).toThrow(/add: shapes \[2,3\], \[4,3\] cannot be broadcast/);
    expect(() => c.reshape([4, 2])).toThrow(/reshape: cannot reshape float32\[2,3\] \(6 elements\) to \[4,2\]/);
  });

  test.runIf(onCpu)("no kernel runs for an op that fails its checks", () => {
    const b = cpu();
    using a = np.ones([2, 3]);
    using d = np.ones([4, 3]);
    const compiles = b.counters.compiles;
    const kernels = b.counters.kernels;
    b.flush();
    expect(() => a.add(d)).toThrow(ShapeError);
    b.flush();
    expect(b.counters.kernels).toBe(kernels);
    expect(b.counters.compiles).toBe(compiles);
  });
});

describe("devicePut", () => {
  test("moves an array to another backend, where it mixes with that backend's arrays", async () => {
    registerBackend("cpu-third", () => new CpuBackend(cpu().options, "cpu-third"));
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using aT = a.T;
    using moved = await devicePut(aT, "cpu-third");
    using b = np.ones([2, 2], { backend: "cpu-third" });
    using s = moved.add(b);
    expect(await s.toArray()).toEqual([
      [2, 4],
      [3, 5],
    ]);
  });
});
