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

/** Ops by name: [prefix (0 = none, 0xfc = saturating conversions, 0xfd = SIMD), opcode]. */
const OPS = {
  "i32.eqz": [0, 0x45],
  "i32.eq": [0, 0x46],
  "i32.ne": [0, 0x47],
  "i32.lt_s": [0, 0x48],
  "i32.lt_u": [0, 0x49],
  "i32.gt_s": [0, 0x4a],
  "i32.gt_u": [0, 0x4b],
  "i32.le_s": [0, 0x4c],
  "i32.le_u": [0, 0x4d],
  "i32.ge_s": [0, 0x4e],
  "i32.ge_u": [0, 0x4f],
  "f32.eq": [0, 0x5b],
  "f32.ne": [0, 0x5c],
  "f32.lt": [0, 0x5d],
  "f32.gt": [0, 0x5e],
  "f32.le": [0, 0x5f],
  "f32.ge": [0, 0x60],
  "f64.eq": [0, 0x61],
  "f64.ne": [0, 0x62],
  "f64.lt": [0, 0x63],
  "f64.gt": [0, 0x64],
  "f64.le": [0, 0x65],
  "f64.ge": [0, 0x66],
  "i32.add": [0, 0x6a],
  "i32.sub": [0, 0x6b],
  "i32.mul": [0, 0x6c],
  "i32.div_s": [0, 0x6d],
  "i32.div_u": [0, 0x6e],
  "i32.rem_s": [0, 0x6f],
  "i32.rem_u": [0, 0x70],
  "i32.and": [0, 0x71],
  "i32.or": [0, 0x72],
  "i32.xor": [0, 0x73],
  "i32.shl": [0, 0x74],
  "i32.shr_s": [0, 0x75],
  "i32.shr_u": [0, 0x76],
  "f32.abs": [0, 0x8b],
  "f32.neg": [0, 0x8c],
  "f32.ceil": [0, 0x8d],
  "f32.floor": [0, 0x8e],
  "f32.trunc": [0, 0x8f],
  "f32.nearest": [0, 0x90],
  "f32.sqrt": [0, 0x91],
  "f32.add": [0, 0x92],
  "f32.sub": [0, 0x93],
  "f32.mul": [0, 0x94],
  "f32.div": [0, 0x95],
  "f64.add": [0, 0xa0],
  "f64.sub": [0, 0xa1],
  "f64.mul": [0, 0xa2],
  "f64.div": [0, 0xa3],
  "f64.abs": [0, 0x99],
  "f64.neg": [0, 0x9a],
  "f64.ceil": [0, 0x9b],
  "f64.floor": [0, 0x9c],
  "f64.trunc": [0, 0x9d],
  "f64.nearest": [0, 0x9e],
  "f64.sqrt": [0, 0x9f],
  "f64.convert_i32_s": [0, 0xb7],
  "f64.convert_i32_u": [0, 0xb8],
  "f32.convert_i32_s": [0, 0xb2],
  "f32.convert_i32_u": [0, 0xb3],
  "f32.demote_f64": [0, 0xb6],
  "f64.promote_f32": [0, 0xbb],
  "i32.reinterpret_f32": [0, 0xbc],
  "f32.reinterpret_i32": [0, 0xbe],
  select: [0, 0x1b],
  drop: [0, 0x1a],
  "i32.trunc_sat_f32_s": [0xfc, 0x0],
  "i32.trunc_sat_f32_u": [0xfc, 0x1],
  "i32.trunc_sat_f64_s": [0xfc, 0x2],
  "i32.trunc_sat_f64_u": [0xfc, 0x3],
  "i32x4.splat": [0xfd, 0x11],
  "f32x4.splat": [0xfd, 0x13],
  "f64x2.splat": [0xfd, 0x14],
  "i32x4.eq": [0xfd, 0x37],
  "i32x4.ne": [0xfd, 0x38],
  "i32x4.lt_s": [0xfd, 0x39],
  "i32x4.lt_u": [0xfd, 0x3a],
  "i32x4.gt_s": [0xfd, 0x3b],
  "i32x4.gt_u": [0xfd, 0x3c],
  "i32x4.le_s": [0xfd, 0x3d],
  "i32x4.le_u": [0xfd, 0x3e],
  "i32x4.ge_s": [0xfd, 0x3f],
  "i32x4.ge_u": [0xfd, 0x40],
  "f32x4.eq": [0xfd, 0x41],
  "f32x4.ne": [0xfd, 0x42],
  "f32x4.lt": [0xfd, 0x43],
  "f32x4.gt": [0xfd, 0x44],
  "f32x4.le": [0xfd, 0x45],
  "f32x4.ge": [0xfd, 0x46],
  "v128.not": [0xfd, 0x4d],
  "v128.and": [0xfd, 0x4e],
  "v128.or": [0xfd, 0x50],
  "v128.xor": [0xfd, 0x51],
  "v128.bitselect": [0xfd, 0x52],
  "f32x4.ceil": [0xfd, 0x67],
  "f32x4.floor": [0xfd, 0x68],
  "f32x4.nearest": [0xfd, 0x6a],
  "i32x4.abs": [0xfd, 0xa0],
  "i32x4.neg": [0xfd, 0xa1],
  "i32x4.shl": [0xfd, 0xab],
  "i32x4.shr_s": [0xfd, 0xac],
  "i32x4.shr_u": [0xfd, 0xad],
  "i32x4.add": [0xfd, 0xae],
  "i32x4.sub": [0xfd, 0xb1],
  "i32x4.mul": [0xfd, 0xb5],
  "i32x4.min_s": [0xfd, 0xb6],
  "i32x4.min_u": [0xfd, 0xb7],
  "i32x4.max_s": [0xfd, 0xb8],
  "i32x4.max_u": [0xfd, 0xb9],
  "f32x4.abs": [0xfd, 0xe0],
  "f32x4.neg": [0xfd, 0xe1],
  "f32x4.sqrt": [0xfd, 0xe3],
  "f32x4.add": [0xfd, 0xe4],
  "f32x4.sub": [0xfd, 0xe5],
  "f32x4.mul": [0xfd, 0xe6],
  "f32x4.div": [0xfd, 0xe7],
  "f32x4.demote_f64x2_zero": [0xfd, 0x5e],
  "f64x2.promote_low_f32x4": [0xfd, 0x5f],
  "f64x2.add": [0xfd, 0xf0],
  "f64x2.mul": [0xfd, 0xf2],
  "i32x4.trunc_sat_f32x4_s": [0xfd, 0xf8],
  "i32x4.trunc_sat_f32x4_u": [0xfd, 0xf9],
  "f32x4.convert_i32x4_s": [0xfd, 0xfa],
  "f32x4.convert_i32x4_u": [0xfd, 0xfb],
  "f32x4.relaxed_madd": [0xfd, 0x105],
} as const;

export type Op = keyof typeof OPS;

/** Memory ops: [prefix, opcode, natural alignment log2]. */
const MEM = {
  "i32.load": [0, 0x28, 2],
  "f32.load": [0, 0x2a, 2],
  "f64.load": [0, 0x2b, 3],
  "i32.load8_u": [0, 0x2d, 0],
  "i32.load16_u": [0, 0x2f, 1],
  "i32.store16": [0, 0x3b, 1],
  "i32.store": [0, 0x36, 2],
  "i32.store8": [0, 0x3a, 0],
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

  f64(v: number): this {
    this.code.push(0x44, ...new Uint8Array(Float64Array.of(v).buffer));
    return this;
  }

  /** `call` of function `index` (imports first, then the module's own functions). */
  call(index: number): this {
    this.code.push(0x10);
    uleb(this.code, index);
    return this;
  }

  /** A v128 constant of four 32-bit lanes (their bits). */
  v128i32x4(lanes: readonly number[]): this {
    this.code.push(0xfd);
    uleb(this.code, 0x0c);
    const bytes = new Uint8Array(Int32Array.from(lanes).buffer);
    for (const b of bytes) this.code.push(b);
    return this;
  }

  /** Raw bytes (structured control: block 0x02 0x40, loop 0x03 0x40, br 0x0c, br_if 0x0d, end 0x0b). */
  raw(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  /** `i8x16.shuffle` of the two v128s on the stack: result byte i is byte lanes[i] of a‖b. */
  shuffle(lanes: readonly number[]): this {
    this.code.push(0xfd);
    uleb(this.code, 0x0d);
    for (const l of lanes) this.code.push(l);
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

/** A function the module imports from "env" (JS numbers in and out). */
export interface FunctionImport {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
}

/**
 * A module of functions (no results) over the imported memory "env"."mem", optionally importing
 * functions from "env" too: those take indices 0…m−1 and the module's own functions follow.
 */
export function assemble(
  funcs: readonly FunctionBuilder[],
  memory: MemoryImport = { shared: false },
  fnImports: readonly FunctionImport[] = [],
): Uint8Array<ArrayBuffer> {
  const m = fnImports.length;
  const types: number[] = [];
  uleb(types, m + funcs.length);
  const signature = (params: readonly ValType[], results: readonly ValType[]) => {
    types.push(0x60);
    uleb(types, params.length);
    for (const t of params) types.push(TYPE_CODE[t]);
    uleb(types, results.length);
    for (const t of results) types.push(TYPE_CODE[t]);
  };
  for (const f of fnImports) signature(f.params, f.results);
  for (const f of funcs) signature(f.paramTypes, []);
  const imports: number[] = [];
  uleb(imports, 1 + m);
  const name = (s: string) => {
    const b = utf8(s);
    uleb(imports, b.length);
    imports.push(...b);
  };
  fnImports.forEach((f, i) => {
    name("env");
    name(f.name);
    imports.push(0x00);
    uleb(imports, i);
  });
  name("env");
  name("mem");
  if (memory.shared) {
    imports.push(0x02, 0x03, 0x00); // memory, limits: shared, min 0, max
    uleb(imports, memory.maxPages ?? 65536);
  } else imports.push(0x02, 0x00, 0x00); // memory, limits: min 0, no max
  const fnSec: number[] = [];
  uleb(fnSec, funcs.length);
  funcs.forEach((_, i) => {
    uleb(fnSec, m + i);
  });
  const exports: number[] = [];
  uleb(exports, funcs.length);
  funcs.forEach((f, i) => {
    const b = utf8(f.name);
    uleb(exports, b.length);
    exports.push(...b, 0x00);
    uleb(exports, m + i);
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
