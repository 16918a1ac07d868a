/**
 * A canonical digest of the interpreter's memory between two events: what the posted C keeps (its globals,
 * its live heap blocks, and whatever dead object they still point to) with every pointer written as the
 * object it points into and the offset, so that two runs that reach the same C state by different histories
 * (other addresses, other locals allocated on the way) digest alike, and two whose C state differs do not.
 *
 * Objects are named canonically: a global, function or literal by its label and its rank among objects of the
 * same label (all are allocated when the program is instantiated, in the same order in every run); a live heap
 * block by its rank among the live heap blocks, oldest first (as the model's state lists its live objects);
 * an environment object (a hand-model structure served to the C) by its label and its rank among the live
 * ones of that label; a dead object (freed, or a local out of scope) by its label, where it died and the order
 * in which the walk first meets it, and its bytes are digested too (a use after free reads them).
 *
 * A word is taken for a pointer when it is 8-byte aligned in its object and its value is an address of an
 * object; a pointer stored unaligned stays raw bytes, which only tells apart states that may be alike (sound:
 * an explorer then merges less). An integer that happens to equal an object's address is the one case that
 * could merge two states that differ; the kernel addresses here (from 0xffff888000001000) are not values a
 * driver computes otherwise.
 */
import type { Memory, Obj } from "./memory.ts";

const hex = (b: Uint8Array, from: number, to: number): string => {
  let s = "";
  for (let i = from; i < to; i++) s += ((b[i] as number) + 0x100).toString(16).slice(1);
  return s;
};

/** The digest of `mem`'s C state (see the module comment). */
export function memoryDigest(mem: Memory): string {
  const objs = mem.all();
  const names = new Map<Obj, string>();
  const rank = new Map<string, number>();
  const roots: Obj[] = [];
  let heap = 0;
  for (const o of objs) {
    if (o.kind === "heap") {
      if (o.freed) continue;
      names.set(o, `h${heap++}`);
      roots.push(o);
    } else if (o.kind === "global" || o.kind === "function" || o.kind === "literal") {
      const key = `${o.kind} ${o.label}`;
      const n = rank.get(key) ?? 0;
      rank.set(key, n + 1);
      names.set(o, `${key}#${n}`);
      if (o.kind === "global" && !o.readonly) roots.push(o);
    } else if (o.kind === "env" && !o.freed) {
      const key = `env ${o.label}`;
      const n = rank.get(key) ?? 0;
      rank.set(key, n + 1);
      names.set(o, `${key}#${n}`);
    }
  }
  const out: string[] = [];
  let dead = 0;
  const nameOf = (o: Obj): string => {
    let n = names.get(o);
    if (n === undefined) {
      // A dead object (or an environment object freed with its kernel object): named in walk order, and
      // digested after the roots.
      n = `d${dead++} ${o.kind} ${o.label} @${o.freedAt ?? ""}`;
      names.set(o, n);
      if (o.io === null) roots.push(o);
    }
    return n;
  };
  for (let r = 0; r < roots.length; r++) {
    const o = roots[r] as Obj;
    const name = nameOf(o);
    if (o.io !== null) {
      out.push(`${name}:io`);
      continue;
    }
    const b = o.bytes;
    const parts: string[] = [];
    let raw = 0;
    const whole = o.size - (o.size % 8);
    for (let off = 0; off < whole; off += 8) {
      const v = o.view.getBigUint64(o.vo + off, true);
      const to = v === 0n ? null : mem.find(v);
      if (to === null) continue;
      if (raw < off) parts.push(hex(b, raw, off));
      parts.push(`[${nameOf(to)}+${Number(v - to.base)}]`);
      raw = off + 8;
    }
    if (raw < o.size) parts.push(hex(b, raw, o.size));
    out.push(`${name}${o.freed ? "(freed)" : ""}=${parts.join("")}`);
  }
  return out.join(";");
}
