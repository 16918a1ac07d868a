/**
 * What the data-race monitors on lists of both threaded environments share (threads.ts, the created
 * driver's world; kernel.ts, the kernel-thread world): where on a thread a walk or a change is in the posted
 * code, and whether a node is on the ring of a walked list. Lists are the prelude's struct list_head (next at
 * offset 0), read here without an access of the interpreter (no footprint, no fault).
 */
import type { Site } from "../ast.ts";
import type { Thread } from "../interp.ts";
import type { Memory, Value } from "../memory.ts";

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

/** A walk of a list by the posted C in progress (list_for_each* from its start to the end of its scope). */
export interface ListWalk<L> {
  /** The interpreter's thread the walk runs on. */
  readonly th: Thread;
  /** The address of the walked list's head, and the iterator's head expression (`&fx_entries`). */
  readonly head: bigint;
  readonly text: string;
  /** The locks the walker held when the walk began. */
  readonly locks: readonly L[];
  /** The posted code's function and line of the walk. */
  readonly fn: string;
  readonly site: Site | undefined;
}

/** A walk a list change races with, and the locks its walker let go since the walk began. */
export interface Racing<W, L> {
  readonly walk: W;
  readonly dropped: readonly L[];
}

/**
 * The walks in progress of an environment and the lockset test of a change against them (Eraser's lockset on
 * list heads): a change of a list one of `nodes` is on races with a walk of it by another live walker when no
 * lock the walker has kept since its walk began is held by the changer. Each environment says who walks
 * (`other`), what a walker holds now (`holding`) and when two locks are one (`same`).
 */
export class ListWalks<L, W extends ListWalk<L>> {
  private readonly active: W[] = [];

  /** Records `w` until the returned end is called (the iterator's scope ends). */
  begin(w: W): () => void {
    this.active.push(w);
    return () => {
      const i = this.active.indexOf(w);
      if (i >= 0) this.active.splice(i, 1);
    };
  }

  get empty(): boolean {
    return this.active.length === 0;
  }

  /** The walks the change of `nodes` by a changer holding `mine` races with. */
  racing(
    mem: Memory,
    nodes: readonly Value[],
    mine: readonly L[],
    env: {
      other: (w: W) => boolean;
      holding: (w: W) => readonly L[];
      same: (a: L, b: L) => boolean;
    },
  ): Racing<W, L>[] {
    const out: Racing<W, L>[] = [];
    for (const w of this.active) {
      if (!env.other(w)) continue;
      // A lock the walker let go inside its walk (to sleep) protects nothing of the walk.
      const now = env.holding(w);
      const kept = w.locks.filter((l) => now.includes(l));
      if (kept.some((l) => mine.some((m) => env.same(m, l)))) continue;
      if (!nodes.some((n) => n.k === "ptr" && onListRing(mem, w.head, n.addr))) continue;
      out.push({ walk: w, dropped: w.locks.filter((l) => !kept.includes(l)) });
    }
    return out;
  }
}
