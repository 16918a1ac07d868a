/**
 * Object memory: every allocation (a variable, a heap block, a string literal, a function) is an object of
 * bytes at an address of its own. Memory is bytes as C sees it (little endian), so struct layouts lie over
 * buffers, memset/memcpy and casts behave as in C; a pointer is an address whose object is found again from
 * the address (addresses are never reused and objects are apart, so a pointer read back from memory keeps
 * its object, even a freed one). A pointer value also carries the object it was derived from, so arithmetic
 * that leaves the object is caught on access, not silently redirected.
 */
import type { FunctionDef } from "./ast.ts";
import type { CType, IntType, PtrType } from "./types.ts";

/** `env`: an object of the environment (a kernel structure of the hand model, device memory, a buffer it shares). */
export type ObjKind = "global" | "local" | "heap" | "literal" | "function" | "temp" | "env";

/** What a function object calls: a function of the program, or one the environment provides. */
export type Callee =
  | { readonly k: "c"; readonly def: FunctionDef }
  | { readonly k: "env"; readonly name: string };

/**
 * Memory that is not plain bytes: an object of the environment whose content lives elsewhere (a member of a
 * kernel structure the hand model keeps, device memory behind an ioremap). Every access of the C goes through
 * these; either may throw (an Unsupported or a Fault) when the environment cannot give or take the bytes.
 */
export interface IoHooks {
  /** The bytes [off, off + size) as a read sees them now. */
  read(off: number, size: number): Uint8Array;
  /** Stores bytes at off. */
  write(off: number, bytes: Uint8Array): void;
}

export interface Obj {
  readonly id: number;
  readonly base: bigint;
  readonly size: number;
  readonly bytes: Uint8Array;
  /** A view whose byte `vo` is the object's byte 0 (objects of plain memory share one per slab). */
  readonly view: DataView;
  readonly vo: number;
  readonly kind: ObjKind;
  /** What it is, for messages: a variable's name, `kzalloc(48)`, a function's name. */
  label: string;
  freed: boolean;
  /** Where it was freed (or went out of scope). */
  freedAt: string | null;
  readonly readonly: boolean;
  readonly callee: Callee | null;
  /** Accesses go to the environment instead of `bytes` (see IoHooks). */
  readonly io: IoHooks | null;
}

export type Value =
  | { readonly k: "int"; readonly t: IntType; readonly v: bigint }
  | { readonly k: "ptr"; readonly t: PtrType; readonly addr: bigint; readonly obj: Obj | null }
  /** A struct or array value: its bytes at `obj`+`off` (an lvalue's storage or a temporary copy). */
  | { readonly k: "agg"; readonly t: CType; readonly obj: Obj; readonly off: number }
  | { readonly k: "void" };

/** A memory access that C leaves undefined and the kernel would oops on: the thread stops with a fault. */
export class Fault extends Error {
  constructor(
    readonly kind: "null-deref" | "out-of-bounds" | "bad-pointer" | "div-by-zero" | "bad-call" | "read-only",
    detail: string,
  ) {
    super(detail);
  }
}

/** Events of memory a monitor may want (the kernel model turns a use after free into a finding). */
export type MemEvent =
  | { readonly type: "use-after-free"; readonly obj: Obj; readonly write: boolean }
  | { readonly type: "free"; readonly obj: Obj; readonly already: boolean };

/** First address handed out: in the kernel's linear map, far from NULL and from ERR_PTR values. */
const FIRST = 0xffff_8880_0000_1000n;
const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);
/** Gap after each object, so one-past-the-end of an object is never the start of the next. */
const GAP = 16;
/**
 * Small objects' bytes are carved from slabs of this size (never reused, so zero-filled as allocated): one
 * buffer and one DataView per slab, not per object. A typed array of its own per local costs a buffer and a
 * view each (most objects are locals of a few bytes).
 */
const SLAB = 64 * 1024;
/** Objects larger than this have a buffer of their own. */
const SLAB_MAX = 1024;

export class Memory {
  private readonly objs: Obj[] = [];
  /**
   * Each object's first and one-past-last address as offsets from FIRST, parallel to `objs`: every address
   * from FIRST up is below FIRST + 2^53, so these are exact numbers, and `find` compares numbers, not bigints.
   */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  /** The next object's address, as an offset from FIRST (a number: exact below 2^53, see `starts`). */
  private next = 0;
  private nextId = 1;
  private slab: ArrayBuffer | null = null;
  private slabView: DataView | null = null;
  private slabUsed = SLAB;
  observer: ((e: MemEvent) => void) | null = null;
  /**
   * Called on every checked access with the object and whether it writes: the interleaving explorer's
   * footprint of a step (which objects it read and wrote), so independent steps are not permuted.
   */
  onAccess: ((obj: Obj, write: boolean) => void) | null = null;

  /** A new object of `size` bytes, zero-filled (as kzalloc and static storage; C leaves locals undefined). */
  alloc(
    size: number,
    kind: ObjKind,
    label: string,
    opts: { readonly?: boolean; callee?: Callee; bytes?: Uint8Array; io?: IoHooks } = {},
  ): Obj {
    const start = this.next;
    const base = FIRST + BigInt(start);
    let bytes: Uint8Array;
    let view: DataView;
    let vo = 0;
    if (opts.bytes !== undefined) {
      bytes = opts.bytes;
      if (bytes.length !== Math.max(size, 0))
        throw new Error(`an object of ${size} bytes over a buffer of ${bytes.length}`);
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } else if (opts.io !== undefined) {
      // An object behind hooks has no bytes of its own.
      bytes = EMPTY;
      view = EMPTY_VIEW;
    } else if (size <= SLAB_MAX) {
      const n = Math.max(size, 0);
      if (this.slabUsed + n > SLAB || this.slab === null || this.slabView === null) {
        this.slab = new ArrayBuffer(SLAB);
        this.slabView = new DataView(this.slab);
        this.slabUsed = 0;
      }
      vo = this.slabUsed;
      bytes = new Uint8Array(this.slab, vo, n);
      view = this.slabView;
      // 8-byte aligned within the slab, as the objects' addresses are (alignment of DataView access does
      // not matter for correctness; this keeps objects apart).
      this.slabUsed = (vo + n + 7) & ~7;
    } else {
      bytes = new Uint8Array(size);
      view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const obj: Obj = {
      id: this.nextId++,
      base,
      size,
      bytes,
      view,
      vo,
      kind,
      label,
      freed: false,
      freedAt: null,
      readonly: opts.readonly ?? false,
      callee: opts.callee ?? null,
      io: opts.io ?? null,
    };
    // The end, a gap, aligned to 16 (FIRST is aligned).
    this.next = Math.floor((start + Math.max(size, 1) + GAP + 15) / 16) * 16;
    this.objs.push(obj);
    this.starts.push(start);
    this.ends.push(start + size);
    return obj;
  }

  /** Marks an object freed; freeing it again is an event, not an exception (the monitor judges). */
  free(obj: Obj, at: string): void {
    const already = obj.freed;
    if (!already) {
      obj.freed = true;
      obj.freedAt = at;
    }
    this.observer?.({ type: "free", obj, already });
  }

  /** The object whose bytes (or one-past-the-end) hold `addr`, or null. */
  find(addr: bigint): Obj | null {
    if (addr < FIRST) return null;
    const a = Number(addr - FIRST);
    const starts = this.starts;
    const ends = this.ends;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a < (starts[mid] as number)) hi = mid - 1;
      else if (a > (ends[mid] as number)) lo = mid + 1;
      else return this.objs[mid] as Obj;
    }
    return null;
  }

  /** Objects allocated so far (freed ones included), oldest first. */
  all(): readonly Obj[] {
    return this.objs;
  }

  /** Checks an access of `size` bytes at `addr` through a pointer derived from `obj`; returns the offset. */
  check(obj: Obj | null, addr: bigint, size: number, write: boolean): { obj: Obj; off: number } {
    const o = this.target(obj, addr, write);
    return { obj: o, off: this.offset(o, addr, size, write) };
  }

  /** The object an access through a pointer derived from `obj` reaches: `obj`, or the one found at `addr`. */
  target(obj: Obj | null, addr: bigint, write: boolean): Obj {
    if (obj !== null) return obj;
    if (addr < 4096n)
      throw new Fault(
        "null-deref",
        `${write ? "write to" : "read of"} address 0x${addr.toString(16)} (NULL)`,
      );
    const found = this.find(addr);
    if (found === null)
      throw new Fault(
        "bad-pointer",
        `${write ? "write to" : "read of"} unmapped address 0x${addr.toString(16)}`,
      );
    return found;
  }

  /** `check` once the object is known (`target`): bounds, a use after free, the footprint, read-only. */
  offset(obj: Obj, addr: bigint, size: number, write: boolean): number {
    const off = Number(addr - obj.base);
    if (off < 0 || off + size > obj.size) {
      throw new Fault(
        "out-of-bounds",
        `${write ? "write" : "read"} of ${size} bytes at offset ${off} of ${obj.label} (${obj.size} bytes)`,
      );
    }
    if (obj.freed) this.observer?.({ type: "use-after-free", obj, write });
    this.onAccess?.(obj, write);
    if (write && obj.readonly) throw new Fault("read-only", `write to read-only ${obj.label}`);
    return off;
  }
}

/** The bytes [off, off + size) of `obj` (bounds already checked), through its hooks when it has them. */
export function readBytes(obj: Obj, off: number, size: number): Uint8Array {
  return obj.io === null ? obj.bytes.slice(off, off + size) : obj.io.read(off, size);
}

/** Stores bytes at `off` of `obj` (bounds already checked), through its hooks when it has them. */
export function writeBytes(obj: Obj, off: number, bytes: Uint8Array): void {
  if (obj.io === null) obj.bytes.set(bytes, off);
  else obj.io.write(off, bytes);
}

/** Reads an integer of type `t` at `off` of `obj` (bounds already checked). */
export function loadInt(obj: Obj, off: number, t: IntType): bigint {
  if (obj.io === null) return intFrom(obj.view, obj.vo + off, t);
  return intFromBytes(obj.io.read(off, t.bits / 8), t);
}

/** Writes `v` (already in `t`'s range) as an integer of `t`'s width at `off` of `obj`. */
export function storeInt(obj: Obj, off: number, bits: 8 | 16 | 32 | 64, v: bigint): void {
  if (obj.io === null) {
    intTo(obj.view, obj.vo + off, bits, v);
    return;
  }
  obj.io.write(off, intBytes(bits, v));
}

/**
 * Decodes the little-endian integer of type `t` in the first bytes of `b` (what a hook gave), without a
 * DataView: one over a small array makes V8 give the array a buffer of its own, which costs more than this.
 */
export function intFromBytes(b: Uint8Array, t: IntType): bigint {
  if (b.length < t.bits / 8) throw new RangeError(`${b.length} bytes for a ${t.bits}-bit integer`);
  const b0 = b[0] as number;
  switch (t.bits) {
    case 8:
      return BigInt(t.signed ? (b0 << 24) >> 24 : b0);
    case 16: {
      const u = b0 | ((b[1] as number) << 8);
      return BigInt(t.signed ? (u << 16) >> 16 : u);
    }
    case 32: {
      const u = (b0 | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
      return BigInt(t.signed ? u | 0 : u);
    }
    case 64: {
      const lo = (b0 | ((b[1] as number) << 8) | ((b[2] as number) << 16) | ((b[3] as number) << 24)) >>> 0;
      const hi =
        ((b[4] as number) | ((b[5] as number) << 8) | ((b[6] as number) << 16) | ((b[7] as number) << 24)) >>>
        0;
      const u = (BigInt(hi) << 32n) | BigInt(lo);
      return t.signed ? BigInt.asIntN(64, u) : u;
    }
  }
}

/** The little-endian bytes of `v` at `bits` (two's complement), without a DataView (see intFromBytes). */
export function intBytes(bits: 8 | 16 | 32 | 64, v: bigint): Uint8Array {
  const b = new Uint8Array(bits / 8);
  if (bits === 64) {
    const u = BigInt.asUintN(64, v);
    const lo = Number(u & 0xffff_ffffn);
    const hi = Number(u >> 32n);
    b[0] = lo;
    b[1] = lo >>> 8;
    b[2] = lo >>> 16;
    b[3] = lo >>> 24;
    b[4] = hi;
    b[5] = hi >>> 8;
    b[6] = hi >>> 16;
    b[7] = hi >>> 24;
    return b;
  }
  return smallIntBytes(bits, Number(BigInt.asUintN(bits, v)));
}

/**
 * The little-endian bytes of the integer `n` at `bits` of at most 32: each element keeps its value modulo 256
 * and `>>>` reads `n` as 32 bits, so a negative `n` gives two's complement, as BigInt.asUintN would.
 */
export function smallIntBytes(bits: 8 | 16 | 32, n: number): Uint8Array {
  const b = new Uint8Array(bits / 8);
  b[0] = n;
  if (bits >= 16) b[1] = n >>> 8;
  if (bits === 32) {
    b[2] = n >>> 16;
    b[3] = n >>> 24;
  }
  return b;
}

/** Decodes a little-endian integer of type `t`. */
export function intFrom(d: DataView, off: number, t: IntType): bigint {
  switch (t.bits) {
    case 8:
      return BigInt(t.signed ? d.getInt8(off) : d.getUint8(off));
    case 16:
      return BigInt(t.signed ? d.getInt16(off, true) : d.getUint16(off, true));
    case 32:
      return BigInt(t.signed ? d.getInt32(off, true) : d.getUint32(off, true));
    case 64:
      return t.signed ? d.getBigInt64(off, true) : d.getBigUint64(off, true);
  }
}

/** Encodes `v` as a little-endian integer of `bits`. */
export function intTo(d: DataView, off: number, bits: 8 | 16 | 32 | 64, v: bigint): void {
  switch (bits) {
    case 8:
      d.setUint8(off, Number(BigInt.asUintN(8, v)));
      return;
    case 16:
      d.setUint16(off, Number(BigInt.asUintN(16, v)), true);
      return;
    case 32:
      d.setUint32(off, Number(BigInt.asUintN(32, v)), true);
      return;
    case 64:
      d.setBigUint64(off, BigInt.asUintN(64, v), true);
      return;
  }
}
