/**
 * The environment's view of the interpreter's memory: members of C structures by name (with the layouts of
 * the loaded program), integers and pointers read and written as the C would, and "served" objects: a kernel
 * structure the hand model keeps (a struct rproc, a struct firmware, a TEE client device) whose members are
 * read from and written to the hand model's object at each access of the C. A member the environment does
 * not serve is an unknown naming it, never a silent zero.
 */

import type { Machine } from "../interp.ts";
import type { IoHooks, Obj, Value } from "../memory.ts";
import { intBytes, intFromBytes, loadInt, smallIntBytes, storeInt } from "../memory.ts";
import type { CType, Field, IntType } from "../types.ts";
import { T, typeName } from "../types.ts";
import { ptrInto, Unsupported } from "../values.ts";

/** How the environment serves one member of a structure: its bytes now, and what a store of bytes does. */
export interface Served {
  get(): Uint8Array;
  /** Absent: the member is read-only for the C (a store is an unknown naming it). */
  set?(bytes: Uint8Array): void;
}

interface Leaf {
  readonly path: string;
  readonly off: number;
  readonly size: number;
  readonly t: CType;
}

export type Ptr = Value & { k: "ptr" };

export class CMem {
  constructor(readonly m: Machine) {}

  /** The complete struct `tag` of the program; an unknown when no file or header defines it. */
  struct(tag: string): CType & { k: "struct" } {
    const s = this.m.structOf(tag);
    if (s === null)
      throw new Unsupported(`struct ${tag} is not defined by the files or the environment's headers`);
    return s;
  }

  sizeOf(tag: string): number {
    return this.m.structs.sizeOf(this.struct(tag));
  }

  /** Members found by `member`, per tag, then path (the layouts are the program's: they never change). */
  private readonly members = new Map<string, Map<string, { readonly off: number; readonly t: CType }>>();

  /** The member at a dotted path (`u.value.a`) of struct `tag`: its offset and type. */
  member(tag: string, path: string): { readonly off: number; readonly t: CType } {
    let byPath = this.members.get(tag);
    if (byPath === undefined) {
      byPath = new Map();
      this.members.set(tag, byPath);
    }
    let found = byPath.get(path);
    if (found === undefined) {
      found = this.findMember(tag, path);
      byPath.set(path, found);
    }
    return found;
  }

  private findMember(tag: string, path: string): { off: number; t: CType } {
    let t: CType = this.struct(tag);
    let off = 0;
    for (const name of path.split(".")) {
      if (t.k !== "struct") throw new Unsupported(`${path}: ${typeName(t)} has no members`);
      const f: Field | null = this.m.structs.member(t, name);
      if (f === null) throw new Unsupported(`struct ${tag} has no member ${path}`);
      off += f.offset;
      t = f.type;
    }
    return { off, t };
  }

  /** A pointer to member `path` of the struct `tag` that `p` points to. */
  at(p: Value | undefined, tag: string, path: string): Ptr {
    const pp = this.ptr(p, `${tag}.${path}`);
    const { off, t } = this.member(tag, path);
    return { k: "ptr", t: { k: "ptr", to: t }, addr: pp.addr + BigInt(off), obj: pp.obj };
  }

  ptr(v: Value | undefined, what: string): Ptr {
    if (v === undefined || v.k !== "ptr") throw new Unsupported(`${what}: a pointer was expected`);
    return v;
  }

  /** The integer of type `t` at `p`: the access `m.read` checks, the value read in place (no copy of bytes). */
  readInt(p: Value, t: IntType): bigint {
    if (p.k !== "ptr") throw new Unsupported("reading memory through a non-pointer");
    const { obj, off } = this.m.mem.check(p.obj, p.addr, t.bits / 8, false);
    return loadInt(obj, off, t);
  }

  /** Stores `v` as an integer of `t`'s width at `p` (the access `m.write` checks), in place. */
  writeInt(p: Value, t: IntType, v: bigint): void {
    if (p.k !== "ptr") throw new Unsupported("writing memory through a non-pointer");
    const { obj, off } = this.m.mem.check(p.obj, p.addr, t.bits / 8, true);
    storeInt(obj, off, t.bits, v);
  }

  readPtr(p: Value): Ptr {
    const addr = this.readInt(p, T.ulong);
    return { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: this.m.find(addr) };
  }

  writePtr(p: Value, v: Ptr): void {
    this.writeInt(p, T.ulong, v.addr);
  }

  /** Integer member `path` of the struct `tag` at `p`. */
  getInt(p: Value, tag: string, path: string): bigint {
    const { t } = this.member(tag, path);
    if (t.k !== "int") throw new Unsupported(`struct ${tag} member ${path} is not an integer`);
    return this.readInt(this.at(p, tag, path), t);
  }

  setInt(p: Value, tag: string, path: string, v: bigint): void {
    const { t } = this.member(tag, path);
    if (t.k !== "int") throw new Unsupported(`struct ${tag} member ${path} is not an integer`);
    this.writeInt(this.at(p, tag, path), t, v);
  }

  getPtr(p: Value, tag: string, path: string): Ptr {
    return this.readPtr(this.at(p, tag, path));
  }

  /** A pointer value to byte `off` of `obj`. */
  pointer(obj: Obj, off = 0, to: CType = T.void): Ptr {
    return ptrInto(obj, off, to);
  }

  /**
   * An object standing for a structure of the hand model: struct `tag`, whose members in `served` (dotted
   * paths; an embedded structure may be served whole or member by member) are read and written through
   * their functions; every other member is an unknown naming it.
   */
  served(tag: string, label: string, served: Readonly<Record<string, Served>>): Obj {
    const t = this.struct(tag);
    const leaves = this.leaves(t, "", 0, served);
    const size = this.m.structs.sizeOf(t);
    const cover = (off: number, size: number): Leaf[] =>
      leaves.filter((l) => l.off < off + size && off < l.off + l.size);
    const unserved = (l: Leaf, write: boolean): never => {
      throw new Unsupported(
        `${write ? "a store to" : "a read of"} ${label}->${l.path}: the environment does not provide member ${l.path} of struct ${tag}`,
      );
    };
    const io: IoHooks = {
      read: (off, n) => {
        const hit = cover(off, n);
        const only = hit.length === 1 ? (hit[0] as Leaf) : null;
        if (only !== null && only.off === off && only.size === n) {
          // The whole of one member (an int or a pointer the C reads): its bytes, not copied one by one.
          const s = served[only.path];
          if (s === undefined) return unserved(only, false);
          const b = s.get();
          if (b.length >= n) return b.slice(0, n);
          const out = new Uint8Array(n);
          out.set(b);
          return out;
        }
        const out = new Uint8Array(n);
        for (const l of hit) {
          const s = served[l.path];
          if (s === undefined) return unserved(l, false);
          const b = s.get();
          for (let i = Math.max(off, l.off); i < Math.min(off + n, l.off + l.size); i++)
            out[i - off] = b[i - l.off] ?? 0;
        }
        return out;
      },
      write: (off, bytes) => {
        for (const l of cover(off, bytes.length)) {
          const s = served[l.path];
          if (s?.set === undefined) return unserved(l, true);
          const b = s.get().slice(0, l.size);
          for (let i = Math.max(off, l.off); i < Math.min(off + bytes.length, l.off + l.size); i++)
            b[i - l.off] = bytes[i - off] as number;
          s.set(b);
        }
      },
    };
    return this.m.object({ size, label, kind: "env", io });
  }

  /** Members of `t` down to the served ones (or to scalars and arrays), with their offsets. */
  private leaves(t: CType, prefix: string, base: number, served: Readonly<Record<string, Served>>): Leaf[] {
    if (t.k !== "struct") return [];
    const out: Leaf[] = [];
    for (const f of this.m.structs.get(t).fields) {
      const path = f.name === null ? prefix.replace(/\.$/, "") : `${prefix}${f.name}`;
      const off = base + f.offset;
      if (f.type.k === "struct" && (f.name === null || served[path] === undefined)) {
        const inner = this.leaves(f.type, f.name === null ? prefix : `${path}.`, off, served);
        if (inner.length > 0 || f.name === null) {
          out.push(...inner);
          continue;
        }
      }
      out.push({ path, off, size: this.m.structs.sizeOf(f.type), t: f.type });
    }
    return out;
  }

  /** An object nothing of the C may read or write (a handle the environment keeps, as struct tee_context). */
  opaque(what: string, label: string): Obj {
    const refuse = (): never => {
      throw new Unsupported(`${label} is a ${what} the environment keeps: the C may not read or write it`);
    };
    return this.m.object({ size: 8, label, kind: "env", io: { read: refuse, write: refuse } });
  }

  /** A NUL-terminated string object the environment owns (read-only for the C). */
  string(text: string, label: string): Obj {
    const bytes = new TextEncoder().encode(`${text}\u0000`);
    return this.m.object({ size: bytes.length, label, kind: "env", bytes, readonly: true });
  }
}

/**
 * Little-endian bytes of an integer of `bits` (two's complement). A served member's bytes at each read of the
 * C: an integer number of up to 32 bits is written without a bigint or a DataView.
 */
export function le(bits: 8 | 16 | 32 | 64, v: bigint | number): Uint8Array {
  if (typeof v === "number" && bits !== 64 && Number.isInteger(v))
    return smallIntBytes(bits, v % 0x1_0000_0000);
  return intBytes(bits, BigInt(v));
}

const UNSIGNED: Readonly<Record<number, IntType>> = { 1: T.uchar, 2: T.ushort, 4: T.uint, 8: T.ulong };

/** The unsigned integer little-endian `bytes` encode. */
export function unle(bytes: Uint8Array): bigint {
  const t = UNSIGNED[bytes.length];
  if (t !== undefined) return intFromBytes(bytes, t);
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i] as number);
  return v;
}
