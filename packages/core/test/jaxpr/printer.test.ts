/**
 * makeJaxpr's printer against written-out programs (JAX's format: variables named in binding
 * order, literals by value, weak ones without their type, params as name=value).
 */
import {
  customJvp,
  customVjp,
  grad,
  type Array as JArray,
  lax,
  makeJaxpr,
  np,
  ShapeDtypeStruct,
  vmap,
} from "@webjax/core";
import { describe, expect, test } from "vitest";

const f32 = (...shape: number[]) => new ShapeDtypeStruct(shape);
const text = (s: string) => s.replace(/^\n/, "").replace(/\n\s*$/, "");

describe("makeJaxpr prints as JAX does", () => {
  test("scalar elementwise with literals: x * 2 + 1", () => {
    const j = makeJaxpr((x: JArray) => x.mul(2).add(1))(f32());
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[]. let
    b:f32[] = mul a 2.0
    c:f32[] = add b 1.0
  in (c) }`),
    );
    expect(j.consts).toEqual([]);
    expect(j.jaxpr.constvars).toEqual([]);
  });

  test("staticArgnums: a static argument (a string, a number) is closed over, not an input", () => {
    const act = (x: JArray, name: string, scale: number) => (name === "tanh" ? np.tanh(x) : np.sin(x)).mul(scale);
    const j = makeJaxpr(act, { staticArgnums: [1, -1] })(f32(2), "tanh", 3);
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[2]. let
    b:f32[2] = tanh a
    c:f32[2] = broadcast_in_dim[shape=(2,) broadcastDimensions=()] 3.0
    d:f32[2] = mul b c
  in (d) }`),
    );
    // Without it, the string is an error naming the argument.
    expect(() => makeJaxpr(act)(f32(2), "tanh", 3)).toThrow(/makeJaxpr: an argument at 1 is the string "tanh"/);
    expect(() => makeJaxpr(act, { staticArgnums: 1.5 })).toThrow("makeJaxpr: staticArgnums must be integers, got 1.5");
  });

  test("array elementwise: a JS number is broadcast from a literal", () => {
    const j = makeJaxpr((x: JArray) => np.exp(x.mul(0.5)))(f32(3));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[3]. let
    b:f32[3] = broadcast_in_dim[shape=(3,) broadcastDimensions=()] 0.5
    c:f32[3] = mul a b
    d:f32[3] = exp c
  in (d) }`),
    );
  });

  test("a dot and a scale: the issue's example", () => {
    const j = makeJaxpr((a: JArray, b: JArray) => a.matmul(b).mul(2))(f32(128, 784), f32(784, 300));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[128,784] b:f32[784,300]. let
    c:f32[128,300] = dot_general[contracting=((1,), (0,)) batch=((), ())] a b
    d:f32[128,300] = broadcast_in_dim[shape=(128, 300) broadcastDimensions=()] 2.0
    e:f32[128,300] = mul c d
  in (e) }`),
    );
  });

  test("reductions: a sum over an axis and a max keeping dims", () => {
    const j = makeJaxpr((x: JArray) => [x.sum(0), x.max(-1, { keepdims: true })])(f32(2, 3));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[2,3]. let
    b:f32[3] = reduce_sum[axes=(0,)] a
    c:f32[2] = reduce_max[axes=(1,)] a
    d:f32[2,1] = reshape[newShape=(2, 1)] c
  in (b, d) }`),
    );
  });

  test("a customVjp call carries its function's program and its rule", () => {
    const clipGrad = customVjp(
      function clipGrad(x: JArray) {
        return np.sin(x);
      },
      (x: JArray) => [np.sin(x), np.cos(x)] as const,
      (c: JArray, g: JArray) => [np.clip(g.mul(c), -0.1, 0.1)],
    );
    const j = makeJaxpr((x: JArray) => clipGrad(x).sum())(f32(3));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[3]. let
    b:f32[3] = custom_vjp_call[name=customVjp function clipGrad call={ lambda ; a:f32[3]. let
          b:f32[3] = sin a
        in (b) } numConsts=0 fwd=<function fwd> bwd=<function bwd>] a
    c:f32[] = reduce_sum[axes=(0,)] b
  in (c) }`),
    );
  });

  test("a customJvp call", () => {
    const f = customJvp(
      function twice(x: JArray) {
        return x.add(x);
      },
      ([x], [t]) => [x.add(x), t.mul(3)] as const,
    );
    const j = makeJaxpr((x: JArray) => f(x))(f32(2));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[2]. let
    b:f32[2] = custom_jvp_call[name=customJvp function twice call={ lambda ; a:f32[2]. let
          b:f32[2] = add a a
        in (b) } numConsts=0 jvp=<function jvp>] a
  in (b) }`),
    );
  });

  test("nested pytrees in and out, flattened in JAX's order (sorted keys)", () => {
    const j = makeJaxpr((p: { w: JArray; b: [JArray] }) => ({ y: p.w.add(p.b[0]), n: [p.w.neg()] }))({
      w: f32(2),
      b: [f32(2)],
    });
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[2] b:f32[2]. let
    c:f32[2] = add b a
    d:f32[2] = neg b
  in (d, c) }`),
    );
  });

  test("a closed-over concrete array is a const", () => {
    const c = np.array([1, 2, 3]);
    const j = makeJaxpr((x: JArray) => x.mul(c))(f32(3));
    expect(String(j)).toBe(
      text(`
{ lambda a:f32[3]; b:f32[3]. let
    c:f32[3] = mul b a
  in (c) }`),
    );
    expect(j.consts).toHaveLength(1);
    j.dispose();
  });

  test("a tracer of an enclosing transform is lifted to an input, not baked in", () => {
    let printed = "";
    vmap((y: JArray) => {
      const j = makeJaxpr((x: JArray) => x.mul(y))(f32());
      printed = String(j);
      expect(j.consts).toEqual([]);
      return y;
    })(np.array([1, 2]));
    expect(printed).toBe(
      text(`
{ lambda ; a:f32[] b:f32[]. let
    c:f32[] = mul b a
  in (c) }`),
    );
  });

  test("creation functions are equations: np.eye and np.zeros", () => {
    const j = makeJaxpr((x: JArray) => x.add(np.eye(3, 3, { k: 1 })).add(np.zeros([3, 3])))(f32(3, 3));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[3,3]. let
    b:i32[3,3] = iota[dtype=int32 shape=(3, 3) dimension=0]
    c:i32[3,3] = broadcast_in_dim[shape=(3, 3) broadcastDimensions=()] 1:i32[]
    d:i32[3,3] = add b c
    e:i32[3,3] = iota[dtype=int32 shape=(3, 3) dimension=1]
    f:bool[3,3] = eq d e
    g:f32[3,3] = convert_element_type[newDtype=float32 weakType=false] f
    h:f32[3,3] = add a g
    i:f32[3,3] = broadcast_in_dim[shape=(3, 3) broadcastDimensions=()] 0.0:f32[]
    j:f32[3,3] = add h i
  in (j) }`),
    );
  });

  test("a gradient: the forward pass, then the transposed linear program", () => {
    const j = makeJaxpr(grad((x: JArray) => np.sin(x).mul(x).sum()))(f32(3));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[3]. let
    b:f32[3] = sin a
    c:f32[3] = cos a
    d:f32[3] = mul b a
    e:f32[] = reduce_sum[axes=(0,)] d
    f:f32[3] = broadcast_in_dim[shape=(3,) broadcastDimensions=()] 1.0:f32[]
    g:f32[3] = mul f b
    h:f32[3] = mul f a
    i:f32[3] = mul h c
    j:f32[3] = add g i
  in (j) }`),
    );
  });

  test("several outputs of one equation, a comparison and a select", () => {
    const j = makeJaxpr((x: JArray) => {
      const [v, i] = lax.topK(x, 2);
      return np.where(v.greater(0), i, -1);
    })(f32(4));
    expect(String(j)).toBe(
      text(`
{ lambda ; a:f32[4]. let
    b:f32[2] c:i32[2] = top_k[k=2] a
    d:f32[2] = broadcast_in_dim[shape=(2,) broadcastDimensions=()] 0.0
    e:bool[2] = gt b d
    f:i32[2] = broadcast_in_dim[shape=(2,) broadcastDimensions=()] -1
    g:i32[2] = select e c f
  in (g) }`),
    );
  });
});
