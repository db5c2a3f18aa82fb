/**
 * PRNG keys as in JAX with its default threefry2x32 implementation and the partitionable
 * scheme (`jax_threefry_partitionable=True`, JAX's default since 0.5). A key is a plain uint32
 * Array of shape [2]; `split` gives [..., 2].
 */
import { Array } from "../array.js";
import { fmtAval } from "../core/aval.js";
import { scoped } from "../core/scope.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { backendOf } from "../numpy/convert.js";
import { array, type CreateOptions, full } from "../numpy/creation.js";
import { bitwiseXor } from "../numpy/math.js";
import { checkShape } from "../shape.js";
import { iota2x32, threefry2x32, word } from "./threefry.js";

/** The two uint32 words of a 64-bit two's-complement integer, as JAX's `threefry_seed` splits it. */
function seedWords(op: string, seed: number): [number, number] {
  if (!Number.isSafeInteger(seed)) throw new DTypeError(`${op}: the seed must be a safe integer, got ${seed}`);
  const v = BigInt.asUintN(64, BigInt(seed));
  return [Number(v >> 32n), Number(v & 0xffffffffn)];
}

const describe = (x: unknown) => (x instanceof Array ? fmtAval(x.aval) : typeof x);

/** Throws unless `key` is a single key (uint32 [2]). */
export function checkKey(op: string, key: Array): void {
  if (!(key instanceof Array) || key.dtype !== "uint32" || key.ndim !== 1 || key.shape[0] !== 2) {
    const got = describe(key);
    throw new ShapeError(
      `${op}: expected a single key (uint32[2], from random.key or a row of random.split), got ${got}; ` +
        "for a batch of keys, call it once per key",
    );
  }
}

/** The two words of a key as scalar uint32 views. */
export function keyWords(op: string, key: Array): [Array, Array] {
  checkKey(op, key);
  const w = (i: number) =>
    bind1("reshape", [bind1("slice", [key], { start: [i], limit: [i + 1], strides: [1] })], { newShape: [] });
  return [w(0), w(1)];
}

/** The hash of the counters (hi, lo) under `key`, the key words broadcast to the counters' shape: [...S, 2]. */
function hashCounts(op: string, key: Array, hi: Array, lo: Array): Array {
  const [k0, k1] = keyWords(op, key);
  const b = (k: Array) => bind1("broadcast_in_dim", [k], { shape: lo.shape, broadcastDimensions: [] });
  return threefry2x32(b(k0), b(k1), hi, lo);
}

/**
 * A PRNG key from an integer seed (`jax.random.key` / `PRNGKey`): uint32 [2] = the high and
 * low words of the seed as a 64-bit integer (JAX's `threefry_seed` of an int64, as with
 * `jax_enable_x64`), so `key(1)` is [0, 1], `key(2 ** 40 + 5)` is [256, 5] and `key(-1)` is
 * [0xFFFFFFFF, 0xFFFFFFFF]. JAX without x64 first truncates the seed to int32, so seeds outside
 * [0, 2^31) give [0, low word] there; seeds in [0, 2^31) agree in both modes.
 */
export function key(seed: number, opts?: Pick<CreateOptions, "backend">): Array {
  const [hi, lo] = seedWords("key", seed);
  return array(Uint32Array.of(hi, lo), { shape: [2], ...(opts?.backend ? { backend: opts.backend } : {}) });
}

/** The uint32 words of a key or of an array of keys (webjax's keys are already plain uint32 arrays). */
export function keyData(keys: Array): Array {
  if (!(keys instanceof Array) || keys.dtype !== "uint32" || keys.shape[keys.ndim - 1] !== 2) {
    throw new ShapeError(`keyData: expected keys (uint32[..., 2]), got ${describe(keys)}`);
  }
  return bind1("reshape", [keys], { newShape: keys.shape });
}

/**
 * Splits a key into `num` new keys (or an array of keys of shape `num`): uint32 [...num, 2].
 * Partitionable scheme: key i is threefry2x32(key, (hi, lo) of the 64-bit counter i).
 */
export function split(key: Array, num: number | readonly number[] = 2): Array {
  return scoped(() => {
    const shape = checkShape(typeof num === "number" ? [num] : num, "split");
    const [hi, lo] = iota2x32(shape, key);
    return hashCounts("split", key, hi, lo);
  });
}

/**
 * A new key from `key` and a 32-bit integer (`jax.random.fold_in`): threefry2x32(key, (0, data)).
 * Numbers are taken modulo 2^32; an int32 Array is read as its uint32 bits.
 */
export function foldIn(key: Array, data: number | Array): Array {
  return scoped(() => {
    let d: Array;
    if (data instanceof Array) {
      if (data.ndim !== 0 || (data.dtype !== "int32" && data.dtype !== "uint32")) {
        throw new DTypeError(`foldIn: data must be an integer scalar, got ${fmtAval(data.aval)}`);
      }
      d = bind1("bitcast_convert_type", [data], { newDtype: "uint32" });
    } else {
      if (!Number.isSafeInteger(data)) throw new DTypeError(`foldIn: data must be an integer, got ${data}`);
      d = full([], Number(BigInt.asUintN(32, BigInt(data))), { dtype: "uint32", backend: backendOf([key]).name });
    }
    const zero = full([], 0, { dtype: "uint32", backend: backendOf([key]).name });
    return hashCounts("foldIn", key, zero, d);
  });
}

/**
 * Uniform random uint32 bits of `shape` (`jax.random.bits`). Partitionable scheme: the hash of
 * the row-major 64-bit counters over `shape`, its two words xored.
 */
export function bits(key: Array, shape: readonly number[] = []): Array {
  return scoped(() => {
    const s = checkShape(shape, "bits");
    const [hi, lo] = iota2x32(s, key);
    const pairs = hashCounts("bits", key, hi, lo);
    return bitwiseXor(word(pairs, 0), word(pairs, 1));
  });
}

/** Row `i` of a [n, 2] array of keys, as a key (a view). */
export function keyAt(keys: Array, i: number): Array {
  return scoped(() => {
    if (!(keys instanceof Array) || keys.dtype !== "uint32" || keys.ndim !== 2 || keys.shape[1] !== 2) {
      throw new ShapeError(`keyAt: expected keys of shape [n, 2] (from split), got ${describe(keys)}`);
    }
    const n = keys.shape[0] as number;
    if (!Number.isInteger(i) || i < -n || i >= n)
      throw new ShapeError(`keyAt: index ${i} is out of range for ${n} keys`);
    const at = i < 0 ? i + n : i;
    const row = bind1("slice", [keys], { start: [at, 0], limit: [at + 1, 2], strides: [1, 1] });
    return bind1("reshape", [row], { newShape: [2] });
  });
}
