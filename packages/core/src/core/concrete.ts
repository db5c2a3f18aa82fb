import { Array, type NestedArray } from "../array.js";
import type { Backend } from "../backend/backend.js";
import { allocHost, type DataArray, type DType, type ValueArray } from "../dtype.js";
import { fmtShape, ShapeError, WebjaxError } from "../errors.js";
import { float16ToFloat32 } from "../float16.js";
import { contiguousView, isContiguous, type View } from "../ir/view.js";
import { sizeOf } from "../shape.js";
import type { Aval } from "./aval.js";
import { DeviceBuffer } from "./buffer.js";
import { withCallSite } from "./call-sites.js";
import { beforeRead } from "./collector.js";
import { formatArray } from "./format.js";
import { recorder } from "./recording.js";
import { noteCreated, untracked } from "./scope.js";

/** Safety net: an array that became unreachable without dispose() releases its buffer when collected. */
const finalizer = new FinalizationRegistry<DeviceBuffer>((buffer) => buffer.release());

/** Makes a contiguous copy of a view (installed by the eager executor). */
let materialize: (x: ConcreteArray) => ConcreteArray;
export function setMaterialize(f: (x: ConcreteArray) => ConcreteArray): void {
  materialize = f;
}

let nextSerial = 0;

/** The serial number the next concrete array will get (arrays are numbered in creation order). */
export function nextArraySerial(): number {
  return nextSerial;
}

/** A concrete array: a view over a reference-counted backend buffer. */
export class ConcreteArray extends Array {
  #buffer: DeviceBuffer | null;
  /** Creation order: transforms tell their own arrays from older ones by it. */
  readonly serial = nextSerial++;
  /** True for handles that no ownership scope records (see `retained`). */
  detached = false;
  /** The jitted function this array was donated to (set when donation releases it). */
  donatedTo: string | undefined = undefined;
  /** The value of a scalar made from a JS value (as stored): a program records it as a literal, not a constant. */
  literal: number | undefined = undefined;
  /**
   * True for a program's own literal (and views of it): a jitted program's kernels may compile
   * its value in. An input that happens to be a literal scalar (a JS number argument) is not.
   */
  inlinable = false;

  constructor(
    readonly aval: Aval,
    buffer: DeviceBuffer,
    readonly view: View = contiguousView(aval.shape),
  ) {
    super();
    this.#buffer = buffer;
    finalizer.register(this, buffer, this);
    noteCreated(this);
  }

  /** A fresh array holding a host copy of `data`. */
  static fromHost(backend: Backend, aval: Aval, data: DataArray, label: string): ConcreteArray {
    const size = sizeOf(aval.shape);
    const slot = backend.alloc(aval.dtype, size);
    recorder()?.write();
    backend.write(slot, data);
    return new ConcreteArray(aval, new DeviceBuffer(backend, slot, aval.dtype, size, label));
  }

  get disposed(): boolean {
    return this.#buffer === null;
  }

  override backendHint(): Backend {
    return this.backend;
  }

  /**
   * A second handle on the same buffer that no ownership scope records: it keeps the values
   * alive until it is disposed (or collected), whatever happens to this array.
   */
  retained(): ConcreteArray {
    const b = this.buffer;
    b.retain();
    const r = untracked(() => new ConcreteArray(this.aval, b, this.view));
    r.detached = true;
    return r;
  }

  /** A second handle on the same buffer, owned like any array created now. */
  alias(): ConcreteArray {
    const b = this.buffer;
    b.retain();
    return new ConcreteArray(this.aval, b, this.view);
  }

  /** The buffer; a clear error after dispose(). */
  get buffer(): DeviceBuffer {
    if (!this.#buffer) {
      if (this.donatedTo) {
        throw new WebjaxError(
          `Array(${this.dtype}${fmtShape(this.shape)}) was donated to ${this.donatedTo} (donateArgnums) and can no longer be used; ` +
            "use the function's output instead, or leave the argument out of donateArgnums",
        );
      }
      throw new WebjaxError(
        `Array(${this.dtype}${fmtShape(this.shape)}) was used after dispose(); keep it alive, or compute it again`,
      );
    }
    return this.#buffer;
  }

  get backend(): Backend {
    return this.buffer.backend;
  }

  dispose(): void {
    const b = this.#buffer;
    if (!b) return;
    this.#buffer = null;
    finalizer.unregister(this);
    b.release();
  }

  /** Runs `read` on a contiguous form of this array (a temporary copy for a strided view). */
  private withContiguous<T>(read: (b: DeviceBuffer, offset: number) => T): T {
    const buf = this.buffer;
    if (isContiguous({ ...this.view, offset: 0 }) || this.size === 0) return read(buf, this.view.offset);
    const c = materialize(this);
    try {
      return read(c.buffer, 0);
    } finally {
      c.dispose();
    }
  }

  /** The values (float16 arrays read as Float32Array: JS has no Float16Array here). */
  async data(): Promise<ValueArray> {
    const pending = beforeRead();
    if (pending) await pending;
    if (this.size === 0) return values(allocHost(this.dtype, 0), this.dtype);
    try {
      const raw = await this.withContiguous((b, off) => b.backend.read(b.slot, this.dtype, off, this.size));
      return values(raw, this.dtype);
    } catch (e) {
      throw withCallSite(e);
    }
  }

  dataSync(): ValueArray {
    if (this.size === 0) return values(allocHost(this.dtype, 0), this.dtype);
    try {
      return values(
        this.withContiguous((b, off) => b.backend.readSync(b.slot, this.dtype, off, this.size)),
        this.dtype,
      );
    } catch (e) {
      throw withCallSite(e);
    }
  }

  async toArray(): Promise<NestedArray> {
    return nest(await this.data(), this.shape);
  }

  async item(): Promise<number> {
    if (this.size !== 1) {
      throw new ShapeError(
        `item: the array has shape ${fmtShape(this.shape)} (${this.size} elements); item() needs exactly one`,
      );
    }
    return (await this.data())[0] as number;
  }

  async blockUntilReady(): Promise<this> {
    const pending = beforeRead();
    if (pending) await pending;
    const b = this.buffer;
    try {
      await b.backend.ready(b.slot);
    } catch (e) {
      throw withCallSite(e);
    }
    return this;
  }

  toPrimitiveError(): WebjaxError {
    return new WebjaxError(
      `Array(${this.dtype}${fmtShape(this.shape)}) was used as a JS number or boolean (in a comparison, \`if\`, or arithmetic). ` +
        "Read its value first: `await x.item()` (or `await x.data()`), or compare with ops such as x.greater(0.1).",
    );
  }

  override toString(): string {
    const head = `${this.dtype}${fmtShape(this.shape)}`;
    if (this.disposed) return `Array(${head}, disposed)`;
    if (!this.backend.canReadSync) return `Array(${head}, on ${this.backend.name}; read it with await x.toArray())`;
    try {
      return `Array(${formatArray(this.dataSync(), this.shape, this.dtype)}, dtype=${this.dtype})`;
    } catch (e) {
      return `Array(${head}, failed: ${(e as Error).message})`;
    }
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }
}

/** Storage → values: float16 bits become float32 values; other dtypes are stored as values. */
function values(raw: DataArray, dtype: DType): ValueArray {
  return dtype === "float16" ? float16ToFloat32(raw as Uint16Array) : (raw as ValueArray);
}

function nest(data: ValueArray, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return data[0] as number;
  const rec = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim] as number;
    const inner = sizeOf(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? (data[offset + i] as number) : rec(dim + 1, offset + i * inner));
    }
    return out;
  };
  return rec(0, 0);
}

export type { DType };
