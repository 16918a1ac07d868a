/**
 * C types of the interpreter, for the kernel's data model (LP64, little endian: arm64 and x86-64): integer
 * types with their widths, signedness and conversion ranks, pointers, arrays, structs and unions with their
 * layouts, functions. Types are plain acyclic data (structs are referenced by id into the program's table),
 * so a lowered program can travel to a runtime that cannot parse C (Workers).
 */

export interface IntType {
  readonly k: "int";
  readonly bits: 8 | 16 | 32 | 64;
  readonly signed: boolean;
  /** Conversion rank (C11 6.3.1.1): _Bool 0, char 1, short 2, int 3, long 4, long long 5. */
  readonly rank: number;
  readonly name: string;
}

export interface PtrType {
  readonly k: "ptr";
  readonly to: CType;
}

export interface ArrayType {
  readonly k: "array";
  readonly of: CType;
  /** null: incomplete (a flexible array member, `int a[]`). */
  readonly n: number | null;
}

export interface StructRef {
  readonly k: "struct";
  readonly id: number;
  readonly tag: string;
}

export interface FnType {
  readonly k: "fn";
  readonly ret: CType;
  /** null: unprototyped (`int f()`). */
  readonly params: readonly CType[] | null;
  readonly variadic: boolean;
}

export type CType =
  | { readonly k: "void" }
  | IntType
  | { readonly k: "float"; readonly bits: 32 | 64 }
  | PtrType
  | ArrayType
  | StructRef
  | FnType;

export interface Field {
  /** null: an anonymous struct or union member, whose fields are reached by their own names. */
  readonly name: string | null;
  readonly type: CType;
  /** Byte offset in the struct. */
  readonly offset: number;
  /** Bit-field: width and bit offset within the storage unit at `offset` (of the field's type). */
  readonly bits?: { width: number; shift: number };
}

export interface StructDef {
  readonly id: number;
  readonly tag: string;
  readonly union: boolean;
  complete: boolean;
  fields: Field[];
  size: number;
  align: number;
}

const int = (name: string, bits: 8 | 16 | 32 | 64, signed: boolean, rank: number): IntType => ({
  k: "int",
  bits,
  signed,
  rank,
  name,
});

export const T = {
  void: { k: "void" } as const,
  bool: int("_Bool", 8, false, 0),
  char: int("char", 8, true, 1),
  schar: int("signed char", 8, true, 1),
  uchar: int("unsigned char", 8, false, 1),
  short: int("short", 16, true, 2),
  ushort: int("unsigned short", 16, false, 2),
  int: int("int", 32, true, 3),
  uint: int("unsigned int", 32, false, 3),
  long: int("long", 64, true, 4),
  ulong: int("unsigned long", 64, false, 4),
  llong: int("long long", 64, true, 5),
  ullong: int("unsigned long long", 64, false, 5),
  double: { k: "float", bits: 64 } as const,
  float: { k: "float", bits: 32 } as const,
} as const;

export const ptrTo = (to: CType): PtrType => ({ k: "ptr", to });
export const VOIDP = ptrTo(T.void);
export const CHARP = ptrTo(T.char);

/** Names tree-sitter-c reads as primitive types, with the typedefs of <stddef.h>/<stdint.h> on LP64. */
export const PRIMITIVES: Record<string, CType> = {
  void: T.void,
  char: T.char,
  int: T.int,
  short: T.short,
  long: T.long,
  float: T.float,
  double: T.double,
  bool: T.bool,
  _Bool: T.bool,
  size_t: T.ulong,
  ssize_t: T.long,
  ptrdiff_t: T.long,
  intptr_t: T.long,
  uintptr_t: T.ulong,
  int8_t: T.schar,
  int16_t: T.short,
  int32_t: T.int,
  int64_t: T.long,
  uint8_t: T.uchar,
  uint16_t: T.ushort,
  uint32_t: T.uint,
  uint64_t: T.ulong,
};

/** The integer type named by a list of specifier words (`unsigned long int`), or null. */
export function intFromWords(words: readonly string[]): IntType | null {
  let unsigned = false;
  let signed = false;
  let longs = 0;
  let base: "char" | "short" | "int" | null = null;
  for (const w of words) {
    if (w === "unsigned") unsigned = true;
    else if (w === "signed") signed = true;
    else if (w === "long") longs++;
    else if (w === "short") base = "short";
    else if (w === "char") base = "char";
    else if (w === "int") base ??= "int";
    else return null;
  }
  if (base === "char") return unsigned ? T.uchar : signed ? T.schar : T.char;
  if (base === "short") return unsigned ? T.ushort : T.short;
  if (longs >= 2) return unsigned ? T.ullong : T.llong;
  if (longs === 1) return unsigned ? T.ulong : T.long;
  return unsigned ? T.uint : T.int;
}

export function isInt(t: CType): t is IntType {
  return t.k === "int";
}
export function isPtr(t: CType): t is PtrType {
  return t.k === "ptr";
}
export function isScalar(t: CType): boolean {
  return t.k === "int" || t.k === "ptr" || t.k === "float";
}
export function isBool(t: CType): boolean {
  return t.k === "int" && t.rank === 0;
}

/** Reduces `v` to the range of `t` (two's complement wrap-around; _Bool is 0 or 1). */
export function wrap(v: bigint, t: IntType): bigint {
  if (t.rank === 0) return v === 0n ? 0n : 1n;
  // A value already in range is returned as it is: BigInt.asIntN makes a new bigint even then, and most
  // values are (comparisons with the range's bounds allocate nothing).
  const r = (t.signed ? SIGNED_RANGES : UNSIGNED_RANGES)[t.bits];
  if (r !== undefined && v >= r[0] && v <= r[1]) return v;
  return t.signed ? BigInt.asIntN(t.bits, v) : BigInt.asUintN(t.bits, v);
}

/** The least and greatest value of each width, by width. */
function ranges(signed: boolean): readonly (readonly [bigint, bigint] | undefined)[] {
  const out: (readonly [bigint, bigint] | undefined)[] = [];
  for (const bits of [8n, 16n, 32n, 64n])
    out[Number(bits)] = signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [0n, (1n << bits) - 1n];
  return out;
}
const SIGNED_RANGES = ranges(true);
const UNSIGNED_RANGES = ranges(false);

/** Integer promotion (C11 6.3.1.1): everything narrower than int becomes int. */
export function promote(t: IntType): IntType {
  return t.rank < 3 ? T.int : t;
}

/** The usual arithmetic conversions (C11 6.3.1.8) of two integer types. */
export function usual(a: IntType, b: IntType): IntType {
  const x = promote(a);
  const y = promote(b);
  if (x === y || (x.rank === y.rank && x.signed === y.signed)) return x;
  if (x.signed === y.signed) return x.rank >= y.rank ? x : y;
  const [u, s] = x.signed ? [y, x] : [x, y];
  if (u.rank >= s.rank) return u;
  if (s.bits > u.bits) return s;
  return unsignedOf(s);
}

export function unsignedOf(t: IntType): IntType {
  if (!t.signed) return t;
  switch (t.rank) {
    case 1:
      return T.uchar;
    case 2:
      return T.ushort;
    case 3:
      return T.uint;
    case 4:
      return T.ulong;
    default:
      return T.ullong;
  }
}

export function sameType(a: CType, b: CType): boolean {
  if (a === b) return true;
  if (a.k !== b.k) return false;
  switch (a.k) {
    case "int":
      return b.k === "int" && a.rank === b.rank && a.signed === b.signed && a.name === b.name;
    case "ptr":
      return b.k === "ptr" && sameType(a.to, b.to);
    case "array":
      return b.k === "array" && a.n === b.n && sameType(a.of, b.of);
    case "struct":
      return b.k === "struct" && a.id === b.id;
    case "float":
      return b.k === "float" && a.bits === b.bits;
    default:
      return true;
  }
}

/** Text of a type as C writes it (for messages). */
export function typeName(t: CType): string {
  switch (t.k) {
    case "void":
      return "void";
    case "int":
      return t.name;
    case "float":
      return t.bits === 32 ? "float" : "double";
    case "ptr":
      return `${typeName(t.to)} *`;
    case "array":
      return `${typeName(t.of)}[${t.n ?? ""}]`;
    case "struct":
      return `struct ${t.tag}`;
    case "fn":
      return `${typeName(t.ret)} (*)(${t.params === null ? "" : t.params.map(typeName).join(", ")}${t.variadic ? ", ..." : ""})`;
  }
}

/**
 * Members found by StructTable.member, per complete definition: its members never change once complete, and
 * every instance of a program shares its definitions.
 */
const MEMBERS = new WeakMap<StructDef, Map<string, Field | null>>();

/** The program's struct and union definitions, by id. */
export class StructTable {
  readonly defs: StructDef[] = [];

  /** A new (incomplete) struct or union. */
  declare(tag: string, union: boolean): StructRef {
    const id = this.defs.length;
    this.defs.push({ id, tag, union, complete: false, fields: [], size: 0, align: 1 });
    return { k: "struct", id, tag };
  }

  get(ref: StructRef): StructDef {
    const d = this.defs[ref.id];
    if (d === undefined) throw new Error(`no struct #${ref.id}`);
    return d;
  }

  /** Lays out the members (SysV ABI as gcc does: each at its alignment; a bit-field never straddles a unit of its type). */
  define(
    ref: StructRef,
    members: readonly { name: string | null; type: CType; width?: number }[],
    packed = false,
  ): void {
    const def = this.get(ref);
    MEMBERS.delete(def);
    const fields: Field[] = [];
    let bitpos = 0;
    let size = 0;
    let align = 1;
    for (const m of members) {
      const a = packed ? 1 : this.alignOf(m.type);
      const s = this.sizeOf(m.type);
      if (m.width !== undefined && m.type.k === "int") {
        const unit = this.alignOf(m.type) * 8;
        if (m.width === 0) {
          if (!def.union) bitpos = alignUp(bitpos, unit);
          continue;
        }
        if (m.name !== null) align = Math.max(align, a);
        const at = def.union ? 0 : bitpos;
        const start =
          !packed && Math.floor(at / unit) !== Math.floor((at + m.width - 1) / unit) ? alignUp(at, unit) : at;
        const offset = packed ? Math.floor(start / 8) : Math.floor(start / unit) * (unit / 8);
        if (m.name !== null)
          fields.push({
            name: m.name,
            type: m.type,
            offset,
            bits: { width: m.width, shift: start - offset * 8 },
          });
        if (def.union) size = Math.max(size, s);
        else bitpos = start + m.width;
        continue;
      }
      align = Math.max(align, a);
      if (def.union) {
        fields.push({ name: m.name, type: m.type, offset: 0 });
        size = Math.max(size, s);
        continue;
      }
      const offset = alignUp(Math.ceil(bitpos / 8), a);
      fields.push({ name: m.name, type: m.type, offset });
      bitpos = (offset + s) * 8;
    }
    if (!def.union) size = Math.ceil(bitpos / 8);
    def.fields = fields;
    def.align = align;
    def.size = alignUp(size, align);
    def.complete = true;
  }

  sizeOf(t: CType): number {
    switch (t.k) {
      case "void":
      case "fn":
        return 1;
      case "int":
        return t.bits / 8;
      case "float":
        return t.bits / 8;
      case "ptr":
        return 8;
      case "array":
        return (t.n ?? 0) * this.sizeOf(t.of);
      case "struct":
        return this.get(t).size;
    }
  }

  alignOf(t: CType): number {
    switch (t.k) {
      case "array":
        return this.alignOf(t.of);
      case "struct":
        return this.get(t).align;
      default:
        return Math.min(this.sizeOf(t), 8);
    }
  }

  /** The member `name` of a struct, searching anonymous members; its offset is from the struct's start. */
  member(ref: StructRef, name: string): Field | null {
    const def = this.get(ref);
    if (!def.complete) return this.findMember(ref, name);
    let byName = MEMBERS.get(def);
    if (byName === undefined) {
      byName = new Map();
      MEMBERS.set(def, byName);
    }
    let f = byName.get(name);
    if (f === undefined) {
      f = this.findMember(ref, name);
      byName.set(name, f);
    }
    return f;
  }

  private findMember(ref: StructRef, name: string): Field | null {
    for (const f of this.get(ref).fields) {
      if (f.name === name) return f;
      if (f.name === null && f.type.k === "struct") {
        const inner = this.member(f.type, name);
        if (inner !== null)
          return inner.bits === undefined
            ? { name, type: inner.type, offset: f.offset + inner.offset }
            : { name, type: inner.type, offset: f.offset + inner.offset, bits: inner.bits };
      }
    }
    return null;
  }
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
