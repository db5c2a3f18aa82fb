/** A small seeded data set made in JS: two Gaussian blobs in the plane, labelled 0 and 1. */

/** Mulberry32: a tiny seeded generator, enough for example data (webjax's own `random` is JAX's threefry). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Blobs {
  /** n×2 row-major features. */
  x: Float32Array;
  /** n labels in {0, 1}. */
  y: Float32Array;
  n: number;
}

/** `n` points: class 1 around (1, 1), class 0 around (−1, −1), standard deviation `spread`. */
export function makeBlobs(n: number, seed = 0, spread = 1): Blobs {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const c = label === 1 ? 1 : -1;
    x[2 * i] = c + spread * gauss();
    x[2 * i + 1] = c + spread * gauss();
    y[i] = label;
  }
  return { x, y, n };
}
