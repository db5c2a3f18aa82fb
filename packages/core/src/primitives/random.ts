import { type Aval, aval, fmtAval } from "../core/aval.js";
import { bind1 } from "../core/trace.js";
import { DTypeError, ShapeError } from "../errors.js";
import { binary, constant, type Expr, index, select } from "../ir/expr.js";
import { shapesEqual } from "../shape.js";
import { zeroJvp } from "./ad-util.js";
import { alignBatched } from "./batch-util.js";
import type { PrimitiveTable } from "./types.js";

/** Threefry-2x32's rotation constants (Random123), round r uses ROTATIONS[r % 8]. */
const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
/** The key-schedule parity constant: ks2 = k0 ^ k1 ^ 0x1BD11BDA. */
const PARITY = 0x1bd11bda;
/** Threefry-2x32-20: 20 rounds, keys injected before round 0 and after every 4th. */
export const THREEFRY_ROUNDS = 20;

const u32 = (v: number): Expr => constant(v >>> 0, "uint32");
const add = (a: Expr, b: Expr): Expr => binary("add", a, b);
const xor = (a: Expr, b: Expr): Expr => binary("xor", a, b);
const rotl = (x: Expr, r: number): Expr => binary("or", binary("shl", x, u32(r)), binary("shru", x, u32(32 - r)));

/**
 * Rounds [from, to) of Threefry-2x32 on the words (x0, x1) as an expression DAG over uint32
 * (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3"; JAX's
 * `_threefry2x32_lowering`). Round r: x0 += x1; x1 = rotl(x1, R[r % 8]) ^ x0. The key words
 * ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA] are added before round 0 (when `from` is 0) and after
 * every 4th round i·4 − 1: x0 += ks[i % 3], x1 += ks[(i + 1) % 3] + i.
 */
export function threefryRounds(k0: Expr, k1: Expr, x0: Expr, x1: Expr, from: number, to: number): [Expr, Expr] {
  const ks = [k0, k1, xor(xor(k0, k1), u32(PARITY))] as const;
  let a = x0;
  let b = x1;
  if (from === 0) {
    a = add(a, ks[0]);
    b = add(b, ks[1]);
  }
  for (let r = from; r < to; r++) {
    a = add(a, b);
    b = xor(rotl(b, ROTATIONS[r % 8] as number), a);
    if (r % 4 === 3) {
      const i = (r + 1) / 4;
      a = add(a, ks[i % 3] as Expr);
      b = add(b, add(ks[(i + 1) % 3] as Expr, u32(i)));
    }
  }
  return [a, b];
}

export const randomPrimitives: PrimitiveTable<"threefry2x32"> = {
  /**
   * threefry2x32(k0, k1, x0, x1): uint32 operands of one shape S; the two output words stacked
   * on a new last axis, [...S, 2]. `rounds: [0, 20]` is the whole hash; a sub-range applies
   * only those rounds to (x0, x1) (so long hashes can be cut into several kernels).
   */
  threefry2x32: {
    abstractEval(avals, { rounds }) {
      if (avals.length !== 4)
        throw new ShapeError(`threefry2x32: expected 4 operands (k0, k1, x0, x1), got ${avals.length}`);
      const first = avals[0] as Aval;
      for (const a of avals) {
        if (a.dtype !== "uint32") {
          throw new DTypeError(`threefry2x32: operands must be uint32, got ${avals.map(fmtAval).join(", ")}`);
        }
        if (!shapesEqual(a.shape, first.shape)) {
          throw new ShapeError(
            `threefry2x32: operand shapes differ: ${avals.map(fmtAval).join(", ")}; broadcast them first`,
          );
        }
      }
      const [from, to] = rounds;
      if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to > THREEFRY_ROUNDS) {
        throw new ShapeError(`threefry2x32: rounds must satisfy 0 <= from <= to <= 20, got [${from}, ${to}]`);
      }
      return [aval([...first.shape, 2], "uint32")];
    },
    // uint32 bits in and out: no tangents (random samples are differentiated through the float math after the bits).
    // Elementwise in the four words; the trailing pair of outputs comes after every batch dim.
    batch: (args, dims, p, size) => {
      const [xs, d] = alignBatched(args, dims, size);
      return [[bind1("threefry2x32", xs, p)], [d]];
    },
    jvp: zeroJvp("threefry2x32"),
    lowering: {
      kind: "loads",
      kernel(inputs, { rounds }) {
        // Loops: the operands' dims, then the word axis (size 2), which every load walks with stride 0.
        const r = inputs[0]?.aval.shape.length ?? 0;
        const at = [...Array(r).keys()].map((d) => index(d));
        const [k0, k1, x0, x1] = inputs.map((x) => x.at(at)) as [Expr, Expr, Expr, Expr];
        const [from, to] = rounds;
        const [y0, y1] = threefryRounds(k0, k1, x0, x1, from, to);
        let expr = select(binary("eq", index(r), constant(0, "int32")), y0, y1);
        // Rounds without a key injection do not read the key, but WebGPU's automatic bind-group
        // layout drops bindings a shader never reads; so read both key words (x | (k0 & k1 & 0)).
        const injects = from === 0 || [...Array(to - from).keys()].some((i) => (from + i) % 4 === 3);
        if (!injects) expr = binary("or", expr, binary("and", binary("and", k0, k1), u32(0)));
        return { expr };
      },
    },
  },
};
