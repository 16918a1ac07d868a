/**
 * What the data-race monitors on lists of both threaded environments share (threads.ts, the created
 * driver's world; kernel.ts, the kernel-thread world): where on a thread a walk or a change is in the posted
 * code, and whether a node is on the ring of a walked list. Lists are the prelude's struct list_head (next at
 * offset 0), read here without an access of the interpreter (no footprint, no fault).
 */
import type { Site } from "../ast.ts";
import type { Thread } from "../interp.ts";
import type { Memory } from "../memory.ts";

/** How far a list's ring is followed (a longer one, or one that never comes back, is not searched further). */
const RING_MAX = 100_000;

/** The posted code's innermost frame on a thread: its function and line, and the list API it called (`api`). */
export function postedFrame(th: Thread): { fn: string; site: Site | undefined; api: string } {
  const frames = th.exec.frames;
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i];
    if (f !== undefined && !f.prelude)
      return { fn: f.name, site: { file: f.file, line: f.line }, api: frames[i + 1]?.name ?? "?" };
  }
  return { fn: th.name, site: undefined, api: frames[frames.length - 1]?.name ?? "?" };
}

/** The pointer in a word of plain memory, read without an access, or null (freed, device memory, outside). */
function peekPtr(mem: Memory, addr: bigint): bigint | null {
  const o = mem.find(addr);
  if (o === null || o.freed || o.io !== null) return null;
  const off = Number(addr - o.base);
  if (off < 0 || off + 8 > o.size) return null;
  return o.view.getBigUint64(o.vo + off, true);
}

/** Whether the node at `node` is on the ring of the list whose head is at `head` (the head itself included). */
export function onListRing(mem: Memory, head: bigint, node: bigint): boolean {
  let p = head;
  for (let i = 0; i < RING_MAX; i++) {
    if (p === node) return true;
    const next = peekPtr(mem, p);
    if (next === null || next === head) return false;
    p = next;
  }
  return false;
}

/** "file:line" of a site, in parentheses after a function name, or nothing. */
export const atSite = (s: Site | undefined): string => (s === undefined ? "" : ` (${s.file}:${s.line})`);
