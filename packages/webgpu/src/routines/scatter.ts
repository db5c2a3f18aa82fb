import { type ScatterRoutine, scatterPlan, scatterShapes } from "@webjax/core/internal";
import { WgslEmitter } from "../codegen/expr.js";
import { bitonicPasses } from "./bitonic.js";
import { ceilDiv, nextPow2, type RoutinePlan, shader, storageType, up, WG } from "./program.js";

/**
 * A deterministic scatter without atomics: the output starts as a copy of the operand (read
 * through its view, as the updates are: a broadcast operand is never materialised); every
 * update unit gets the flat index of the operand element it starts at (a sentinel where its
 * window does not fit); a bitonic sort of (target, position) groups equal targets in update
 * order; then the first unit of each group folds the group into the operand, in that order.
 * The result is the CPU's (update order, one rounding per step) whatever the thread order, in
 * O(U log² U) work for U units and O(log² U) dispatches.
 *
 * A unit is a whole update window when windows can only coincide or miss each other (no index
 * moves a window along a dim it spans, unless the window has size 1 there or fills the dim):
 * the sort then sees one key per window (the gradient of `take` sorts its indices, not its
 * rows), and the fold runs a thread per window element. Otherwise each update element is a unit.
 *
 * Params (every pass): [units, W, operandSize, vectorStride, P, fold threads, the updates'
 * offset, then per batch dim: size, index stride, update stride; per window dim: size, update stride, operand stride; per
 * index vector entry: dim size, stride, room; per batching pair: stride].
 */

type Sources = (variant: string, build: () => string) => string;

interface Layout {
  nb: number;
  wr: number;
  ns: number;
  nbt: number;
  /** Units are single update elements (else whole windows). */
  perElement: boolean;
}

const HEAD = 7;
const at = {
  batch: (d: number, f: number) => HEAD + d * 3 + f,
  window: (l: Layout, d: number, f: number) => HEAD + l.nb * 3 + d * 3 + f,
  scattered: (l: Layout, k: number, f: number) => HEAD + l.nb * 3 + l.wr * 3 + k * 3 + f,
  batching: (l: Layout, i: number) => HEAD + l.nb * 3 + l.wr * 3 + l.ns * 3 + i,
};
const count = (l: Layout) => HEAD + l.nb * 3 + l.wr * 3 + l.ns * 3 + l.nbt;
const prm = (i: number) => `prm(${i}u)`;

/** Statements decoding `flat` over dims [0, n) of sizes at `size(d)` into i32 coordinates `name{d}`. */
function decode(flat: string, name: string, n: number, size: (d: number) => string): string[] {
  const lines = [`var ${name}_rest = ${flat};`];
  for (let d = n - 1; d >= 0; d--) {
    if (d === 0) lines.push(`let ${name}0 = ${name}_rest;`);
    else lines.push(`let ${name}${d} = ${name}_rest % ${size(d)};`, `${name}_rest = ${name}_rest / ${size(d)};`);
  }
  return lines;
}

/** Σ coordinate·stride over `n` dims named `name{d}`, strides at `stride(d)`. */
const dot = (name: string, n: number, stride: (d: number) => string): string =>
  Array.from({ length: n }, (_, d) => ` + ${name}${d} * ${stride(d)}`).join("");

/** The target key of each unit (0xffffffff where dropped) and its position. */
function targetSource(s: ScatterRoutine, l: Layout): string {
  const body = [
    `let U = ${up(0)}; let W = prm(1u); let P = ${up(4)};`,
    "if (g >= P) { return; }",
    "ids[g] = g;",
    "if (g >= U) { keys[g] = 0xffffffffu; return; }",
    "let e = i32(g);",
    ...decode(l.perElement ? "e / W" : "e", "c", l.nb, (d) => prm(at.batch(d, 0))),
    ...(l.perElement ? decode("e % W", "w", l.wr, (d) => prm(at.window(l, d, 0))) : []),
    `let ib = 0${dot("c", l.nb, (d) => prm(at.batch(d, 1)))};`,
    `var tgt = 0${l.perElement ? dot("w", l.wr, (d) => prm(at.window(l, d, 2))) : ""};`,
    "var fits = true;",
  ];
  for (let k = 0; k < l.ns; k++) {
    body.push(`var st${k} = idx[ib + ${k} * ${prm(3)}];`);
    if (s.wrapNegative) body.push(`if (st${k} < 0) { st${k} = st${k} + ${prm(at.scattered(l, k, 0))}; }`);
    body.push(
      `if (st${k} < 0 || st${k} > ${prm(at.scattered(l, k, 2))}) { fits = false; }`,
      `tgt = tgt + st${k} * ${prm(at.scattered(l, k, 1))};`,
    );
  }
  s.dims.scatterIndicesBatchingDims.forEach((bd, i) => {
    body.push(`tgt = tgt + c${bd} * ${prm(at.batching(l, i))};`);
  });
  body.push("keys[g] = select(0xffffffffu, u32(tgt), fits);");
  return shader(
    count(l),
    [
      { name: "idx", type: "i32" },
      { name: "keys", type: "u32", write: true },
      { name: "ids", type: "u32", write: true },
    ],
    body,
  );
}

/** The first unit of each group of equal targets folds the group's updates in order (a thread per window element). */
function segmentSource(s: ScatterRoutine, l: Layout): string {
  const t = storageType(s.dtype);
  const em = new WgslEmitter();
  const op = s.mode === "add" ? "add" : s.mode === "mul" ? "mul" : s.mode === "set" ? null : s.mode;
  const comb = op === null ? "b" : em.binary(op, "a", "b", s.dtype);
  const window = (d: number) => prm(at.window(l, d, 0));
  // Offsets in the updates of a unit's batch position (and, per element, of its window element).
  const uoff = [
    "fn uoff(e: i32) -> i32 {",
    `  let W = prm(1u);`,
    ...decode(l.perElement ? "e / W" : "e", "c", l.nb, (d) => prm(at.batch(d, 0))).map((x) => `  ${x}`),
    ...(l.perElement ? decode("e % W", "w", l.wr, window).map((x) => `  ${x}`) : []),
    `  return ${prm(6)}${dot("c", l.nb, (d) => prm(at.batch(d, 2)))}${l.perElement ? dot("w", l.wr, (d) => prm(at.window(l, d, 1))) : ""};`,
    "}",
  ];
  const body = [
    `let U = ${up(0)}; let size = ${up(2)};`,
    `if (g >= ${up(5)}) { return; }`,
    ...(l.perElement
      ? ["let s = g;", "let wo = 0; let wu = 0;"]
      : [
          "let W = prm(1u);",
          "let s = g / u32(W);",
          ...decode("i32(g % u32(W))", "w", l.wr, window),
          `let wo = 0${dot("w", l.wr, (d) => prm(at.window(l, d, 2)))};`,
          `let wu = 0${dot("w", l.wr, (d) => prm(at.window(l, d, 1)))};`,
        ]),
    "let key = keys[s];",
    "if (key >= size) { return; }",
    "if (s > 0u && keys[s - 1u] == key) { return; }",
    "let tgt = key + u32(wo);",
    "var acc = out[tgt];",
    "for (var q = s; q < U; q = q + 1u) {",
    "  if (keys[q] != key) { break; }",
    "  let b = upd[uoff(i32(ids[q])) + wu];",
    "  let a = acc;",
    `  acc = ${comb};`,
    "}",
    "out[tgt] = acc;",
  ];
  return shader(
    count(l),
    [
      { name: "keys", type: "u32" },
      { name: "ids", type: "u32" },
      { name: "upd", type: t },
      { name: "out", type: t, write: true },
    ],
    body,
    { helpers: em.helpers, functions: uoff },
  );
}

/** The operand's view copied row-major into the output. Params [size, shape (r), offset, strides (r)]. */
function copySource(r: number): string {
  return shader(
    2 + 2 * r,
    [
      { name: "src", type: "u32" },
      { name: "dst", type: "u32", write: true },
    ],
    [
      `if (g >= ${up(0)}) { return; }`,
      ...decode("i32(g)", "c", r, (d) => prm(1 + d)),
      `dst[g] = src[${prm(1 + r)}${dot("c", r, (d) => prm(2 + r + d))}];`,
    ],
  );
}

export function scatterRoutinePlan(s: ScatterRoutine, p: Int32Array, src: Sources): RoutinePlan {
  const shapes = scatterShapes(s, p);
  const plan = scatterPlan(s, shapes);
  const W = plan.windowShape.reduce((a, b) => a * b, 1);
  const B = plan.batchShape.reduce((a, b) => a * b, 1);
  // Whole windows coincide or miss when no index moves one along a dim it really spans.
  const perElement = W > 1 && plan.scattered.some((sc) => sc.size - sc.room !== 1 && sc.room !== 0);
  const l: Layout = {
    nb: plan.batchShape.length,
    wr: plan.windowShape.length,
    ns: plan.scattered.length,
    nbt: plan.batching.length,
    perElement,
  };
  const units = perElement ? B * W : B;
  const threads = perElement ? units : B * W;
  const P = nextPow2(units);
  const params = [units, W, plan.operandSize, plan.vectorStride, P, threads, plan.updatesOffset];
  plan.batchShape.forEach((n, d) =>
    params.push(n, plan.indexBatchStrides[d] as number, plan.updateBatchStrides[d] as number),
  );
  plan.windowShape.forEach((n, d) =>
    params.push(n, plan.updateWindowStrides[d] as number, plan.operandWindowStrides[d] as number),
  );
  for (const sc of plan.scattered) params.push(sc.size, sc.stride, sc.room);
  for (const bt of plan.batching) params.push(bt.stride);
  const copy = {
    label: "scatter (copy)",
    source: src(`copy-${shapes.operand.length}`, () => copySource(shapes.operand.length)),
    bind: [{ in: 0 }, { out: 0 }],
    workgroups: ceilDiv(plan.operandSize, WG),
    params: [plan.operandSize, ...shapes.operand, shapes.operandView.offset, ...shapes.operandView.strides],
  };
  if (B * W === 0) return { temps: [], passes: [copy] };
  const keys = { tmp: 0 };
  const ids = { tmp: 1 };
  const variant = perElement ? "element" : "window";
  return {
    temps: [P * 4, P * 4],
    passes: [
      copy,
      {
        label: "scatter (targets)",
        source: src(`targets-${variant}`, () => targetSource(s, l)),
        bind: [{ in: 1 }, keys, ids],
        workgroups: ceilDiv(P, WG),
        params,
      },
      ...bitonicPasses(1, P, keys, ids),
      {
        label: "scatter (fold)",
        source: src(`fold-${variant}`, () => segmentSource(s, l)),
        bind: [keys, ids, { in: 2 }, { out: 0 }],
        workgroups: ceilDiv(threads, WG),
        params,
      },
    ],
  };
}
