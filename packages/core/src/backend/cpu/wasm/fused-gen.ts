import type { FusedKernel, IntExpr } from "../../../ir/kernel.js";
import { FunctionBuilder, type FunctionImport, type Local, type ValType } from "./asm.js";

/** A JS function a kernel calls: the scalar semantics of ops with no Wasm instruction. */
export type JsFn = (...args: number[]) => number;

/** The function under construction for one fused kernel: its arguments, loop and pointer locals, scratch locals. */
export class Gen {
  readonly b: FunctionBuilder;
  /** The byte addresses of the outputs (one per declared output) and of the inputs. */
  readonly outs: Local[];
  readonly ins: Local[];
  readonly prm: Local[];
  /** The rows [rowBegin, rowEnd) of the outermost output loop this call computes (a worker's share). */
  readonly rowBegin: Local;
  readonly rowEnd: Local;
  readonly loopSize: Local[] = [];
  readonly loopVar: Local[] = [];
  /** Byte strides per load per loop, and pointers per load per depth (-1: the load's base). */
  readonly stride: Local[][] = [];
  readonly ptr: Local[][] = [];
  /** The store pointer of each output. */
  readonly os: Local[];
  /** The last byte address a 4-byte load may read: (memory pages · 64 KiB) − 4. */
  readonly limit: Local;
  acc: Local | null = null;
  /** The JS functions the module imports, in import order, and their keys. */
  readonly imports: (FunctionImport & { readonly fn: JsFn })[] = [];
  private readonly importIndex = new Map<string, number>();
  private scratch = new Map<string, Local[]>();

  constructor(
    readonly k: FusedKernel,
    nParams: number,
  ) {
    const nIn = k.inputs.length;
    const nOut = k.outputs.length;
    this.b = new FunctionBuilder("run", [
      ...k.outputs.map(() => "i32" as const),
      ...k.inputs.map(() => "i32" as const),
      ...new Array(nParams).fill("i32"),
      "i32",
      "i32",
    ]);
    this.outs = this.b.params.slice(0, nOut);
    this.ins = this.b.params.slice(nOut, nOut + nIn);
    this.prm = this.b.params.slice(nOut + nIn, nOut + nIn + nParams);
    this.rowBegin = this.b.params[nOut + nIn + nParams] as Local;
    this.rowEnd = this.b.params[nOut + nIn + nParams + 1] as Local;
    this.os = k.outputs.map(() => this.b.local("i32"));
    this.limit = this.b.local("i32");
  }

  /** Output 0's store pointer (reductions and single-output kernels). */
  get o(): Local {
    return this.os[0] as Local;
  }

  /** Calls JS function `fn` (imported once per module under `key`) on the values on the stack. */
  callJs(key: string, fn: JsFn, params: readonly ValType[], results: readonly ValType[]): void {
    let i = this.importIndex.get(key);
    if (i === undefined) {
      i = this.imports.length;
      this.imports.push({ name: `f${i}`, params, results, fn });
      this.importIndex.set(key, i);
    }
    this.b.call(i);
  }

  int(e: IntExpr): void {
    if (typeof e === "number") this.b.i32(e);
    else this.b.get(this.prm[e.param] as Local);
  }

  /** A temporary local of `type` for one use site (released by `release`). */
  temp(type: "i32" | "f32" | "f64" | "v128"): Local {
    const free = this.scratch.get(type) ?? [];
    this.scratch.set(type, free);
    return free.pop() ?? this.b.local(type);
  }

  release(l: Local): void {
    this.scratch.get(l.type)?.push(l);
  }
}
