import type { Array } from "../array.js";
import { TracerError } from "../errors.js";

let zerosImpl: ((like: Array) => Array) | undefined;
/** Installed by the numpy layer (keeps core/ free of numpy imports). */
export function setZerosLike(f: (like: Array) => Array): void {
  zerosImpl = f;
}
/** Zeros shaped like `like` (an instantiated zero tangent). */
export function zerosFor(like: Array): Array {
  if (!zerosImpl) throw new TracerError("zerosFor used before @webjax/core finished loading");
  return zerosImpl(like);
}
