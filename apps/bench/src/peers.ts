/** The libraries users would pick instead, behind one small interface each. */
import * as jaxjs from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// The full package registers the gradients (tfjs-core alone has none), as users get them.
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { lax, np, valueAndGrad, type Array as WArray } from "@webjax/core";
import { jaxjsMlp, mlpData } from "./jaxjs-mlp.js";

export { jaxjsJitMlp, mlpData } from "./jaxjs-mlp.js";

export interface Contender {
  name: string;
  /** Returns a function that runs one n×n matmul to completion. */
  matmul(n: number, a: Float32Array, b: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** Returns a function that runs `ops` chained adds of `size` elements and waits for the last. */
  addChain(size: number, ops: number): Promise<{ run: () => Promise<void>; done: () => void }>;
  /**
   * Returns a function that runs one eager loss-and-gradient step of the MLP `sizes`
   * (ReLU hidden layers, softmax cross-entropy) on a batch, and waits for every gradient.
   */
  mlpGrad(sizes: readonly number[], batch: number): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** tanh(2x + 1) − exp(−0.1x) over `data` (five elementwise ops, as a user writes them). */
  elementwise(data: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** The sum of `data`. */
  reduceSum(data: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** [batch, n, n] @ [batch, n, n]. */
  batchedMatmul(
    batch: number,
    n: number,
    a: Float32Array,
    b: Float32Array,
  ): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** A 3×3 stride-1 SAME convolution of `c.n` images c.hw×c.hw×c.cin into c.cout features (NHWC/HWIO; jax-js NCHW). */
  conv2d(c: ConvCase, x: Float32Array, w: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** 2×2 stride-2 max pooling of the same images. */
  maxPool(c: ConvCase, x: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
}

export interface ConvCase {
  readonly n: number;
  readonly hw: number;
  readonly cin: number;
  readonly cout: number;
}

type Timed = Promise<{ run: () => Promise<void>; done: () => void }>;

export const webjaxCpu: Contender = {
  name: "webjax cpu",
  async conv2d(c, xd, wd): Timed {
    const x = np.array(xd, { shape: [c.n, c.hw, c.hw, c.cin] });
    const w = np.array(wd, { shape: [3, 3, c.cin, c.cout] });
    return {
      run: async () => {
        const y = lax.convGeneralDilated(x, w, [1, 1], "SAME", { dimensionNumbers: ["NHWC", "HWIO", "NHWC"] });
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => {
        x.dispose();
        w.dispose();
      },
    };
  },
  async maxPool(c, xd): Timed {
    const x = np.array(xd, { shape: [c.n, c.hw, c.hw, c.cin] });
    return {
      run: async () => {
        const y = lax.reduceWindow(x, -Infinity, "max", [1, 2, 2, 1], [1, 2, 2, 1], "VALID");
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async elementwise(data) {
    const x = np.array(data);
    return {
      run: async () => {
        const y = np.tanh(x.mul(2).add(1)).sub(np.exp(x.mul(-0.1)));
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async reduceSum(data) {
    const x = np.array(data);
    return {
      run: async () => {
        const y = np.sum(x);
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async batchedMatmul(batch, n, a, b) {
    const x = np.array(a, { shape: [batch, n, n] });
    const y = np.array(b, { shape: [batch, n, n] });
    return {
      run: async () => {
        const z = x.matmul(y);
        await z.blockUntilReady();
        z.dispose();
      },
      done: () => {
        x.dispose();
        y.dispose();
      },
    };
  },
  async matmul(n, a, b) {
    const x = np.array(a, { shape: [n, n] });
    const y = np.array(b, { shape: [n, n] });
    return {
      run: async () => {
        const z = x.matmul(y);
        await z.blockUntilReady();
        z.dispose();
      },
      done: () => {
        x.dispose();
        y.dispose();
      },
    };
  },
  async addChain(size, ops) {
    const x = np.ones([size]);
    return {
      run: async () => {
        let acc = x.add(0);
        for (let i = 0; i < ops; i++) {
          const next = acc.add(x);
          acc.dispose();
          acc = next;
        }
        await acc.blockUntilReady();
        acc.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async mlpGrad(sizes, batch) {
    const d = mlpData(sizes, batch);
    const params = d.layers.map((l) => ({ w: np.array(l.w, { shape: [l.m, l.n] }), b: np.array(l.b) }));
    const x = np.array(d.x, { shape: [batch, sizes[0] as number] });
    const y = np.array(d.y, { shape: [batch, d.classes] });
    const loss = (ps: { w: WArray; b: WArray }[], xs: WArray, ys: WArray) => {
      let h = xs;
      ps.forEach((p, i) => {
        const z = np.matmul(h, p.w).add(p.b);
        h = i < ps.length - 1 ? np.maximum(z, 0) : z;
      });
      const logp = h.sub(np.logsumexp(h, { axis: -1, keepdims: true }));
      return logp.mul(ys).sum(-1).mean().neg();
    };
    const step = valueAndGrad(loss);
    return {
      run: async () => {
        const [l, g] = step(params, x, y);
        for (const p of g) {
          await p.w.blockUntilReady();
          p.w.dispose();
          p.b.dispose();
        }
        l.dispose();
      },
      done: () => {
        for (const p of params) {
          p.w.dispose();
          p.b.dispose();
        }
        x.dispose();
        y.dispose();
      },
    };
  },
};

function tfContender(backend: "cpu" | "wasm"): Contender {
  const use = async () => {
    await tf.setBackend(backend);
    await tf.ready();
  };
  return {
    name: `tfjs ${backend}`,
    async conv2d(c, xd, wd): Timed {
      await use();
      const x = tf.tensor4d(xd, [c.n, c.hw, c.hw, c.cin]);
      const w = tf.tensor4d(wd, [3, 3, c.cin, c.cout]);
      return {
        run: async () => {
          const y = tf.conv2d(x, w, 1, "same");
          await y.data();
          y.dispose();
        },
        done: () => {
          x.dispose();
          w.dispose();
        },
      };
    },
    async maxPool(c, xd): Timed {
      await use();
      const x = tf.tensor4d(xd, [c.n, c.hw, c.hw, c.cin]);
      return {
        run: async () => {
          const y = tf.maxPool(x, 2, 2, "valid");
          await y.data();
          y.dispose();
        },
        done: () => x.dispose(),
      };
    },
    async elementwise(data) {
      await use();
      const x = tf.tensor1d(data);
      return {
        run: async () => {
          const y = tf.tidy(() => tf.sub(tf.tanh(tf.add(tf.mul(x, 2), 1)), tf.exp(tf.mul(x, -0.1))));
          await y.data();
          y.dispose();
        },
        done: () => x.dispose(),
      };
    },
    async reduceSum(data) {
      await use();
      const x = tf.tensor1d(data);
      return {
        run: async () => {
          const y = tf.sum(x);
          await y.data();
          y.dispose();
        },
        done: () => x.dispose(),
      };
    },
    async batchedMatmul(batch, n, a, b) {
      await use();
      const x = tf.tensor3d(a, [batch, n, n]);
      const y = tf.tensor3d(b, [batch, n, n]);
      return {
        run: async () => {
          const z = tf.matMul(x, y);
          await z.data();
          z.dispose();
        },
        done: () => {
          x.dispose();
          y.dispose();
        },
      };
    },
    async matmul(n, a, b) {
      await use();
      const x = tf.tensor2d(a, [n, n]);
      const y = tf.tensor2d(b, [n, n]);
      return {
        run: async () => {
          const z = tf.matMul(x, y);
          await z.data();
          z.dispose();
        },
        done: () => {
          x.dispose();
          y.dispose();
        },
      };
    },
    async addChain(size, ops) {
      await use();
      const x = tf.ones([size]);
      return {
        run: async () => {
          let acc = tf.add(x, 0);
          for (let i = 0; i < ops; i++) {
            const next = tf.add(acc, x);
            acc.dispose();
            acc = next;
          }
          await acc.data();
          acc.dispose();
        },
        done: () => x.dispose(),
      };
    },
    async mlpGrad(sizes, batch) {
      await use();
      const d = mlpData(sizes, batch);
      const params = d.layers.flatMap((l) => [tf.tensor2d(l.w, [l.m, l.n]), tf.tensor1d(l.b)]);
      const x = tf.tensor2d(d.x, [batch, sizes[0] as number]);
      const y = tf.tensor2d(d.y, [batch, d.classes]);
      const f = tf.valueAndGrads((...ps: tf.Tensor[]) => {
        let h: tf.Tensor = x;
        for (let i = 0; i < ps.length; i += 2) {
          const z = tf.add(tf.matMul(h as tf.Tensor2D, ps[i] as tf.Tensor2D), ps[i + 1] as tf.Tensor);
          h = i < ps.length - 2 ? tf.relu(z) : z;
        }
        return tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(h), y), -1)));
      });
      return {
        run: async () => {
          const { value, grads } = f(params);
          for (const g of grads) {
            await g.data();
            g.dispose();
          }
          value.dispose();
        },
        done: () => {
          for (const p of params) p.dispose();
          x.dispose();
          y.dispose();
        },
      };
    },
  };
}

export const tfjsCpu = tfContender("cpu");
export const tfjsWasm = tfContender("wasm");

export const jaxjsWasm: Contender = {
  name: "jax-js wasm",
  async conv2d(c, xd, wd): Timed {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    // jax-js takes NCHW/OIHW only: the same numbers, laid out its way.
    const x = jaxjs.numpy.array(xd).reshape([c.n, c.cin, c.hw, c.hw]);
    const w = jaxjs.numpy.array(wd).reshape([c.cout, c.cin, 3, 3]);
    return {
      run: async () => {
        const y = jaxjs.lax.convGeneralDilated(x.ref, w.ref, [1, 1], "SAME");
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => {
        x.dispose();
        w.dispose();
      },
    };
  },
  async maxPool(c, xd): Timed {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const x = jaxjs.numpy.array(xd).reshape([c.n, c.cin, c.hw, c.hw]);
    return {
      run: async () => {
        const y = jaxjs.lax.reduceWindow(x.ref, (win) => jaxjs.numpy.max(win), [2, 2], [2, 2]);
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async elementwise(data) {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const jnp = jaxjs.numpy;
    const x = jnp.array(data);
    return {
      run: async () => {
        const y = jnp.subtract(jnp.tanh(jnp.add(jnp.multiply(x.ref, 2), 1)), jnp.exp(jnp.multiply(x.ref, -0.1)));
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async reduceSum(data) {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const x = jaxjs.numpy.array(data);
    return {
      run: async () => {
        const y = jaxjs.numpy.sum(x.ref);
        await y.blockUntilReady();
        y.dispose();
      },
      done: () => x.dispose(),
    };
  },
  async batchedMatmul(batch, n, a, b) {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const x = jaxjs.numpy.array(a).reshape([batch, n, n]);
    const y = jaxjs.numpy.array(b).reshape([batch, n, n]);
    return {
      run: async () => {
        const z = jaxjs.numpy.matmul(x.ref, y.ref);
        await z.blockUntilReady();
        z.dispose();
      },
      done: () => {
        x.dispose();
        y.dispose();
      },
    };
  },
  async matmul(n, a, b) {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const x = jaxjs.numpy.array(a).reshape([n, n]);
    const y = jaxjs.numpy.array(b).reshape([n, n]);
    return {
      run: async () => {
        const z = jaxjs.numpy.matmul(x.ref, y.ref);
        await z.blockUntilReady();
        z.dispose();
      },
      done: () => {
        x.dispose();
        y.dispose();
      },
    };
  },
  async addChain(size, ops) {
    await jaxjs.init("wasm");
    jaxjs.defaultDevice("wasm");
    const x = jaxjs.numpy.ones([size]);
    return {
      run: async () => {
        let acc = jaxjs.numpy.add(x.ref, 0);
        for (let i = 0; i < ops; i++) acc = jaxjs.numpy.add(acc, x.ref);
        await acc.blockUntilReady();
        acc.dispose();
      },
      done: () => x.dispose(),
    };
  },
  mlpGrad: (sizes, batch) => jaxjsMlp(sizes, batch, false),
};
