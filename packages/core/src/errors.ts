/**
 * The error classes of webjax. Every message names the op, the shapes or dtypes it saw and
 * what was expected, so a failure points at the line to fix.
 */

/** Base class of every error webjax throws on purpose. */
export class WebjaxError extends Error {
  override name = "WebjaxError";
}

/** A shape, axis or size is invalid for the op (raised at trace time, before any kernel runs). */
export class ShapeError extends WebjaxError {
  override name = "ShapeError";
}

/** A dtype is invalid for the op, or unknown. */
export class DTypeError extends WebjaxError {
  override name = "DTypeError";
}

/** A traced value was used where a concrete one is needed (a JS `if`, `+x`, a read). */
export class TracerError extends WebjaxError {
  override name = "TracerError";
}

/** A backend failed: a kernel, a device, an allocation, or arrays of two backends mixed. */
export class BackendError extends WebjaxError {
  override name = "BackendError";
}

/** Formats a shape as `[2,3]` for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}
