/**
 * models kernel/kthread.c and the scheduler's preemption points: the hand model's kernel threads for an
 * interleaving search. A kernel thread is an asynchronous body (a driven operation, a work item, the
 * firmware loader's callback) that runs only when chosen and parks at every scheduling point (before taking
 * a sleeping lock, at a C yield of the interpreted drivers), or blocks until a condition holds (a lock held
 * by another thread). Exactly one thread runs between two points, so an execution is a function of the
 * choices made at them (see src/explore/kernel-interleave.ts).
 *
 * The kernel's per-thread context (the C call frames the monitors read, the spinlocks held) is saved at a
 * park and restored at the resume. lockdep's graph of lock classes (a class is a lock's name) is kept across
 * threads: taking B while holding A when B → … → A was seen is a lock-order inversion, even when no deadlock
 * followed.
 */

/** A step's footprint for an interleaving search's reduction: key → written (true) or only read (false). */
export type Footprint = Map<string, boolean>;

/** Whether two footprints conflict (a key both touch, one of them writing). */
export function conflicts(a: Footprint, b: Footprint): boolean {
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const [k, w] of small) {
    const o = big.get(k);
    if (o !== undefined && (o || w)) return true;
  }
  return false;
}

/** What the kernel saves for a parked thread (src/semantics/kernel.ts Kernel.context). */
export interface KContext {
  readonly frame: unknown;
  readonly depth: number;
  readonly spins: readonly unknown[];
}

/** A lock as lockdep sees it: its class name. */
export interface LockClass {
  readonly name: string;
}

export type KThreadState = "new" | "ready" | "blocked" | "running" | "done";

export interface KThread {
  readonly id: number;
  readonly name: string;
  state: KThreadState;
  /** Why it parked (the scheduling point), or what it waits for. */
  reason: string;
  /** A blocked thread's condition. */
  ready: (() => boolean) | null;
  /** How it ended: "done", or the error it threw. */
  ended: { ok: true } | { ok: false; error: unknown } | null;
  /** The kernel's context while parked. */
  context: KContext | null;
  /** Whether its body began (a thread created with a start condition is blocked on it until then). */
  started: boolean;
  readonly body: () => Promise<unknown>;
  resume: (() => void) | null;
}

export interface ThreadFindingOfKernel {
  /** lockdep's (raised here), or a data race on a list (raised by the interpreter's kernel environment). */
  kind: "lock-inversion" | "data-race";
  at: string;
  thread: string;
  detail: string;
  subject: string;
  /** The kernel trace step at which it was raised. */
  step: number;
  /** The posted line that raised it, when posted C did. */
  site?: { file: string; line: number };
}

export interface KThreadHost {
  context(): KContext;
  setContext(c: KContext | null): void;
  /** The kernel's current C function, for findings. */
  readonly current: string;
  /** The index of the kernel's last trace step. */
  lastStep(): number;
}

export class KThreads {
  readonly threads: KThread[] = [];
  current: KThread | null = null;
  readonly findings: ThreadFindingOfKernel[] = [];
  private parked: (() => void) | null = null;
  private nextId = 1;
  private readonly held = new Map<KThread, LockClass[]>();
  /** lockdep: class → classes taken while holding it, with the thread and function first seen. */
  private readonly after = new Map<string, Map<string, string>>();
  private readonly inversions = new Set<string>();

  constructor(private readonly host: KThreadHost) {}

  /**
   * kthread_run: a new thread, runnable, started when first chosen. With `startWhen`, it is blocked until the
   * condition holds (as a body whose first act is to wait for it, without the choice point of that wait).
   */
  spawn(
    name: string,
    body: () => Promise<unknown>,
    startWhen?: { reason: string; ready: () => boolean },
  ): KThread {
    const th: KThread = {
      id: this.nextId++,
      name,
      state: startWhen === undefined ? "new" : "blocked",
      reason: startWhen?.reason ?? "created",
      ready: startWhen?.ready ?? null,
      ended: null,
      context: null,
      started: false,
      body,
      resume: null,
    };
    this.threads.push(th);
    return th;
  }

  label(th: KThread | null): string {
    return th === null ? "env" : `t${th.id} ${th.name}`;
  }

  runnable(): KThread[] {
    return this.threads.filter(
      (t) => t.state === "new" || t.state === "ready" || (t.state === "blocked" && (t.ready?.() ?? true)),
    );
  }

  /** A scheduling point of the running thread: it parks until chosen again. Outside a thread: nothing. */
  point(reason: string): Promise<void> {
    return this.park(reason, null);
  }

  /** The running thread waits until `ready` holds (checked by the scheduler before each choice). */
  async block(reason: string, ready: () => boolean): Promise<void> {
    while (!ready()) await this.park(reason, ready);
  }

  private park(reason: string, ready: (() => boolean) | null): Promise<void> {
    const th = this.current;
    if (th === null) return Promise.resolve();
    th.state = ready === null ? "ready" : "blocked";
    th.reason = reason;
    th.ready = ready;
    th.context = this.host.context();
    return new Promise<void>((res) => {
      th.resume = res;
      this.yieldToScheduler();
    });
  }

  private yieldToScheduler(): void {
    this.current = null;
    const p = this.parked;
    this.parked = null;
    p?.();
  }

  /** Runs `th` until its next scheduling point or its end. */
  run(th: KThread): Promise<void> {
    if (this.current !== null) throw new Error(`run t${th.id} while t${this.current.id} runs`);
    return new Promise<void>((res) => {
      this.parked = res;
      this.current = th;
      const first = !th.started;
      th.started = true;
      th.state = "running";
      th.ready = null;
      this.host.setContext(th.context);
      if (first) {
        th.body().then(
          () => this.end(th, { ok: true }),
          (error: unknown) => this.end(th, { ok: false, error }),
        );
      } else {
        const r = th.resume;
        th.resume = null;
        r?.();
      }
    });
  }

  private end(th: KThread, how: { ok: true } | { ok: false; error: unknown }): void {
    th.state = "done";
    th.ended = how;
    th.reason = how.ok ? "done" : "failed";
    this.held.delete(th);
    this.yieldToScheduler();
  }

  // ---- lockdep -------------------------------------------------------------------------------------------

  /** The locks `th` holds (the lock objects themselves), in the order it took them. */
  holding(th: KThread): readonly LockClass[] {
    return this.held.get(th) ?? [];
  }

  /** The running thread took `l` (after any others it holds). */
  acquired(l: LockClass): void {
    const me = this.current;
    if (me === null) return;
    const held = this.held.get(me) ?? [];
    const at = this.host.current;
    for (const h of held) {
      if (h.name === l.name) continue;
      const back = this.path(l.name, h.name);
      if (back !== null) {
        const key = [h.name, l.name].sort().join(" / ");
        if (!this.inversions.has(key)) {
          this.inversions.add(key);
          const first = this.after.get(back[0] as string)?.get(back[1] as string) ?? "?";
          this.findings.push({
            kind: "lock-inversion",
            at,
            thread: this.label(me),
            detail: `${this.label(me)} takes ${l.name} while holding ${h.name} in ${at}; ${first} took ${back.join(" then ")} before: a possible circular locking dependency`,
            subject: key,
            step: this.host.lastStep(),
          });
        }
      }
      let out = this.after.get(h.name);
      if (out === undefined) {
        out = new Map();
        this.after.set(h.name, out);
      }
      if (!out.has(l.name)) out.set(l.name, `${this.label(me)} in ${at}`);
    }
    held.push(l);
    this.held.set(me, held);
  }

  /** The running thread released `l`. */
  released(l: LockClass): void {
    const me = this.current;
    if (me === null) return;
    const held = this.held.get(me);
    const i = held?.lastIndexOf(l) ?? -1;
    if (held !== undefined && i >= 0) held.splice(i, 1);
  }

  private path(from: string, to: string): string[] | null {
    const seen = new Set<string>([from]);
    const queue: string[][] = [[from]];
    while (queue.length > 0) {
      const p = queue.shift() as string[];
      const last = p[p.length - 1] as string;
      if (last === to) return p;
      for (const next of this.after.get(last)?.keys() ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push([...p, next]);
      }
    }
    return null;
  }
}
