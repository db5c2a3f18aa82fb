import type { DType } from "../dtype.js";
import {
  type BinaryOp,
  binary,
  bitcast,
  cast,
  children,
  constant,
  type Expr,
  select,
  type UnaryOp,
  unary,
} from "./expr.js";
import { ExprTable } from "./hashcons.js";

/**
 * The one math library (DESIGN, decision 9): float32 transcendentals written once as IR-level
 * expansions (range reduction + polynomial) over the IR's primitive ops, which every code
 * generator — generated JS, the interpreter, Wasm and WGSL — emits as they are. Branches become
 * `select`s, NaN and Inf tests read the bits (WGSL compilers may assume there are no NaNs), and
 * powers of two are built from exponent bits. float16 computes in float32 and rounds once at
 * the end; float64 keeps the CPU's correctly rounded double functions (it has no WebGPU path).
 *
 * Ops that stay primitive in every generator: neg, abs, sign, sqrt, floor, ceil, round,
 * not, isfinite, the arithmetic, comparisons, bitwise and shift ops, integer pow, select, cast
 * and bitcast. Everything in `EXPANDED_UNARY` and float `pow`/`atan2` is expanded here.
 */

const F: DType = "float32";
const I: DType = "int32";
const f = (v: number): Expr => constant(v, F);
const i32 = (v: number): Expr => constant(v, I);
const add = (a: Expr, b: Expr) => binary("add", a, b);
const sub = (a: Expr, b: Expr) => binary("sub", a, b);
const mul = (a: Expr, b: Expr) => binary("mul", a, b);
const div = (a: Expr, b: Expr) => binary("div", a, b);
const neg = (a: Expr) => unary("neg", a);
const abs = (a: Expr) => unary("abs", a);
const and = (a: Expr, b: Expr) => binary("and", a, b);
const or = (a: Expr, b: Expr) => binary("or", a, b);
const lt = (a: Expr, b: Expr) => binary("lt", a, b);
const gt = (a: Expr, b: Expr) => binary("gt", a, b);
const eq = (a: Expr, b: Expr) => binary("eq", a, b);
const ne = (a: Expr, b: Expr) => binary("ne", a, b);
const not = (a: Expr) => unary("not", a);
const sel = (c: Expr, x: Expr, y: Expr) => select(c, x, y);
const bits = (x: Expr) => bitcast(x, I);

const NAN = f(Number.NaN);
const INF = f(Number.POSITIVE_INFINITY);
const ONE = f(1);
const ZERO = f(0);
const LN2 = Math.LN2;
const PI = Math.PI;
const HALF_PI = Math.PI / 2;

/** Bit tests, so that a compiler assuming finite math cannot fold them away. */
const isNan = (x: Expr) => gt(and(bits(x), i32(0x7fffffff)), i32(0x7f800000));
const isInf = (x: Expr) => eq(and(bits(x), i32(0x7fffffff)), i32(0x7f800000));
const signBit = (x: Expr) => lt(bits(x), i32(0));
/** −x where `negative`, else x. */
const withSign = (negative: Expr, x: Expr) => sel(negative, neg(x), x);

/** Horner's rule; coefficients from the constant term up. */
function horner(x: Expr, coefficients: readonly number[]): Expr {
  let p = f(coefficients[coefficients.length - 1] as number);
  for (let k = coefficients.length - 2; k >= 0; k--) p = add(f(coefficients[k] as number), mul(x, p));
  return p;
}

/** 2^n for an int32 n in [−126, 127], from the exponent bits. */
const pow2 = (n: Expr) => bitcast(binary("shl", add(n, i32(127)), i32(23)), F);

/** x · 2^k for k in [−252, 254], in two steps so neither power of two overflows on its own. */
function ldexp(x: Expr, k: Expr): Expr {
  const h = binary("shr", k, i32(1));
  return mul(mul(x, pow2(h)), pow2(sub(k, h)));
}

const EXP_POLY = [
  1, 1, 0.5, 0.1666666716337204, 0.0416666679084301, 0.008333333767950535, 0.0013888889225199819,
  0.00019841270113829523,
];

function exp(x: Expr): Expr {
  const k = unary("round", mul(x, f(Math.LOG2E)));
  const r = sub(sub(x, mul(k, f(0.693145751953125))), mul(k, f(1.428606765330187e-6)));
  let y = ldexp(horner(r, EXP_POLY), cast(k, I));
  y = sel(gt(x, f(88.72283935546875)), INF, y);
  y = sel(lt(x, f(-103.97208404541)), ZERO, y);
  return sel(isNan(x), x, y);
}

function expm1(x: Expr): Expr {
  const small = mul(x, horner(x, [...EXP_POLY.slice(1), 2.4801587642286904e-5, 2.7557318844628753e-6]));
  return sel(lt(abs(x), f(0.5)), small, sub(exp(x), ONE));
}

const LOG_POLY = [
  1, 0.3333333432674408, 0.20000000298023224, 0.1428571492433548, 0.1111111119389534, 0.09090909361839294,
];

/** x = 2^e · m with m in (√½, √2], and ln(m) by the atanh series in s = (m−1)/(m+1), for x > 0. */
function logParts(x: Expr): { e: Expr; lnM: Expr } {
  const tiny = lt(x, f(1.1754943508222875e-38));
  const xx = sel(tiny, mul(x, f(16777216)), x);
  const b = bits(xx);
  const e0 = add(sel(tiny, i32(-24), i32(0)), sub(and(binary("shr", b, i32(23)), i32(0xff)), i32(127)));
  const m0 = bitcast(or(and(b, i32(0x007fffff)), i32(0x3f800000)), F);
  const big = gt(m0, f(1.4142135381698608));
  const m = sel(big, mul(m0, f(0.5)), m0);
  const e = sel(big, add(e0, i32(1)), e0);
  const s = div(sub(m, ONE), add(m, ONE));
  return { e, lnM: mul(mul(f(2), s), horner(mul(s, s), LOG_POLY)) };
}

function log(x: Expr): Expr {
  const { e, lnM } = logParts(x);
  const fe = cast(e, F);
  let y = add(mul(fe, f(0.693145751953125)), add(mul(fe, f(1.428606765330187e-6)), lnM));
  y = sel(isInf(x), x, y);
  y = sel(eq(x, ZERO), neg(INF), y);
  return sel(or(isNan(x), lt(x, ZERO)), NAN, y);
}

function log1p(x: Expr): Expr {
  const s = div(x, add(f(2), x));
  const small = mul(mul(f(2), s), horner(mul(s, s), [...LOG_POLY, 0.07692307978868484, 0.06666667014360428]));
  return sel(lt(abs(x), f(0.5)), small, log(add(ONE, x)));
}

function tanh(x: Expr): Expr {
  const a = abs(x);
  const e = expm1(mul(f(-2), a));
  const t = div(neg(e), add(f(2), e));
  let y = withSign(lt(x, ZERO), t);
  y = sel(gt(a, f(9)), sel(lt(x, ZERO), f(-1), ONE), y);
  // Below 2^-12, x³/3 is under half an ulp: tanh(x) rounds to x (and keeps −0).
  return sel(or(isNan(x), lt(a, f(2 ** -12))), x, y);
}

const logistic = (x: Expr) => div(ONE, add(ONE, exp(neg(x))));

/** Cody–Waite reduction by π/2 in three parts: x = k·π/2 + r. */
function sincosReduce(x: Expr): { r: Expr; q: Expr } {
  const k = unary("round", mul(x, f(0.6366197723675814)));
  const r = sub(sub(sub(x, mul(k, f(1.5703125))), mul(k, f(4.837512969970703e-4))), mul(k, f(7.549789948768648e-8)));
  return { r, q: and(cast(k, I), i32(3)) };
}

function sinPoly(r: Expr): Expr {
  const r2 = mul(r, r);
  const inner = sub(f(2.7557318844628753e-6), mul(r2, f(2.505210838544172e-8)));
  const p = add(
    f(-0.1666666716337204),
    mul(r2, add(f(0.008333333767950535), mul(r2, add(f(-0.00019841270113829523), mul(r2, inner))))),
  );
  return add(r, mul(mul(r, r2), p));
}

function cosPoly(r: Expr): Expr {
  const r2 = mul(r, r);
  const inner = sub(f(2.4801587642286904e-5), mul(r2, f(2.755731884462875e-7)));
  const p = add(f(-0.5), mul(r2, add(f(0.0416666679084301), mul(r2, add(f(-0.0013888889225199819), mul(r2, inner))))));
  return add(ONE, mul(r2, p));
}

/** sin (shift 0) or cos (shift 1) by quadrant. */
function sinCos(x: Expr, shift: number): Expr {
  const { r, q: q0 } = sincosReduce(x);
  const q = and(add(q0, i32(shift)), i32(3));
  const s = sinPoly(r);
  const c = cosPoly(r);
  const y = sel(eq(q, i32(0)), s, sel(eq(q, i32(1)), c, sel(eq(q, i32(2)), neg(s), neg(c))));
  return sel(or(isNan(x), isInf(x)), NAN, y);
}

/** Cephes atanf: reduce to |t| ≤ tan(π/8), then an odd polynomial. */
function atan(x: Expr): Expr {
  const a = abs(x);
  const big = gt(a, f(2.414213562373095));
  const mid = gt(a, f(0.414213562373095));
  const y0 = sel(big, f(HALF_PI), sel(mid, f(PI / 4), ZERO));
  const t = sel(big, div(f(-1), a), sel(mid, div(sub(a, ONE), add(a, ONE)), a));
  const z = mul(t, t);
  const p = sub(
    mul(add(mul(sub(mul(f(8.05374449538e-2), z), f(1.38776856032e-1)), z), f(1.99777106478e-1)), z),
    f(3.33329491539e-1),
  );
  const y = add(y0, add(mul(mul(p, z), t), t));
  return sel(isNan(x), x, withSign(lt(x, ZERO), y));
}

function atan2(y: Expr, x: Expr): Expr {
  const negY = signBit(y);
  const r = atan(div(y, x));
  let out = sel(gt(x, ZERO), r, sel(negY, sub(r, f(PI)), add(r, f(PI))));
  const piOr0 = sel(signBit(x), f(PI), ZERO);
  const onAxis = sel(eq(y, ZERO), withSign(negY, piOr0), withSign(negY, f(HALF_PI)));
  out = sel(eq(x, ZERO), onAxis, out);
  // Both infinite: the octant's angle (IEEE), which atan(y/x) = atan(NaN) misses.
  const corner = withSign(negY, sel(signBit(x), f((3 * PI) / 4), f(PI / 4)));
  out = sel(and(isInf(x), isInf(y)), corner, out);
  return sel(or(isNan(x), isNan(y)), NAN, out);
}

/** Cephes asinf on a = |x| ≤ 1: near 1 use asin(a) = π/2 − 2·asin(√((1−a)/2)). */
function asinCore(a: Expr): Expr {
  const big = gt(a, f(0.5));
  const z = sel(big, mul(f(0.5), sub(ONE, a)), mul(a, a));
  const t = sel(big, unary("sqrt", z), a);
  const q = add(
    mul(
      add(
        mul(add(mul(add(mul(f(4.2163199048e-2), z), f(2.4181311049e-2)), z), f(4.5470025998e-2)), z),
        f(7.4953002686e-2),
      ),
      z,
    ),
    f(1.6666752422e-1),
  );
  const p = add(mul(mul(q, z), t), t);
  return sel(big, sub(f(HALF_PI), mul(f(2), p)), p);
}

const outsideUnit = (x: Expr) => or(isNan(x), gt(abs(x), ONE));

function asin(x: Expr): Expr {
  return sel(outsideUnit(x), NAN, withSign(lt(x, ZERO), asinCore(abs(x))));
}

function acos(x: Expr): Expr {
  const hi = mul(f(2), asinCore(unary("sqrt", mul(f(0.5), sub(ONE, x)))));
  const lo = sub(f(PI), mul(f(2), asinCore(unary("sqrt", mul(f(0.5), add(ONE, x))))));
  const midBand = sub(f(HALF_PI), withSign(lt(x, ZERO), asinCore(abs(x))));
  const y = sel(gt(x, f(0.5)), hi, sel(lt(x, f(-0.5)), lo, midBand));
  return sel(outsideUnit(x), NAN, y);
}

/** e^a / 2 for large a as (e^(a/2) / 2) · e^(a/2): no overflow before the result overflows, and a/2 is exact. */
function halfExpSquared(a: Expr): Expr {
  const h = exp(mul(f(0.5), a));
  return mul(mul(f(0.5), h), h);
}

function sinh(x: Expr): Expr {
  const a = abs(x);
  const u = expm1(a);
  const y = sel(gt(a, f(80)), halfExpSquared(a), mul(f(0.5), add(u, div(u, add(u, ONE)))));
  return sel(isNan(x), x, withSign(lt(x, ZERO), y));
}

function cosh(x: Expr): Expr {
  const a = abs(x);
  const e = exp(a);
  const y = sel(gt(a, f(80)), halfExpSquared(a), mul(f(0.5), add(e, div(ONE, e))));
  return sel(isNan(x), x, y);
}

function asinh(x: Expr): Expr {
  const a = abs(x);
  const a2 = mul(a, a);
  const near = log1p(add(a, div(a2, add(ONE, unary("sqrt", add(ONE, a2))))));
  const y = sel(gt(a, f(1e4)), add(log(a), f(LN2)), near);
  return sel(isNan(x), x, withSign(lt(x, ZERO), y));
}

/** Near ±1, 1 ± x are exact (Sterbenz), so the ratio form keeps full precision. */
function atanh(x: Expr): Expr {
  const small = mul(f(0.5), log1p(div(mul(f(2), x), sub(ONE, x))));
  const large = mul(f(0.5), log(div(add(ONE, x), sub(ONE, x))));
  return sel(lt(abs(x), f(0.5)), small, large);
}

function cbrt(x: Expr): Expr {
  const a = abs(x);
  const y0 = exp(div(log(a), f(3)));
  const y = sub(y0, div(sub(mul(mul(y0, y0), y0), a), mul(mul(f(3), y0), y0)));
  return sel(or(or(eq(x, ZERO), isNan(x)), isInf(x)), x, withSign(lt(x, ZERO), y));
}

function exp2(x: Expr): Expr {
  const n = unary("round", x);
  let y = ldexp(exp(mul(sub(x, n), f(LN2))), cast(n, I));
  y = sel(unary("not", lt(x, f(128))), INF, y);
  y = sel(lt(x, f(-150)), ZERO, y);
  return sel(isNan(x), x, y);
}

/** erf's Maclaurin series Σ (−1)ⁿ a²ⁿ⁺¹ / (n! (2n+1)) · 2/√π for a < 1 (24 terms: the last is below 2^-70). */
function erfSeries(a: Expr): Expr {
  const a2 = mul(a, a);
  let term = a;
  let sum = a;
  for (let n = 1; n < 24; n++) {
    term = div(mul(term, neg(a2)), f(n));
    sum = add(sum, div(term, f(2 * n + 1)));
  }
  return mul(sum, f(1.1283791670955126));
}

/**
 * erfc(a) for a ≥ 1: e^(−a²)/√π · 1/(a + ½/(a + 1/(a + …))), 60 levels evaluated backwards
 * (truncation below 3e-9 relative at a = 1). e^(−a²) is e^(−h²)·e^(−(a−h)(a+h)) with h = a
 * cut to 12 bits, so h² is exact: rounding a² itself would cost 30 ulps by a = 7.
 */
function erfcFraction(a: Expr): Expr {
  let t = a;
  for (let k = 60; k >= 1; k--) t = add(a, div(f(k * 0.5), t));
  const h = bitcast(and(bits(a), i32(-4096)), F);
  const e = mul(exp(neg(mul(h, h))), exp(neg(mul(sub(a, h), add(a, h)))));
  return div(e, mul(f(1.7724538509055159), t));
}

function erf(x: Expr): Expr {
  const a = abs(x);
  const y = sel(lt(a, ONE), erfSeries(a), sel(lt(a, f(4)), sub(ONE, erfcFraction(a)), ONE));
  return sel(isNan(x), x, withSign(lt(x, ZERO), y));
}

function erfc(x: Expr): Expr {
  const a = abs(x);
  const r = sel(lt(a, ONE), sub(ONE, erfSeries(a)), sel(lt(a, f(10.5)), erfcFraction(a), ZERO));
  return sel(isNan(x), x, sel(lt(x, ZERO), sub(f(2), r), r));
}

/** Giles (2010) in single precision, as XLA. */
export const GILES_ERFINV = {
  center: [
    2.81022636e-8, 3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
    0.246640727, 1.50140941,
  ],
  tail: [
    -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047,
    1.00167406, 2.83297682,
  ],
} as const;

function erfinv(x: Expr): Expr {
  const w = neg(log(mul(sub(ONE, x), add(ONE, x))));
  const gilesPoly = (t: Expr, coefficients: readonly number[]) => {
    let p: Expr = ZERO;
    for (const c of coefficients) p = add(f(c), mul(p, t));
    return p;
  };
  const center = gilesPoly(sub(w, f(2.5)), GILES_ERFINV.center);
  const tail = gilesPoly(sub(unary("sqrt", w), f(3)), GILES_ERFINV.tail);
  const y = mul(sel(lt(w, f(5)), center, tail), x);
  const edge = sel(lt(x, ZERO), neg(INF), INF);
  return sel(outsideUnit(x), NAN, sel(eq(abs(x), ONE), edge, y));
}

/**
 * |a|^b = 2^(b·log2|a|) for finite a > 0, keeping b·log2|a| to about 2^-24 absolute: with
 * |a| = 2^e·m, b·e is split exactly (b cut into two 12-bit halves, each times e is exact) and
 * each product's integer part set aside, so only b·log2(m), |log2 m| ≤ ½, carries rounding error
 * (without this, 10^12.5 is 15 ulps off). Overflow and underflow fall out of the final scaling.
 */
function powPositive(a: Expr, b: Expr): Expr {
  const { e, lnM } = logParts(a);
  const fe = cast(e, F);
  const bh = bitcast(and(bits(b), i32(-4096)), F);
  const parts = [mul(bh, fe), mul(sub(b, bh), fe), mul(b, mul(lnM, f(1 / LN2)))];
  let n: Expr = ZERO;
  let r: Expr = ZERO;
  for (const p of parts) {
    const k = unary("round", p);
    n = add(n, k);
    r = add(r, sub(p, k));
  }
  const k = unary("round", r);
  n = binary("max", binary("min", add(n, k), f(254)), f(-252));
  return ldexp(exp(mul(sub(r, k), f(LN2))), cast(n, I));
}

/**
 * Integer exponents up to this go by repeated squaring: exact where the result is representable,
 * but each squaring doubles the base's rounding error, so larger ones go by `powPositive`.
 */
const SQUARING_MAX = 16;

/**
 * IEEE pow: repeated squaring for integer exponents up to ±16 (unrolled over the exponent's
 * five bits; 2^10 and 3^5 come out exact), `powPositive` otherwise, negative bases only with integer exponents (the
 * sign from b's parity), and ±Inf exponents by |a| against 1.
 */
function pow(a: Expr, b: Expr): Expr {
  const integral = eq(b, unary("round", b));
  const absB = abs(b);
  const small = and(integral, binary("le", absB, f(SQUARING_MAX)));
  const e = cast(sel(small, absB, ZERO), I);
  let result: Expr = ONE;
  let base = a;
  for (let bit = 0; 2 ** bit <= SQUARING_MAX; bit++) {
    const set = ne(and(binary("shr", e, i32(bit)), i32(1)), i32(0));
    result = sel(set, mul(result, base), result);
    if (2 ** (bit + 1) <= SQUARING_MAX) base = mul(base, base);
  }
  const squared = sel(lt(b, ZERO), div(ONE, result), result);
  const r = powPositive(abs(a), b);
  const half = mul(b, f(0.5));
  const odd = and(integral, ne(half, unary("floor", half)));
  let y = withSign(and(lt(a, ZERO), odd), r);
  y = sel(eq(a, ZERO), sel(lt(b, ZERO), INF, ZERO), y);
  y = sel(and(lt(a, ZERO), not(integral)), NAN, y);
  y = sel(small, squared, y);
  const m = abs(a);
  const infExp = sel(eq(m, ONE), ONE, sel(eq(gt(m, ONE), gt(b, ZERO)), INF, ZERO));
  y = sel(isInf(b), infExp, y);
  y = sel(or(isNan(a), isNan(b)), NAN, y);
  return sel(or(eq(b, ZERO), eq(a, ONE)), ONE, y);
}

const UNARY: Partial<Record<UnaryOp, (x: Expr) => Expr>> = {
  // 1/√x with √x rounded first, as every generator computes it.
  rsqrt: (x) => div(ONE, unary("sqrt", x)),
  exp,
  expm1,
  log,
  log1p,
  tanh,
  logistic,
  sin: (x) => sinCos(x, 0),
  cos: (x) => sinCos(x, 1),
  tan: (x) => div(sinCos(x, 0), sinCos(x, 1)),
  atan,
  asin,
  acos,
  sinh,
  cosh,
  asinh,
  atanh,
  cbrt,
  exp2,
  erf,
  erfc,
  erfinv,
};

const BINARY: Partial<Record<BinaryOp, (x: Expr, y: Expr) => Expr>> = { pow, atan2 };

/** The unary ops this library expands (on float32 and float16). */
export const EXPANDED_UNARY: ReadonlySet<UnaryOp> = new Set(Object.keys(UNARY) as UnaryOp[]);

const expandsFloat = (d: DType) => d === "float32" || d === "float16";

/** In float32, then rounded to float16 once when the op is on float16. */
function inFloat32(d: DType, args: readonly Expr[], fn: (...xs: Expr[]) => Expr): Expr {
  if (d === "float32") return fn(...args);
  return cast(fn(...args.map((a) => cast(a, F))), d);
}

/**
 * Rewrites every transcendental of `e` on float32/float16 into primitive ops, keeping the
 * DAG's sharing (a node reached twice is rewritten once), then hash-conses the result, so
 * structurally equal sub-expressions (the user's or the expansions') become one node.
 */
export function expandMath(e: Expr, memo: Map<Expr, Expr> = new Map(), table: ExprTable = new ExprTable()): Expr {
  const visit = (n: Expr): Expr => {
    const seen = memo.get(n);
    if (seen) return seen;
    let out: Expr;
    switch (n.op) {
      case "unary": {
        const x = visit(n.x);
        const fn = UNARY[n.fn];
        out = fn && expandsFloat(n.x.dtype) ? inFloat32(n.x.dtype, [x], fn) : x === n.x ? n : unary(n.fn, x);
        break;
      }
      case "binary": {
        const x = visit(n.x);
        const y = visit(n.y);
        const fn = BINARY[n.fn];
        out =
          fn && expandsFloat(n.x.dtype)
            ? inFloat32(n.x.dtype, [x, y], fn)
            : x === n.x && y === n.y
              ? n
              : binary(n.fn, x, y);
        break;
      }
      case "select": {
        const [c, x, y] = [visit(n.cond), visit(n.x), visit(n.y)];
        out = c === n.cond && x === n.x && y === n.y ? n : select(c, x, y);
        break;
      }
      case "cast":
      case "bitcast": {
        const x = visit(n.x);
        out = x === n.x ? n : n.op === "cast" ? cast(x, n.dtype) : bitcast(x, n.dtype);
        break;
      }
      default:
        out = n;
    }
    memo.set(n, out);
    return out;
  };
  // Hash-consed, so each generator's per-node memo computes a repeated sub-expression once.
  return table.intern(visit(e));
}

/** Whether `e` still holds an op this library expands (generators assert they were given none). */
export function hasTranscendental(e: Expr): boolean {
  const seen = new Set<Expr>();
  const walk = (n: Expr): boolean => {
    if (seen.has(n)) return false;
    seen.add(n);
    if (n.op === "unary" && UNARY[n.fn] && expandsFloat(n.x.dtype)) return true;
    if (n.op === "binary" && BINARY[n.fn] && expandsFloat(n.x.dtype)) return true;
    return children(n).some(walk);
  };
  return walk(e);
}
