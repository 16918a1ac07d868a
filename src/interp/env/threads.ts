/**
 * The threaded kernel environment: the posted driver and the remoteproc core skeleton (threads_headers.ts)
 * run on several kernel threads of one interpreter Machine, and every place where the kernel may switch
 * threads is a scheduling point where the thread suspends (a lock or unlock, a sleeping call, queueing
 * work, starting the asynchronous firmware request). The environment's own threads are those of the
 * kernel: the module load that binds the driver (its probe), the firmware loader's work that runs the
 * auto-boot callback, writers of the rproc's sysfs state file, the driver core's unbind, workqueue
 * workers. Which thread runs at each point is the caller's choice (src/explore/interleave.ts).
 *
 * The monitors watch what lockdep, the oops and KASAN would report: a call through a NULL rproc->ops member,
 * a lock used before its init (its magic word), a lock-order inversion (a cycle in the graph of lock classes
 * taken while holding others, even when no deadlock happened), a sleeping call under a spinlock, a use of
 * freed memory, a fault, and a data race on a list (Eraser's lockset on list heads: a thread changes a list
 * that another thread is walking, suspended inside the walk, with no lock held by both: the locks the walker
 * held when its walk began, and those the changer holds). A deadlock (no thread can run while some are blocked) is the runner's to report.
 *
 * Each step's footprint (the objects it read and wrote, the locks it took, the threads it created) is kept
 * for the explorer's reduction: two steps of different threads that touch nothing in common commute.
 */

import { conflicts, type Footprint } from "../../semantics/kthread.ts";
import type { Site } from "../ast.ts";
import type { EnvCall, EnvFunction, Environment, Gen, ListMonitor, MachineApi } from "../env.ts";
import { heapEnvironment } from "../heap.ts";
import type { Machine, Thread } from "../interp.ts";
import type { Obj, Value } from "../memory.ts";
import { formatC } from "../printf.ts";
import { T } from "../types.ts";
import { intVal, NULLP, ptrInto, truthy, Unsupported, VOID } from "../values.ts";
import { CMem, le } from "./cmem.ts";
import { atSite, type ListWalk, ListWalks, postedFrame } from "./lists.ts";
import { LOCK_MAGIC } from "./threads_headers.ts";

export { conflicts, type Footprint };

export type ThreadFindingKind =
  | "null-op-call"
  | "before-init"
  | "lock-inversion"
  | "deadlock"
  | "sleep-in-atomic"
  | "use-after-free"
  | "data-race"
  | "fault"
  | "unknown";

export interface ThreadFinding {
  kind: ThreadFindingKind;
  /** The C function in which it was seen (innermost frame, environment code included). */
  at: string;
  /** The kernel thread, as "t<id> <name>". */
  thread: string;
  detail: string;
  /** Index of the trace step at which it was raised. */
  step: number;
  /**
   * What makes it the same finding in another execution when its function alone does not: a lock
   * inversion's pair of classes (either thread may close the cycle), a deadlock's set of waits.
   */
  subject?: string;
  /** The innermost statement of the posted code on that thread, when there is one. */
  site?: Site;
}

export interface ThreadTraceStep {
  /** The scheduling step (0 = the first thread run) during which this happened. */
  sched: number;
  thread: number;
  fn: string;
  event: string;
  detail: string;
}

/** What the environment's world holds: the device the driver binds to and what user space does. */
export interface ThreadWorld {
  /** The platform device's name. */
  device: string;
  /** Boolean device-tree properties of its node ("st,auto-boot"). */
  dtProps: readonly string[];
  /** /lib/firmware: file name → content. */
  firmware: Readonly<Record<string, Uint8Array>>;
  /** Writes to the rproc's sysfs state file, each on its own thread, once the file exists (rproc_add). */
  writers: readonly ("start" | "stop")[];
  /** Unbind the driver (a write to its unbind file, on its own thread) once probe has bound it. */
  unbind: boolean;
}

interface LockState {
  readonly addr: bigint;
  readonly kind: "mutex" | "spinlock";
  /** lockdep's class: the name its init gave it (`&rproc->lock`, a DEFINE_MUTEX variable). */
  readonly cls: string;
  owner: number | null;
}

interface Devres {
  readonly kind: "free" | "action";
  readonly p: Value;
  readonly fn?: Value;
}

const int = (v: Value | undefined): bigint => (v !== undefined && v.k === "int" ? v.v : 0n);

export class ThreadedKernel implements Environment {
  private m: Machine | null = null;
  private cm: CMem | null = null;
  readonly findings: ThreadFinding[] = [];
  readonly trace: ThreadTraceStep[] = [];
  /** The footprint of the step being run. */
  footprint: Footprint = new Map();
  /** The scheduling step being run (set by the runner). */
  sched = 0;
  private readonly locks = new Map<bigint, LockState>();
  private readonly held = new Map<number, LockState[]>();
  /** lockdep's graph: class → classes taken while holding it, with the first thread and function seen. */
  private readonly after = new Map<string, Map<string, string>>();
  private readonly inversions = new Set<string>();
  private readonly works = new Map<bigint, Thread[]>();
  private readonly devres = new Map<bigint, Devres[]>();
  private readonly sysfs = new Set<bigint>();
  private readonly raised = new Set<string>();
  private readonly fns: Record<string, EnvFunction>;
  private pdevObj: Obj | null = null;
  private nodeObj: Obj | null = null;
  /** The driver probe bound (null until platform_driver_register ran). */
  bound = false;
  /** List walks in progress, on every thread. */
  private readonly walks = new ListWalks<LockState, ListWalk<LockState>>();
  readonly lists: ListMonitor = {
    change: (nodes) => this.listChange(nodes),
    walk: (head, text) => this.listWalk(head, text),
  };

  constructor(readonly world: ThreadWorld) {
    this.fns = this.table();
  }

  fn(name: string): EnvFunction | undefined {
    if (Object.hasOwn(this.fns, name)) return this.fns[name];
    return heapEnvironment.fn(name);
  }

  attach(m: Machine): void {
    this.m = m;
    this.cm = new CMem(m);
    m.mem.onAccess = (obj, write) => {
      if (obj.readonly || obj.kind === "function") return;
      const key = `m${obj.id}`;
      if (write) this.footprint.set(key, true);
      else if (!this.footprint.has(key)) this.footprint.set(key, false);
    };
    m.subscribeTo(["mem"], (e) => {
      if (e.type === "mem" && e.e.type === "use-after-free") {
        const o = e.e.obj;
        this.raise(
          "use-after-free",
          `${e.e.write ? "write to" : "read of"} ${o.label} after it was freed (${o.freedAt ?? "?"})`,
        );
      }
    });
  }

  private get machine(): Machine {
    if (this.m === null) throw new Error("the threaded kernel is not attached to a machine");
    return this.m;
  }

  private get c(): CMem {
    if (this.cm === null) throw new Error("the threaded kernel is not attached to a machine");
    return this.cm;
  }

  // ---- trace and findings -------------------------------------------------------------------------------

  /** Records a trace step of the running thread (0: the environment between steps). */
  note(fn: string, event: string, detail: string): void {
    const th = this.machine.running();
    this.trace.push({ sched: this.sched, thread: th?.id ?? 0, fn, event, detail });
  }

  /** The innermost C function of the running thread (environment code included). */
  innermost(): string {
    const th = this.machine.running();
    return th === null ? "?" : (th.exec.innermost()?.name ?? th.name);
  }

  threadLabel(th: Thread | null): string {
    return th === null ? "env" : `t${th.id} ${th.name}`;
  }

  /** Raises a finding on the running thread (once per kind, function and detail in a run). */
  raise(kind: ThreadFindingKind, detail: string, at = this.innermost(), subject?: string): void {
    const key = `${kind}\u0000${at}\u0000${detail}`;
    if (this.raised.has(key)) return;
    this.raised.add(key);
    const th = this.machine.running();
    const site = this.postedSite(th);
    this.note(at, "finding", `${kind}: ${detail}`);
    const f: ThreadFinding = {
      kind,
      at,
      thread: this.threadLabel(th),
      detail,
      step: this.trace.length - 1,
    };
    if (site !== undefined) f.site = site;
    if (subject !== undefined) f.subject = subject;
    this.findings.push(f);
  }

  /** The innermost statement of posted code on a thread (not the prelude, not the environment's headers). */
  postedSite(th: Thread | null): Site | undefined {
    if (th === null) return undefined;
    const frames = th.exec.frames;
    for (let i = frames.length - 1; i >= 0; i--) {
      const f = frames[i];
      if (f !== undefined && !f.prelude) return { file: f.file, line: f.line };
    }
    return undefined;
  }

  // ---- the world's objects -------------------------------------------------------------------------------

  /** The platform device the driver binds to (a C struct platform_device of the environment). */
  pdev(): Value & { k: "ptr" } {
    if (this.pdevObj === null) {
      const c = this.c;
      const m = this.machine;
      const name = c.string(this.world.device, `"${this.world.device}"`);
      this.nodeObj = c.opaque("struct device_node", `device-tree node of ${this.world.device}`);
      this.pdevObj = m.object({
        size: c.sizeOf("platform_device"),
        label: `platform device ${this.world.device}`,
      });
      const p = ptrInto(this.pdevObj, 0, T.void);
      m.write(c.at(p, "platform_device", "name"), le(64, name.base));
      m.write(c.at(p, "platform_device", "dev.of_node"), le(64, this.nodeObj.base));
    }
    return ptrInto(this.pdevObj, 0, T.void);
  }

  private devOfPdev(): Value & { k: "ptr" } {
    return this.c.at(this.pdev(), "platform_device", "dev");
  }

  // ---- locks ---------------------------------------------------------------------------------------------

  /** The lock at a C pointer; a lock whose magic word is not set is used before its init. */
  private lock(call: EnvCall, kind: "mutex" | "spinlock"): LockState {
    const p = this.c.ptr(call.args[0], call.name);
    let l = this.locks.get(p.addr);
    if (l === undefined) {
      const tag = kind === "mutex" ? "mutex" : "spinlock";
      const magic = this.c.getInt(p, tag, "__interp_magic");
      const namePtr = this.c.getPtr(p, tag, "__interp_name");
      const obj = p.obj ?? this.machine.find(p.addr);
      const where = obj === null ? `0x${p.addr.toString(16)}` : obj.label;
      const cls =
        magic === LOCK_MAGIC && namePtr.addr !== 0n ? this.machine.cstring(namePtr) : `${kind} in ${where}`;
      if (magic !== LOCK_MAGIC)
        this.raise(
          "before-init",
          `${call.name} on a ${kind} (in ${where}) before its init: its magic word is not set`,
        );
      l = { addr: p.addr, kind, cls, owner: null };
      this.locks.set(p.addr, l);
    }
    if (l.kind !== kind) throw new Unsupported(`${call.name} on ${l.cls}, a ${l.kind}`);
    this.footprint.set(`l${l.addr}`, true);
    return l;
  }

  private initLock(call: EnvCall, kind: "mutex" | "spinlock"): Value {
    const p = this.c.ptr(call.args[0], call.name);
    const tag = kind === "mutex" ? "mutex" : "spinlock";
    this.c.setInt(p, tag, "__interp_magic", LOCK_MAGIC);
    const name = call.args[1];
    if (name !== undefined && name.k === "ptr")
      this.machine.write(this.c.at(p, tag, "__interp_name"), le(64, name.addr));
    this.locks.delete(p.addr);
    this.footprint.set(`l${p.addr}`, true);
    return VOID;
  }

  /** Who holds which lock, for the configuration of a state: "class=t<id>" of held locks. */
  lockOwners(): string {
    const out: string[] = [];
    for (const l of this.locks.values()) if (l.owner !== null) out.push(`${l.cls}=t${l.owner}`);
    return out.sort().join(",");
  }

  private heldBy(id: number): LockState[] {
    let h = this.held.get(id);
    if (h === undefined) {
      h = [];
      this.held.set(id, h);
    }
    return h;
  }

  /** Whether lockdep's graph has a path from class `from` to class `to`. */
  private reaches(from: string, to: string): string[] | null {
    const seen = new Set<string>([from]);
    const queue: string[][] = [[from]];
    while (queue.length > 0) {
      const path = queue.shift() as string[];
      const last = path[path.length - 1] as string;
      if (last === to) return path;
      for (const next of this.after.get(last)?.keys() ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push([...path, next]);
      }
    }
    return null;
  }

  /** Adds the edges held → l to lockdep's graph; a path back from l to a held class is an inversion. */
  private lockdep(me: Thread, l: LockState): void {
    const at = this.innermost();
    for (const h of this.heldBy(me.id)) {
      if (h.cls === l.cls) continue;
      const back = this.reaches(l.cls, h.cls);
      if (back !== null) {
        const key = [h.cls, l.cls].sort().join("\u0000");
        if (!this.inversions.has(key)) {
          this.inversions.add(key);
          const first = this.after.get(back[0] as string)?.get(back[1] as string) ?? "?";
          this.raise(
            "lock-inversion",
            `${this.threadLabel(me)} takes ${l.cls} while holding ${h.cls} in ${at}; ${first} took ${back.join(" then ")} before: a possible circular locking dependency`,
            at,
            `${key.replace("\u0000", " / ")}`,
          );
        }
      }
      let out = this.after.get(h.cls);
      if (out === undefined) {
        out = new Map();
        this.after.set(h.cls, out);
      }
      if (!out.has(l.cls)) out.set(l.cls, `${this.threadLabel(me)} in ${at}`);
    }
  }

  private mightSleep(what: string): void {
    const me = this.machine.running();
    if (me === null) return;
    const spins = this.heldBy(me.id).filter((h) => h.kind === "spinlock");
    if (spins.length > 0)
      this.raise("sleep-in-atomic", `${what} may sleep while ${spins.map((s) => s.cls).join(", ")} is held`);
  }

  private *acquire(call: EnvCall, kind: "mutex" | "spinlock"): Gen<LockState> {
    const me = this.machine.running() as Thread;
    const l = this.lock(call, kind);
    if (kind === "mutex") this.mightSleep(call.name);
    yield { k: "yield", reason: `${call.name}(${l.cls})` };
    const key = `l${l.addr}`;
    this.footprint.set(key, true);
    if (l.owner === me.id) {
      this.raise(
        "deadlock",
        `${this.threadLabel(me)} takes ${l.cls} again while holding it (recursive locking)`,
      );
      yield { k: "wait", reason: `${call.name}(${l.cls}), held by itself`, ready: () => false };
    }
    while (l.owner !== null) {
      const owner = l.owner;
      yield {
        k: "wait",
        reason: `${call.name}(${l.cls}) held by t${owner}`,
        ready: () => l.owner === null,
      };
      this.footprint.set(key, true);
    }
    this.lockdep(me, l);
    l.owner = me.id;
    this.heldBy(me.id).push(l);
    this.note(this.innermost(), "lock", `${l.kind} ${l.cls}`);
    return l;
  }

  private *release(call: EnvCall, kind: "mutex" | "spinlock"): Gen<Value> {
    const me = this.machine.running() as Thread;
    const l = this.lock(call, kind);
    if (l.owner !== me.id)
      this.note(this.innermost(), "warn", `${call.name}(${l.cls}) by a thread that does not hold it`);
    l.owner = null;
    const h = this.heldBy(me.id);
    const i = h.lastIndexOf(l);
    if (i >= 0) h.splice(i, 1);
    this.note(this.innermost(), "unlock", `${l.kind} ${l.cls}`);
    yield { k: "yield", reason: `${call.name}(${l.cls})` };
    return VOID;
  }

  // ---- lists shared between threads ----------------------------------------------------------------------

  private listWalk(head: Value, text: string): (() => void) | null {
    const th = this.machine.running();
    if (th === null || head.k !== "ptr") return null;
    this.footprint.set("lists", true);
    const where = postedFrame(th);
    const w: ListWalk<LockState> = {
      th,
      head: head.addr,
      text,
      locks: [...this.heldBy(th.id)],
      fn: where.fn,
      site: where.site,
    };
    const end = this.walks.begin(w);
    return () => {
      end();
      this.footprint.set("lists", true);
    };
  }

  /** A change of the lists `nodes` are on, by the running thread: a race with another thread's walk of one. */
  private listChange(nodes: readonly Value[]): void {
    const me = this.machine.running();
    if (me === null) return;
    this.footprint.set("lists", this.footprint.get("lists") === true);
    if (this.walks.empty) return;
    const mine = this.heldBy(me.id);
    const racing = this.walks.racing(this.machine.mem, nodes, mine, {
      other: (w) => w.th !== me && !w.th.done,
      holding: (w) => this.heldBy(w.th.id),
      same: (a, b) => a.addr === b.addr,
    });
    for (const { walk: w, dropped } of racing) {
      const ch = postedFrame(me);
      const held = (ls: readonly LockState[]): string =>
        ls.length === 0 ? "no lock" : ls.map((l) => l.cls).join(", ");
      this.raise(
        "data-race",
        `${this.threadLabel(me)} changes the list ${w.text} with ${ch.api}() in ${ch.fn}${atSite(ch.site)}, holding ${held(mine)}, while ${this.threadLabel(w.th)} walks it in ${w.fn}${atSite(w.site)}, having begun with ${held(w.locks)}${dropped.length === 0 ? "" : ` and let ${held(dropped)} go since`}: no lock in common`,
        ch.fn,
        `${w.fn} / ${ch.fn}`,
      );
    }
  }

  // ---- threads of the environment --------------------------------------------------------------------------

  private spawn(name: string, fn: string, args: readonly Value[]): Thread {
    const th = this.machine.spawn(name, fn, args);
    this.footprint.set("threads", true);
    this.note(this.innermost(), "spawn", `t${th.id} ${name}`);
    return th;
  }

  private spawnPointer(name: string, fn: Value, args: readonly Value[]): Thread {
    const th = this.machine.spawnPointer(name, fn, args);
    this.footprint.set("threads", true);
    this.note(this.innermost(), "spawn", `t${th.id} ${name}`);
    return th;
  }

  private functionName(fn: Value): string {
    if (fn.k !== "ptr") return "?";
    const o = fn.obj ?? this.machine.find(fn.addr);
    return o?.label ?? "?";
  }

  private sleep(call: EnvCall): Gen<Value> {
    this.mightSleep(call.name);
    const self = this;
    return (function* () {
      yield { k: "yield", reason: `${call.name} sleeps` };
      self.note(self.innermost(), "sleep", call.name);
      return VOID;
    })();
  }

  private format(args: readonly Value[]): string {
    const f = args[0];
    if (f === undefined) return "";
    try {
      return formatC(this.machine.cstring(f), args.slice(1), (p) => this.machine.cstring(p)).replace(
        /\n$/,
        "",
      );
    } catch {
      return "(unformattable message)";
    }
  }

  private table(): Record<string, EnvFunction> {
    const self = this;
    const log =
      (level: string, dev: boolean): EnvFunction =>
      (call) => {
        this.note(call.caller, "log", `${level}: ${this.format(dev ? call.args.slice(1) : call.args)}`);
        return VOID;
      };
    const prop = (call: EnvCall, node: Value | undefined): Value => {
      const name = this.machine.cstring(call.args[1] ?? NULLP);
      const ok =
        node !== undefined && node.k === "ptr" && this.nodeObj !== null && node.addr === this.nodeObj.base;
      return intVal(T.bool, ok && this.world.dtProps.includes(name) ? 1n : 0n);
    };
    const queue = (call: EnvCall, work: Value | undefined): Gen<Value> => {
      const w = this.c.ptr(work, call.name);
      const pending = this.c.getInt(w, "work_struct", "__interp_pending");
      return (function* () {
        if (pending !== 0n) return intVal(T.bool, 0n);
        self.c.setInt(w, "work_struct", "__interp_pending", 1n);
        const fn = self.c.getPtr(w, "work_struct", "func");
        const th = self.spawn(`work ${self.functionName(fn)}`, "process_one_work", [w]);
        self.works.set(w.addr, [...(self.works.get(w.addr) ?? []), th]);
        yield { k: "yield", reason: `${call.name} queued ${self.functionName(fn)}` };
        return intVal(T.bool, 1n);
      })();
    };
    const waitWork = (call: EnvCall): Gen<Value> => {
      const w = this.c.ptr(call.args[0], call.name);
      self.mightSleep(call.name);
      return (function* () {
        const ths = self.works.get(w.addr) ?? [];
        const running = ths.filter((t) => !t.done);
        for (const t of running) {
          while (!t.done) yield { k: "wait", reason: `${call.name} waits for t${t.id}`, ready: () => t.done };
          self.footprint.set(`t${t.id}`, false);
        }
        return intVal(T.bool, running.length > 0 ? 1n : 0n);
      })();
    };
    const fns: Record<string, EnvFunction> = {
      __interp_warn: (call) => {
        const cond = truthy(call.args[0] ?? intVal(T.int, 0n));
        if (cond) this.note(call.caller, "warn", this.machine.cstring(call.args[1] ?? NULLP));
        return intVal(T.int, cond ? 1n : 0n);
      },
      devm_kzalloc: (call, m: MachineApi) => {
        const n = Number(int(call.args[1]));
        const p = m.alloc(n, `devm_kzalloc(${n}) at ${call.site.file}:${call.site.line}`, T.void);
        const dev = this.c.ptr(call.args[0], call.name);
        this.devres.set(dev.addr, [...(this.devres.get(dev.addr) ?? []), { kind: "free", p }]);
        return p;
      },
      devm_kfree: (call, m) => {
        const p = call.args[1];
        if (p !== undefined) m.free(p, call.caller);
        return VOID;
      },
      __interp_devm_add_action: (call) => {
        const dev = this.c.ptr(call.args[0], call.name);
        const fn = call.args[1] ?? NULLP;
        this.devres.set(dev.addr, [
          ...(this.devres.get(dev.addr) ?? []),
          { kind: "action", p: call.args[2] ?? NULLP, fn },
        ]);
        this.footprint.set(`devres${dev.addr}`, true);
        return intVal(T.int, 0n);
      },
      __interp_devres_release_all: (call) => {
        const dev = this.c.ptr(call.args[0], call.name);
        return (function* () {
          yield* self.releaseDevres(dev.addr);
          return VOID;
        })();
      },
      __interp_mutex_init: (call) => this.initLock(call, "mutex"),
      __interp_spin_lock_init: (call) => this.initLock(call, "spinlock"),
      mutex_destroy: () => VOID,
      mutex_lock: (call) =>
        (function* () {
          yield* self.acquire(call, "mutex");
          return VOID;
        })(),
      mutex_lock_interruptible: (call) =>
        (function* () {
          yield* self.acquire(call, "mutex");
          return intVal(T.int, 0n);
        })(),
      mutex_trylock: (call) => {
        const me = this.machine.running() as Thread;
        const l = this.lock(call, "mutex");
        if (l.owner !== null) return intVal(T.int, 0n);
        this.lockdep(me, l);
        l.owner = me.id;
        this.heldBy(me.id).push(l);
        this.note(this.innermost(), "lock", `mutex ${l.cls} (trylock)`);
        return intVal(T.int, 1n);
      },
      mutex_unlock: (call) => this.release(call, "mutex"),
      spin_lock: (call) =>
        (function* () {
          yield* self.acquire(call, "spinlock");
          return VOID;
        })(),
      __interp_spin_lock_irqsave: (call) =>
        (function* () {
          yield* self.acquire(call, "spinlock");
          return intVal(T.ulong, 0n);
        })(),
      spin_unlock: (call) => this.release(call, "spinlock"),
      spin_unlock_irqrestore: (call) => this.release(call, "spinlock"),
      msleep: (call) => this.sleep(call),
      usleep_range: (call) => this.sleep(call),
      cond_resched: (call) => this.sleep(call),
      might_sleep: (call) => {
        this.mightSleep(call.name);
        return VOID;
      },
      schedule_work: (call) => queue(call, call.args[0]),
      queue_work: (call) => queue(call, call.args[1]),
      cancel_work_sync: (call) => waitWork(call),
      flush_work: (call) => waitWork(call),
      dev_err: log("error", true),
      dev_warn: log("warning", true),
      dev_info: log("info", true),
      dev_dbg: log("debug", true),
      pr_err: log("error", false),
      pr_info: log("info", false),
      of_property_read_bool: (call) => prop(call, call.args[0]),
      device_property_read_bool: (call) => {
        const dev = this.c.ptr(call.args[0], call.name);
        return prop(call, this.c.getPtr(dev, "device", "of_node"));
      },
      platform_driver_register: (call) => {
        const drv = this.c.ptr(call.args[0], call.name);
        const probe = this.c.getPtr(drv, "platform_driver", "probe");
        return (function* () {
          self.note(call.caller, "bind", `probe ${self.world.device}`);
          const ret =
            probe.addr === 0n ? intVal(T.int, 0n) : yield* self.machine.callFunction(probe, [self.pdev()]);
          if (int(ret) !== 0n) {
            self.note(call.caller, "bind", `probe of ${self.world.device} failed: ${int(ret)}`);
            yield* self.releaseDevres(self.devOfPdev().addr);
            return intVal(T.int, 0n);
          }
          self.bound = true;
          if (self.world.unbind) self.spawn("unbind", "unbind_store", [drv, self.pdev()]);
          return intVal(T.int, 0n);
        })();
      },
      platform_driver_unregister: () => VOID,
      request_firmware: (call) => {
        this.mightSleep(call.name);
        const out = this.c.ptr(call.args[0], call.name);
        const name = this.machine.cstring(call.args[1] ?? NULLP);
        return (function* () {
          yield { k: "yield", reason: `request_firmware(${name}) sleeps` };
          self.footprint.set("firmware", false);
          const bytes = self.world.firmware[name];
          if (bytes === undefined) {
            self.machine.write(out, le(64, 0n));
            self.note(self.innermost(), "firmware", `${name}: not found`);
            return intVal(T.int, -2n);
          }
          const m = self.machine;
          const data = m.object({
            size: bytes.length,
            label: `firmware ${name} data`,
            bytes,
            readonly: true,
          });
          const fw = m.alloc(self.c.sizeOf("firmware"), `firmware ${name}`);
          m.write(self.c.at(fw, "firmware", "size"), le(64, bytes.length));
          m.write(self.c.at(fw, "firmware", "data"), le(64, data.base));
          m.write(out, le(64, fw.addr));
          self.note(self.innermost(), "firmware", `${name}: ${bytes.length} bytes`);
          return intVal(T.int, 0n);
        })();
      },
      release_firmware: (call, m) => {
        const p = call.args[0];
        if (p !== undefined && p.k === "ptr" && p.addr !== 0n) m.free(p, call.caller);
        return VOID;
      },
      request_firmware_nowait: (call) => {
        const name = this.machine.cstring(call.args[2] ?? NULLP);
        const args = [
          call.args[2] ?? NULLP,
          call.args[3] ?? NULLP,
          call.args[5] ?? NULLP,
          call.args[6] ?? NULLP,
        ];
        return (function* () {
          self.spawn(`firmware ${name}`, "request_firmware_work_func", args);
          yield { k: "yield", reason: `request_firmware_nowait(${name}) queued` };
          return intVal(T.int, 0n);
        })();
      },
      __interp_check_op: (call) => {
        const fn = call.args[0];
        const member = this.machine.cstring(call.args[1] ?? NULLP);
        if (fn === undefined || (fn.k === "ptr" && fn.addr === 0n)) {
          const me = this.machine.running();
          const site = this.postedSite(me);
          const chain = (me?.exec.frames ?? []).map((f) => f.name).join(" → ");
          this.raise(
            "null-op-call",
            `${this.innermost()} calls rproc->ops->${member}, which is NULL (${chain})${site === undefined ? "" : ""}: the call oopses`,
          );
        }
        return VOID;
      },
      __interp_rproc_sysfs_add: (call) => {
        const r = this.c.ptr(call.args[0], call.name);
        this.sysfs.add(r.addr);
        this.footprint.set(`sysfs${r.addr}`, true);
        for (const w of this.world.writers)
          this.spawn(`sysfs state ${w}`, "state_store", [r, intVal(T.int, w === "start" ? 1n : 0n)]);
        return VOID;
      },
      __interp_rproc_sysfs_del: (call) => {
        const r = this.c.ptr(call.args[0], call.name);
        this.sysfs.delete(r.addr);
        this.footprint.set(`sysfs${r.addr}`, true);
        return VOID;
      },
      __interp_rproc_sysfs_present: (call) => {
        const r = this.c.ptr(call.args[0], call.name);
        this.footprint.set(`sysfs${r.addr}`, false);
        return intVal(T.bool, this.sysfs.has(r.addr) ? 1n : 0n);
      },
    };
    return fns;
  }

  /** Releases a device's devres, newest first: frees, and actions (devm_rproc_add's rproc_del) on this thread. */
  private *releaseDevres(dev: bigint): Gen<void> {
    const list = this.devres.get(dev) ?? [];
    this.devres.delete(dev);
    this.footprint.set(`devres${dev}`, true);
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i] as Devres;
      if (r.kind === "free") this.machine.free(r.p, "devres release");
      else yield* this.machine.callFunction(r.fn ?? NULLP, [r.p]);
    }
  }
}
