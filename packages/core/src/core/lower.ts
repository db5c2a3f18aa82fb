/**
 * `jit(f).lower(...args)`: the kernels a program dispatches, stage by stage — what each fused
 * kernel covers, what it reads and writes, its IR, and (on request) the backend's code.
 */
import type { Executable } from "../backend/backend.js";
import { children, type Expr } from "../ir/expr.js";
import { type IntExpr, type Kernel, type Load, outputExprs } from "../ir/kernel.js";
import type { ConcreteArray } from "./concrete.js";
import { type CostAnalysis, type KernelCost, kernelCost, totalCost } from "./cost.js";
import type { FusionStage } from "./fusion.js";
import type { Eqn } from "./jaxpr.js";
import { printEqns } from "./jaxpr-print.js";
import type { Program } from "./program.js";
import { type Recorder, rehearse, withRecorder } from "./recording.js";

/** One kernel a program dispatches. */
export interface LoweredKernel {
  readonly label: string;
  readonly kind: Kernel["kind"];
  /** The equations it computes, as the program prints them. */
  readonly covers: readonly string[];
  /** Its inputs' and outputs' dtypes. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly kernel: Kernel;
  /** Its flops, transcendentals and bytes moved at this dispatch (core/cost.ts). */
  readonly cost: KernelCost;
  /** The backend's generated code for it (WGSL on WebGPU, the JS form of the CPU kernel). */
  code(): string;
}

export class Lowered {
  constructor(
    readonly name: string,
    readonly kernels: readonly LoweredKernel[],
  ) {}

  /** The kernels, one block each; `code: true` adds each one's generated code. */
  text(opts: { code?: boolean } = {}): string {
    const head = `${this.name}: ${this.kernels.length} kernel${this.kernels.length === 1 ? "" : "s"}`;
    const blocks = this.kernels.map((k, i) => {
      const lines = [
        `kernel ${i}: ${k.label} (${k.kind}) (${k.inputs.join(", ")}) -> ${k.outputs.join(", ")}`,
        ...k.covers.map((c) => `    ${c}`),
        `  ${describeKernel(k.kernel)}`,
      ];
      if (opts.code) lines.push(indent(k.code()));
      return lines.join("\n");
    });
    return [head, ...blocks].join("\n");
  }

  toString(): string {
    return this.text();
  }

  /**
   * Flops, transcendentals and bytes read and written, per kernel and in total, with the
   * arithmetic intensity (flops per byte): JAX's `lowered.cost_analysis()` (core/cost.ts).
   */
  costAnalysis(): CostAnalysis {
    return totalCost(this.kernels.map((k) => k.cost));
  }
}

const indent = (s: string) =>
  s
    .split("\n")
    .map((l) => `    | ${l}`)
    .join("\n");

/** Runs `program` once over `inputs` (nothing donated), noting every dispatch with the stage that made it. */
export function lowerProgram(name: string, program: Program, inputs: readonly ConcreteArray[]): Lowered {
  const eqnText = printEqns(program.closed.jaxpr);
  const { eqns } = program.closed.jaxpr;
  const kernels: LoweredKernel[] = [];
  let stage: FusionStage | null = null;
  const rec: Recorder = {
    alloc() {},
    free() {},
    write() {},
    dispatch(exe: Executable, ins, outs, params) {
      const covered: readonly number[] = stage === null ? [] : stage.kind === "kernel" ? stage.covers : [stage.index];
      const backend = inputs[0]?.backend ?? program.closed.backend;
      const k = exe.kernel;
      kernels.push({
        label: k.label,
        kind: k.kind,
        covers: covered.map((i) => eqnText(eqns[i] as Eqn)),
        inputs: k.inputs,
        outputs: k.outputs,
        kernel: k,
        cost: kernelCost(
          k,
          params,
          ins.map((x) => x.bytes),
          outs.map((x) => x.bytes),
        ),
        code: () => backend?.kernelSource?.(k) ?? "(this backend shows no code)",
      });
    },
  };
  // A rehearsal: host callbacks (debug.print) stay silent.
  const outs = withRecorder(rec, () =>
    rehearse(() =>
      program.runEager(inputs, () => {}, undefined, {
        begin: (st) => {
          stage = st;
        },
        end: () => {
          stage = null;
        },
      }),
    ),
  );
  for (const o of outs) if (!inputs.includes(o as ConcreteArray)) (o as ConcreteArray).dispose();
  return new Lowered(name, kernels);
}

const int = (e: IntExpr) => (typeof e === "number" ? String(e) : `p${e.param}`);

function fmtLoad(l: Load, i: number): string {
  const g = l.gather?.length
    ? ` + gather(${l.gather.map((x) => `${fmtExpr(x.index)}·${int(x.stride)}`).join(", ")})`
    : "";
  return `L${i} = in${l.input}[${int(l.offset)}; ${l.strides.map(int).join(",")}]${g}`;
}

/** An element expression, shared sub-expressions printed each time (kernels are small). */
export function fmtExpr(e: Expr): string {
  switch (e.op) {
    case "load":
      return `L${e.load}`;
    case "const":
      return String(e.value);
    case "index":
      return `i${e.loop}`;
    case "param":
      return `p${e.param}`;
    case "acc":
      return "acc";
    case "unary":
      return `${e.fn}(${fmtExpr(e.x)})`;
    case "binary":
      return `${e.fn}(${fmtExpr(e.x)}, ${fmtExpr(e.y)})`;
    case "select":
      return `select(${children(e).map(fmtExpr).join(", ")})`;
    case "cast":
      return `${e.dtype}(${fmtExpr(e.x)})`;
    case "bitcast":
      return `bitcast<${e.dtype}>(${fmtExpr(e.x)})`;
  }
}

/** A kernel's loops, loads and expressions in one paragraph. */
export function describeKernel(k: Kernel): string {
  if (k.kind === "routine") return `routine ${k.routine.name}`;
  if (k.kind === "matmul") {
    const names = k.batch.length > 0 ? "batch×m×n×k" : "m×n×k";
    const shape = [...k.batch, k.m, k.n, k.k].map(int).join("×");
    const withLoads = (loads: readonly Load[]) => (loads.length > 0 ? ` with ${loads.map(fmtLoad).join(", ")}` : "");
    const epi = k.epilogue ? `; epilogue ${fmtExpr(k.epilogue.expr)}${withLoads(k.epilogue.loads)}` : "";
    const pro = (["lhs", "rhs"] as const)
      .map((side) => {
        const p = k[side].prologue;
        return p ? `; ${side} prologue ${fmtExpr(p.expr)}${withLoads(p.loads)}` : "";
      })
      .join("");
    return `matmul ${names} ${shape}${pro}${epi}`;
  }
  const red = k.reduce ? `, ${k.reduce} over loops ${k.outRank}…` : "";
  const post = k.post ? `; post ${fmtExpr(k.post)}` : "";
  const outs = k.siblings?.length
    ? outputExprs(k)
        .map((e, j) => `out${j} = ${fmtExpr(e)}`)
        .join("; ")
    : `out = ${fmtExpr(k.expr)}`;
  return `loops [${k.loops.map(int).join(",")}]${red}; ${k.loads.map(fmtLoad).join(", ")}; ${outs}${post}`;
}
