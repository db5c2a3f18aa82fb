/**
 * The CPU backend's Wasm: the assembler on a small function, the SIMD GEMM (several register
 * tiles, edges, strides, transposes, batches) against a float64 triple loop, and the backend
 * running float32 matmuls in Wasm with the JS kernels (`wasm: "off"`) agreeing.
 */
import { setFlagsFromString } from "node:v8";
import { getBackend, type Array as JArray, np, registerBackend } from "@webjax/core";
import { CpuBackend, Heap } from "@webjax/core/internal";
import { cpuMode, expectClose, rng, testBackend } from "@webjax/test-utils";
import { describe, expect, test } from "vitest";

/** The projects whose default CPU backend runs Wasm kernels (js and interpreter turn it off). */
const wasmDefault = testBackend === "cpu" && (cpuMode === "normal" || cpuMode === "deferred");

import { assemble, FunctionBuilder, type Local, relaxedSimdAvailable } from "../../src/backend/cpu/wasm/asm.js";
import { type GemmExports, type GemmShape, gemmF32, gemmModule, gemmScratch } from "../../src/backend/cpu/wasm/gemm.js";

describe("wasm assembler", () => {
  test("a loop with loads, stores, select and SIMD: prefix sums and a 4-lane scale", () => {
    const heap = new Heap(1 << 16);
    // prefix(ptr, n): x[i] += x[i-1] (int32); scale(ptr, n4): x[0:4·n4] *= 2 as f32x4.
    const prefix = new FunctionBuilder("prefix", ["i32", "i32"]);
    const [p, n] = prefix.params as [Local, Local];
    const i = prefix.local("i32");
    const acc = prefix.local("i32");
    prefix.i32(0).set(acc);
    prefix.loop(i, 0, n, 1, () => {
      prefix.get(p).get(i).i32(2).op("i32.shl").op("i32.add");
      prefix.get(acc).get(p).get(i).i32(2).op("i32.shl").op("i32.add").mem("i32.load").op("i32.add").tee(acc);
      prefix.mem("i32.store");
    });
    const scale2 = new FunctionBuilder("scale2", ["i32", "i32"]);
    const [q2, m2] = scale2.params as [Local, Local];
    const k = scale2.local("i32");
    const addr = scale2.local("i32");
    scale2.loop(k, 0, m2, 1, () => {
      scale2.get(q2).get(k).i32(4).op("i32.shl").op("i32.add").set(addr);
      scale2.get(addr).get(addr).mem("v128.load").f32(2).op("f32x4.splat").op("f32x4.mul").mem("v128.store");
    });
    const bytes = assemble([prefix, scale2]);
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: heap.memory } });
    const ex = inst.exports as { prefix(p: number, n: number): void; scale2(p: number, n: number): void };
    const ip = heap.alloc(40);
    (heap.view("int32", ip, 10) as Int32Array).set([1, 2, 3, 4, 5, -6, 7, 8, 9, 10]);
    ex.prefix(ip, 10);
    expect([...heap.view("int32", ip, 10)]).toEqual([1, 3, 6, 10, 15, 9, 16, 24, 33, 43]);
    const fp = heap.alloc(32);
    (heap.view("float32", fp, 8) as Float32Array).set([1, -2, 0.5, 3, 4, 5, 6, 7]);
    ex.scale2(fp, 2);
    expect([...heap.view("float32", fp, 8)]).toEqual([2, -4, 1, 6, 8, 10, 12, 14]);
  });
});

describe("wasm GEMM against a float64 triple loop", () => {
  const shapes: GemmShape[] = [
    { mr: 4, nr: 8, kc: 256, mc: 96, nc: 2048 },
    // Small blocks, so every edge (MC, NC, KC, MR, NR) is crossed at small sizes.
    { mr: 4, nr: 8, kc: 5, mc: 8, nc: 16 },
    { mr: 2, nr: 16, kc: 7, mc: 6, nc: 32 },
    { mr: 6, nr: 4, kc: 3, mc: 12, nc: 8 },
  ];
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [3, 5, 7],
    [9, 17, 13],
    [33, 40, 21],
  ];
  for (const fma of [false, true]) {
    for (const g of shapes) {
      test(`${g.mr}×${g.nr} tile, KC ${g.kc} MC ${g.mc} NC ${g.nc}${fma ? ", relaxed madd" : ""}: plain, transposed and strided operands`, () => {
        // Node 20 has relaxed SIMD behind a V8 flag, which can be set at run time.
        if (fma) {
          setFlagsFromString("--experimental-wasm-relaxed-simd");
          expect(relaxedSimdAvailable()).toBe(true);
        }
        const bytes = gemmModule(fma, g);
        const heap = new Heap(1 << 20);
        const w = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem: heap.memory } })
          .exports as unknown as GemmExports;
        const next = rng(g.mr * 100 + g.kc);
        for (const [M, N, K] of sizes) {
          // A is stored transposed with a column step of 2, B row-major with a row pad of 3.
          const aPtr = heap.alloc(K * M * 2 * 4);
          const bPtr = heap.alloc(K * (N + 3) * 4);
          const c = heap.alloc(M * N * 4);
          const s = heap.alloc(gemmScratch(g));
          const av = heap.view("float32", aPtr, K * M * 2) as Float32Array;
          const bv = heap.view("float32", bPtr, K * (N + 3)) as Float32Array;
          for (let x = 0; x < av.length; x++) av[x] = next() * 2 - 1;
          for (let x = 0; x < bv.length; x++) bv[x] = next() * 2 - 1;
          const A = (i: number, k: number) => av[k * M * 2 + i * 2] as number;
          const B = (k: number, j: number) => bv[k * (N + 3) + j] as number;
          gemmF32(w, { ptr: aPtr, rs: 2, cs: M * 2 }, { ptr: bPtr, rs: N + 3, cs: 1 }, c, M, N, K, s, g);
          const out = heap.view("float32", c, M * N);
          for (let i = 0; i < M; i++) {
            for (let j = 0; j < N; j++) {
              let ref = 0;
              for (let k = 0; k < K; k++) ref += A(i, k) * B(k, j);
              expect(Math.abs((out[i * N + j] as number) - ref)).toBeLessThan(1e-5 * (1 + K));
            }
          }
          for (const p of [aPtr, bPtr, c, s]) heap.free(p);
        }
        expect(heap.stats().usedBytes).toBe(0);
      });
    }
  }
});

describe.runIf(wasmDefault)("the backend's float32 matmul runs in Wasm", () => {
  test("matmuls of every layout count as Wasm kernels and agree with the JS kernels", async () => {
    const cpu = getBackend("cpu") as CpuBackend;
    registerBackend("cpu-js", () => new CpuBackend({ ...cpu.options, wasm: "off" }, "cpu-js"));
    const next = rng(7);
    const data = (n: number) => Float32Array.from({ length: n }, () => next() * 2 - 1);
    const da = data(6 * 70 * 130);
    const db = data(6 * 130 * 50);
    const run = (backend: string) => {
      const a = np.array(da, { shape: [6, 70, 130], backend });
      const b = np.array(db, { shape: [6, 130, 50], backend });
      const outs = [
        a.matmul(b),
        b.swapaxes(1, 2).matmul(a.swapaxes(1, 2)),
        a.slice([0, 6, 2], [0, 70, 3]).matmul(b.slice([0, 6, 2], [0, 130], [0, 50, 2])),
        a.matmul(b.slice([0, 1])),
      ];
      a.dispose();
      b.dispose();
      return outs;
    };
    const before = cpu.counters.wasmKernels;
    const wasm = run("cpu");
    const js = run("cpu-js");
    for (let i = 0; i < wasm.length; i++) {
      const w = wasm[i] as JArray;
      const j = js[i] as JArray;
      expect(w.shape).toEqual(j.shape);
      await expectClose(w, (await j.data()) as Float32Array, { rtol: 1e-4, atol: 1e-4 });
    }
    expect(cpu.counters.wasmKernels - before).toBe(4);
    expect((getBackend("cpu-js") as CpuBackend).counters.wasmKernels).toBe(0);
    for (const x of [...wasm, ...js]) x.dispose();
  });
});

describe.runIf(wasmDefault)("the worker pool", () => {
  test("three threads split a matmul's rows, or a wide one's columns (both workers ran jobs); results are bit-identical to one thread", async () => {
    const cpu = getBackend("cpu") as CpuBackend;
    registerBackend("cpu-three", () => new CpuBackend({ ...cpu.options, threads: 3 }, "cpu-three"));
    registerBackend("cpu-one", () => new CpuBackend({ ...cpu.options, threads: 1 }, "cpu-one"));
    const three = getBackend("cpu-three") as CpuBackend;
    expect(three.threads).toBe(3);
    // Workers start in the background; until they have, kernels run whole on this thread.
    expect(await three.wasm?.pool?.whenReady()).toBe(3);
    expect((getBackend("cpu-one") as CpuBackend).threads).toBe(1);
    const next = rng(11);
    const da = Float32Array.from({ length: 203 * 310 }, () => next() * 2 - 1);
    const db = Float32Array.from({ length: 310 * 150 }, () => next() * 2 - 1);
    const product = async (backend: string) => {
      using a = np.array(da, { shape: [203, 310], backend });
      using b = np.array(db, { shape: [310, 150], backend });
      // 203×150: split by rows; 150×203 (more columns than rows): by columns, each thread
      // packing its own panels of B; then by rows again (a worker's control words must not
      // carry the column job's B packing over).
      using c = a.matmul(b);
      using t = b.T.matmul(a.T);
      using again = a.matmul(b);
      return [(await c.data()) as Float32Array, (await t.data()) as Float32Array, (await again.data()) as Float32Array];
    };
    const [c3, t3, again3] = await product("cpu-three");
    const [c1, t1] = await product("cpu-one");
    expect(Buffer.from((c3 as Float32Array).buffer).equals(Buffer.from((c1 as Float32Array).buffer))).toBe(true);
    expect(Buffer.from((t3 as Float32Array).buffer).equals(Buffer.from((t1 as Float32Array).buffer))).toBe(true);
    expect(Buffer.from((again3 as Float32Array).buffer).equals(Buffer.from((c1 as Float32Array).buffer))).toBe(true);
    // The column split's values: t = (a·b)ᵀ, the same sums, so bit for bit c transposed.
    const c1v = c1 as Float32Array;
    const t3v = t3 as Float32Array;
    for (const [i, j] of [
      [0, 0],
      [77, 100],
      [149, 202],
    ] as const)
      expect(t3v[i * 203 + j]).toBe(c1v[j * 150 + i]);
    const ran = three.wasm?.pool?.jobsRun() ?? [];
    expect(ran.length).toBe(2);
    for (const n of ran) expect(n).toBeGreaterThanOrEqual(2);
    // And the values are the product (float64 reference, one spot per row block).
    for (const [i, j] of [
      [0, 0],
      [100, 77],
      [202, 149],
    ] as const) {
      let ref = 0;
      for (let k = 0; k < 310; k++) ref += (da[i * 310 + k] as number) * (db[k * 150 + j] as number);
      expect(Math.abs(((c3 as Float32Array)[i * 150 + j] as number) - ref)).toBeLessThan(1e-4);
    }
  });

  test("large fused kernels split their rows over the pool; every result is bit-identical to one thread", async () => {
    const cpu = getBackend("cpu") as CpuBackend;
    registerBackend("cpu-three-fused", () => new CpuBackend({ ...cpu.options, threads: 3 }, "cpu-three-fused"));
    registerBackend("cpu-one-fused", () => new CpuBackend({ ...cpu.options, threads: 1 }, "cpu-one-fused"));
    const three = getBackend("cpu-three-fused") as CpuBackend;
    expect(await three.wasm?.pool?.whenReady()).toBe(3);
    const next = rng(5);
    const dx = Float32Array.from({ length: 601 * 517 }, () => next() * 6 - 3);
    const dy = Float32Array.from({ length: 517 }, () => next() * 2 - 1);
    const results = async (backend: string) => {
      using x = np.array(dx, { shape: [601, 517], backend });
      using y = np.array(dy, { shape: [517], backend });
      // An elementwise chain with a broadcast and a transposed read, reductions along each
      // axis (one of them four outputs at a time), argmax, and a kernel that reads its loop
      // index (concatenate along the split axis).
      using chain = np.tanh(x.mul(y).add(x.T.T.exp().mul(0.25)));
      using rowSums = x.exp().sum(1);
      using colMax = x.T.max(1);
      using arg = x.argmax(1);
      using cat = np.concatenate([x, x.mul(2)], 0);
      const out = [chain, rowSums, colMax, arg, cat];
      return await Promise.all(out.map(async (a) => Buffer.from(((await a.data()) as Float32Array).buffer)));
    };
    const before = three.wasm?.pool?.jobsRun() ?? [];
    const r3 = await results("cpu-three-fused");
    const r1 = await results("cpu-one-fused");
    r3.forEach((b, i) => expect(b.equals(r1[i] as Buffer), `result ${i}`).toBe(true));
    const ran = three.wasm?.pool?.jobsRun() ?? [];
    expect(ran.length).toBe(2);
    // Both workers ran a share of each of the five kernels (and of the two exps they read).
    ran.forEach((n, i) => expect(n - (before[i] ?? 0)).toBeGreaterThanOrEqual(5));
    // And the values are right (a float64 reference at a few rows, both halves of the split).
    const chain = new Float32Array((r3[0] as Buffer).buffer.slice(0));
    for (const i of [0, 250, 600]) {
      for (const j of [0, 516]) {
        const v = dx[i * 517 + j] as number;
        const ref = Math.tanh(v * (dy[j] as number) + Math.exp(v) * 0.25);
        expect(Math.abs((chain[i * 517 + j] as number) - ref)).toBeLessThan(1e-5);
      }
    }
  });
});
