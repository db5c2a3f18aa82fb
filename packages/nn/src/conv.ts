/**
 * Convolutions on `lax.convGeneralDilated`, channels last as Keras: inputs [N, ...spatial, C]
 * (or one example [...spatial, C], as under `vmap`), kernels [...kernelSize, C/groups, filters].
 */
import { type Array, lax, random, ShapeError } from "@webjax/core";
import { glorotUniform, zeros } from "./initializers.js";
import {
  activationOf,
  checkInput,
  fmt,
  initOf,
  type KernelOptions,
  kernelRules,
  param,
  positiveInt,
  tupleOf,
} from "./layer-options.js";
import { type Module, module } from "./module.js";

/** Padding of a layer: Keras' "valid" (none) and "same" (output ⌈n/stride⌉), or [low, high] per spatial dim. */
export type PaddingArg = "valid" | "same" | "VALID" | "SAME" | ReadonlyArray<readonly [number, number]>;

export interface ConvOptions extends KernelOptions {
  /** Strides per spatial dim, or one for all (default 1). */
  readonly strides?: number | readonly number[];
  /** Default "valid", as Keras. */
  readonly padding?: PaddingArg;
  /** Kernel dilation (atrous convolution), per spatial dim or one for all (default 1). */
  readonly dilation?: number | readonly number[];
  /** Feature groups: C and filters must both divide by it (groups = C: depthwise). Default 1. */
  readonly groups?: number;
}

/** The lax padding of a layer's padding option. */
export function laxPadding(op: string, p: PaddingArg, n: number): lax.Padding {
  if (typeof p === "string") {
    const u = p.toUpperCase();
    if (u !== "SAME" && u !== "VALID")
      throw new ShapeError(`${op}: padding must be "same", "valid" or pairs, got ${JSON.stringify(p)}`);
    return u;
  }
  if (p.length !== n) throw new ShapeError(`${op}: padding needs ${n} [low, high] pairs, got ${JSON.stringify(p)}`);
  return p.map(([a, b]) => [a, b] as [number, number]);
}

const letters = ["W", "HW", "DHW"];

/** Runs `f` on `x` with a batch axis: one example [...spatial, C] gets one added, and removed from the result. */
export function withBatch(x: Array, spatial: number, f: (b: Array) => Array): Array {
  return x.ndim === spatial + 2 ? f(x) : f(x.reshape([1, ...x.shape])).squeeze(0);
}

/** A convolution over `kernelSize.length` spatial dims (1, 2 or 3). */
export function conv(filters: number, kernelSize: readonly number[], opts: ConvOptions = {}): Module {
  const s = kernelSize.length;
  const op = `conv${s}d`;
  if (s < 1 || s > 3) throw new ShapeError(`conv: kernelSize needs 1, 2 or 3 dims, got ${JSON.stringify(kernelSize)}`);
  positiveInt(op, "filters", filters);
  const ks = tupleOf(op, "kernelSize", kernelSize, s);
  const strides = tupleOf(op, "strides", opts.strides ?? 1, s);
  const dilation = tupleOf(op, "dilation", opts.dilation ?? 1, s);
  const padding = laxPadding(op, opts.padding ?? "valid", s);
  const groups = positiveInt(op, "groups", opts.groups ?? 1);
  if (filters % groups !== 0) throw new ShapeError(`${op}: filters (${filters}) must divide by groups (${groups})`);
  const useBias = opts.useBias ?? true;
  const kernelInit = initOf(opts.kernelInit, glorotUniform());
  const biasInit = initOf(opts.biasInit, zeros);
  const act = activationOf(opts.activation);
  const L = letters[s - 1] as string;
  const dn: [string, string, string] = [`N${L}C`, `${L}IO`, `N${L}C`];
  const expected = `[N, ${ks.map(() => "…").join(", ")}, C] or one example [${ks.map(() => "…").join(", ")}, C]`;
  return module({
    kind: op,
    ...(opts.name === undefined ? {} : { name: opts.name }),
    rules: kernelRules(opts),
    config: { filters, kernelSize: ks, strides, dilation, padding, groups, useBias, activation: act },
    init: (key, x) => {
      checkInput(x, { ranks: [s + 1, s + 2], expected });
      const c = x.shape[x.shape.length - 1] as number;
      if (c % groups !== 0)
        throw new ShapeError(`${op}: input features (${c}) must divide by groups (${groups}), input ${fmt(x.shape)}`);
      const kernel = kernelInit(key, [...ks, c / groups, filters], x.dtype);
      const params = useBias ? { kernel, bias: biasInit(random.foldIn(key, 1), [filters], x.dtype) } : { kernel };
      return { params, state: {} };
    },
    apply: (vars, x) => {
      const kernel = param(vars, "kernel");
      const c = (kernel.shape[s] as number) * groups;
      checkInput(x, {
        ranks: [s + 1, s + 2],
        features: c,
        expected: `${expected} with C = ${c} for kernel ${fmt(kernel.shape)}`,
      });
      const run = (b: Array) => {
        let y = lax.convGeneralDilated(b, kernel, strides, padding, {
          rhsDilation: dilation,
          dimensionNumbers: dn,
          featureGroupCount: groups,
        });
        if (useBias) y = y.add(param(vars, "bias"));
        return act ? act(y) : y;
      };
      const y = withBatch(x, s, run);
      return [y, vars.state];
    },
  });
}

/** A 1-D convolution (NWC): `conv1d(filters, kernelSize, opts)`. */
export function conv1d(filters: number, kernelSize: number | readonly [number], opts: ConvOptions = {}): Module {
  return conv(filters, typeof kernelSize === "number" ? [kernelSize] : kernelSize, opts);
}

/** A 2-D convolution (NHWC, kernel HWIO): `conv2d(32, 3, { padding: "same", activation: "relu" })`. */
export function conv2d(
  filters: number,
  kernelSize: number | readonly [number, number],
  opts: ConvOptions = {},
): Module {
  return conv(filters, typeof kernelSize === "number" ? [kernelSize, kernelSize] : kernelSize, opts);
}
