/**
 * Memo slots on the nodes of a lowered program: what the interpreter decides once per node (a constant's
 * value, a member's field, a call site's target, whether a node can suspend), kept on the node under symbol
 * keys. The nodes are plain readonly data that travel as JSON (codec.ts): JSON and Object.keys never see a
 * symbol key, and a program is never changed by its runs but for these memos. Each slot names what it was
 * decided for (a struct definition, a builtins table, an analysis) and is decided again for another.
 * A WeakMap per kind of memo was a lookup per evaluation (several per statement of the hot paths).
 */
import type { Value } from "./memory.ts";
import type { Field, StructDef } from "./types.ts";

export const NUM = Symbol("constant value");
export const MEMBER = Symbol("member field");
export const SITE = Symbol("call site");
export const PLAIN = Symbol("cannot suspend");
export const DIRECT = Symbol("runs as a plain function");

/** A member expression's field in one struct definition, with its offset as a bigint. */
export interface MemberMemo {
  readonly def: StructDef;
  readonly field: Field;
  readonly off: bigint;
}

/** A decision for an owner (the analysis or table it was made under). */
export interface OwnedMemo<O, V> {
  readonly by: O;
  readonly v: V;
}

export interface Slots {
  [NUM]?: Value;
  [MEMBER]?: MemberMemo;
  [SITE]?: OwnedMemo<object, unknown>;
  [PLAIN]?: OwnedMemo<object, boolean>;
  [DIRECT]?: OwnedMemo<object, boolean>;
}

/** The slots of a node. */
export function slots(node: object): Slots {
  return node as Slots;
}
