/**
 * `nn.initializers`: Flax's initialisers, with Flax's names and signature `(key, shape, dtype?)
 * → Array`. The variance-scaling family (Glorot, He, LeCun) computes fans as Flax does: for a
 * kernel of shape [..receptive field.., in, out], fan_in = in · receptive and fan_out = out ·
 * receptive.
 *
 * | name | distribution | variance |
 * |---|---|---|
 * | glorotUniform / glorotNormal | uniform / truncated normal | 2 / (fan_in + fan_out) |
 * | heUniform / heNormal | uniform / truncated normal | 2 / fan_in |
 * | lecunUniform / lecunNormal | uniform / truncated normal | 1 / fan_in |
 *
 * Truncated normals are cut at ±2σ and rescaled (÷ 0.87962566103423978) so the variance is the
 * table's, as Flax does.
 */
import { type Array, type DType, DTypeError, np, random, ShapeError } from "@webjax/core";

/** An initialiser: `(key, shape, dtype = "float32") → Array`. */
export type Initializer = (key: Array, shape: readonly number[], dtype?: DType) => Array;

type FloatDType = "float32" | "float16";

function floatDType(op: string, dtype: DType): FloatDType {
  if (dtype !== "float32" && dtype !== "float16" && dtype !== "float64") {
    throw new DTypeError(`${op}: initialisers make float arrays; got dtype ${dtype} (expected float32 or float16)`);
  }
  return dtype === "float64" ? "float32" : dtype;
}

const cast = (x: Array, dtype: DType): Array => (x.dtype === dtype ? x : x.astype(dtype));

/** All zeros. */
export const zeros: Initializer = (_key, shape, dtype = "float32") => np.zeros([...shape], { dtype });
/** All ones. */
export const ones: Initializer = (_key, shape, dtype = "float32") => np.ones([...shape], { dtype });

/** Every element `value`. */
export function constant(value: number): Initializer {
  return (_key, shape, dtype = "float32") => np.full([...shape], value, { dtype });
}

/** N(0, stddev²) (Flax's default stddev 1e-2). */
export function normal(stddev = 1e-2): Initializer {
  return (key, shape, dtype = "float32") =>
    cast(random.normal(key, [...shape], { dtype: floatDType("normal", dtype) }).mul(stddev), dtype);
}

/** U[0, scale) (Flax's `uniform`, default scale 1e-2). */
export function uniform(scale = 1e-2): Initializer {
  return (key, shape, dtype = "float32") =>
    cast(random.uniform(key, [...shape], { dtype: floatDType("uniform", dtype) }).mul(scale), dtype);
}

/** A normal with standard deviation `stddev` truncated to [lower·stddev, upper·stddev] (Flax's). */
export function truncatedNormal(stddev = 1e-2, { lower = -2, upper = 2 }: { lower?: number; upper?: number } = {}) {
  const init: Initializer = (key, shape, dtype = "float32") => {
    floatDType("truncatedNormal", dtype);
    return cast(random.truncatedNormal(key, lower, upper, [...shape]).mul(stddev), dtype);
  };
  return init;
}

export type FanMode = "fanIn" | "fanOut" | "fanAvg";
export type Distribution = "truncatedNormal" | "normal" | "uniform";

export interface FanAxes {
  /** The input-feature axis (default −2). */
  readonly inAxis?: number | readonly number[];
  /** The output-feature axis (default −1). */
  readonly outAxis?: number | readonly number[];
  /** Axes that are neither fan nor receptive field (default none). */
  readonly batchAxis?: readonly number[];
}

function axesOf(op: string, a: number | readonly number[], rank: number): number[] {
  const list = typeof a === "number" ? [a] : [...a];
  return list.map((ax) => {
    const n = ax < 0 ? ax + rank : ax;
    if (!Number.isInteger(n) || n < 0 || n >= rank) {
      throw new ShapeError(`${op}: axis ${ax} is out of range for a shape of rank ${rank}`);
    }
    return n;
  });
}

/** [fan_in, fan_out] of `shape` (Flax's `_compute_fans`). */
export function computeFans(shape: readonly number[], axes: FanAxes = {}, op = "varianceScaling"): [number, number] {
  if (shape.length < 1) throw new ShapeError(`${op}: cannot compute fans of a scalar shape []`);
  const rank = shape.length;
  const inAx = axesOf(op, axes.inAxis ?? (rank >= 2 ? -2 : 0), rank);
  const outAx = axesOf(op, axes.outAxis ?? -1, rank);
  const batchAx = axesOf(op, axes.batchAxis ?? [], rank);
  const prod = (xs: number[]) => xs.reduce((a, i) => a * (shape[i] as number), 1);
  const total = shape.reduce((a, b) => a * b, 1);
  const receptive = total / prod([...inAx, ...outAx, ...batchAx]);
  return [prod(inAx) * receptive, prod(outAx) * receptive];
}

/** 1 / the standard deviation of a unit normal truncated to (−2, 2). */
const TRUNCATION = 0.8796256610342398;

/**
 * Flax's `variance_scaling(scale, mode, distribution)`: samples with variance `scale / n`, n
 * the fan_in, fan_out or their mean, from a truncated normal (cut at ±2σ and rescaled), a
 * normal, or a uniform on [−√(3·var), √(3·var)].
 */
export function varianceScaling(
  scale: number,
  mode: FanMode,
  distribution: Distribution,
  axes: FanAxes = {},
): Initializer {
  const op = "varianceScaling";
  if (!["fanIn", "fanOut", "fanAvg"].includes(mode)) {
    throw new DTypeError(`${op}: unknown mode ${JSON.stringify(mode)}; expected one of fanIn, fanOut, fanAvg`);
  }
  if (!["truncatedNormal", "normal", "uniform"].includes(distribution)) {
    throw new DTypeError(
      `${op}: unknown distribution ${JSON.stringify(distribution)}; expected one of truncatedNormal, normal, uniform`,
    );
  }
  return (key, shape, dtype = "float32") => {
    const f = floatDType(op, dtype);
    const [fanIn, fanOut] = computeFans(shape, axes, op);
    const n = mode === "fanIn" ? fanIn : mode === "fanOut" ? fanOut : (fanIn + fanOut) / 2;
    const variance = scale / Math.max(1, n);
    const s = [...shape];
    if (distribution === "truncatedNormal") {
      return cast(random.truncatedNormal(key, -2, 2, s).mul(Math.sqrt(variance) / TRUNCATION), dtype);
    }
    if (distribution === "normal") return cast(random.normal(key, s, { dtype: f }).mul(Math.sqrt(variance)), dtype);
    const limit = Math.sqrt(3 * variance);
    return cast(random.uniform(key, s, { dtype: f, minval: -limit, maxval: limit }), dtype);
  };
}

/** Glorot & Bengio (2010), uniform: variance 2/(fan_in + fan_out). Keras' default kernel initialiser. */
export const glorotUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fanAvg", "uniform", axes);
/** Glorot & Bengio (2010), truncated normal: variance 2/(fan_in + fan_out). */
export const glorotNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fanAvg", "truncatedNormal", axes);
/** He et al. (2015), uniform: variance 2/fan_in (for ReLU-family activations). */
export const heUniform = (axes: FanAxes = {}): Initializer => varianceScaling(2, "fanIn", "uniform", axes);
/** He et al. (2015), truncated normal: variance 2/fan_in. */
export const heNormal = (axes: FanAxes = {}): Initializer => varianceScaling(2, "fanIn", "truncatedNormal", axes);
/** LeCun (1998), uniform: variance 1/fan_in (SELU's initialiser). */
export const lecunUniform = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fanIn", "uniform", axes);
/** LeCun (1998), truncated normal: variance 1/fan_in. Flax's default kernel initialiser. */
export const lecunNormal = (axes: FanAxes = {}): Initializer => varianceScaling(1, "fanIn", "truncatedNormal", axes);
export {
  glorotNormal as xavierNormal,
  glorotUniform as xavierUniform,
  heNormal as kaimingNormal,
  heUniform as kaimingUniform,
};

/**
 * A (semi-)orthogonal matrix (Saxe et al. 2014), scaled: the Q of the QR decomposition of a
 * Gaussian matrix, with signs fixed by R's diagonal so Q is uniform on the orthogonal group. A
 * kernel of more than two dims is reshaped to [∏ other dims, shape[columnAxis]].
 */
export function orthogonal(scale = 1, { columnAxis = -1 }: { columnAxis?: number } = {}): Initializer {
  return (key, shape, dtype = "float32") => {
    const op = "orthogonal";
    if (shape.length < 2) {
      throw new ShapeError(`${op}: needs a shape of rank ≥ 2, got [${shape.join(",")}]`);
    }
    const f = floatDType(op, dtype);
    const col = axesOf(op, columnAxis, shape.length)[0] as number;
    const nCols = shape[col] as number;
    const nRows = shape.reduce((a, b) => a * b, 1) / nCols;
    const wide = nRows < nCols;
    const a = random.normal(key, wide ? [nCols, nRows] : [nRows, nCols], { dtype: f });
    const [q0, r] = np.linalg.qr(a) as [Array, Array];
    let q = q0.mul(np.sign(np.diagonal(r)));
    if (wide) q = q.T;
    const others = shape.filter((_, i) => i !== col);
    q = np.moveaxis(q.reshape([...others, nCols]), -1, col);
    return cast(q.mul(scale), dtype);
  };
}

/**
 * Xiao et al. (2018)'s delta-orthogonal kernel for convolutions: zero everywhere but the centre
 * of the receptive field, which holds an orthogonal [in, out] matrix (needs in ≤ out).
 */
export function deltaOrthogonal(scale = 1, { columnAxis = -1 }: { columnAxis?: number } = {}): Initializer {
  return (key, shape, dtype = "float32") => {
    const op = "deltaOrthogonal";
    if (shape.length < 3 || shape.length > 5) {
      throw new ShapeError(`${op}: needs a conv kernel of rank 3, 4 or 5, got [${shape.join(",")}]`);
    }
    if (columnAxis !== -1 && columnAxis !== shape.length - 1) {
      throw new ShapeError(`${op}: only columnAxis −1 is supported, got ${columnAxis}`);
    }
    const nIn = shape[shape.length - 2] as number;
    const nOut = shape[shape.length - 1] as number;
    if (nIn > nOut) throw new ShapeError(`${op}: needs in ≤ out features, got shape [${shape.join(",")}]`);
    const ortho = orthogonal(scale)(key, [nIn, nOut], dtype);
    const spatial = shape.slice(0, -2);
    const centre = spatial.map((k) => Math.floor((k - 1) / 2));
    const w = ortho.reshape([...spatial.map(() => 1), nIn, nOut]);
    const around = spatial.map((k, i) => [centre[i] as number, k - 1 - (centre[i] as number)] as [number, number]);
    return np.pad(w, [...around, [0, 0], [0, 0]]);
  };
}

const registry: Record<string, () => Initializer> = {
  zeros: () => zeros,
  ones: () => ones,
  normal: () => normal(),
  uniform: () => uniform(),
  truncatedNormal: () => truncatedNormal(),
  glorotUniform: () => glorotUniform(),
  glorotNormal: () => glorotNormal(),
  heUniform: () => heUniform(),
  heNormal: () => heNormal(),
  lecunUniform: () => lecunUniform(),
  lecunNormal: () => lecunNormal(),
  xavierUniform: () => glorotUniform(),
  xavierNormal: () => glorotNormal(),
  kaimingUniform: () => heUniform(),
  kaimingNormal: () => heNormal(),
  orthogonal: () => orthogonal(),
  deltaOrthogonal: () => deltaOrthogonal(),
};

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * An initialiser by name, in camelCase or Keras' snake_case (`"heNormal"`, `"he_normal"`); an
 * unknown name is an error listing the valid ones. An initialiser function passes through.
 */
export function get(init: string | Initializer): Initializer {
  if (typeof init === "function") return init;
  const make = registry[camel(init)];
  if (make === undefined) {
    throw new DTypeError(
      `initializers.get: unknown initialiser ${JSON.stringify(init)}; valid names: ${Object.keys(registry).join(", ")}`,
    );
  }
  return make();
}
