/**
 * Feature scaling, as scikit-learn's StandardScaler and MinMaxScaler: `fit` on the training
 * data gives the statistics (a plain pytree, so they checkpoint with the model), `transform`
 * applies them to training, validation and test data alike.
 */
import { type Array, np, ShapeError, WebjaxError } from "@webjax/core";

/** Statistics of `standardScaler`: per-feature mean and scale (the std, 1 where it is 0). */
export interface StandardStats {
  readonly mean: Array;
  readonly scale: Array;
}

/** Statistics of `minMaxScaler`: per-feature minimum and range (1 where it is 0). */
export interface MinMaxStats {
  readonly min: Array;
  readonly range: Array;
}

/** A fitted-statistics scaler: fit once on training data, then transform any split. */
export interface Scaler<S> {
  fit(x: Array): S;
  transform(stats: S, x: Array): Array;
  inverseTransform(stats: S, x: Array): Array;
  fitTransform(x: Array): [Array, S];
}

function checkInput(op: string, x: Array): void {
  if (x.ndim < 1 || x.shape[0] === 0) {
    throw new ShapeError(
      `${op}: expected examples along axis 0 (shape [n, ...features], n ≥ 1), got [${x.shape.join(",")}]`,
    );
  }
  if (!x.dtype.startsWith("float") && x.dtype !== "int32" && x.dtype !== "uint32") {
    throw new ShapeError(`${op}: expected a numeric array, got ${x.dtype}`);
  }
}

function checkStats(op: string, stat: Array, x: Array): void {
  const want = stat.shape.join(",");
  const got = x.shape.slice(1).join(",");
  if (want !== got) {
    throw new ShapeError(`${op}: the scaler was fitted on features of shape [${want}], got examples of shape [${got}]`);
  }
}

const asFloat = (x: Array) => (x.dtype.startsWith("float") ? x : x.astype("float32"));

/**
 * Standardisation, z = (x − mean) / std per feature (axis 0 is the example axis; the std is the
 * population one, ddof 0; a constant feature gets scale 1 so it maps to 0, as scikit-learn does).
 */
export function standardScaler(opts: { withMean?: boolean; withStd?: boolean } = {}): Scaler<StandardStats> {
  const withMean = opts.withMean ?? true;
  const withStd = opts.withStd ?? true;
  const fitStats = (x: Array): StandardStats => {
    checkInput("standardScaler.fit", x);
    const xf = asFloat(x);
    const mean = withMean ? xf.mean(0) : np.zerosLike(xf.slice(0));
    const std = xf.std(0);
    const scale = withStd ? np.where(std.equal(0), 1, std) : np.onesLike(std);
    return { mean, scale };
  };
  const transform = (s: StandardStats, x: Array) => {
    checkStats("standardScaler.transform", s.mean, x);
    return asFloat(x).sub(s.mean).div(s.scale);
  };
  const inverseTransform = (s: StandardStats, z: Array) => {
    checkStats("standardScaler.inverseTransform", s.mean, z);
    return z.mul(s.scale).add(s.mean);
  };
  return {
    fit: fitStats,
    transform,
    inverseTransform,
    fitTransform: (x) => {
      const s = fitStats(x);
      return [transform(s, x), s];
    },
  };
}

/**
 * Min-max scaling into `featureRange` (default [0, 1]): (x − min) / (max − min) · (b − a) + a per
 * feature; a constant feature gets range 1, as scikit-learn's MinMaxScaler.
 */
export function minMaxScaler(opts: { featureRange?: readonly [number, number] } = {}): Scaler<MinMaxStats> {
  const [a, b] = opts.featureRange ?? [0, 1];
  if (!(a < b)) throw new WebjaxError(`minMaxScaler: featureRange must be [a, b] with a < b, got [${a}, ${b}]`);
  const fitStats = (x: Array): MinMaxStats => {
    checkInput("minMaxScaler.fit", x);
    const xf = asFloat(x);
    const min = xf.min(0);
    const r = xf.max(0).sub(min);
    return { min, range: np.where(r.equal(0), 1, r) };
  };
  const transform = (s: MinMaxStats, x: Array) => {
    checkStats("minMaxScaler.transform", s.min, x);
    return asFloat(x)
      .sub(s.min)
      .div(s.range)
      .mul(b - a)
      .add(a);
  };
  const inverseTransform = (s: MinMaxStats, y: Array) => {
    checkStats("minMaxScaler.inverseTransform", s.min, y);
    return y
      .sub(a)
      .div(b - a)
      .mul(s.range)
      .add(s.min);
  };
  return {
    fit: fitStats,
    transform,
    inverseTransform,
    fitTransform: (x) => {
      const s = fitStats(x);
      return [transform(s, x), s];
    },
  };
}

/** The per-feature statistics that `checkStandardized` found off. */
export interface StandardizationReport {
  readonly ok: boolean;
  /** Features whose mean or std is off, with their statistics (at most 5 listed). */
  readonly offenders: ReadonlyArray<{ feature: number; mean: number; std: number }>;
  readonly offending: number;
}

/**
 * Whether each feature of `x` (examples on axis 0) looks standardised: |mean| ≤ tol and
 * |std − 1| ≤ tol, constant features (std 0) excepted. SELU's self-normalisation assumes it.
 */
export async function checkStandardized(x: Array, opts: { tol?: number } = {}): Promise<StandardizationReport> {
  checkInput("checkStandardized", x);
  const tol = opts.tol ?? 0.25;
  const xf = asFloat(x).reshape([x.shape[0] as number, -1]);
  const [mean, std] = await Promise.all([xf.mean(0).data(), xf.std(0).data()]);
  const offenders: { feature: number; mean: number; std: number }[] = [];
  let offending = 0;
  for (let j = 0; j < mean.length; j++) {
    const m = mean[j] as number;
    const s = std[j] as number;
    if (s === 0) continue;
    if (Math.abs(m) > tol || Math.abs(s - 1) > tol) {
      offending++;
      if (offenders.length < 5) offenders.push({ feature: j, mean: m, std: s });
    }
  }
  return { ok: offending === 0, offenders, offending };
}
