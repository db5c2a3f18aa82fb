/**
 * checkGrads: JAX's two gradient checks (DESIGN, Testing).
 * 1. jvp against central finite differences, in float64 on the CPU (where the error of the
 *    difference quotient is ~ε² and roundoff ~1e-16/ε, so a tight tolerance is meaningful).
 * 2. The dot-product identity ⟨vjp(u), v⟩ = ⟨u, jvp(v)⟩ in the inputs' own dtype (float32) on
 *    every backend, which catches transpose bugs that finite differences are too noisy to see.
 * With `order: 2`, both checks also run on the function x ↦ jvp(f)(x; v), so jvp-of-jvp and
 * vjp-of-jvp are checked.
 */
import { type Array, jvp, np, vjp } from "@webjax/core";
import { expect } from "vitest";

export interface CheckGradsOptions {
  /** 1 (default) or 2. */
  order?: 1 | 2;
  /** Run the finite-difference check (default: on the CPU backend). */
  fd?: boolean;
  /** The finite-difference step (default 1e-6 in float64). */
  eps?: number;
  /** Tolerance of the finite-difference check (default 1e-6 relative, 1e-6 absolute). */
  fdTol?: { rtol?: number; atol?: number };
  /** Tolerance of the dot-product identity, relative to Σ|terms| (default 2e-5 of float32 rounding). */
  identityRtol?: number;
  /** Seed of the random directions. */
  seed?: number;
  /** Indices of arguments to hold fixed (besides integer ones, which always are). */
  fixed?: readonly number[];
}

type Fn = (...args: Array[]) => Array;

/** A small seeded generator (mulberry32): uniform numbers in [0, 1), for directions and test inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function direction(shape: readonly number[], dtype: string, next: () => number): Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = globalThis.Array.from({ length: n }, () => 2 * next() - 1);
  return np.array(v.length ? v : [], { dtype: dtype as "float32" }).reshape(shape);
}

const isFloat = (x: Array) => x.dtype === "float32" || x.dtype === "float64" || x.dtype === "float16";

async function values(x: Array): Promise<number[]> {
  return globalThis.Array.from(await x.data());
}

function sumProducts(a: readonly number[], b: readonly number[]): { dot: number; scale: number } {
  let dot = 0;
  let scale = 0;
  a.forEach((x, i) => {
    const p = x * (b[i] as number);
    dot += p;
    scale += Math.abs(p);
  });
  return { dot, scale };
}

/** Checks the derivatives of `f` at `args` both ways (see the module comment); throws on a mismatch. */
export async function checkGrads(f: Fn, args: readonly Array[], opts: CheckGradsOptions = {}): Promise<void> {
  const next = rng(opts.seed ?? 1234);
  const diffIdx = args.map((x, i) => (isFloat(x) && !(opts.fixed ?? []).includes(i) ? i : -1)).filter((i) => i >= 0);
  const withDiff =
    (xs: readonly Array[]) =>
    (...d: Array[]) => {
      const full = args.slice();
      diffIdx.forEach((k, j) => {
        full[k] = d[j] ?? (xs[k] as Array);
      });
      return f(...full);
    };
  const g = withDiff(args);
  const primals = diffIdx.map((i) => args[i] as Array);
  await checkOnce(g, primals, opts, next);
  if ((opts.order ?? 1) === 2) {
    const v = primals.map((p) => direction(p.shape, p.dtype, next));
    const h = (...xs: Array[]) =>
      jvp(
        g,
        xs,
        v.map((d, i) => d.astype((xs[i] as Array).dtype)),
      )[1];
    await checkOnce(h, primals, { ...opts, identityRtol: (opts.identityRtol ?? 2e-5) * 5 }, next);
  }
}

async function checkOnce(f: Fn, primals: readonly Array[], opts: CheckGradsOptions, next: () => number): Promise<void> {
  const cpu = (primals[0]?.backendHint()?.name ?? "cpu") === "cpu";
  if (opts.fd ?? cpu) await checkFiniteDifferences(f, primals, opts, next);
  await checkIdentity(f, primals, opts, next);
}

async function checkFiniteDifferences(
  f: Fn,
  primals: readonly Array[],
  opts: CheckGradsOptions,
  next: () => number,
): Promise<void> {
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.fdTol?.rtol ?? 1e-6;
  const atol = opts.fdTol?.atol ?? 1e-6;
  const x64 = primals.map((p) => p.astype("float64"));
  const v64 = x64.map((p) => direction(p.shape, "float64", next));
  const [, tangent] = jvp(f, x64, v64);
  const plus = f(...x64.map((x, i) => x.add((v64[i] as Array).mul(eps))));
  const minus = f(...x64.map((x, i) => x.sub((v64[i] as Array).mul(eps))));
  const got = await values(tangent);
  const p = await values(plus);
  const m = await values(minus);
  const fd = p.map((a, i) => (a - (m[i] as number)) / (2 * eps));
  const scale = Math.max(1, ...fd.map(Math.abs));
  got.forEach((t, i) => {
    const want = fd[i] as number;
    expect(
      Math.abs(t - want) <= atol * scale + rtol * Math.abs(want),
      `jvp vs central differences, element ${i}: jvp ${t}, finite differences ${want} (eps ${eps})`,
    ).toBe(true);
  });
  for (const a of [...x64, ...v64, tangent, plus, minus]) a.dispose();
}

async function checkIdentity(
  f: Fn,
  primals: readonly Array[],
  opts: CheckGradsOptions,
  next: () => number,
): Promise<void> {
  const rtol = opts.identityRtol ?? 2e-5;
  const v = primals.map((p) => direction(p.shape, p.dtype, next));
  const [out, tangent] = jvp(f, [...primals], v);
  const [out2, vjpFn] = vjp(f, [...primals]);
  const u = direction(out.shape, out.dtype, next);
  const cts = vjpFn(u);
  // The primal outputs of jvp and vjp agree.
  const o1 = await values(out);
  const o2 = await values(out2);
  o1.forEach((a, i) => {
    const b = o2[i] as number;
    expect(
      Object.is(a, b) || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(a)),
      `jvp and vjp primal outputs, element ${i}`,
    ).toBe(true);
  });
  const rhs = sumProducts(await values(u), await values(tangent));
  let lhsDot = 0;
  let lhsScale = 0;
  for (let k = 0; k < primals.length; k++) {
    const s = sumProducts(await values(cts[k] as Array), await values(v[k] as Array));
    lhsDot += s.dot;
    lhsScale += s.scale;
  }
  const scale = Math.max(rhs.scale, lhsScale, 1e-30);
  expect(
    Math.abs(lhsDot - rhs.dot) <= rtol * scale + 1e-30,
    `dot-product identity: ⟨vjp(u), v⟩ = ${lhsDot}, ⟨u, jvp(v)⟩ = ${rhs.dot} (scale ${scale}, rtol ${rtol})`,
  ).toBe(true);
  vjpFn.dispose();
  for (const a of [...v, out, tangent, out2, u, ...cts]) a.dispose();
}
