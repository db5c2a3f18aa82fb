import type { DType } from "@webjax/core";
import { wgslType } from "../codegen/expr.js";
import { paramsDecl } from "../codegen/fused.js";
import { helperSource } from "../codegen/math.js";

/**
 * A routine on WebGPU is a short program of compute passes over its inputs, outputs and
 * temporary buffers, all encoded into the open compute pass (WebGPU orders the dispatches of a
 * pass, so each sees the writes of the ones before). The backend allocates the temps from its
 * pool, encodes the passes in order and releases the temps; every pass counts as a dispatch.
 */

/** A buffer a pass binds: the routine's input or output i, or its temporary buffer i. */
export type BufRef = { readonly in: number } | { readonly out: number } | { readonly tmp: number };

export interface Pass {
  readonly label: string;
  /** The WGSL module (also the pipeline cache key). */
  readonly source: string;
  /** Storage buffers at bindings 1, 2, … (binding 0 is the params block). */
  readonly bind: readonly BufRef[];
  /** Workgroups to launch (the backend spreads them over a 2-D grid past the per-dimension limit). */
  readonly workgroups: number;
  readonly params: readonly number[];
}

export interface RoutinePlan {
  /** Byte sizes of the temporary buffers. */
  readonly temps: readonly number[];
  readonly passes: readonly Pass[];
}

/** Threads per workgroup of every routine pass. */
export const WG = 256;

/** The 32-bit storage type a routine reads dtype `d` as (bool is a u32 of 0 or 1). */
export const storageType = (d: DType): "f32" | "i32" | "u32" => wgslType(d);

export interface Binding {
  readonly name: string;
  readonly type: "f32" | "i32" | "u32";
  readonly write?: boolean;
}

/**
 * A routine pass's module: params, bindings, helpers, workgroup variables and `main` with `g`
 * (the global thread index over the 2-D grid), `lid` and `wgi` (the workgroup's flat index).
 * Every binding is used (a phony read), so the "auto" layout keeps them all.
 */
export function shader(
  nParams: number,
  bindings: readonly Binding[],
  body: readonly string[],
  opts: { helpers?: ReadonlySet<string>; workgroupVars?: readonly string[]; functions?: readonly string[] } = {},
): string {
  const decls = bindings.map(
    (b, i) =>
      `@group(0) @binding(${i + 1}) var<storage, ${b.write ? "read_write" : "read"}> ${b.name}: array<${b.type}>;`,
  );
  return [
    paramsDecl(nParams),
    ...decls,
    helperSource(opts.helpers ?? new Set()),
    ...(opts.workgroupVars ?? []),
    ...(opts.functions ?? []),
    `@compute @workgroup_size(${WG})`,
    "fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_id) lidv: vec3u) {",
    "  _ = P.v[0].x;",
    ...bindings.map((b) => `  _ = ${b.name}[0];`),
    "  let lid = lidv.x;",
    "  let wgi = wid.y * nwg.x + wid.x;",
    `  let g = wgi * ${WG}u + lid;`,
    ...body.map((l) => `  ${l}`),
    "}",
  ].join("\n");
}

/** `prm(i)` as u32. */
export const up = (i: number): string => `u32(prm(${i}u))`;

/**
 * WGSL of the monotone sort key of 32 bits `b` holding dtype `d` (numpy's order: NaN largest
 * and all NaNs equal, −0 equal to 0), complemented when `descending`.
 */
export function keyFunction(d: DType, descending: boolean): string {
  const flip = descending ? " ^ 0xffffffffu" : "";
  let body: string;
  switch (d) {
    case "float32":
      body = [
        "let mag = b & 0x7fffffffu;",
        "var k: u32;",
        "if (mag > 0x7f800000u) { k = 0xffffffffu; }",
        "else if (mag == 0u) { k = 0x80000000u; }",
        "else if ((b & 0x80000000u) != 0u) { k = ~b; }",
        "else { k = b | 0x80000000u; }",
        `return k${flip};`,
      ].join(" ");
      break;
    case "int32":
      body = `return (b ^ 0x80000000u)${flip};`;
      break;
    case "uint32":
    case "bool":
      body = `return b${flip};`;
      break;
    default:
      throw new Error(`internal: no WebGPU sort key for ${d}`);
  }
  return `fn sort_key(b: u32) -> u32 { ${body} }`;
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
export const nextPow2 = (n: number): number => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));
