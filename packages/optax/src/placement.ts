/** Where new state goes: beside the array it belongs to (not on the default backend). */
import type { Array } from "@webjax/core";

/** Creation options that place a new array on `x`'s backend (none when x has no hint). */
export function backendOf(x: Array): { backend?: string } {
  const b = x.backendHint()?.name;
  return b ? { backend: b } : {};
}
