/**
 * The kernel runtime every modelled C function runs on: one Kernel per scenario run. It records the trace
 * (TraceStep[] for the matrix, plus richer events for monitors), an object registry with lifetimes (alloc,
 * use, free, devm ownership), locks with holder tracking, might-sleep points, WARN_ON, errno constants, and a
 * call/return helper. Monitors subscribe to the event bus; nothing here asserts: misuse is an event.
 */
import type { EmulatorEvent, Platform } from "../emulator/api.ts";
import { forkGraph, markLog, rebuildable } from "../fork.ts";
import { detailBehaviour, type TraceLayer, type TraceStep } from "../scenarios/result.ts";
import type { DesignFacts } from "./facts.ts";
import type { Footprint, KContext, KThread, KThreads } from "./kthread.ts";
import { MAINLINE } from "./versions.ts";

/** Kernel errno values (include/uapi/asm-generic/errno-base.h, include/linux/errno.h). */
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const ENOMEM = 12;
export const EBUSY = 16;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSYS = 38;
export const ETIMEDOUT = 110;
export const EPROBE_DEFER = 517;

const ERRNO_NAMES: Record<number, string> = {
  [ENOENT]: "ENOENT",
  [EINTR]: "EINTR",
  [EIO]: "EIO",
  [ENOMEM]: "ENOMEM",
  [EBUSY]: "EBUSY",
  [ENODEV]: "ENODEV",
  [EINVAL]: "EINVAL",
  [ENOSYS]: "ENOSYS",
  [ETIMEDOUT]: "ETIMEDOUT",
  [EPROBE_DEFER]: "EPROBE_DEFER",
};

/** "-EINVAL" for -22, "0" for 0, the number otherwise. */
export function errnoName(ret: number): string {
  if (ret === 0) return "0";
  const name = ret < 0 ? ERRNO_NAMES[-ret] : undefined;
  return name === undefined ? String(ret) : `-${name}`;
}

/** Kinds of kernel objects whose lifetime monitors track. */
export type ObjKind =
  | "firmware"
  | "cached_table"
  | "clean_table"
  | "carveout"
  | "rvdev"
  | "shm"
  | "tee_session"
  | "tee_context"
  | "trproc"
  | "device_link"
  | "rproc"
  | "mapping"
  | "trace"
  | "mem";

/** A kernel object with a lifetime. `data` carries the modelled content (e.g. the firmware bytes). */
export interface KObj<T = unknown> {
  readonly id: number;
  readonly kind: ObjKind;
  readonly label: string;
  data: T;
  freed: boolean;
  /** C function that freed it. */
  freedAt: string | null;
  /** Device whose driver owns it (devm): freed on unbind, in reverse order of allocation. */
  owner: DevmOwner | null;
  /** The step at which it was allocated. */
  allocStep: number;
}

/** Anything that can own devm resources (a device of the driver core). */
export interface DevmOwner {
  readonly name: string;
}

/** Internal events: richer than the trace, each tied to the trace step it produced. */
export type KEvent =
  | { type: "call"; step: number; layer: TraceLayer; fn: string; depth: number; frame: Frame }
  | { type: "return"; step: number; layer: TraceLayer; fn: string; ret: number | undefined; frame: Frame }
  | { type: "alloc"; step: number; obj: KObj; at: string }
  | { type: "free"; step: number; obj: KObj; at: string; already: boolean }
  | { type: "use"; step: number; obj: KObj; at: string; what: string }
  | { type: "lock"; step: number; lock: LockBase; at: string }
  | { type: "unlock"; step: number; lock: LockBase; at: string }
  | { type: "sleep"; step: number; fn: string; at: string; spinlocks: string[] }
  | { type: "warn"; step: number; at: string; detail: string }
  | { type: "state"; step: number; at: string; from: string; to: string; subject: string }
  | { type: "note"; step: number; layer: TraceLayer; fn: string; event: string; detail: string }
  | { type: "rsc-table-copy"; step: number; at: string; pa: number; size: number }
  | { type: "leak-check"; step: number; live: KObj[] }
  | { type: "driven"; step: number; op: string; ret: number; phase: "begin" | "end" }
  | { type: "emu"; step: number; e: EmulatorEvent };

/** A call frame: monitors read the returns of a frame's direct callees (error-swallowed). */
export interface Frame {
  readonly layer: TraceLayer;
  readonly fn: string;
  readonly parent: Frame | null;
  /** Direct callees that failed: their C name and return (negative errno or a TEE result). */
  readonly failedCallees: { fn: string; ret: number }[];
  /** Callees whose failure this function ignores by design in C (documented per call site). */
  readonly ignores: ReadonlySet<string>;
}

export interface CallOptions {
  /** Detail shown in the trace call step. */
  detail?: string;
  /**
   * Callees whose failure the C function ignores on purpose (not an error-swallowed finding). A set is the
   * frame's as it is (a caller keeping its options per function, as the interpreted C's, makes it once).
   */
  ignores?: readonly string[] | ReadonlySet<string>;
}

const NO_IGNORES: ReadonlySet<string> = new Set();

export type Observer = (e: KEvent, k: Kernel) => void;

/** Base of both lock kinds: a name and the current holder (a C function), null when free. */
export abstract class LockBase {
  holder: string | null = null;
  /** The kernel thread holding it, when the kernel runs threads (Kernel.threads). */
  thread: KThread | null = null;
  abstract readonly kind: "mutex" | "spinlock";
  constructor(
    protected readonly k: Kernel,
    readonly name: string,
  ) {}
  get held(): boolean {
    return this.holder !== null;
  }
  protected take(at: string): void {
    if (this.holder !== null) {
      this.k.WARN_ON(true, at, `${this.kind} ${this.name} taken again while held by ${this.holder}`);
    }
    this.holder = at;
    this.thread = this.k.threads?.current ?? null;
    this.k.threads?.acquired(this);
    this.k.emit({
      type: "lock",
      step: this.k.step("core", at, "lock", `${this.kind} ${this.name}`),
      lock: this,
      at,
    });
  }
  unlock(at: string): void {
    if (this.holder === null) this.k.WARN_ON(true, at, `${this.kind} ${this.name} unlocked while not held`);
    this.holder = null;
    this.thread = null;
    this.k.threads?.released(this);
    if (this.kind === "spinlock") this.k.spinlocksHeld.delete(this as LockBase as SpinLock);
    this.k.emit({
      type: "unlock",
      step: this.k.step("core", at, "unlock", `${this.kind} ${this.name}`),
      lock: this,
      at,
    });
  }
}

/** struct mutex: taking it may sleep. */
export class Mutex extends LockBase {
  readonly kind = "mutex";
  /** Fault injection: the next mutex_lock_interruptible is interrupted by a signal. */
  interruptNext = false;
  /** models kernel/locking/mutex.c: mutex_lock() */
  mutex_lock(at: string): void {
    this.k.mightSleep("mutex_lock", at);
    this.take(at);
  }
  /** models kernel/locking/mutex.c: mutex_lock_interruptible(); -EINTR on a pending signal */
  mutex_lock_interruptible(at: string): number {
    this.k.mightSleep("mutex_lock_interruptible", at);
    if (this.interruptNext) {
      this.interruptNext = false;
      return -EINTR;
    }
    this.take(at);
    return 0;
  }
}

/** spinlock_t: while held, nothing may sleep. */
export class SpinLock extends LockBase {
  readonly kind = "spinlock";
  /** models include/linux/spinlock.h: spin_lock() */
  spin_lock(at: string): void {
    this.take(at);
    this.k.spinlocksHeld.add(this);
  }
}

/** Mutable counter, as atomic_t. */
export class Atomic {
  constructor(public value = 0) {}
  inc_return(): number {
    this.value += 1;
    return this.value;
  }
  dec_and_test(): boolean {
    this.value -= 1;
    return this.value === 0;
  }
  inc(): void {
    this.value += 1;
  }
  dec(): void {
    this.value -= 1;
  }
  read(): number {
    return this.value;
  }
}

/** A devres entry: a devm-allocated object (freed on release) or a devm action (named, run on release). */
type Devres = { owner: DevmOwner; obj: KObj } | { owner: DevmOwner; action: string; release: () => void };

/**
 * Thrown at the first step a run takes off the trace it was told to follow (Kernel.expected); the step is
 * Kernel.diverged. One instance, thrown again and again: an Error's stack is costly and says nothing here.
 */
export class TraceDiverged extends Error {
  static readonly instance = new TraceDiverged();
  private constructor() {
    super("the run left the expected trace");
    this.name = "TraceDiverged";
  }
}

/** One scenario run's kernel. */
export class Kernel {
  /**
   * A trace this run is expected to follow, or null: the first step that differs from it (and every step
   * after) throws TraceDiverged, so a run whose only purpose is to be compared with a known one stops where
   * it parts from it. `diverged` is that step, or -1.
   */
  expected: readonly TraceStep[] | null = null;
  diverged = -1;
  /** The design facts of the run (a trackFactReads proxy during a scenario): behaviour reads only these. */
  facts: DesignFacts;
  private readonly devres: Devres[] = [];
  private readonly work: { key: object; name: string; run: () => Promise<void> }[] = [];
  /** Work items queued on a worker thread that has not started yet (with Kernel.threads). */
  private readonly pendingWork = new Set<object>();
  readonly trace: TraceStep[] = markLog([]);
  /** Every event, in order (a log: a fork shares its entries, which may then name the original's objects). */
  readonly events: KEvent[] = markLog([]);
  /**
   * Whether `events` keeps the events (observers see them either way). An explorer turns it off: its worlds
   * live on in forks, and a kept event holds on to the objects of every world before it.
   */
  keepEvents = true;
  /** Per-kernel static data of modelled modules (a module's globals), by module name. */
  readonly modules = new Map<string, unknown>();
  readonly objects: KObj[] = [];
  readonly spinlocksHeld = new Set<SpinLock>();
  private readonly observers: Observer[] = [];
  private nextId = 1;
  private frame: Frame | null = null;
  private depth = 0;

  /**
   * The kernel threads of an interleaving search (src/semantics/kthread.ts), or null: a scenario's operations
   * then run one after the other and queued work at the end of each (flushWork).
   */
  threads: KThreads | null = null;

  /**
   * The footprint of the kernel thread's step being run (set by the interleaving search), or null: what the
   * step read and wrote of the state threads share (locks, kernel objects, the rproc, device bindings, queued
   * work, the interpreted C's memory, and one key for the rest of the model: the emulator, logs of state).
   */
  get footprint(): Footprint | null {
    return this.fp;
  }

  set footprint(f: Footprint | null) {
    const was = this.fp !== null;
    this.fp = f;
    if (was !== (f !== null)) for (const l of this.footprintWatchers) l(f !== null);
  }

  private fp: Footprint | null = null;
  private readonly footprintWatchers: ((on: boolean) => void)[] = [];

  /**
   * Calls `l` whenever a footprint starts or stops being kept (an interpreter then watches its memory
   * accesses only while one is: a check per access of every run was the rest of the time's cost).
   */
  watchFootprint(l: (on: boolean) => void): void {
    this.footprintWatchers.push(l);
  }

  constructor(facts: DesignFacts = MAINLINE) {
    this.facts = facts;
  }

  /** The running thread's context (its C call frames and the spinlocks it holds), saved when it parks. */
  context(): KContext {
    return { frame: this.frame, depth: this.depth, spins: [...this.spinlocksHeld] };
  }

  /** Restores a thread's context when it resumes (null: a new thread, no frame, no lock). */
  setContext(c: KContext | null): void {
    this.frame = (c?.frame ?? null) as Frame | null;
    this.depth = c?.depth ?? 0;
    this.spinlocksHeld.clear();
    for (const s of c?.spins ?? []) this.spinlocksHeld.add(s as SpinLock);
  }

  lastStep(): number {
    return this.trace.length - 1;
  }

  /** A scheduling point of the running kernel thread (queueing work, a sleeping call); nothing without threads. */
  point(reason: string): Promise<void> {
    return this.threads?.point(reason) ?? Promise.resolve();
  }

  /**
   * The scheduling point before a sleeping lock is taken (mutex_lock and friends), when the kernel runs
   * threads: the thread parks, then waits while another thread holds `l`. Without threads: nothing.
   */
  async lockWait(l: LockBase, fn: string): Promise<void> {
    const t = this.threads;
    if (t === null || t.current === null) return;
    await t.point(`${fn}(${l.name})`);
    this.touch(`lock ${l.name}`, false);
    const me = t.current;
    await t.block(`${fn}(${l.name}) held by ${l.holder ?? "?"}`, () => !l.held || l.thread === me);
  }

  /** Subscribes an observer to every event; returns the unsubscribe function. */
  subscribe(o: Observer): () => void {
    this.observers.push(o);
    return () => {
      const i = this.observers.indexOf(o);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  /** Records that the running step read (or wrote) `key` of the shared state; nothing outside a search. */
  touch(key: string, write: boolean): void {
    const f = this.footprint;
    if (f === null) return;
    if (write) f.set(key, true);
    else if (!f.has(key)) f.set(key, false);
  }

  /**
   * `o` as the interleaving search sees it: in a search, a proxy recording every read and write of its
   * members as `key` (a member holding an object counts as written, the caller may change it; members in
   * `untracked` are immutable or tracked on their own, as a lock); outside a search, `o` itself.
   */
  shared<T extends object>(o: T, key: string, untracked: readonly string[] = []): T {
    if (this.threads === null) return o;
    const skip = new Set<PropertyKey>(untracked);
    return new Proxy(o, {
      get: (target, prop, receiver) => {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (!skip.has(prop)) this.touch(key, typeof v === "object" && v !== null);
        return v;
      },
      set: (target, prop, value, receiver) => {
        this.touch(key, true);
        return Reflect.set(target, prop, value, receiver);
      },
    });
  }

  emit(e: KEvent): void {
    if (this.footprint !== null) this.touchEvent(e);
    if (this.keepEvents) this.events.push(e);
    for (const o of this.observers) o(e, this);
  }

  /** What an event says a step touched (calls and returns touch the thread's own frames only). */
  private touchEvent(e: KEvent): void {
    switch (e.type) {
      case "call":
      case "return":
      case "driven":
      case "note":
        // The thread's own frames and log lines: nothing another thread reads.
        return;
      case "sleep":
        // The spinlocks held are the thread's own context; the sleep itself touches nothing shared.
        return;
      case "alloc":
      case "free":
      case "use":
        this.touch(`obj ${e.obj.id}`, true);
        return;
      case "lock":
      case "unlock":
        this.touch(`lock ${e.lock.name}`, true);
        return;
      case "emu":
        this.touch("emulator", true);
        return;
      default:
        this.touch("model", true);
    }
  }

  /** Appends a trace step and returns its index. */
  step(layer: TraceLayer, fn: string, event: string, detail: string): number {
    const at = this.trace.length;
    this.trace.push({ layer, fn, event, detail });
    if (this.expected !== null) {
      const e = this.expected[at];
      if (
        this.diverged >= 0 ||
        e === undefined ||
        e.layer !== layer ||
        e.fn !== fn ||
        e.event !== event ||
        (e.detail !== detail && detailBehaviour(e.detail) !== detailBehaviour(detail))
      ) {
        if (this.diverged < 0) this.diverged = at;
        throw TraceDiverged.instance;
      }
    }
    return at;
  }

  /** The current C function (innermost frame), or "?" outside any call. */
  get current(): string {
    return this.frame?.fn ?? "?";
  }

  /** A trace line without a semantic event (log messages, decisions). */
  note(layer: TraceLayer, fn: string, event: string, detail: string): void {
    this.emit({ type: "note", step: this.step(layer, fn, event, detail), layer, fn, event, detail });
  }

  /**
   * Runs `body` as the C function `fn` of `layer`: records call and return (with the return value), keeps
   * the frame stack for monitors. A negative return (or, for TEE invokes, a non-zero result) counts as a
   * failure reported to the caller's frame.
   */
  async call<T extends number | undefined>(
    layer: TraceLayer,
    fn: string,
    body: () => Promise<T> | T,
    opts?: CallOptions,
  ): Promise<T> {
    const frame = this.enter(layer, fn, opts);
    let ret: T;
    try {
      ret = await body();
    } catch (e) {
      this.frame = frame.parent;
      this.depth -= 1;
      throw e;
    }
    this.leave(frame, ret);
    return ret;
  }

  /**
   * The first half of call(), for a caller whose C function does not run as one callback (the interpreter
   * runs the posted C on its own threads): records the call and makes `fn` the current frame.
   */
  enter(layer: TraceLayer, fn: string, opts?: CallOptions): Frame {
    const ignores = opts?.ignores;
    const frame: Frame = {
      layer,
      fn,
      parent: this.frame,
      failedCallees: [],
      ignores: ignores === undefined ? NO_IGNORES : ignores instanceof Set ? ignores : new Set(ignores),
    };
    this.emit({
      type: "call",
      step: this.step(layer, fn, "call", opts?.detail ?? ""),
      layer,
      fn,
      depth: this.depth,
      frame,
    });
    this.frame = frame;
    this.depth += 1;
    return frame;
  }

  /** The second half of call(): `frame` (the current one) returns `ret`. */
  leave(frame: Frame, ret: number | undefined): void {
    if (this.frame !== frame) throw new Error(`${frame.fn} returns while ${this.current} runs`);
    this.frame = frame.parent;
    this.depth -= 1;
    const shown = ret === undefined ? "void" : errnoName(ret);
    const layer = frame.layer;
    const fn = frame.fn;
    this.emit({ type: "return", step: this.step(layer, fn, "return", shown), layer, fn, ret, frame });
    if (ret !== undefined && ret < 0 && frame.parent !== null) frame.parent.failedCallees.push({ fn, ret });
  }

  /** Records that the current function saw a failure from a non-modelled callee (e.g. a TEE result). */
  reportFailure(fn: string, ret: number): void {
    this.frame?.failedCallees.push({ fn, ret });
  }

  /** Allocates an object with a lifetime; `owner` makes it devm-managed. */
  alloc<T>(kind: ObjKind, label: string, data: T, at: string, owner: DevmOwner | null = null): KObj<T> {
    const step = this.step("core", at, "alloc", `${kind} ${label}`);
    const obj: KObj<T> = {
      id: this.nextId++,
      kind,
      label,
      data,
      freed: false,
      freedAt: null,
      owner,
      allocStep: step,
    };
    this.objects.push(obj);
    if (owner !== null) {
      this.touch("devres", true);
      this.devres.push({ owner, obj });
    }
    this.emit({ type: "alloc", step, obj, at });
    return obj;
  }

  /** Frees an object; a second free is an event (double-free), never an exception. */
  free(obj: KObj, at: string): void {
    const already = obj.freed;
    const step = this.step(
      "core",
      at,
      "free",
      `${obj.kind} ${obj.label}${already ? " (already freed)" : ""}`,
    );
    if (!already) {
      obj.freed = true;
      obj.freedAt = at;
    }
    this.emit({ type: "free", step, obj, at, already });
  }

  /** Records a use (read, write, call through) of an object; a use after free is an event. */
  use(obj: KObj, at: string, what = "use"): void {
    if (obj.freed) {
      const step = this.step("core", at, "use", `${what} of freed ${obj.kind} ${obj.label}`);
      this.emit({ type: "use", step, obj, at, what });
    } else {
      this.emit({ type: "use", step: this.trace.length - 1, obj, at, what });
    }
  }

  /** devm_add_action: `release` runs when the owner's driver unbinds (reverse order with devm objects). */
  devm_add_action(owner: DevmOwner, name: string, release: () => void): void {
    this.touch("devres", true);
    this.devres.push({ owner, action: name, release });
  }

  /** Releases every devres entry of `owner`, newest first (devres_release_all after remove or failed probe). */
  devresRelease(owner: DevmOwner, _at: string): void {
    this.touch("devres", true);
    for (let i = this.devres.length - 1; i >= 0; i--) {
      const d = this.devres[i];
      if (d === undefined || d.owner !== owner) continue;
      this.devres.splice(i, 1);
      if ("obj" in d) this.free(d.obj, "devres_release_all");
      else {
        this.note("core", d.action, "devres", `devm action on ${owner.name}`);
        d.release();
      }
    }
  }

  /** queue_work: one pending run per work item (`key`); queueing it again while pending is a no-op. */
  queue_work(key: object, name: string, run: () => Promise<void>): boolean {
    this.touch(`work ${name}`, false);
    if (this.work.some((w) => w.key === key) || this.pendingWork.has(key)) return false;
    const t = this.threads;
    if (t !== null) {
      // A worker thread runs it when the scheduler chooses; it is pending until it starts. Thread ids are
      // given in creation order: two steps that create threads do not commute.
      this.touch(`work ${name}`, true);
      this.touch("threads", true);
      this.pendingWork.add(key);
      t.spawn(`work ${name}`, async () => {
        this.touch(`work ${name}`, true);
        this.pendingWork.delete(key);
        await run();
      });
      return true;
    }
    this.work.push({ key, name, run });
    return true;
  }

  /** Runs pending work items in order (the scenario flushes the workqueues after each driven step). */
  async flushWork(): Promise<void> {
    for (let w = this.work.shift(); w !== undefined; w = this.work.shift()) await w.run();
  }

  /** Objects still allocated. */
  live(): KObj[] {
    return this.objects.filter((o) => !o.freed);
  }

  /** Marks the end of the scenario's teardown: the leak monitor reads the live objects. */
  leakCheck(): void {
    this.emit({
      type: "leak-check",
      step: this.step("core", "teardown", "leak-check", ""),
      live: this.live(),
    });
  }

  /** A call that may sleep (kzalloc GFP_KERNEL, mutex_lock, request_firmware, …). */
  mightSleep(fn: string, at: string): void {
    const spinlocks =
      this.spinlocksHeld.size === 0
        ? []
        : [...this.spinlocksHeld].map((l) => `${l.name} (held by ${l.holder ?? "?"})`);
    const step =
      spinlocks.length > 0
        ? this.step("core", at, "might-sleep", `${fn} with ${spinlocks.join(", ")}`)
        : this.trace.length - 1;
    this.emit({ type: "sleep", step, fn, at, spinlocks });
  }

  /** WARN_ON(cond): returns cond; a true condition is an event (warn). */
  WARN_ON(cond: boolean, at: string, detail: string): boolean {
    if (cond) this.emit({ type: "warn", step: this.step("core", at, "warn", detail), at, detail });
    return cond;
  }

  /** A state change of a subject (rproc, TA, device). */
  stateChange(layer: TraceLayer, at: string, subject: string, from: string, to: string): void {
    this.emit({
      type: "state",
      step: this.step(layer, at, "state", `${subject}: ${from} -> ${to}`),
      at,
      from,
      to,
      subject,
    });
  }

  /** The scenario drives an operation (sysfs write, bind, unbind, crash); `end` carries its return. */
  driven(op: string, phase: "begin" | "end", ret = 0): void {
    this.emit({
      type: "driven",
      step: this.step(
        "core",
        op,
        phase === "begin" ? "drive" : "driven",
        phase === "end" ? errnoName(ret) : "",
      ),
      op,
      ret,
      phase,
    });
  }

  /** Bridges a platform's events (TA commands, platform actions) into this kernel's stream. */
  attachPlatform(p: Platform): () => void {
    return p.onEvent(rebuildable([this] as const, (k) => (e: EmulatorEvent) => k.emulatorEvent(e)));
  }

  private emulatorEvent(e: EmulatorEvent): void {
    const fn = e.layer === "ta" && e.fn === "invoke" ? e.cmdName : e.fn;
    const event = e.layer === "ta" ? (e.fn === "invoke" ? "invoke" : e.fn) : "action";
    this.emit({ type: "emu", step: this.step(e.layer, fn, event, e.detail), e });
  }

  /**
   * A copy of everything reachable from `root` (a world holding this kernel), for an explorer to run an
   * event on (see fork.ts). Only between driven operations: no C function running, no work pending.
   */
  fork<T>(root: T, shared: (x: object) => boolean): T {
    if (this.frame !== null || this.work.length > 0) {
      throw new Error(`fork inside ${this.frame?.fn ?? "pending work"}: only between driven operations`);
    }
    return forkGraph(root, { shared: (x) => x === this.facts || shared(x) });
  }

  /** Kernel memory helpers: kzalloc/kmemdup/kfree of tracked objects (each may sleep with GFP_KERNEL). */
  kmemdup(
    kind: ObjKind,
    label: string,
    bytes: Uint8Array,
    at: string,
    owner: DevmOwner | null = null,
  ): KObj<Uint8Array> {
    this.mightSleep("kmemdup", at);
    return this.alloc(kind, label, bytes.slice(), at, owner);
  }

  kfree(obj: KObj | null, at: string): void {
    if (obj !== null) this.free(obj, at);
  }
}
