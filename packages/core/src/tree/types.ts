/**
 * Types that follow a pytree's shape: its leaf type (`LeafOf`) and the tree you get by mapping
 * its leaves (`MapLeaves`). Registered classes cannot be told apart from plain objects at the
 * type level, so their fields are mapped as an object's would be (methods are kept as they are).
 */
import type { Array } from "../array.js";

/** The JS values that are pytree leaves besides webjax Arrays. */
export type Primitive = number | boolean | string | bigint | symbol;

/** A pytree leaf: a webjax Array, or a number, boolean, string, bigint or symbol. */
export type Leaf = Array | Primitive;

/**
 * A pytree with leaves of type `L`: a leaf, `null`/`undefined` (empty nodes), a JS array or
 * tuple, a plain object or a `Map` of pytrees. (Registered classes are pytrees too, but a class
 * type is not assignable to this alias; the `tree` functions accept any value.)
 */
export type PyTree<L = Leaf> =
  | L
  | null
  | undefined
  | readonly PyTree<L>[]
  | { readonly [key: string]: PyTree<L> }
  | ReadonlyMap<unknown, PyTree<L>>;

/** Whether `T` is exactly a `PyTree<L>` (checked before distributing, so the recursive alias ends). */
type PyTreeLeaf<T> = [T] extends [PyTree<infer L>] ? ([PyTree<L>] extends [T] ? [L] : false) : false;

/**
 * The leaf type of a tree type: `LeafOf<{ w: Array; b: [Array, number] }>` is `Array | number`;
 * `null`/`undefined` contribute nothing; `LeafOf<PyTree<L>>` is `L`; `LeafOf<unknown>` is `unknown`.
 */
export type LeafOf<T> = PyTreeLeaf<T> extends [infer L] ? L : LeafOfNode<T>;

type LeafOfNode<T> = T extends null | undefined
  ? never
  : T extends Array | Primitive
    ? T
    : T extends (...args: never[]) => unknown
      ? never
      : T extends ReadonlyMap<unknown, infer V>
        ? LeafOf<V>
        : T extends readonly unknown[]
          ? LeafOf<T[number]>
          : T extends object
            ? { [K in keyof T]-?: LeafOf<T[K]> }[keyof T]
            : T;

/**
 * The type of `tree.map(f, t)` where `f` returns `R`: every leaf type in `T` becomes `R`, and
 * objects, tuples (with their `readonly`), arrays and Maps keep their shape:
 * `MapLeaves<{ a: Array; b: readonly [Array, Array] }, number>` is
 * `{ a: number; b: readonly [number, number] }`, and `MapLeaves<PyTree<Array>, R>` is `PyTree<R>`.
 */
export type MapLeaves<T, R> = PyTreeLeaf<T> extends [unknown] ? PyTree<R> : MapNode<T, R>;

type MapNode<T, R> = T extends null | undefined
  ? T
  : T extends Array | Primitive
    ? R
    : T extends (...args: never[]) => unknown
      ? T
      : T extends Map<infer K, infer V>
        ? Map<K, MapLeaves<V, R>>
        : T extends ReadonlyMap<infer K, infer V>
          ? ReadonlyMap<K, MapLeaves<V, R>>
          : T extends object
            ? { [K in keyof T]: MapLeaves<T[K], R> }
            : R;

/** The leaf types of several trees, one per tree: `LeavesOf<[A, B]>` is `[LeafOf<A>, LeafOf<B>]`. */
export type LeavesOf<Ts extends readonly unknown[]> = { [I in keyof Ts]: LeafOf<Ts[I]> };
