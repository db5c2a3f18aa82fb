/** The flag parsers the main job and the examples share (commander). */
import { InvalidArgumentError, Option } from "commander";

/** An integer flag of at least `min`, or commander's usage error naming the flag. */
export function intAtLeast(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(
        min === 1
          ? `${name} must be a positive integer, got '${v}'.`
          : min === 0
            ? `${name} must be a non-negative integer, got '${v}'.`
            : `${name} must be an integer ≥ ${min}, got '${v}'.`,
      );
    }
    return n;
  };
}

/** A positive-integer flag. */
export const positiveInt = (name: string) => intAtLeast(name, 1);

/** `--seed <n>`: a non-negative integer, default 0. */
export function seedOption(description = "the PRNG seed"): Option {
  return new Option("--seed <n>", description).argParser(intAtLeast("--seed", 0)).default(0);
}
