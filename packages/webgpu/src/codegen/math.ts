import { GILES_ERFINV } from "@webjax/core/internal";
/**
 * WGSL helpers with webjax's pinned semantics. WGSL leaves the accuracy of exp/log/tanh to the
 * implementation (and some drivers return NaN for tanh(100)), and compilers may assume there
 * are no NaNs, so transcendentals are our own range-reduced polynomials and NaN/Inf tests are
 * done on the bits. Each helper lists the helpers it calls, so a kernel includes only what it uses.
 */
export const HELPERS: Record<string, { deps: string[]; code: string }> = {
  wj_isnan: { deps: [], code: "fn wj_isnan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }" },
  wj_isinf: {
    deps: [],
    code: "fn wj_isinf(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }",
  },
  // Read from private variables: a constant NaN or Inf is a shader-creation error in WGSL.
  wj_nan: {
    deps: [],
    code: "var<private> wj_nan_bits: u32 = 0x7fc00000u;\nfn wj_nan() -> f32 { return bitcast<f32>(wj_nan_bits); }",
  },
  wj_inf: {
    deps: [],
    code: "var<private> wj_inf_bits: u32 = 0x7f800000u;\nfn wj_inf() -> f32 { return bitcast<f32>(wj_inf_bits); }",
  },
  wj_ldexp: {
    deps: [],
    // Two steps, so neither power of two overflows on its own (exp(88.7) needs 2^128).
    code: "fn wj_ldexp(x: f32, k: i32) -> f32 { let h = k / 2; return ldexp(ldexp(x, h), k - h); }",
  },
  wj_exp: {
    deps: ["wj_isnan", "wj_inf", "wj_ldexp"],
    code: `fn wj_exp(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  if (x > 88.72283935546875) { return wj_inf(); }
  if (x < -103.972084045410) { return 0.0; }
  let k = round(x * 1.44269504088896);
  let r = (x - k * 0.693145751953125) - k * 1.428606765330187e-06;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.1666666716337204 + r * (0.0416666679084301 + r * (0.008333333767950535 + r * (0.0013888889225199819 + r * 0.00019841270113829523))))));
  return wj_ldexp(p, i32(k));
}`,
  },
  wj_expm1: {
    deps: ["wj_exp"],
    code: `fn wj_expm1(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.1666666716337204 + x * (0.0416666679084301 + x * (0.008333333767950535 + x * (0.0013888889225199819 + x * (0.00019841270113829523 + x * (2.4801587642286904e-05 + x * 2.7557318844628753e-06))))))));
  }
  return wj_exp(x) - 1.0;
}`,
  },
  wj_log: {
    deps: ["wj_isnan", "wj_isinf", "wj_nan", "wj_inf"],
    code: `fn wj_log(x: f32) -> f32 {
  if (wj_isnan(x) || x < 0.0) { return wj_nan(); }
  if (x == 0.0) { return -wj_inf(); }
  if (wj_isinf(x)) { return x; }
  var xx = x;
  var e = 0;
  if (xx < 1.1754943508222875e-38) { xx = xx * 16777216.0; e = -24; }
  let bits = bitcast<u32>(xx);
  e = e + i32((bits >> 23u) & 0xffu) - 127;
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  if (m > 1.4142135381698608) { m = m * 0.5; e = e + 1; }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let lm = 2.0 * s * (1.0 + s2 * (0.3333333432674408 + s2 * (0.20000000298023224 + s2 * (0.1428571492433548 + s2 * (0.1111111119389534 + s2 * 0.09090909361839294)))));
  let fe = f32(e);
  return fe * 0.693145751953125 + (fe * 1.428606765330187e-06 + lm);
}`,
  },
  wj_log1p: {
    deps: ["wj_log"],
    code: `fn wj_log1p(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    let s = x / (2.0 + x);
    let s2 = s * s;
    return 2.0 * s * (1.0 + s2 * (0.3333333432674408 + s2 * (0.20000000298023224 + s2 * (0.1428571492433548 + s2 * (0.1111111119389534 + s2 * (0.09090909361839294 + s2 * (0.07692307978868484 + s2 * 0.06666667014360428)))))));
  }
  return wj_log(1.0 + x);
}`,
  },
  wj_tanh: {
    deps: ["wj_isnan", "wj_expm1"],
    code: `fn wj_tanh(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  if (a > 9.0) { return select(1.0, -1.0, x < 0.0); }
  let e = wj_expm1(-2.0 * a);
  let t = -e / (2.0 + e);
  return select(t, -t, x < 0.0);
}`,
  },
  wj_logistic: {
    deps: ["wj_exp"],
    code: "fn wj_logistic(x: f32) -> f32 { return 1.0 / (1.0 + wj_exp(-x)); }",
  },
  wj_sincos_reduce: {
    deps: [],
    // Cody–Waite reduction by π/2 in three parts; returns (r, quadrant).
    code: `fn wj_sincos_reduce(x: f32) -> vec2f {
  let k = round(x * 0.6366197723675814);
  let r = ((x - k * 1.5703125) - k * 4.837512969970703e-04) - k * 7.549789948768648e-08;
  return vec2f(r, k);
}
fn wj_sin_poly(r: f32) -> f32 {
  let r2 = r * r;
  return r + r * r2 * (-0.1666666716337204 + r2 * (0.008333333767950535 + r2 * (-0.00019841270113829523 + r2 * (2.7557318844628753e-06 - r2 * 2.505210838544172e-08))));
}
fn wj_cos_poly(r: f32) -> f32 {
  let r2 = r * r;
  return 1.0 + r2 * (-0.5 + r2 * (0.0416666679084301 + r2 * (-0.0013888889225199819 + r2 * (2.4801587642286904e-05 - r2 * 2.7557318844628753e-07))));
}`,
  },
  wj_sin: {
    deps: ["wj_isnan", "wj_isinf", "wj_nan", "wj_sincos_reduce"],
    code: `fn wj_sin(x: f32) -> f32 {
  if (wj_isnan(x) || wj_isinf(x)) { return wj_nan(); }
  let rk = wj_sincos_reduce(x);
  let q = i32(rk.y) & 3;
  if (q == 0) { return wj_sin_poly(rk.x); }
  if (q == 1) { return wj_cos_poly(rk.x); }
  if (q == 2) { return -wj_sin_poly(rk.x); }
  return -wj_cos_poly(rk.x);
}`,
  },
  wj_cos: {
    deps: ["wj_isnan", "wj_isinf", "wj_nan", "wj_sincos_reduce"],
    code: `fn wj_cos(x: f32) -> f32 {
  if (wj_isnan(x) || wj_isinf(x)) { return wj_nan(); }
  let rk = wj_sincos_reduce(x);
  let q = i32(rk.y) & 3;
  if (q == 0) { return wj_cos_poly(rk.x); }
  if (q == 1) { return -wj_sin_poly(rk.x); }
  if (q == 2) { return -wj_cos_poly(rk.x); }
  return wj_sin_poly(rk.x);
}`,
  },
  wj_sqrt: {
    deps: ["wj_nan"],
    code: "fn wj_sqrt(x: f32) -> f32 { if (x >= 0.0) { return sqrt(x); } return select(wj_nan(), x, x != x); }",
  },
  wj_powf: {
    deps: ["wj_isnan", "wj_isinf", "wj_nan", "wj_inf", "wj_exp", "wj_log"],
    // IEEE pow: exact repeated squaring for small integer exponents, exp(b·log|a|) otherwise
    // (negative bases only with integer exponents, the sign from b's parity), and ±Inf exponents
    // by |a| against 1.
    code: `fn wj_powf(a: f32, b: f32) -> f32 {
  if (b == 0.0 || a == 1.0) { return 1.0; }
  if (wj_isnan(a) || wj_isnan(b)) { return wj_nan(); }
  if (wj_isinf(b)) {
    let m = abs(a);
    if (m == 1.0) { return 1.0; }
    if ((m > 1.0) == (b > 0.0)) { return wj_inf(); }
    return 0.0;
  }
  let integral = b == round(b);
  if (integral && abs(b) < 16777216.0) {
    var e = i32(abs(b));
    var base = a;
    var result = 1.0;
    loop {
      if (e == 0) { break; }
      if ((e & 1) == 1) { result = result * base; }
      base = base * base;
      e = e >> 1u;
    }
    return select(result, 1.0 / result, b < 0.0);
  }
  if (a < 0.0 && !integral) { return wj_nan(); }
  if (a == 0.0) { return select(0.0, wj_inf(), b < 0.0); }
  let r = wj_exp(b * wj_log(abs(a)));
  let odd = integral && fract(b * 0.5) != 0.0;
  return select(r, -r, a < 0.0 && odd);
}`,
  },
  wj_fmax: {
    deps: ["wj_isnan"],
    code: "fn wj_fmax(a: f32, b: f32) -> f32 { if (wj_isnan(a)) { return a; } if (wj_isnan(b)) { return b; } return max(a, b); }",
  },
  wj_fmin: {
    deps: ["wj_isnan"],
    code: "fn wj_fmin(a: f32, b: f32) -> f32 { if (wj_isnan(a)) { return a; } if (wj_isnan(b)) { return b; } return min(a, b); }",
  },
  wj_fsign: {
    deps: [],
    code: "fn wj_fsign(x: f32) -> f32 { return select(select(x, -1.0, x < 0.0), 1.0, x > 0.0); }",
  },
  wj_idiv: {
    deps: [],
    code: "fn wj_idiv(a: i32, b: i32) -> i32 { if (b == 0) { return -1; } if (b == -1) { return 0 - a; } return a / b; }",
  },
  wj_irem: {
    deps: [],
    code: "fn wj_irem(a: i32, b: i32) -> i32 { if (b == 0) { return a; } if (b == -1) { return 0; } return a % b; }",
  },
  wj_udiv: {
    deps: [],
    code: "fn wj_udiv(a: u32, b: u32) -> u32 { if (b == 0u) { return 0xffffffffu; } return a / b; }",
  },
  wj_urem: { deps: [], code: "fn wj_urem(a: u32, b: u32) -> u32 { if (b == 0u) { return a; } return a % b; }" },
  wj_ipow: {
    deps: [],
    code: `fn wj_ipow(a: i32, b: i32) -> i32 {
  if (b < 0) { if (a == 1) { return 1; } if (a == -1) { return select(-1, 1, (b & 1) == 0); } return 0; }
  var e = b;
  var base = a;
  var result = 1;
  loop {
    if (e == 0) { break; }
    if ((e & 1) == 1) { result = result * base; }
    base = base * base;
    e = e >> 1u;
  }
  return result;
}`,
  },
  wj_upow: {
    deps: [],
    code: `fn wj_upow(a: u32, b: u32) -> u32 {
  var e = b;
  var base = a;
  var result = 1u;
  loop {
    if (e == 0u) { break; }
    if ((e & 1u) == 1u) { result = result * base; }
    base = base * base;
    e = e >> 1u;
  }
  return result;
}`,
  },
  wj_f2i: {
    deps: ["wj_isnan"],
    code: `fn wj_f2i(x: f32) -> i32 {
  if (wj_isnan(x)) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x <= -2147483648.0) { return i32(-2147483648); }
  return i32(x);
}`,
  },
  wj_f2u: {
    deps: ["wj_isnan"],
    code: `fn wj_f2u(x: f32) -> u32 {
  if (wj_isnan(x) || x <= 0.0) { return 0u; }
  if (x >= 4294967296.0) { return 0xffffffffu; }
  return u32(x);
}`,
  },
  wj_h16: {
    deps: [],
    // float32 → binary16 bits, rounded to nearest-even by hand (pack2x16float's rounding and
    // out-of-range results are implementation-defined).
    code: `fn wj_h16(v: f32) -> u32 {
  let b = bitcast<u32>(v);
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return 0x7e00u; }
  if (a >= 0x477ff000u) { return sign | 0x7c00u; }
  if (a < 0x38800000u) { return sign | u32(round(bitcast<f32>(a) * 16777216.0)); }
  let mant = a & 0x7fffffu;
  var h = (((a >> 23u) - 112u) << 10u) | (mant >> 13u);
  let rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) == 1u)) { h = h + 1u; }
  return sign | h;
}`,
  },
  wj_r16: { deps: ["wj_h16"], code: "fn wj_r16(v: f32) -> f32 { return unpack2x16float(wj_h16(v)).x; }" },
  wj_st16: {
    deps: ["wj_h16"],
    // Two threads may store the two halves of one word: each clears and sets only its own half.
    code: `fn wj_st16(i: i32, v: f32) {
  let w = u32(i) >> 1u;
  let sh = (u32(i) & 1u) * 16u;
  atomicAnd(&out[w], ~(0xffffu << sh));
  atomicOr(&out[w], wj_h16(v) << sh);
}`,
  },
  wj_tan: {
    deps: ["wj_sin", "wj_cos"],
    code: "fn wj_tan(x: f32) -> f32 { return wj_sin(x) / wj_cos(x); }",
  },
  wj_atan: {
    deps: ["wj_isnan"],
    // Cephes atanf: reduce to |x| ≤ tan(π/8), then an odd polynomial.
    code: `fn wj_atan(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  var y0 = 0.0;
  var t = a;
  if (a > 2.414213562373095) { y0 = 1.5707963267948966; t = -1.0 / a; }
  else if (a > 0.4142135623730950) { y0 = 0.7853981633974483; t = (a - 1.0) / (a + 1.0); }
  let z = t * t;
  let y = y0 + ((((8.05374449538e-2 * z - 1.38776856032e-1) * z + 1.99777106478e-1) * z - 3.33329491539e-1) * z * t + t);
  return select(y, -y, x < 0.0);
}`,
  },
  wj_atan2: {
    deps: ["wj_atan", "wj_isnan", "wj_nan"],
    code: `fn wj_atan2(y: f32, x: f32) -> f32 {
  if (wj_isnan(x) || wj_isnan(y)) { return wj_nan(); }
  let neg_y = y < 0.0 || (y == 0.0 && (bitcast<u32>(y) & 0x80000000u) != 0u);
  if (x == 0.0) {
    if (y == 0.0) {
      let pi_or_0 = select(0.0, 3.141592653589793, (bitcast<u32>(x) & 0x80000000u) != 0u);
      return select(pi_or_0, -pi_or_0, neg_y);
    }
    return select(1.5707963267948966, -1.5707963267948966, neg_y);
  }
  let r = wj_atan(y / x);
  if (x > 0.0) { return r; }
  return select(r + 3.141592653589793, r - 3.141592653589793, neg_y);
}`,
  },
  wj_asin: {
    deps: ["wj_isnan", "wj_nan"],
    // Cephes asinf: near ±1 use asin(x) = π/2 − 2·asin(√((1−|x|)/2)).
    code: `fn wj_asin_core(a: f32) -> f32 {
  var z = a * a;
  var t = a;
  let big = a > 0.5;
  if (big) { z = 0.5 * (1.0 - a); t = sqrt(z); }
  var p = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z + 1.6666752422e-1) * z * t + t;
  if (big) { p = 1.5707963267948966 - 2.0 * p; }
  return p;
}
fn wj_asin(x: f32) -> f32 {
  if (wj_isnan(x) || abs(x) > 1.0) { return wj_nan(); }
  let p = wj_asin_core(abs(x));
  return select(p, -p, x < 0.0);
}`,
  },
  wj_acos: {
    deps: ["wj_asin"],
    code: `fn wj_acos(x: f32) -> f32 {
  if (wj_isnan(x) || abs(x) > 1.0) { return wj_nan(); }
  if (x > 0.5) { return 2.0 * wj_asin_core(sqrt(0.5 * (1.0 - x))); }
  if (x < -0.5) { return 3.141592653589793 - 2.0 * wj_asin_core(sqrt(0.5 * (1.0 + x))); }
  return 1.5707963267948966 - wj_asin(x);
}`,
  },
  wj_sinh: {
    deps: ["wj_expm1", "wj_exp", "wj_isnan"],
    code: `fn wj_sinh(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a > 80.0) { r = wj_exp(a - 0.6931471805599453); } else { let u = wj_expm1(a); r = 0.5 * (u + u / (u + 1.0)); }
  return select(r, -r, x < 0.0);
}`,
  },
  wj_cosh: {
    deps: ["wj_exp", "wj_isnan"],
    code: `fn wj_cosh(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  if (a > 80.0) { return wj_exp(a - 0.6931471805599453); }
  let e = wj_exp(a);
  return 0.5 * (e + 1.0 / e);
}`,
  },
  wj_asinh: {
    deps: ["wj_log1p", "wj_log", "wj_isnan"],
    code: `fn wj_asinh(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a > 1e4) { r = wj_log(a) + 0.6931471805599453; } else { r = wj_log1p(a + a * a / (1.0 + sqrt(1.0 + a * a))); }
  return select(r, -r, x < 0.0);
}`,
  },
  wj_atanh: {
    deps: ["wj_log1p", "wj_log"],
    // Near ±1, (1 ± x) are exact (Sterbenz), so the ratio form keeps full precision.
    code: `fn wj_atanh(x: f32) -> f32 {
  if (abs(x) < 0.5) { return 0.5 * wj_log1p(2.0 * x / (1.0 - x)); }
  return 0.5 * wj_log((1.0 + x) / (1.0 - x));
}`,
  },
  wj_cbrt: {
    deps: ["wj_exp", "wj_log", "wj_isnan", "wj_isinf"],
    code: `fn wj_cbrt(x: f32) -> f32 {
  if (x == 0.0 || wj_isnan(x) || wj_isinf(x)) { return x; }
  let a = abs(x);
  var y = wj_exp(wj_log(a) / 3.0);
  y = y - (y * y * y - a) / (3.0 * y * y);
  return select(y, -y, x < 0.0);
}`,
  },
  wj_exp2: {
    deps: ["wj_exp", "wj_ldexp", "wj_isnan", "wj_inf"],
    code: `fn wj_exp2(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  if (x >= 128.0) { return wj_inf(); }
  if (x < -150.0) { return 0.0; }
  let n = round(x);
  return wj_ldexp(wj_exp((x - n) * 0.6931471805599453), i32(n));
}`,
  },
  wj_erf: {
    deps: ["wj_isnan", "wj_erfc_cf"],
    // The Maclaurin series below 2 (f32 error ~2e-8), 1 − erfc beyond.
    code: `fn wj_erf_series(a: f32) -> f32 {
  let a2 = a * a;
  var term = a;
  var sum = a;
  for (var n = 1; n < 40; n++) {
    term = term * -a2 / f32(n);
    sum = sum + term / f32(2 * n + 1);
  }
  return sum * 1.1283791670955126;
}
fn wj_erf(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  var r = 1.0;
  if (a < 2.0) { r = wj_erf_series(a); } else if (a < 4.0) { r = 1.0 - wj_erfc_cf(a); }
  return select(r, -r, x < 0.0);
}`,
  },
  wj_erfc_cf: {
    deps: ["wj_exp"],
    code: `fn wj_erfc_cf(a: f32) -> f32 {
  var t = a;
  for (var k = 60; k >= 1; k--) { t = a + f32(k) * 0.5 / t; }
  return wj_exp(-a * a) / (1.7724538509055159 * t);
}`,
  },
  wj_erfc: {
    deps: ["wj_isnan", "wj_erf", "wj_erfc_cf"],
    code: `fn wj_erfc(x: f32) -> f32 {
  if (wj_isnan(x)) { return x; }
  let a = abs(x);
  var r: f32;
  if (a < 1.0) { r = 1.0 - wj_erf_series(a); } else if (a < 10.5) { r = wj_erfc_cf(a); } else { r = 0.0; }
  return select(r, 2.0 - r, x < 0.0);
}`,
  },
  wj_erfinv: {
    deps: ["wj_log", "wj_isnan", "wj_nan", "wj_inf"],
    // Giles (2010), single precision, as XLA; the coefficients are the CPU backend's.
    code: `fn wj_erfinv(x: f32) -> f32 {
  if (wj_isnan(x) || abs(x) > 1.0) { return wj_nan(); }
  if (abs(x) == 1.0) { return select(wj_inf(), -wj_inf(), x < 0.0); }
  var w = -wj_log((1.0 - x) * (1.0 + x));
  var p = 0.0;
  if (w < 5.0) {
    w = w - 2.5;
${horner(GILES_ERFINV.center)}
  } else {
    w = sqrt(w) - 3.0;
${horner(GILES_ERFINV.tail)}
  }
  return p * x;
}`,
  },
  wj_isfinite: {
    deps: [],
    code: "fn wj_isfinite(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u); }",
  },
  wj_fnonzero: {
    deps: [],
    code: "fn wj_fnonzero(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u); }",
  },
};

/** WGSL statements evaluating a polynomial in `w` into `p` (Horner; coefficients from the highest degree). */
function horner(coefficients: readonly number[]): string {
  return coefficients.map((c) => `    p = ${c.toExponential()} + p * w;`).join("\n");
}

/** The helpers `used` and everything they call, in dependency order. */
export function helperSource(used: ReadonlySet<string>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    const h = HELPERS[name];
    if (!h) throw new Error(`internal: unknown WGSL helper ${name}`);
    for (const d of h.deps) visit(d);
    out.push(h.code);
  };
  for (const n of used) visit(n);
  return out.join("\n");
}
