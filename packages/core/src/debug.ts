/**
 * `debug` (issue 25): JAX's `jax.debug.print` and `jax.debug.callback`, working eagerly and
 * inside jit, vmap, grad and control flow (primitives/debug-callback.ts), and `debug.barrier()`
 * (JAX's `effects_barrier`), which awaits the callbacks a backend that reads asynchronously
 * still owes.
 */
import type { Array, ArrayLike } from "./array.js";
import { getBackend } from "./backend/registry.js";
import { aval } from "./core/aval.js";
import { ConcreteArray } from "./core/concrete.js";
import { barrier } from "./core/effects.js";
import { formatArray } from "./core/format.js";
import { withoutRecorder } from "./core/recording.js";
import { untracked } from "./core/scope.js";
import { bind } from "./core/trace.js";
import { TracerError } from "./errors.js";
import { asArray } from "./numpy/convert.js";
import type { HostLeaf } from "./primitives/types.js";
import { flattenAs } from "./tree/flatten.js";

export { barrier };

export interface CallbackOptions {
  /**
   * Keep this callback in order with the other ordered ones (JAX's `ordered`). Every callback
   * runs in program order here, so it changes nothing; it is accepted for JAX's signature.
   */
  ordered?: boolean;
}

const isOptions = (x: unknown): x is CallbackOptions =>
  x !== null &&
  typeof x === "object" &&
  Object.getPrototypeOf(x) === Object.prototype &&
  Object.keys(x).length > 0 &&
  Object.keys(x).every((k) => k === "ordered") &&
  typeof (x as CallbackOptions).ordered === "boolean";

/** The leaves of `args` as arrays (JS numbers as weak scalars), for a primitive's operands. */
function operands(name: string, args: unknown): { leaves: Array[]; unflatten: (xs: unknown[]) => unknown } {
  const [raw, def] = flattenAs(name, args);
  const leaves = raw.map((l, i) => {
    if (typeof l !== "number" && typeof l !== "boolean" && !(l !== null && typeof l === "object" && "aval" in l)) {
      throw new TracerError(`${name}: argument leaf ${i} is ${typeof l}; callbacks take arrays and numbers`);
    }
    return asArray(l as ArrayLike, name);
  });
  return { leaves, unflatten: (xs) => def.unflatten(xs) };
}

/**
 * `fn(...args)` on the host with the values `args` (pytrees of arrays) have when the program
 * reaches this point: eagerly now (or, where reads are asynchronous, once read), inside `jit`
 * at every call, inside `scan` at every iteration, under `vmap` once per member, under `grad`
 * with the primal values. `fn` gets arrays on the CPU backend; it returns nothing. A trailing
 * `{ ordered }` is JAX's option.
 *
 * @example debug.callback((x) => console.log("x is", x.dataSync()), x)
 */
export function callback(fn: (...args: never[]) => unknown, ...args: unknown[]): void {
  const name = "debug.callback";
  if (typeof fn !== "function") throw new TracerError(`${name}: the first argument must be a function`);
  const last = args[args.length - 1];
  const opts = isOptions(last) ? last : {};
  const values = isOptions(last) ? args.slice(0, -1) : args;
  const { leaves, unflatten } = operands(name, values);
  const cpu = getBackend("cpu");
  bind("debug_callback", leaves, {
    name,
    ordered: opts.ordered ?? false,
    callback: (host: readonly HostLeaf[]) => {
      const arrays = untracked(() =>
        withoutRecorder(() => host.map((h) => ConcreteArray.fromHost(cpu, aval(h.shape, h.dtype), h.data, name))),
      );
      fn(...(unflatten(arrays) as never[]));
    },
  });
}

/** Placeholders of a format string: `{}` (the next positional value), `{0}` (by index), `{name}` (a named value). */
const PLACEHOLDER = /\{(\w*)\}|\{\{|\}\}/g;

/**
 * Prints `fmt` with its `{}` / `{0}` / `{name}` placeholders replaced by the values the
 * arrays have at run time (numpy's formatting), as `jax.debug.print` does: inside `jit` on
 * every call, inside `scan` every iteration, under `vmap` once per member. Named values come
 * from a trailing plain object: `debug.print("loss {loss} at {step}", { loss, step })`.
 * `{{` and `}}` print braces.
 *
 * @example debug.print("x = {}, y = {}", x, y)
 */
export function print(fmt: string, ...args: unknown[]): void {
  const name = "debug.print";
  if (typeof fmt !== "string") throw new TracerError(`${name}: the first argument must be a format string`);
  const last = args[args.length - 1];
  const named =
    last !== null &&
    typeof last === "object" &&
    Object.getPrototypeOf(last) === Object.prototype &&
    !("aval" in (last as object))
      ? (last as Record<string, unknown>)
      : null;
  const positional = named ? args.slice(0, -1) : args;
  // Which value each placeholder prints, checked now (at trace time).
  const refs: (number | string)[] = [];
  let next = 0;
  for (const m of fmt.matchAll(PLACEHOLDER)) {
    if (m[0] === "{{" || m[0] === "}}") continue;
    const key = m[1] as string;
    if (key === "") refs.push(next++);
    else if (/^\d+$/.test(key)) refs.push(Number(key));
    else refs.push(key);
  }
  for (const r of refs) {
    const missing = typeof r === "number" ? r >= positional.length : !named || !(r in named);
    if (missing) {
      throw new TracerError(
        `${name}: "${fmt}" refers to ${typeof r === "number" ? `positional value ${r}` : `'${r}'`}, but got ${positional.length} positional value(s)${named ? ` and the names ${Object.keys(named).join(", ")}` : ""}`,
      );
    }
  }
  const used = [...new Set(refs)];
  const valueOf = (r: number | string) =>
    typeof r === "number" ? positional[r] : (named as Record<string, unknown>)[r];
  const { leaves } = operands(
    name,
    used.map((r) => valueOf(r)),
  );
  if (leaves.length !== used.length) {
    throw new TracerError(`${name}: each value it prints must be an array or a number (not a pytree)`);
  }
  bind("debug_callback", leaves, {
    name,
    ordered: true,
    callback: (host: readonly HostLeaf[]) => {
      let k = 0;
      const out = fmt.replace(PLACEHOLDER, (m) => {
        if (m === "{{") return "{";
        if (m === "}}") return "}";
        const h = host[used.indexOf(refs[k++] as number | string)] as HostLeaf;
        return formatArray(h.data, h.shape, h.dtype);
      });
      console.log(out);
    },
  });
}
