/**
 * `foldBatchNorm(model, variables)`: merges each `batchNorm` (channels last) into the `dense` or
 * conv layer just before it, for inference — the lectures' "merge the BN layer into the previous
 * layer". With s = γ/√(σ² + ε), the kernel's output columns scale by s and the bias becomes
 * (b − μ)·s + β, so the folded model gives the same inference outputs with one layer fewer.
 */
import { type Array, np, type PyTree, WebjaxError } from "@webjax/core";
import { conv } from "./conv.js";
import { dense } from "./dense.js";
import type { Module, Variables } from "./module.js";
import { childVariables, sequentialOf } from "./sequential.js";

const foldable = (m: Module): boolean =>
  (m.kind === "dense" || /^conv[123]d$/.test(m.kind)) && m.config.activation === undefined;

function foldPair(layer: Module, lv: Variables, bn: Module, bv: Variables): [Module, PyTree] {
  const p = lv.params as Record<string, Array>;
  const b = bv.params as Record<string, Array>;
  const st = bv.state as Record<string, Array>;
  const mean = st.mean as Array;
  let s = np.rsqrt((st.var as Array).add(bn.config.epsilon as number));
  if (b.scale) s = s.mul(b.scale);
  const kernel = (p.kernel as Array).mul(s);
  let bias = (p.bias ?? np.zerosLike(mean)).sub(mean).mul(s);
  if (b.bias) bias = bias.add(b.bias);
  const c = layer.config;
  const folded =
    layer.kind === "dense"
      ? dense(c.units as number, { name: layer.name })
      : conv(c.filters as number, c.kernelSize as number[], {
          name: layer.name,
          strides: c.strides as number[],
          padding: c.padding as "SAME",
          dilation: c.dilation as number[],
          groups: c.groups as number,
        });
  return [folded, { kernel, bias }];
}

/** The folded model and its variables (a sequential; nested sequentials are folded too). */
export function foldBatchNorm(model: Module, variables: Variables): { model: Module; variables: Variables } {
  if (model.kind !== "sequential") {
    throw new WebjaxError(`foldBatchNorm: expected a sequential model, got a ${model.kind}`);
  }
  const children: Module[] = [];
  const params: Record<string, PyTree> = {};
  const state: Record<string, PyTree> = {};
  const put = (m: Module, v: Variables) => {
    children.push(m);
    if (Object.keys(v.params as object).length) params[m.name] = v.params;
    if (Object.keys(v.state as object).length) state[m.name] = v.state;
  };
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const c = layers[i] as Module;
    const v = childVariables(variables, c.name);
    const next = layers[i + 1];
    if (c.kind === "sequential") {
      const inner = foldBatchNorm(c, v);
      put(inner.model.withName(c.name), inner.variables);
    } else if (next && next.kind === "batchNorm" && foldable(c) && next.config.axis === -1) {
      const [m, p] = foldPair(c, v, next, childVariables(variables, next.name));
      put(m, { params: p, state: {} });
      i++;
    } else {
      put(c, v);
    }
  }
  return { model: sequentialOf(children, model.named ? model.name : undefined), variables: { params, state } };
}
