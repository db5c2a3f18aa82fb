/**
 * Prints jaxprs as JAX does:
 *   { lambda a:f32[3]; b:f32[3]. let
 *       c:f32[3] = mul b a
 *       d:f32[3] = add c 1.0
 *     in (d) }
 * Variables are named a, b, …, z, ba, bb, … in order of binding (constvars, invars, equations);
 * literals print as their value (with their type where it is not weak); params print as
 * `name=value`, sub-programs nested.
 */
import type { DType } from "../dtype.js";
import type { Aval } from "./aval.js";
import { type Atom, ClosedJaxpr, type Eqn, type Jaxpr, Literal, setPrinter, type Var } from "./jaxpr.js";

const SHORT: Record<DType, string> = {
  float32: "f32",
  float64: "f64",
  float16: "f16",
  int32: "i32",
  uint32: "u32",
  bool: "bool",
};

export function fmtType(a: Aval): string {
  return `${SHORT[a.dtype]}[${a.shape.join(",")}]`;
}

/** a, b, …, z, ba, bb, … (JAX's variable names). */
function varName(n: number): string {
  let s = "";
  let k = n;
  do {
    s = String.fromCharCode(97 + (k % 26)) + s;
    k = Math.floor(k / 26);
  } while (k > 0);
  return s;
}

/** The shortest decimal that reads back as the same value of `dtype`. */
function fmtNumber(v: number, dtype: DType): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  if (dtype === "bool") return v ? "True" : "False";
  if (dtype === "int32" || dtype === "uint32") return String(v);
  let s = String(v);
  if (dtype === "float32" || dtype === "float16") {
    for (let p = 1; p <= 17; p++) {
      const t = v.toPrecision(p);
      if (Math.fround(Number(t)) === Math.fround(v)) {
        s = String(Number(t));
        break;
      }
    }
  }
  if (Object.is(v, -0)) s = "-0";
  return /[.e]/.test(s) ? s : `${s}.0`;
}

function fmtLiteral(l: Literal): string {
  const s = fmtNumber(l.value, l.dtype);
  return l.weakType ? s : `${s}:${fmtType(l.aval)}`;
}

class Names {
  private readonly names = new Map<Var, string>();
  name(v: Var): string {
    let n = this.names.get(v);
    if (n === undefined) {
      n = varName(this.names.size);
      this.names.set(v, n);
    }
    return n;
  }
  atom(a: Atom): string {
    return a instanceof Literal ? fmtLiteral(a) : this.name(a as Var);
  }
  binder(v: Var): string {
    return `${this.name(v)}:${fmtType(v.aval)}`;
  }
}

function isAval(v: unknown): v is Aval {
  return typeof v === "object" && v !== null && "shape" in v && "dtype" in v && "weakType" in v;
}

function fmtValue(v: unknown, indent: string): string {
  if (v instanceof ClosedJaxpr) return printClosed(v, `${indent}  `);
  if (typeof v === "function") return v.name ? `<function ${v.name}>` : "<function>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (v === null || v === undefined || typeof v === "boolean") return String(v);
  if (isAval(v)) return fmtType(v);
  if (globalThis.Array.isArray(v)) {
    const items = v.map((x) => fmtValue(x, indent));
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  if (typeof v === "object") return `{${fmtParams(v as object, indent)}}`;
  return String(v);
}

function fmtParams(params: object, indent: string): string {
  return Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${fmtValue(v, indent)}`)
    .join(" ");
}

function eqnText(names: Names, e: Eqn, indent: string): string {
  const outs = e.outputs.map((v) => names.binder(v)).join(" ");
  const ps = fmtParams(e.params as object, indent);
  const args = e.inputs.map((a) => names.atom(a)).join(" ");
  return `${outs} = ${e.prim}${ps ? `[${ps}]` : ""}${args ? ` ${args}` : ""}`;
}

function printJaxpr(j: Jaxpr, indent: string): string {
  const names = new Names();
  const head = `{ lambda ${j.constvars.map((v) => names.binder(v)).join(" ")}; ${j.invars.map((v) => names.binder(v)).join(" ")}. let`;
  const body = j.eqns.map((e) => `\n${indent}    ${eqnText(names, e, `${indent}    `)}`).join("");
  return `${head}${body}\n${indent}  in (${j.outvars.map((o) => names.atom(o)).join(", ")}) }`;
}

function printClosed(c: ClosedJaxpr, indent = ""): string {
  return printJaxpr(c.jaxpr, indent);
}

/** One equation as its program prints it (for errors). */
export function printEqn(j: Jaxpr, e: Eqn): string {
  const names = new Names();
  for (const v of j.constvars) names.name(v);
  for (const v of j.invars) names.name(v);
  for (const x of j.eqns) {
    if (x === e) return eqnText(names, e, "");
    for (const v of x.outputs) names.name(v);
  }
  return eqnText(names, e, "");
}

/** Equations of one program as it prints them (names consistent across the calls' results). */
export function printEqns(j: Jaxpr): (e: Eqn) => string {
  const names = new Names();
  for (const v of j.constvars) names.name(v);
  for (const v of j.invars) names.name(v);
  const text = new Map<Eqn, string>();
  for (const x of j.eqns) {
    text.set(x, eqnText(names, x, ""));
  }
  return (e) => text.get(e) ?? eqnText(names, e, "");
}

setPrinter((c) => printClosed(c));
