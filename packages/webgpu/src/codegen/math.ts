/**
 * WGSL helpers with webjax's pinned semantics. Transcendentals are not here: the IR math library
 * (core's ir/math.ts) expands them before emission, the same expansions every CPU path runs.
 * Compilers may assume there are no NaNs, so NaN/Inf tests are done on the bits. Each helper lists the helpers it calls, so a kernel includes only what it uses.
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
  wj_sqrt: {
    deps: ["wj_nan"],
    code: "fn wj_sqrt(x: f32) -> f32 { if (x >= 0.0) { return sqrt(x); } return select(wj_nan(), x, x != x); }",
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
  wj_isfinite: {
    deps: [],
    code: "fn wj_isfinite(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u); }",
  },
  wj_fnonzero: {
    deps: [],
    code: "fn wj_fnonzero(x: f32) -> u32 { return select(0u, 1u, (bitcast<u32>(x) & 0x7fffffffu) != 0u); }",
  },
};

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
