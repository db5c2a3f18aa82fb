/**
 * Low limits requested through init options (the device's real ones are larger), so the split
 * and named-error paths run on any machine: 1 MiB bindings, 4 storage buffers per stage.
 */
import { BackendError, memoryStats, np } from "@webjax/core";
import { activeBackend, initWebGPU } from "@webjax/webgpu/node";
import { beforeAll, describe, expect, test } from "vitest";

beforeAll(async () => {
  await initWebGPU({
    allowSoftware: true,
    limits: { maxStorageBufferBindingSize: 1 << 20, maxStorageBuffersPerShaderStage: 4 },
  });
});

describe("WebGPU limits", () => {
  test("the backend plans around the requested limits", () => {
    expect(activeBackend()?.limits.maxStorageBufferBindingSize).toBe(1 << 20);
    expect(activeBackend()?.limits.maxStorageBuffersPerShaderStage).toBe(4);
  });

  test("an elementwise op over buffers past the binding limit is split into dispatches", async () => {
    const n = 700_000; // 2.8 MB per buffer: three chunks under 1 MiB
    using x = np.arange(n, undefined, 1, { dtype: "float32" });
    using y = np.arange(n, undefined, 1, { dtype: "float32" });
    using y2 = y.mul(-0.5);
    using s = x.add(y2);
    using sx = x.add(3); // a weak scalar: a stride-0 operand in every chunk
    const before = activeBackend()?.counters.dispatches ?? 0;
    using z = s.mul(2);
    const v = await z.data();
    expect((activeBackend()?.counters.dispatches ?? 0) - before).toBe(3);
    for (const i of [0, 1, 262_143, 262_144, 262_145, 524_288, n - 1]) expect(v[i]).toBe(i);
    const w = await sx.data();
    expect([w[0], w[262_144], w[n - 1]]).toEqual([3, 262_147, n + 2]);
  });

  test("what cannot be split is a named error: a reduction over a buffer past the binding limit", () => {
    using x = np.ones([400_000]);
    expect(() => x.sum()).toThrow(BackendError);
    expect(() => x.sum()).toThrow(/reduce_sum.*maxStorageBufferBindingSize \(1048576\)/);
  });

  test("a kernel binding more storage buffers than the limit is a named error", () => {
    using c = np.array([true, false]);
    using a = np.array([1, 2]);
    using b = np.array([3, 4]);
    // select binds 3 inputs + 1 output = 4: allowed; the matmul epilogue test below binds more.
    using w = np.where(c, a, b);
    expect(w.shape).toEqual([2]);
    expect(() =>
      activeBackend()?.compile({
        kind: "fused",
        label: "five_inputs",
        inputs: ["float32", "float32", "float32", "float32"],
        outputs: ["float32"],
        outRank: 1,
        loops: [2],
        loads: [],
        expr: { op: "const", value: 0, dtype: "float32" },
      }),
    ).toThrow(/five_inputs' binds 5 storage buffers, past this device's maxStorageBuffersPerShaderStage \(4\)/);
  });
});

describe("what must not be split", () => {
  test("a routine binding a buffer past the limit is a named error, and leaks nothing", () => {
    using x = np.arange(0, 300_000, 1, { dtype: "float32" }); // 1.2 MB
    const live = memoryStats().webgpu?.liveBuffers;
    expect(() => np.sort(x)).toThrow(
      /routine 'sort' binds a buffer of 1200000 bytes.*maxStorageBufferBindingSize \(1048576\)/,
    );
    expect(memoryStats().webgpu?.liveBuffers).toBe(live);
  });

  test("gathers and concatenations over buffers past the binding limit are named errors, not wrong values", () => {
    using a = np.arange(0, 200_000, 1, { dtype: "float32" });
    using b = np.arange(200_000, 400_000, 1, { dtype: "float32" });
    expect(() => np.concatenate([a, b])).toThrow(/concatenate.*maxStorageBufferBindingSize/);
    using idx = np.array([5, 3], { dtype: "int32" });
    using big = np.arange(0, 300_000, 1, { dtype: "float32" });
    expect(() => np.take(big, idx)).toThrow(/take.*maxStorageBufferBindingSize/);
  });
});
