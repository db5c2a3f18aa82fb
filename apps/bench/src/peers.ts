/** The libraries users would pick instead, behind one small interface each. */
import * as jaxjs from "@jax-js/jax";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { np } from "@webjax/core";

export interface Contender {
  name: string;
  /** Returns a function that runs one n×n matmul to completion. */
  matmul(n: number, a: Float32Array, b: Float32Array): Promise<{ run: () => Promise<void>; done: () => void }>;
  /** Returns a function that runs `ops` chained adds of `size` elements and waits for the last. */
  addChain(size: number, ops: number): Promise<{ run: () => Promise<void>; done: () => void }>;
}

export const webjaxCpu: Contender = {
  name: "webjax cpu",
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
};

function tfContender(backend: "cpu" | "wasm"): Contender {
  const use = async () => {
    await tf.setBackend(backend);
    await tf.ready();
  };
  return {
    name: `tfjs ${backend}`,
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
  };
}

export const tfjsCpu = tfContender("cpu");
export const tfjsWasm = tfContender("wasm");

export const jaxjsWasm: Contender = {
  name: "jax-js wasm",
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
};
