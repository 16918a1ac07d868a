/**
 * Values and the C conversions between them: integers of a type (bigint, always in the type's range),
 * pointers (an address and the object it was derived from), aggregates (bytes of a struct or array).
 */
import type { Memory, Obj, Value } from "./memory.ts";
import { type CType, type IntType, isInt, type PtrType, ptrTo, T, typeName, wrap } from "./types.ts";

export const VOID: Value = { k: "void" };

export function intVal(t: IntType, v: bigint): Value & { k: "int" } {
  return { k: "int", t, v: wrap(v, t) };
}

export function int32(v: number | bigint): Value & { k: "int" } {
  return intVal(T.int, BigInt(v));
}

export function ptrVal(t: PtrType, addr: bigint, obj: Obj | null): Value & { k: "ptr" } {
  return { k: "ptr", t, addr: BigInt.asUintN(64, addr), obj };
}

/** A pointer to byte `off` of `obj`, of type `to *`. */
export function ptrInto(obj: Obj, off: number, to: CType): Value & { k: "ptr" } {
  return { k: "ptr", t: ptrTo(to), addr: obj.base + BigInt(off), obj };
}

export const NULLP: Value & { k: "ptr" } = { k: "ptr", t: ptrTo(T.void), addr: 0n, obj: null };

/** Why a conversion or operation cannot be interpreted (the caller turns it into an unknown). */
export class Unsupported extends Error {}

/** The type of a value. */
export function typeOf(v: Value): CType {
  return v.k === "void" ? T.void : v.t;
}

/** Whether a scalar value is non-zero (C's truth). */
export function truthy(v: Value): boolean {
  if (v.k === "int") return v.v !== 0n;
  if (v.k === "ptr") return v.addr !== 0n;
  throw new Unsupported(`a ${v.k === "agg" ? typeName(v.t) : "void"} value used as a condition`);
}

/** Converts a value to `t` as assignment and casts do (C11 6.3). */
export function convert(v: Value, t: CType, mem: Memory): Value {
  switch (t.k) {
    case "void":
      return VOID;
    case "int":
      if (v.k === "int") return v.t === t ? v : intVal(t, v.v);
      if (v.k === "ptr") return t.rank === 0 ? intVal(t, v.addr === 0n ? 0n : 1n) : intVal(t, v.addr);
      break;
    case "ptr":
      if (v.k === "ptr") return v.t === t ? v : { k: "ptr", t, addr: v.addr, obj: v.obj };
      if (v.k === "int") {
        const addr = BigInt.asUintN(64, v.v);
        return { k: "ptr", t, addr, obj: addr < 4096n ? null : mem.find(addr) };
      }
      break;
    case "struct":
    case "array":
      if (v.k === "agg" && v.t.k === t.k) return v;
      break;
    default:
      break;
  }
  throw new Unsupported(`conversion of ${v.k === "void" ? "void" : typeName(v.t)} to ${typeName(t)}`);
}

/** The integer a scalar value stands for (a pointer's address). */
export function asBigInt(v: Value): bigint {
  if (v.k === "int") return v.v;
  if (v.k === "ptr") return v.addr;
  throw new Unsupported(`a ${v.k} value used as an integer`);
}

export function asNumber(v: Value): number {
  return Number(asBigInt(v));
}

export function isIntValue(v: Value): v is Value & { k: "int" } {
  return v.k === "int" && isInt(v.t);
}
