/** The numpy namespace (`np`): numpy's names in camelCase, built only from primitives. */

import type { Array } from "../array.js";
import { installArrayMethods } from "../array.js";
import { setZerosLike } from "../core/zeros.js";
import { at } from "./at.js";
import type { NestedInput } from "./creation.js";
import * as creation from "./creation.js";
import { cumprod, cumsum } from "./cumulative.js";
import * as ew from "./elementwise.js";
import { astype } from "./elementwise.js";
import { take } from "./join.js";
import { dot, matmul } from "./linalg.js";
import { flatten, ravel, repeat, swapaxes } from "./manipulation.js";
import { round as mathRound } from "./math.js";
import { argmax, argmin, max, mean, min, prod, sum } from "./reduce.js";
import { broadcastTo, expandDims, reshape, slice, squeeze, transpose } from "./shape.js";
import { argsort, sort } from "./sorting.js";
import { all, any, std, variance } from "./stats.js";

export { e, eulerGamma, inf, nan, pi } from "./constants.js";
export type { CreateOptions, NestedInput } from "./creation.js";
export { arange, array, eye, full, fullLike, linspace, ones, onesLike, zeros, zerosLike } from "./creation.js";
export {
  abs,
  add,
  astype,
  ceil,
  clip,
  cos,
  divide,
  equal,
  exp,
  expm1,
  floor,
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  logicalXor,
  maximum,
  minimum,
  multiply,
  negative,
  notEqual,
  power,
  reciprocal,
  rint,
  rsqrt,
  sigmoid,
  sign,
  sin,
  sqrt,
  square,
  subtract,
  tanh,
  where,
} from "./elementwise.js";
export { dot, dotGeneral, matmul } from "./linalg.js";
export { argmax, argmin, max, mean, min, prod, sum } from "./reduce.js";
export { broadcastTo, expandDims, reshape, slice, squeeze, transpose } from "./shape.js";

setZerosLike((x) => creation.zerosLike(x));

installArrayMethods({
  add: ew.add,
  subtract: ew.subtract,
  multiply: ew.multiply,
  divide: ew.divide,
  power: ew.power,
  maximum: ew.maximum,
  minimum: ew.minimum,
  equal: ew.equal,
  notEqual: ew.notEqual,
  less: ew.less,
  lessEqual: ew.lessEqual,
  greater: ew.greater,
  greaterEqual: ew.greaterEqual,
  negative: ew.negative,
  abs: ew.abs,
  exp: ew.exp,
  log: ew.log,
  sqrt: ew.sqrt,
  tanh: ew.tanh,
  square: ew.square,
  sum,
  mean,
  max,
  min,
  prod,
  argmax,
  argmin,
  reshape,
  transpose,
  broadcastTo,
  expandDims,
  squeeze,
  slice,
  astype,
  matmul,
  dot,
  at: (x, indices) => at(x, indices as Array | NestedInput),
  all,
  any,
  var: variance,
  std,
  cumsum,
  cumprod,
  sort,
  argsort,
  take,
  flatten,
  ravel,
  swapaxes,
  repeat,
  clip: ew.clip,
  round: mathRound,
});

export {
  asarray,
  atleast1d,
  atleast2d,
  atleast3d,
  type CrossOptions,
  columnStack,
  copy,
  cross,
  type DiagonalOptions,
  type DiffOptions,
  diag,
  diagonal,
  diff,
  dstack,
  hstack,
  type MeshgridOptions,
  meshgrid,
  trace,
  vstack,
} from "./assemble.js";
export { type AtGetOptions, at } from "./at.js";
export { allclose, arrayEqual, arrayEquiv, type IsCloseOptions, isclose } from "./compare.js";
export { einsum, inner, outer, tensordot, vdot } from "./contractions.js";
export { type CumulativeOptions, cummax, cummin, cumprod, cumsum } from "./cumulative.js";
export {
  type BincountOptions,
  bincount,
  digitize,
  type HistogramOptions,
  histogram,
  type InterpOptions,
  interp,
} from "./histograms.js";
export type { IndexMode } from "./indices.js";
export { concatenate, stack, type TakeOptions, take } from "./join.js";
export * as linalg from "./linalg-namespace.js";
export {
  arraySplit,
  flatten,
  flip,
  moveaxis,
  oneHot,
  type PadOptions,
  type PadWidth,
  pad,
  ravel,
  repeat,
  roll,
  split,
  swapaxes,
  tile,
  tril,
  triu,
} from "./manipulation.js";
export { argwhere, extract, flatnonzero, nonzero, type SizeOptions } from "./masks.js";
export {
  arccos,
  arcsin,
  arcsinh,
  arctan,
  arctan2,
  arctanh,
  bitwiseAnd,
  bitwiseNot,
  bitwiseOr,
  bitwiseXor,
  cbrt,
  cosh,
  erf,
  erfc,
  erfinv,
  exp2,
  floorDivide,
  invert,
  isfinite,
  isinf,
  isnan,
  leftShift,
  log2,
  log10,
  logaddexp,
  mod,
  nanToNum,
  remainder,
  rightShift,
  round,
  sinh,
  tan,
  trunc,
} from "./math.js";
export { nanargmax, nanargmin, nanmax, nanmin, nanstd, nanvar } from "./nan-reduce.js";
export { type CovOptions, corrcoef, cov, type NormOptions, type NormOrder } from "./norms.js";
export { median, percentile, type QuantileMethod, type QuantileOptions, quantile } from "./quantiles.js";
export {
  argsort,
  type SearchSortedOptions,
  type SortOptions,
  searchsorted,
  sort,
  takeAlongAxis,
} from "./sorting.js";
export { all, any, logsumexp, nanmean, nansum, std, type VarOptions, variance as var, variance } from "./stats.js";
export {
  type UniqueAll,
  type UniqueOptions,
  unique,
  uniqueAll,
  uniqueCounts,
  uniqueInverse,
  uniqueValues,
} from "./unique.js";
