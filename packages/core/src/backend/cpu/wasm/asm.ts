/**
 * A small WebAssembly assembler: modules that import the backend's heap as "env"."mem" and
 * export functions of i32/f32/f64 parameters, with a builder per function body. Only what the
 * CPU kernels need (integer and float arithmetic, loads and stores, structured control flow,
 * the SIMD subset of f32x4/f64x2/i32x4), encoded directly to the binary format.
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const TYPE_CODE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Unsigned LEB128. */
function uleb(out: number[], v: number): void {
  let x = v >>> 0;
  do {
    let b = x & 0x7f;
    x >>>= 7;
    if (x !== 0) b |= 0x80;
    out.push(b);
  } while (x !== 0);
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(out: number[], v: number): void {
  let x = v | 0;
  for (;;) {
    const b = x & 0x7f;
    x >>= 7;
    if ((x === 0 && (b & 0x40) === 0) || (x === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];

/** A local variable or parameter of a function (its index). */
export type Local = { readonly index: number; readonly type: ValType };

/** Binary ops by name: [prefix (0 = none, 0xfd = SIMD), opcode]. */
const OPS = {
  "i32.eqz": [0, 0x45],
  "i32.eq": [0, 0x46],
  "i32.ne": [0, 0x47],
  "i32.lt_s": [0, 0x48],
  "i32.lt_u": [0, 0x49],
  "i32.gt_s": [0, 0x4a],
  "i32.le_s": [0, 0x4c],
  "i32.ge_s": [0, 0x4e],
  "i32.add": [0, 0x6a],
  "i32.sub": [0, 0x6b],
  "i32.mul": [0, 0x6c],
  "i32.div_s": [0, 0x6d],
  "i32.and": [0, 0x71],
  "i32.or": [0, 0x72],
  "i32.shl": [0, 0x74],
  "i32.shr_s": [0, 0x75],
  "i32.shr_u": [0, 0x76],
  "f32.add": [0, 0x92],
  "f32.sub": [0, 0x93],
  "f32.mul": [0, 0x94],
  "f64.add": [0, 0xa0],
  "f64.mul": [0, 0xa2],
  select: [0, 0x1b],
  drop: [0, 0x1a],
  "f32x4.splat": [0xfd, 0x13],
  "f64x2.splat": [0xfd, 0x14],
  "i32x4.splat": [0xfd, 0x11],
  "f32x4.add": [0xfd, 0xe4],
  "f32x4.sub": [0xfd, 0xe5],
  "f32x4.mul": [0xfd, 0xe6],
  "f64x2.add": [0xfd, 0xf0],
  "f64x2.mul": [0xfd, 0xf2],
  "f32x4.relaxed_madd": [0xfd, 0x105],
} as const;

export type Op = keyof typeof OPS;

/** Memory ops: [prefix, opcode, natural alignment log2]. */
const MEM = {
  "i32.load": [0, 0x28, 2],
  "f32.load": [0, 0x2a, 2],
  "f64.load": [0, 0x2b, 3],
  "i32.store": [0, 0x36, 2],
  "f32.store": [0, 0x38, 2],
  "f64.store": [0, 0x39, 3],
  "v128.load": [0xfd, 0x00, 4],
  "v128.load32_splat": [0xfd, 0x09, 2],
  "v128.load64_splat": [0xfd, 0x0a, 3],
  "v128.store": [0xfd, 0x0b, 4],
} as const;

export type MemOp = keyof typeof MEM;

/** One function's body under construction. */
export class FunctionBuilder {
  readonly code: number[] = [];
  private readonly locals: ValType[] = [];
  readonly params: Local[];

  constructor(
    readonly name: string,
    paramTypes: readonly ValType[],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  local(type: ValType): Local {
    this.locals.push(type);
    return { index: this.params.length + this.locals.length - 1, type };
  }

  get(l: Local): this {
    this.code.push(0x20);
    uleb(this.code, l.index);
    return this;
  }

  set(l: Local): this {
    this.code.push(0x21);
    uleb(this.code, l.index);
    return this;
  }

  tee(l: Local): this {
    this.code.push(0x22);
    uleb(this.code, l.index);
    return this;
  }

  i32(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }

  f32(v: number): this {
    this.code.push(0x43, ...new Uint8Array(Float32Array.of(v).buffer));
    return this;
  }

  v128zero(): this {
    this.code.push(0xfd);
    uleb(this.code, 0x0c);
    for (let i = 0; i < 16; i++) this.code.push(0);
    return this;
  }

  op(name: Op): this {
    const [prefix, code] = OPS[name];
    if (prefix) this.code.push(prefix);
    if (prefix) uleb(this.code, code);
    else this.code.push(code);
    return this;
  }

  /** A load or store at the address on the stack plus a constant byte offset. */
  mem(name: MemOp, offset = 0): this {
    const [prefix, code, align] = MEM[name];
    if (prefix) {
      this.code.push(prefix);
      uleb(this.code, code);
    } else this.code.push(code);
    uleb(this.code, align);
    uleb(this.code, offset);
    return this;
  }

  /** `local += v` for an i32 local. */
  addTo(l: Local, v: number | Local): this {
    this.get(l);
    if (typeof v === "number") this.i32(v);
    else this.get(v);
    return this.op("i32.add").set(l);
  }

  /** `for (i = from; i < limit; i += step) body()` over i32 (limit a local or a constant). */
  loop(i: Local, from: number | Local, limit: number | Local, step: number | Local, body: () => void): this {
    const push = (v: number | Local) => (typeof v === "number" ? this.i32(v) : this.get(v));
    push(from).set(i);
    // block { loop { br_if (i >= limit) out; body; i += step; br loop } }
    this.code.push(0x02, 0x40, 0x03, 0x40);
    this.get(i);
    push(limit);
    this.op("i32.ge_s");
    this.code.push(0x0d, 1);
    body();
    this.get(i);
    push(step);
    this.op("i32.add").set(i);
    this.code.push(0x0c, 0, 0x0b, 0x0b);
    return this;
  }

  /** `if (cond on the stack) then() else otherwise()`. */
  ifElse(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.code.push(0x0b);
    return this;
  }

  /** The body with its local declarations, as the code section wants it. */
  encode(): number[] {
    const body: number[] = [];
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(body, groups.length);
    for (const [n, t] of groups) {
      uleb(body, n);
      body.push(TYPE_CODE[t]);
    }
    body.push(...this.code, 0x0b);
    const out: number[] = [];
    uleb(out, body.length);
    return out.concat(body);
  }

  get paramTypes(): ValType[] {
    return this.params.map((p) => p.type);
  }
}

function section(id: number, content: number[]): number[] {
  const out = [id];
  uleb(out, content.length);
  return out.concat(content);
}

/** The imported memory's type: shared memories need a maximum (in 64 KiB pages). */
export interface MemoryImport {
  readonly shared: boolean;
  readonly maxPages?: number;
}

/** A module of functions (no results) over the imported memory "env"."mem". */
export function assemble(
  funcs: readonly FunctionBuilder[],
  memory: MemoryImport = { shared: false },
): Uint8Array<ArrayBuffer> {
  const types: number[] = [];
  uleb(types, funcs.length);
  for (const f of funcs) {
    types.push(0x60);
    uleb(types, f.paramTypes.length);
    for (const t of f.paramTypes) types.push(TYPE_CODE[t]);
    types.push(0);
  }
  const imports: number[] = [1];
  for (const s of ["env", "mem"]) {
    const b = utf8(s);
    uleb(imports, b.length);
    imports.push(...b);
  }
  if (memory.shared) {
    imports.push(0x02, 0x03, 0x00); // memory, limits: shared, min 0, max
    uleb(imports, memory.maxPages ?? 65536);
  } else imports.push(0x02, 0x00, 0x00); // memory, limits: min 0, no max
  const fnSec: number[] = [];
  uleb(fnSec, funcs.length);
  funcs.forEach((_, i) => {
    uleb(fnSec, i);
  });
  const exports: number[] = [];
  uleb(exports, funcs.length);
  funcs.forEach((f, i) => {
    const b = utf8(f.name);
    uleb(exports, b.length);
    exports.push(...b, 0x00);
    uleb(exports, i);
  });
  const code: number[] = [];
  uleb(code, funcs.length);
  for (const f of funcs) code.push(...f.encode());
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, fnSec),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** Whether this engine compiles Wasm at all (a strict CSP without 'wasm-unsafe-eval' does not). */
export function wasmAvailable(): boolean {
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(assemble([]));
  } catch {
    return false;
  }
}

/** Whether the engine validates `f32x4.relaxed_madd` (relaxed SIMD). */
export function relaxedSimdAvailable(): boolean {
  try {
    const f = new FunctionBuilder("probe", []);
    f.v128zero().v128zero().v128zero().op("f32x4.relaxed_madd").op("drop");
    return WebAssembly.validate(assemble([f]));
  } catch {
    return false;
  }
}
