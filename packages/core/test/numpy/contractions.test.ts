/**
 * outer, inner, vdot, tensordot and einsum against hand-computed values and an explicit-loop
 * einsum reference (every output index, every summed index, a product over operands), over
 * random sizes (including 0 and broadcast 1s) and small integers, so float32 results are exact.
 */
import { type Array, checkLeaks, np, ShapeError } from "@webjax/core";
import { forEachIndex, stridesOf } from "@webjax/test-utils";
import fc from "fast-check";
import { describe, expect, test } from "vitest";

const RUNS = Number(process.env.WEBJAX_PROP_RUNS ?? 60);
const TIMEOUT = 60_000;

interface Host {
  data: number[];
  shape: number[];
}

/**
 * einsum by loops, for explicit specs of letters only: a letter's size is its largest size in
 * the operands, and a size-1 dim is read at index 0 (broadcast).
 */
function refEinsum(spec: string, ops: readonly Host[]): Host {
  const [lhs, out = ""] = spec.split("->") as [string, string?];
  const terms = lhs.split(",");
  const size = new Map<string, number>();
  terms.forEach((t, k) => {
    [...t].forEach((l, i) => {
      const n = (ops[k] as Host).shape[i] as number;
      size.set(l, Math.max(size.get(l) ?? 1, n));
      if (n === 0) size.set(l, 0);
    });
  });
  const outLetters = [...out];
  const sumLetters = [...size.keys()].filter((l) => !outLetters.includes(l));
  const outShape = outLetters.map((l) => size.get(l) as number);
  const sumShape = sumLetters.map((l) => size.get(l) as number);
  const data: number[] = [];
  forEachIndex(outShape, (oi) => {
    let acc = 0;
    forEachIndex(sumShape, (si) => {
      const at = (l: string) =>
        outLetters.includes(l) ? (oi[outLetters.indexOf(l)] as number) : (si[sumLetters.indexOf(l)] as number);
      let p = 1;
      terms.forEach((t, k) => {
        const op = ops[k] as Host;
        const st = stridesOf(op.shape);
        let flat = 0;
        [...t].forEach((l, i) => {
          flat += (op.shape[i] === 1 ? 0 : at(l)) * (st[i] as number);
        });
        p *= op.data[flat] as number;
      });
      acc += p;
    });
    data.push(acc);
  });
  return { data, shape: outShape };
}

const hostArb = (shape: number[]): fc.Arbitrary<Host> =>
  fc
    .array(fc.integer({ min: -5, max: 5 }), {
      minLength: shape.reduce((a, b) => a * b, 1),
      maxLength: shape.reduce((a, b) => a * b, 1),
    })
    .map((data) => ({ data, shape }));

const make = (h: Host) => np.array(Float32Array.from(h.data), { shape: h.shape });
const plain = async (x: Array) => globalThis.Array.from(await x.data(), (v) => (v === 0 ? 0 : v));

describe("outer, inner, vdot, tensordot", () => {
  test("outer flattens; inner contracts last axes; vdot flattens both", async () => {
    using a = np.array([1, 2, 3]);
    using b = np.array([
      [1, 0],
      [0, 2],
    ]);
    using o = np.outer(a, b);
    expect(await o.toArray()).toEqual([
      [1, 0, 0, 2],
      [2, 0, 0, 4],
      [3, 0, 0, 6],
    ]);
    using m = np.array([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    using i1 = np.inner(m, a);
    expect(await i1.toArray()).toEqual([14, 32]);
    using i2 = np.inner(m, m);
    expect(await i2.toArray()).toEqual([
      [14, 32],
      [32, 77],
    ]);
    using i3 = np.inner(m, 2);
    expect(await i3.toArray()).toEqual([
      [2, 4, 6],
      [8, 10, 12],
    ]);
    using c = np.array([
      [1, 1],
      [1, 1],
      [1, 2],
    ]);
    using v = np.vdot(m, c);
    expect(v.shape).toEqual([]);
    expect(await v.item()).toBe(1 + 2 + 3 + 4 + 5 + 12);
    expect(() => np.vdot(m, a)).toThrow(
      "vdot: the inputs must have equal sizes, got float32[2,3] (6) and float32[3] (3)",
    );
    expect(() => np.inner(m, b)).toThrow("inner: last dims differ");
  });

  test("tensordot with an int and with axis lists, as numpy's example", async () => {
    using a60 = np.arange(60, undefined, 1, { dtype: "float32" });
    using b24 = np.arange(24, undefined, 1, { dtype: "float32" });
    using a = np.reshape(a60, [3, 4, 5]);
    using b = np.reshape(b24, [4, 3, 2]);
    using c = np.tensordot(a, b, [
      [1, 0],
      [0, 1],
    ]);
    expect(c.shape).toEqual([5, 2]);
    // numpy's docstring: c == [[4400, 4730], [4532, 4874], [4664, 5018], [4796, 5162], [4928, 5306]].
    expect(await c.toArray()).toEqual([
      [4400, 4730],
      [4532, 4874],
      [4664, 5018],
      [4796, 5162],
      [4928, 5306],
    ]);
    using m = np.array([
      [1, 2],
      [3, 4],
    ]);
    using full = np.tensordot(m, m);
    expect(await full.item()).toBe(30);
    using one = np.tensordot(m, m, 1);
    expect(await one.toArray()).toEqual([
      [7, 10],
      [15, 22],
    ]);
    using zero = np.tensordot(m, m, 0);
    expect(zero.shape).toEqual([2, 2, 2, 2]);
    expect(() => np.tensordot(a, b, [[0], [0]])).toThrow(
      "tensordot: axis 0 of float32[3,4,5] has size 3 but axis 0 of float32[4,3,2] has size 4",
    );
    expect(() => np.tensordot(m, m, 3)).toThrow(ShapeError);
  });

  test("integer and bool operands keep their dtypes", async () => {
    using a = np.array([1, 2, 3], { dtype: "int32" });
    using d = np.vdot(a, a);
    expect(d.dtype).toBe("int32");
    expect(await d.item()).toBe(14);
    using t = np.array([true, false]);
    using f = np.array([false, true]);
    using bb = np.inner(t, f);
    expect(bb.dtype).toBe("bool");
    expect(await bb.item()).toBe(0);
    using bt = np.inner(t, t);
    expect(await bt.item()).toBe(1);
  });
});

describe("einsum", () => {
  test("matmul, transposes, sums, traces, diagonals, batches, implicit output", async () => {
    using a = np.array([
      [1, 2],
      [3, 4],
    ]);
    using b = np.array([
      [5, 6, 7],
      [8, 9, 10],
    ]);
    using mm = np.einsum("ij,jk->ik", a, b);
    using mmi = np.einsum("ij,jk", a, b);
    const want = [
      [21, 24, 27],
      [47, 54, 61],
    ];
    expect(await mm.toArray()).toEqual(want);
    expect(await mmi.toArray()).toEqual(want);
    using t = np.einsum("ij->ji", b);
    expect(await t.toArray()).toEqual([
      [5, 8],
      [6, 9],
      [7, 10],
    ]);
    using ti = np.einsum("ba", b);
    expect(await ti.toArray()).toEqual(await t.toArray());
    using s = np.einsum("ij->", b);
    expect(await s.item()).toBe(45);
    using cols = np.einsum("ij->j", b);
    expect(await cols.toArray()).toEqual([13, 15, 17]);
    using tr = np.einsum("ii->", a);
    using tri = np.einsum("ii", a);
    expect(await tr.item()).toBe(5);
    expect(await tri.item()).toBe(5);
    using dg = np.einsum("ii->i", a);
    expect(await dg.toArray()).toEqual([1, 4]);
    using x12 = np.arange(12, undefined, 1, { dtype: "float32" });
    using x = np.reshape(x12, [2, 2, 3]);
    using aa = np.stack([a, a]);
    using bm = np.einsum("bij,bjk->bik", aa, x);
    expect(bm.shape).toEqual([2, 2, 3]);
    expect(await bm.toArray()).toEqual([
      [
        [6, 9, 12],
        [12, 19, 26],
      ],
      [
        [24, 27, 30],
        [54, 61, 68],
      ],
    ]);
    using u = np.array([1, 2]);
    using v = np.array([3, 4, 5]);
    using w = np.array([3, 4]);
    using outer = np.einsum("i,j->ij", u, v);
    expect(await outer.toArray()).toEqual([
      [3, 4, 5],
      [6, 8, 10],
    ]);
    using dot = np.einsum("i,i", u, w);
    expect(await dot.item()).toBe(11);
    using scaled = np.einsum(",ij->ij", 2, a);
    expect(await scaled.toArray()).toEqual([
      [2, 4],
      [6, 8],
    ]);
  });

  test("'...' broadcasts leading axes", async () => {
    using a8 = np.arange(8, undefined, 1, { dtype: "float32" });
    using a = np.reshape(a8, [2, 2, 2]);
    using b = np.array([
      [1, 0],
      [0, 1],
    ]);
    using r = np.einsum("...ij,...jk->...ik", a, b);
    expect(r.shape).toEqual([2, 2, 2]);
    expect(await plain(r)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    using d = np.einsum("...ii->...i", a);
    expect(await d.toArray()).toEqual([
      [0, 3],
      [4, 7],
    ]);
    using impl = np.einsum("...ij", a);
    expect(impl.shape).toEqual([2, 2, 2]);
    using sw = np.einsum("ij...->ji...", a);
    using ref = np.transpose(a, [1, 0, 2]);
    expect(await sw.toArray()).toEqual(await ref.toArray());
  });

  test("malformed specs and size mismatches are ShapeErrors naming the letter", () => {
    using a = np.ones([2, 3]);
    using b = np.ones([4, 5]);
    using c = np.ones([2, 2, 2]);
    expect(() => np.einsum("ij->ik", a)).toThrow("einsum: 'k' appears in the output but in no operand");
    expect(() => np.einsum("ij", c)).toThrow("einsum: operand 0 has 3 dims but its subscripts 'ij' name 2");
    expect(() => np.einsum("ij,jk->ik", a, b)).toThrow("einsum: 'j' has size 3 in operand 0 but 4 in operand 1");
    expect(() => np.einsum("ii->i", a)).toThrow("einsum: 'i' is repeated in operand 0 with sizes 2 and 3");
    expect(() => np.einsum("i#->i", a)).toThrow("einsum: invalid character '#' at position 1 of 'i#->i'");
    expect(() => np.einsum("ij,jk", a)).toThrow("einsum: 'ij,jk' has 2 operand terms but 1 operands were given");
    expect(() => np.einsum("ij->ii", a)).toThrow("einsum: 'i' appears more than once in the output 'ii'");
    expect(() => np.einsum("..i->i", a)).toThrow("einsum: malformed or repeated '...' at position 0");
    expect(() => np.einsum("...ij->ij", c)).toThrow("no '...' to place them");
    expect(() => np.einsum("ij->j->i", a)).toThrow(ShapeError);
  });

  test(
    "property: einsum matches explicit loops over random sizes",
    async () => {
      // [webjax spec, reference spec]: implicit outputs and '...' written out for the reference.
      const specs: [string, string][] = [
        ["ij,jk->ik", "ij,jk->ik"],
        ["ij,jk", "ij,jk->ik"],
        ["bij,bjk->bik", "bij,bjk->bik"],
        ["ij->ji", "ij->ji"],
        ["ij->", "ij->"],
        ["ijk->kj", "ijk->kj"],
        ["ii->", "ii->"],
        ["ii->i", "ii->i"],
        ["iij,jk->ik", "iij,jk->ik"],
        ["ijk,jil->kl", "ijk,jil->kl"],
        ["ij,ij->i", "ij,ij->i"],
        ["i,j->ij", "i,j->ij"],
        ["ij,k->", "ij,k->"],
        ["ab,cb->ca", "ab,cb->ca"],
        // Three and four operands, contracted pairwise in greedy order.
        ["ij,jk,kl->il", "ij,jk,kl->il"],
        ["ij,jk,kl", "ij,jk,kl->il"],
        ["i,i,i->", "i,i,i->"],
        ["ab,bc,cd,da->", "ab,bc,cd,da->"],
        ["abc,cd,bd->a", "abc,cd,bd->a"],
        ["ij,ij,ij->ij", "ij,ij,ij->ij"],
        ["ii,ij,jk->k", "ii,ij,jk->k"],
      ];
      await fc.assert(
        fc.asyncProperty(
          fc
            .record({
              pick: fc.constantFrom(...specs),
              sizes: fc.record(
                Object.fromEntries([..."abcdijkl"].map((l) => [l, fc.integer({ min: 0, max: 4 })])) as Record<
                  string,
                  fc.Arbitrary<number>
                >,
              ),
            })
            .chain(({ pick, sizes }) => {
              const terms = (pick[1].split("->")[0] as string).split(",");
              return fc.record({
                pick: fc.constant(pick),
                ops: fc.tuple(...terms.map((t) => hostArb([...t].map((l) => sizes[l] ?? 2)))),
              });
            }),
          async ({ pick: [spec, refSpec], ops }) => {
            const arrays = ops.map(make);
            try {
              using r = np.einsum(spec, ...arrays);
              const want = refEinsum(refSpec, ops);
              expect(r.shape).toEqual(want.shape);
              expect(await plain(r)).toEqual(want.data.map((v) => (v === 0 ? 0 : v)));
            } finally {
              for (const x of arrays) x.dispose();
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  test(
    "property: '...' and size-1 letters broadcast as numpy",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .record({
              batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
              dropA: fc.integer({ min: 0, max: 2 }),
              dropB: fc.integer({ min: 0, max: 2 }),
              onesA: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
              onesB: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
              i: fc.integer({ min: 1, max: 3 }),
              j: fc.integer({ min: 1, max: 3 }),
              k: fc.integer({ min: 1, max: 3 }),
            })
            .chain((p) => {
              // Each operand keeps a suffix of the batch dims, some of them set to 1.
              const ea = p.batch.slice(Math.min(p.dropA, p.batch.length)).map((d, q) => (p.onesA[q] ? 1 : d));
              const eb = p.batch.slice(Math.min(p.dropB, p.batch.length)).map((d, q) => (p.onesB[q] ? 1 : d));
              return fc.record({
                E: fc.constant(Math.max(ea.length, eb.length)),
                a: hostArb([...ea, p.i, p.j]),
                b: hostArb([...eb, p.j, p.k]),
              });
            }),
          async ({ E, a, b }) => {
            using x = make(a);
            using y = make(b);
            using r = np.einsum("...ij,...jk->...ik", x, y);
            const letters = "yz".slice(2 - E);
            const ea = letters.slice(E - (a.shape.length - 2));
            const eb = letters.slice(E - (b.shape.length - 2));
            const want = refEinsum(`${ea}ij,${eb}jk->${letters}ik`, [a, b]);
            // The reference takes the size of a letter missing from an operand as its largest size.
            expect(r.shape).toEqual(want.shape);
            expect(await plain(r)).toEqual(want.data.map((v) => (v === 0 ? 0 : v)));
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

test("contractions release every temporary they make", async () => {
  using a = np.ones([2, 3, 3]);
  using b = np.array([true, false, true]);
  const report = await checkLeaks(async () => {
    const results = [
      np.outer(a, a),
      np.inner(a, a),
      np.vdot(a, a),
      np.tensordot(a, a, [[1], [2]]),
      np.einsum("bii->b", a),
      np.einsum("bij,bjk->bik", a, a),
      np.einsum("...ij,j->...i", a, b),
      np.einsum("i,i", b, b),
    ];
    for (const r of results) {
      await r.data();
      r.dispose();
    }
  });
  expect(report).toEqual({ buffers: 0, bytes: 0, details: [] });
});
