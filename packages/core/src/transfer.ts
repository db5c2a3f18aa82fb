import type { Array } from "./array.js";
import { getBackend } from "./backend/registry.js";
import { ConcreteArray } from "./core/concrete.js";
import { TracerError } from "./errors.js";
import { hostStore } from "./host.js";

/**
 * Copies an array to another backend (`"cpu"`, `"webgpu"`, …). Async, because reading from a
 * device is. Arrays of two backends never mix in one op: move one of them with this first.
 */
export async function devicePut(x: Array, backend: string): Promise<Array> {
  if (!(x instanceof ConcreteArray))
    throw new TracerError("devicePut: the value is traced; move arrays outside transforms");
  const target = getBackend(backend);
  const values = await x.data();
  // Reads give values (float16 widened to float32); storage wants bits for float16.
  const data = x.dtype === "float16" ? Uint16Array.from(values, hostStore("float16")) : values;
  return ConcreteArray.fromHost(target, x.aval, data, "devicePut");
}
