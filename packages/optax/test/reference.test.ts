/**
 * Independent references: each optimiser's formula from its paper (in optax's form and with
 * optax's defaults) re-implemented in plain float64 JS, run for 100 steps on a random
 * three-leaf pytree ([3, 4], [5], [2, 2, 2]) with fresh random gradients each step, against
 * webjax's jitted, donated update in float32. Tolerance: |webjax − reference| ≤ 1e-4·|ref| + 1e-5
 * on the final params (float32 rounding accumulated over 100 steps).
 */
import { type Array as JArray, jit, np } from "@webjax/core";
import { describe, expect, test } from "vitest";
import {
  adabelief,
  adafactor,
  adagrad,
  adam,
  adamax,
  adamw,
  amsgrad,
  applyUpdates,
  chain,
  clipByGlobalNorm,
  type GradientTransformation,
  lion,
  momentum,
  nadam,
  nesterov,
  rmsprop,
  sgd,
  signum,
  sm3,
} from "../src/index.js";

const SHAPES = [[3, 4], [5], [2, 2, 2]];
type T = Float64Array[];

/** mulberry32 with Box–Muller normals: a seeded stream independent of webjax's random. */
function normals(seed: number) {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u());
}
const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
const randomTree = (next: () => number, scale: number): T =>
  SHAPES.map((s, k) => Float64Array.from({ length: size(s) }, () => next() * scale * (1 + k)));
// float32 inputs for both sides, so the only difference is the arithmetic.
const f32 = (t: T): T => t.map((l) => Float64Array.from(new Float32Array(l)));

/** An update rule: (gradient leaves, param leaves, step t from 1) → update leaves; state in the closure. */
type Rule = (g: T, p: T, t: number) => T;
const map = (t: T, f: (x: number, i: number, k: number) => number): T => t.map((l, k) => l.map((x, i) => f(x, i, k)));
/** Per-leaf state of a reference rule: element i of leaf k. */
class Grid {
  private readonly leaves: Float64Array[];
  constructor(fill: number) {
    this.leaves = SHAPES.map((s) => new Float64Array(size(s)).fill(fill));
  }
  get(k: number, i: number): number {
    return (this.leaves[k] as Float64Array)[i] as number;
  }
  /** Sets element i of leaf k to v, returning v. */
  set(k: number, i: number, v: number): number {
    (this.leaves[k] as Float64Array)[i] = v;
    return v;
  }
}
const zeros = (fill = 0) => new Grid(fill);
const b1 = 0.9;
const b2 = 0.999;

const REFERENCES: Record<string, [() => GradientTransformation, () => Rule]> = {
  // θ ← θ − ηg
  sgd: [() => sgd(0.05), () => (g) => map(g, (x) => -0.05 * x)],
  // Polyak's heavy ball: m ← g + μm, θ ← θ − ηm
  momentum: [
    () => momentum(0.02),
    () => {
      const m = zeros();
      return (g) => map(g, (x, i, k) => -0.02 * m.set(k, i, x + 0.9 * m.get(k, i)));
    },
  ],
  // Sutskever's NAG: m ← g + μm, θ ← θ − η(g + μm)
  nesterov: [
    () => nesterov(0.02),
    () => {
      const m = zeros();
      return (g) =>
        map(g, (x, i, k) => {
          m.set(k, i, x + 0.9 * m.get(k, i));
          return -0.02 * (x + 0.9 * m.get(k, i));
        });
    },
  ],
  // Duchi et al.: s ← s + g² (from 0.1), θ ← θ − ηg/√(s + ε), ε = 1e-7
  adagrad: [
    () => adagrad(0.1),
    () => {
      const s = zeros(0.1);
      return (g) =>
        map(g, (x, i, k) => {
          s.set(k, i, s.get(k, i) + x * x);
          return (-0.1 * x) / Math.sqrt(s.get(k, i) + 1e-7);
        });
    },
  ],
  // Hinton's RMSProp: ν ← ρν + (1−ρ)g², θ ← θ − ηg/√(ν + ε)
  rmsprop: [
    () => rmsprop(0.01),
    () => {
      const v = zeros();
      return (g) =>
        map(g, (x, i, k) => {
          v.set(k, i, 0.9 * v.get(k, i) + 0.1 * x * x);
          return (-0.01 * x) / Math.sqrt(v.get(k, i) + 1e-8);
        });
    },
  ],
  // Graves' centred RMSProp: also μ ← ρμ + (1−ρ)g, θ ← θ − ηg/√(ν − μ² + ε)
  "rmsprop centered": [
    () => rmsprop(0.01, { centered: true }),
    () => {
      const v = zeros();
      const m = zeros();
      return (g) =>
        map(g, (x, i, k) => {
          m.set(k, i, 0.9 * m.get(k, i) + 0.1 * x);
          v.set(k, i, 0.9 * v.get(k, i) + 0.1 * x * x);
          return (-0.01 * x) / Math.sqrt(v.get(k, i) - m.get(k, i) ** 2 + 1e-8);
        });
    },
  ],
  // Kingma & Ba: bias-corrected moments, θ ← θ − η m̂/(√v̂ + ε)
  adam: [() => adam(0.01), adamRule(0.01, 0, false)],
  // Loshchilov & Hutter: Adam's step plus decoupled weight decay λθ
  adamw: [() => adamw(0.01, { weightDecay: 0.05 }), adamRule(0.01, 0.05, false)],
  // Dozat's NAdam in optax's form: m̂ = β1·m/(1 − β1^(t+1)) + (1 − β1)·g/(1 − β1^t)
  nadam: [() => nadam(0.01), adamRule(0.01, 0, true)],
  // AdaMax: u ← max(β2·u, |g| + ε), θ ← θ − η m̂/u
  adamax: [
    () => adamax(0.01),
    () => {
      const m = zeros();
      const u = zeros();
      return (g, _p, t) =>
        map(g, (x, i, k) => {
          m.set(k, i, b1 * m.get(k, i) + (1 - b1) * x);
          u.set(k, i, Math.max(b2 * u.get(k, i), Math.abs(x) + 1e-8));
          return (-0.01 * (m.get(k, i) / (1 - b1 ** t))) / u.get(k, i);
        });
    },
  ],
  // Reddi et al.'s AMSGrad: v̂max ← max(v̂max, v̂), θ ← θ − η m̂/(√v̂max + ε)
  amsgrad: [
    () => amsgrad(0.01),
    () => {
      const m = zeros();
      const v = zeros();
      const vmax = zeros();
      return (g, _p, t) =>
        map(g, (x, i, k) => {
          m.set(k, i, b1 * m.get(k, i) + (1 - b1) * x);
          v.set(k, i, b2 * v.get(k, i) + (1 - b2) * x * x);
          vmax.set(k, i, Math.max(vmax.get(k, i), v.get(k, i) / (1 - b2 ** t)));
          return (-0.01 * (m.get(k, i) / (1 - b1 ** t))) / (Math.sqrt(vmax.get(k, i)) + 1e-8);
        });
    },
  ],
  // Zhuang et al.'s AdaBelief: s ← β2·s + (1−β2)(g − m)² + ε_root, θ ← θ − η m̂/(√ŝ + ε)
  adabelief: [
    () => adabelief(0.01),
    () => {
      const m = zeros();
      const s = zeros();
      return (g, _p, t) =>
        map(g, (x, i, k) => {
          m.set(k, i, b1 * m.get(k, i) + (1 - b1) * x);
          s.set(k, i, b2 * s.get(k, i) + (1 - b2) * (x - m.get(k, i)) ** 2 + 1e-16);
          return (-0.01 * (m.get(k, i) / (1 - b1 ** t))) / (Math.sqrt(s.get(k, i) / (1 - b2 ** t)) + 1e-16);
        });
    },
  ],
  // Chen et al.'s Lion: θ ← θ − η(sign((1−β1)g + β1·m) + λθ), m ← β2·m + (1−β2)g
  lion: [
    () => lion(0.003),
    () => {
      const m = zeros();
      return (g, p) =>
        map(g, (x, i, k) => {
          const c = 0.1 * x + 0.9 * m.get(k, i);
          m.set(k, i, 0.99 * m.get(k, i) + 0.01 * x);
          return -0.003 * (Math.sign(c) + 1e-3 * ((p[k] as Float64Array)[i] as number));
        });
    },
  ],
  // Signum (Bernstein et al.): e ← βe + (1−β)g, θ ← θ − η·sign(e)
  signum: [
    () => signum(0.01),
    () => {
      const e = zeros();
      return (g) => map(g, (x, i, k) => -0.01 * Math.sign(e.set(k, i, 0.9 * e.get(k, i) + 0.1 * x)));
    },
  ],
  // Pascanu et al.'s global-norm clipping: g ← g·min(1, c/‖g‖), then SGD
  "clipByGlobalNorm + sgd": [
    () => chain(clipByGlobalNorm(2), sgd(0.05)),
    () => (g) => {
      const n = Math.sqrt(g.reduce((a, l) => a + l.reduce((b, x) => b + x * x, 0), 0));
      return map(g, (x) => -0.05 * x * Math.min(1, 2 / n));
    },
  ],
  // Shazeer & Stern's Adafactor, every leaf of rank ≥ 2 factored (minDimSizeToFactor 2)
  adafactor: [() => adafactor(0.05, { minDimSizeToFactor: 2 }), adafactorRule],
  // Anil et al.'s SM3 with optax's β2 = 1 (sums): one accumulator per axis
  sm3: [() => sm3(0.1), sm3Rule],
};

function adamRule(lr: number, wd: number, nesterovForm: boolean): () => Rule {
  return () => {
    const m = zeros();
    const v = zeros();
    return (g, p, t) =>
      map(g, (x, i, k) => {
        m.set(k, i, b1 * m.get(k, i) + (1 - b1) * x);
        v.set(k, i, b2 * v.get(k, i) + (1 - b2) * x * x);
        const mh = nesterovForm
          ? (b1 * m.get(k, i)) / (1 - b1 ** (t + 1)) + ((1 - b1) * x) / (1 - b1 ** t)
          : m.get(k, i) / (1 - b1 ** t);
        return (
          -lr * (mh / (Math.sqrt(v.get(k, i) / (1 - b2 ** t)) + 1e-8) + wd * ((p[k] as Float64Array)[i] as number))
        );
      });
  };
}

/** Row-major coordinates of flat index i in shape. */
function coords(i: number, shape: number[]): number[] {
  const c = new globalThis.Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    c[d] = i % (shape[d] as number);
    i = Math.floor(i / (shape[d] as number));
  }
  return c;
}
/** a[j] += v. */
const addAt = (a: Float64Array, j: number, v: number) => {
  a[j] = (a[j] as number) + v;
};
/** Flat index of coordinates with axis `drop` removed (the reduced array's element). */
function without(c: number[], shape: number[], drop: number): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) if (d !== drop) f = f * (shape[d] as number) + (c[d] as number);
  return f;
}

function adafactorRule(): Rule {
  const rows: Float64Array[] = [];
  const cols: Float64Array[] = [];
  const full: Float64Array[] = [];
  const eps = 1e-30;
  return (g, p, t) => {
    const beta = 1 - t ** -0.8; // 1 − (step + 1)^(−0.8), step from 0
    return g.map((leaf, k) => {
      const shape = SHAPES[k] as number[];
      let u: Float64Array;
      if (shape.length >= 2) {
        // the two largest axes, the second largest first (ties: the lower axis first)
        const order = shape.map((_, d) => d).sort((a, b) => (shape[a] as number) - (shape[b] as number) || a - b);
        const d1 = order[order.length - 2] as number;
        const d0 = order[order.length - 1] as number;
        const n0 = shape[d0] as number;
        const n1 = shape[d1] as number;
        rows[k] ??= new Float64Array(leaf.length / n0);
        cols[k] ??= new Float64Array(leaf.length / n1);
        const r = rows[k] as Float64Array;
        const c = cols[k] as Float64Array;
        const rMean = new Float64Array(r.length);
        const cMean = new Float64Array(c.length);
        leaf.forEach((x, i) => {
          const cc = coords(i, shape);
          addAt(rMean, without(cc, shape, d0), (x * x + eps) / n0);
          addAt(cMean, without(cc, shape, d1), (x * x + eps) / n1);
        });
        r.forEach((_, j) => {
          r[j] = beta * (r[j] as number) + (1 - beta) * (rMean[j] as number);
        });
        c.forEach((_, j) => {
          c[j] = beta * (c[j] as number) + (1 - beta) * (cMean[j] as number);
        });
        // mean of r over d1 (in r's axes, d1 shifts down when it follows d0)
        const rShape = shape.filter((_, d) => d !== d0);
        const rd1 = d1 > d0 ? d1 - 1 : d1;
        const rowMean = new Float64Array(r.length / (rShape[rd1] as number));
        r.forEach((x, j) => {
          addAt(rowMean, without(coords(j, rShape), rShape, rd1), x / (rShape[rd1] as number));
        });
        u = leaf.map((x, i) => {
          const cc = coords(i, shape);
          const rj = without(cc, shape, d0);
          const rowFactor = ((r[rj] as number) / (rowMean[without(coords(rj, rShape), rShape, rd1)] as number)) ** -0.5;
          return x * rowFactor * (c[without(cc, shape, d1)] as number) ** -0.5;
        });
      } else {
        full[k] ??= new Float64Array(leaf.length);
        const v = full[k] as Float64Array;
        u = leaf.map((x, i) => {
          v[i] = beta * (v[i] as number) + (1 - beta) * (x * x + eps);
          return x / Math.sqrt(v[i] as number);
        });
      }
      // clip to block RMS ≤ 1, × learning rate, × max(rms(θ), 1e-3), descent sign
      const rms = (a: Float64Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
      const clip = Math.max(1, rms(u));
      const pScale = Math.max(rms(p[k] as Float64Array), 1e-3);
      return u.map((x) => (-(x / clip) * 0.05 * pScale) as number);
    });
  };
}

function sm3Rule(): Rule {
  const acc: Float64Array[][] = [];
  const mom = zeros();
  return (g) =>
    g.map((leaf, k) => {
      const shape = SHAPES[k] as number[];
      if (shape.length < 2) {
        acc[k] ??= [new Float64Array(leaf.length)];
        const a = acc[k]?.[0] as Float64Array;
        return leaf.map((x, i) => {
          const nu = x * x + (a[i] as number);
          a[i] = nu;
          return -0.1 * mom.set(k, i, 0.1 * (nu > 0 ? x / Math.sqrt(nu + 1e-8) : 0) + 0.9 * mom.get(k, i));
        });
      }
      acc[k] ??= shape.map((n) => new Float64Array(n));
      const mus = acc[k] as Float64Array[];
      const nu = leaf.map((x, i) => {
        const cc = coords(i, shape);
        return x * x + Math.min(...cc.map((c, d) => (mus[d] as Float64Array)[c] as number));
      });
      const next = shape.map((n) => new Float64Array(n).fill(Number.NEGATIVE_INFINITY));
      nu.forEach((v, i) => {
        coords(i, shape).forEach((c, d) => {
          (next[d] as Float64Array)[c] = Math.max((next[d] as Float64Array)[c] as number, v);
        });
      });
      acc[k] = next;
      return leaf.map(
        (x, i) =>
          -0.1 *
          mom.set(
            k,
            i,
            0.1 * ((nu[i] as number) > 0 ? x / Math.sqrt((nu[i] as number) + 1e-8) : 0) + 0.9 * mom.get(k, i),
          ),
      );
    });
}

describe("optimisers against float64 re-implementations of their papers' formulas, 100 steps", () => {
  for (const [name, [make, rule]] of Object.entries(REFERENCES)) {
    test(name, async () => {
      const next = normals(1234);
      const p0 = f32(randomTree(next, 0.5));
      const grads = globalThis.Array.from({ length: 100 }, () => f32(randomTree(next, 1)));
      // the reference
      const step = rule();
      let ref = p0.map((l) => l.slice());
      grads.forEach((g, t) => {
        const u = step(g, ref, t + 1);
        ref = ref.map((l, k) => l.map((x, i) => x + ((u[k] as Float64Array)[i] as number)));
      });
      // webjax, jitted and donated
      const toTree = (t: T) => t.map((l, k) => np.array(new Float32Array(l)).reshape(SHAPES[k] as number[]));
      const tx = make();
      let params = toTree(p0);
      let state = tx.init(params);
      const update = jit(
        (p: JArray[], s: unknown, g: JArray[]) => {
          const [u, s2] = tx.update(g, s, p);
          return [applyUpdates(p, u), s2] as const;
        },
        { donateArgnums: [0, 1] },
      );
      for (const g of grads) [params, state] = update(params, state, toTree(g));
      expect(update.traceCount).toBe(1);
      for (let k = 0; k < SHAPES.length; k++) {
        const got = (await (params[k] as JArray).data()) as Float32Array;
        (ref[k] as Float64Array).forEach((want, i) => {
          const err = Math.abs((got[i] as number) - want);
          expect(err, `${name} leaf ${k}[${i}]: ${got[i]} vs float64 ${want}`).toBeLessThanOrEqual(
            1e-4 * Math.abs(want) + 1e-5,
          );
        });
      }
    });
  }
});
