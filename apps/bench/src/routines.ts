/**
 * The routines (sort, argsort, topK, cumsum, searchsorted, scatter-add, permutation, the
 * gradient of take) at 1e4, 1e5 and 1e6 elements: webjax on the CPU next to a typed-array
 * `sort()` and a JS prefix-sum loop (the floor a JS program can reach), TensorFlow.js and
 * jax-js where they have the op, in the same run. Ratios are webjax ÷ the row's reference.
 */
import * as jaxjs from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs-core";
import { grad, lax, np, random, type Array as WArray } from "@webjax/core";
import { medianMs, randomData } from "./timing.js";

/** A measurement: one run first; past `capMs` that single time is reported (slow peers at 1e6). */
async function timed(run: () => Promise<void>, capMs = 3000): Promise<number> {
  const t0 = performance.now();
  await run();
  const first = performance.now() - t0;
  if (first > capMs) return first;
  const reps = first > 300 ? 3 : 9;
  return medianMs(run, { warmup: 1, reps });
}

type Row = Record<string, number | undefined>;

async function attempt(f: () => Promise<number>): Promise<number | undefined> {
  try {
    return await f();
  } catch (e) {
    console.log(`    failed: ${(e as Error).message.split("\n")[0]}`);
    return undefined;
  }
}

function print(title: string, row: Row, reference: string): void {
  const ref = row[reference];
  const ours = row["webjax cpu"];
  const cells = Object.entries(row)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${(v as number).toFixed(2)} ms`);
  const ratio = ours !== undefined && ref !== undefined ? `  webjax/${reference} = ${(ours / ref).toFixed(2)}` : "";
  console.log(`  ${title.padEnd(26)} ${cells.join(" | ")}${ratio}`);
}

const webjax = async (f: () => WArray | WArray[]): Promise<number> =>
  timed(async () => {
    const out = f();
    const outs = Array.isArray(out) ? out : [out];
    for (const o of outs) await o.blockUntilReady();
    for (const o of outs) o.dispose();
  });

async function useTf(backend: "cpu" | "wasm"): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
}

/** `f` of the 1-D tensor of `data` on that tfjs backend (made after the backend is ready). */
const tfjs = async (backend: "cpu" | "wasm", data: Float32Array, f: (t: tf.Tensor1D) => tf.Tensor): Promise<number> => {
  await useTf(backend);
  const t = tf.tensor1d(data);
  try {
    return await timed(async () => {
      const out = f(t);
      await out.data();
      out.dispose();
    });
  } finally {
    t.dispose();
  }
};

const jaxjsRun = async (f: () => jaxjs.Array | jaxjs.Array[]): Promise<number> => {
  await jaxjs.init("wasm");
  jaxjs.defaultDevice("wasm");
  return timed(async () => {
    const out = f();
    const outs = Array.isArray(out) ? out : [out];
    for (const o of outs) await o.blockUntilReady();
    for (const o of outs) o.dispose();
  });
};

export async function benchRoutines(): Promise<void> {
  console.log("\nroutines (float32, median ms; the reference is a typed-array sort() or a JS loop in the same run)");
  for (const n of [10_000, 100_000, 1_000_000]) {
    console.log(`\n n = ${n}`);
    const data = randomData(n, 7);
    const x = np.array(data);
    const jx = jaxjs.numpy.array(data);

    const sortRow: Row = {
      "typed sort()": await attempt(() => timed(async () => void data.slice().sort())),
      "webjax cpu": await attempt(() => webjax(() => np.sort(x))),
      "tfjs cpu topk(n)": await attempt(() => tfjs("cpu", data, (t) => tf.topk(t, n).values)),
      "tfjs wasm topk(n)": await attempt(() => tfjs("wasm", data, (t) => tf.topk(t, n).values)),
      "jax-js wasm": await attempt(() => jaxjsRun(() => jaxjs.numpy.sort(jx.ref))),
    };
    print("sort", sortRow, "typed sort()");

    const argsortRow: Row = {
      "typed sort()": sortRow["typed sort()"],
      "webjax cpu": await attempt(() => webjax(() => np.argsort(x))),
      "jax-js wasm": await attempt(() => jaxjsRun(() => jaxjs.numpy.argsort(jx.ref))),
    };
    print("argsort", argsortRow, "typed sort()");

    const topRow: Row = {
      "typed sort()": sortRow["typed sort()"],
      "webjax cpu": await attempt(() => webjax(() => lax.topK(x, 10))),
      "tfjs cpu": await attempt(() => tfjs("cpu", data, (t) => tf.topk(t, 10).values)),
      "tfjs wasm": await attempt(() => tfjs("wasm", data, (t) => tf.topk(t, 10).values)),
      "jax-js wasm": await attempt(() => jaxjsRun(() => jaxjs.lax.topK(jx.ref, 10))),
    };
    print("topK (k = 10)", topRow, "typed sort()");

    const cumRow: Row = {
      "JS loop": await attempt(() =>
        timed(async () => {
          const out = new Float32Array(n);
          let acc = 0;
          for (let i = 0; i < n; i++) out[i] = acc += data[i] as number;
        }),
      ),
      "webjax cpu": await attempt(() => webjax(() => np.cumsum(x))),
      "tfjs cpu": await attempt(() => tfjs("cpu", data, (t) => tf.cumsum(t))),
      "tfjs wasm": await attempt(() => tfjs("wasm", data, (t) => tf.cumsum(t))),
      "jax-js wasm": await attempt(() => jaxjsRun(() => jaxjs.numpy.cumsum(jx.ref))),
    };
    print("cumsum", cumRow, "JS loop");

    const sorted = data.slice().sort();
    const s = np.array(sorted);
    const searchRow: Row = {
      "JS loop": await attempt(() =>
        timed(async () => {
          const out = new Int32Array(n);
          for (let i = 0; i < n; i++) {
            let lo = 0;
            let hi = n;
            const v = data[i] as number;
            while (lo < hi) {
              const mid = (lo + hi) >>> 1;
              if ((sorted[mid] as number) < v) lo = mid + 1;
              else hi = mid;
            }
            out[i] = lo;
          }
        }),
      ),
      "webjax cpu": await attempt(() => webjax(() => np.searchsorted(s, x))),
    };
    print("searchsorted (n in n)", searchRow, "JS loop");

    const rows = Math.max(1, Math.floor(n / 100));
    const idx = Int32Array.from({ length: n }, (_, i) => (i * 7919) % rows);
    const wi = np.array(idx);
    const base = np.zeros([rows]);
    const scatterRow: Row = {
      "JS loop": await attempt(() =>
        timed(async () => {
          const out = new Float32Array(rows);
          for (let i = 0; i < n; i++) {
            const r = idx[i] as number;
            out[r] = (out[r] as number) + (data[i] as number);
          }
        }),
      ),
      "webjax cpu": await attempt(() => webjax(() => base.at(wi).add(x))),
    };
    print(`scatter-add (n into ${rows})`, scatterRow, "JS loop");
    for (const a of [x, s, wi, base]) a.dispose();
    jx.dispose();
  }

  console.log("");
  const key = random.key(0);
  const perm: Row = { "webjax cpu": await attempt(() => webjax(() => random.permutation(key, 60_000))) };
  print("permutation(60000)", perm, "");
  const table = np.array(randomData(5000 * 64, 3), { shape: [5000, 64] });
  const ids = np.array(Int32Array.from({ length: 2048 }, (_, i) => (i * 7919) % 5000));
  const takeGrad = grad((t: WArray) => np.take(t, ids, { axis: 0 }).sum());
  const g: Row = { "webjax cpu": await attempt(() => webjax(() => takeGrad(table))) };
  print("grad of take 5000×64, 2048", g, "");
  for (const a of [key, table, ids]) a.dispose();
}
