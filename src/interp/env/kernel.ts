/**
 * The hand model as the interpreter's kernel environment. A call of the posted C into a kernel API becomes the
 * hand model's own call (src/semantics/kernel.ts, device.ts, tee_client.ts, remoteproc_core.ts, and the
 * emulator behind them), with the C function as the caller and the posted line kept for every trace step it
 * makes; the C's own functions become the kernel's call frames, so every monitor of the hand model watches
 * the posted code (a sleep under a spinlock, an error returned as 0, a use after free of a kernel object).
 *
 * Objects cross in both directions as twins: a hand-model object the C receives (a struct rproc, a firmware,
 * a device, a TEE context) is an object of the interpreter's memory whose members are served from the hand
 * model at each access; memory the C allocates (kzalloc, kmemdup) is a kernel object of the hand model whose
 * bytes are the interpreter's. A mapping (ioremap) is a view onto the emulated platform's memory through its
 * non-secure accesses. Locks are the hand model's locks, found by the address of their storage.
 *
 * What the hand model cannot give (a member it does not keep, an API it lacks, a parameter kind the emulated
 * TA does not take) is an honest unknown naming it and the posted line; nothing is guessed.
 */
import type { Platform, TeeParam } from "../../emulator/api.ts";
import { taCommandName } from "../../emulator/api.ts";
import { siteText, type TraceLayer } from "../../scenarios/result.ts";
import type { Device, DeviceLink, Driver, DriverCore } from "../../semantics/device.ts";
import {
  type Frame,
  type Kernel,
  type KObj,
  type LockBase,
  Mutex,
  SpinLock,
} from "../../semantics/kernel.ts";
import type { KThread, LockClass, ThreadFindingOfKernel } from "../../semantics/kthread.ts";
import {
  type FirmwareStore,
  type FwObj,
  type Ptr,
  type Rproc,
  rproc_da_to_va,
  rproc_pa_to_va,
} from "../../semantics/remoteproc_core.ts";
import {
  type InvokeArg,
  type OpenSessionArg,
  type TeeContext,
  type TeeDevice,
  type TeeShm,
  tee_client_close_context,
  tee_client_close_session,
  tee_client_invoke_func,
  tee_client_open_context,
  tee_client_open_session,
  tee_shm_free,
  tee_shm_register_kernel_buf,
} from "../../semantics/tee_client.ts";
import type { FunctionDef, Site } from "../ast.ts";
import { BUILTINS } from "../builtins.ts";
import { memoryDigest } from "../digest.ts";
import type { EnvCall, EnvFunction, Environment, Gen, ListMonitor, MachineApi, Suspend } from "../env.ts";
import { type Machine, type Thread, UnknownError } from "../interp.ts";
import { Fault, type Obj, type Value } from "../memory.ts";
import { formatC } from "../printf.ts";
import { type CType, T } from "../types.ts";
import { intVal, NULLP, ptrInto, truthy, Unsupported, VOID } from "../values.ts";
import { CMem, le, type Served, unle } from "./cmem.ts";
import { testedCallees } from "./handled.ts";
import { atSite, type ListWalk, ListWalks, postedFrame } from "./lists.ts";

/** What the posted C could not run: the interpreter's reason and the statement it stopped at. */
export class CannotRunC extends Error {
  constructor(
    readonly what: string,
    readonly site: Site,
    /** A fault (the kernel would oops) rather than something the environment or interpreter lacks. */
    readonly fault: boolean,
  ) {
    super(`${what} at ${siteText(site)}`);
  }
}

/** The world the environment stands in: the hand model's kernel, its driver core, OP-TEE and the platform. */
export interface KernelWorld {
  readonly k: Kernel;
  readonly core: DriverCore;
  readonly teedevs: readonly TeeDevice[];
  readonly platform: Platform;
  /** /lib/firmware, as the core's request_firmware reads it (needed by modules that call into the core). */
  readonly store?: FirmwareStore;
}

/** An object of the interpreter's memory standing for a thing of the hand model. */
type Twin =
  /** Bytes shared with a kernel object of the hand model (a kzalloc of the C, a kmemdup, a carveout buffer). */
  | { readonly k: "kobj"; readonly obj: KObj }
  /** A view of physical memory from `pa`; `mapping` is the ioremap's kernel object (null: a carveout's window). */
  | { readonly k: "io"; readonly pa: number; readonly mapping: KObj | null }
  /** A struct tee_client_device / platform_device whose `struct device` member at `devOff` is `dev`. */
  | { readonly k: "device"; readonly dev: Device; readonly devOff: number }
  | { readonly k: "rproc"; readonly rproc: Rproc }
  | { readonly k: "firmware"; readonly fw: FwObj }
  | { readonly k: "fw-data"; readonly fw: FwObj }
  | { readonly k: "handle"; readonly what: string; readonly obj: KObj }
  | { readonly k: "bus"; readonly bus: "platform" | "tee" }
  /** An object of an environment module (src/interp/env/*.ts): a device-tree node, a regmap, a channel. */
  | { readonly k: "ext"; readonly what: string; readonly data: unknown; readonly kobj: KObj | null };

/** An API function of the environment: completes at once or suspends the calling kernel thread. */
export type ApiFn = (call: EnvCall) => Value | Gen<Value>;

/**
 * An environment module: the kernel APIs of one kernel C file (drivers/of/base.c, drivers/mailbox/mailbox.c,
 * …) over the hand model, and the members of the hand model's objects it serves to the C. A module keeps its
 * per-world state itself (keyed by the KernelEnv).
 */
export interface EnvModule {
  /**
   * The module's API functions, by C name; `before` has those of the modules listed before it (a function
   * this module also gives replaces that one, and may hand it the calls that are not its own).
   */
  fns(env: KernelEnv, before: Readonly<Record<string, ApiFn>>): Record<string, ApiFn>;
  /** More members of a device's twin (paths in struct platform_device or tee_client_device). */
  deviceMembers?(env: KernelEnv, dev: Device, tag: string): Record<string, Served>;
  /** More members of an rproc's twin (paths in the struct rproc of the loaded headers). */
  rprocMembers?(env: KernelEnv, r: Rproc): Record<string, Served>;
  /**
   * Per C function of the files the module stands beside: callees whose failure it drops on purpose, which
   * its code cannot say (the hand model's CallOptions.ignores of the same function), beside the callees it
   * tests (handled.ts).
   */
  readonly ignores?: Readonly<Record<string, readonly string[]>>;
  /**
   * The names of `fns` that never suspend: each returns its value, never a generator that yields (the C
   * calling only such runs without the interpreter's generators; Environment.syncApis). A name given again by
   * a later module is that module's to declare.
   */
  readonly sync?: readonly string[];
}

/** The table's APIs that never suspend (EnvModule.sync): each returns its value. */
const TABLE_SYNC: ReadonlySet<string> = new Set([
  "__interp_warn",
  "kmalloc",
  "kzalloc",
  "kcalloc",
  "kmalloc_array",
  "devm_kzalloc",
  "devm_kmalloc",
  "kmemdup",
  "kfree",
  "devm_kfree",
  "dev_err",
  "dev_warn",
  "dev_notice",
  "dev_info",
  "dev_dbg",
  "pr_err",
  "pr_warn",
  "pr_info",
  "pr_debug",
  "spin_lock_init",
  "spin_unlock",
  "spin_unlock_irq",
  "spin_unlock_bh",
  "spin_unlock_irqrestore",
  "mutex_init",
  "mutex_destroy",
  "mutex_unlock",
  "ioremap",
  "ioremap_wc",
  "memremap",
  "iounmap",
  "memunmap",
  "device_link_add",
  "device_link_del",
  "tee_shm_register_kernel_buf",
  "tee_shm_free",
]);

/** The environment's never-suspending APIs per list of modules (one set per make: the interpreter's key). */
const SYNC_APIS = new WeakMap<readonly EnvModule[], ReadonlySet<string>>();
const NO_MODULES: readonly EnvModule[] = [];

/** tee.h: TEE_IOCTL_PARAM_ATTR_TYPE_* */
const ATTR = { NONE: 0, VALUE_INPUT: 1, VALUE_OUTPUT: 2, VALUE_INOUT: 3, MEMREF_INPUT: 5 } as const;
/** gfp.h: __GFP_DIRECATRECLAIM, the bit that lets an allocation sleep (set in GFP_KERNEL, not in GFP_ATOMIC). */
const GFP_DIRECATRECLAIM = 0x400n;
/** The name OP-TEE gives the TEE bus device of a TA it enumerates (optee-ta-<uuid>). */
const TA_DEVICE = /^optee-ta-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

const base = (file: string): string => file.slice(file.lastIndexOf("/") + 1);

function uuidBytes(uuid: string): Uint8Array {
  const hex = uuid.replaceAll("-", "");
  return Uint8Array.from({ length: 16 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

function uuidText(b: Uint8Array): string {
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A kernel ERR_PTR value as a pointer. */
function errPtr(errno: number): Value & { k: "ptr" } {
  return { k: "ptr", t: { k: "ptr", to: T.void }, addr: BigInt.asUintN(64, BigInt(errno)), obj: null };
}

function int(v: Value | undefined, what: string): bigint {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
}

/**
 * A walk of a list by the posted C in progress on a kernel thread (`th`: one call of the C on `kt`); its locks
 * are the lock objects `kt` held when it began (one re-initialised is another).
 */
interface KernelListWalk extends ListWalk<LockClass> {
  readonly kt: KThread;
}

/**
 * The API functions of `layers` as one table (a module's `before`): a name is the newest layer's that gives
 * it as its own; no name of Object.prototype is an API.
 */
function layersView(layers: readonly Readonly<Record<string, ApiFn>>[]): Readonly<Record<string, ApiFn>> {
  return new Proxy(Object.create(null) as Record<string, ApiFn>, {
    get: (_t, name) => {
      if (typeof name !== "string") return undefined;
      for (let i = layers.length - 1; i >= 0; i--) {
        const l = layers[i] as Readonly<Record<string, ApiFn>>;
        if (Object.hasOwn(l, name)) return l[name];
      }
      return undefined;
    },
  });
}

const NO_OPTIONS: { ignores?: ReadonlySet<string> } = {};
/** callOptions' answers, per list of modules (a constant of the driver loads), then C function. */
const CALL_OPTIONS = new WeakMap<
  readonly EnvModule[],
  WeakMap<FunctionDef, { ignores?: ReadonlySet<string> }>
>();

/**
 * The kernel frame's options of a C function (the failures it gets past): a failure the C function tests is
 * its decision, as the hand model's `ignores` say per call site, beside what the modules say of it. Decided
 * once per function and list of modules (it was a walk of the function per world).
 */
function callOptions(
  modules: readonly EnvModule[],
  def: FunctionDef | undefined,
): { ignores?: ReadonlySet<string> } {
  if (def === undefined) return NO_OPTIONS;
  let perDef = CALL_OPTIONS.get(modules);
  if (perDef === undefined) {
    perDef = new WeakMap();
    CALL_OPTIONS.set(modules, perDef);
  }
  let opts = perDef.get(def);
  if (opts === undefined) {
    const ignores = [...testedCallees(def), ...modules.flatMap((mod) => mod.ignores?.[def.name] ?? [])];
    opts = ignores.length > 0 ? { ignores: new Set(ignores) } : NO_OPTIONS;
    perDef.set(def, opts);
  }
  return opts;
}

/** Numbers the machines of a kernel in creation order (footprint keys of their memory objects). */
const machinesOf = new WeakMap<object, number>();

export class KernelEnv implements Environment {
  private m: Machine | null = null;
  private cm: CMem | null = null;
  private readonly twins = new Map<number, Twin>();
  /** Twins of hand-model objects (a device, an rproc, a kernel object, a firmware) by that object. */
  private readonly twinOf = new WeakMap<object, Obj>();
  private readonly fwData = new WeakMap<FwObj, Obj>();
  /** Objects of the interpreter freed with a kernel object (its twin, the views of a mapping, a firmware's data). */
  private readonly dependents = new Map<KObj, Obj[]>();
  private readonly regionViews = new Map<string, Obj>();
  private readonly strings = new Map<string, Obj>();
  private readonly locks = new Map<bigint, LockBase>();
  private readonly lockOwner = new Map<LockBase, number>();
  private readonly drivers = new Map<bigint, Driver>();
  private readonly busObjs = new Map<string, Obj>();
  private readonly moduleRefs = new Map<bigint, number>();
  /** Per interpreter thread: the hand-model promise it waits for. */
  private readonly pending = new Map<number, Promise<unknown>>();
  /** Per interpreter thread: the API call of the C that waits for that promise. */
  private readonly pendingSites = new Map<number, Site>();
  /** Per interpreter thread: why it last suspended (a scheduling point's name). */
  private readonly yields = new Map<number, string>();
  /** Per interpreter thread: the kernel frames of its C functions. */
  private readonly frames = new Map<number, Frame[]>();
  /** The posted lines of the environment calls in progress, innermost last. */
  private readonly sites: Site[] = [];
  /** The C statement a kernel step was made at (for findings raised by the posted code). */
  private readonly stepSites: (Site | undefined)[] = [];
  /**
   * The API functions by C name, as the table and the modules give them (each module's layer over the ones
   * before it); wrapped for the posted line (`api`) when first asked for, in `wrapped`: a world calls a few
   * dozen of some two hundred, and building every wrapper per world was most of a world's set-up.
   */
  private readonly fns: ReadonlyMap<string, ApiFn>;
  private readonly wrapped = new Map<string, EnvFunction | null>();
  readonly syncApis: ReadonlySet<string>;
  /**
   * Per C file, then function: the trace layer of its kernel frames and their options (the failures it gets
   * past), decided at its first call (by file and name, no key string built per call).
   */
  private readonly callInfo = new Map<
    string,
    Map<string, { readonly layer: TraceLayer; readonly opts: { ignores?: ReadonlySet<string> } }>
  >();

  /**
   * The trace layer of a C file's functions (remoteproc_tee.c: "tee"): the constructor's function, asked once
   * per file (every log line and kernel note of the C asks it, and a layer by file name is regex tests).
   */
  readonly layerOf: (file: string) => TraceLayer;
  /** The C's list walks in progress on the kernel threads (only while the kernel runs threads). */
  private readonly walks = new ListWalks<LockClass, KernelListWalk>();
  /** The data races raised in this world (walk and change functions, list), each once. */
  private readonly raced = new Set<string>();
  readonly lists: ListMonitor = {
    change: (nodes) => this.listChange(nodes),
    walk: (head, text) => this.listWalk(head, text),
  };

  constructor(
    readonly w: KernelWorld,
    /** The trace layer of a C file's functions (remoteproc_tee.c: "tee"); a function of the file only. */
    layerOf: (file: string) => TraceLayer,
    private readonly modules: readonly EnvModule[] = NO_MODULES,
  ) {
    const layers = new Map<string, TraceLayer>();
    this.layerOf = (file) => {
      let l = layers.get(file);
      if (l === undefined) {
        l = layerOf(file);
        layers.set(file, l);
      }
      return l;
    };
    this.fns = this.table();
    this.syncApis = SYNC_APIS.get(modules) ?? new Set();
    w.k.subscribe((e) => {
      if (e.type === "free" && !e.already) {
        for (const o of this.dependents.get(e.obj) ?? []) {
          o.freed = true;
          o.freedAt = e.at;
        }
      }
      // The API call that made the step; else the statement the C is at (a store or memcpy into device memory
      // makes a platform step through its hooks, with no API call); none when no C of this machine runs.
      const site = this.sites[this.sites.length - 1] ?? this.m?.where()?.site ?? this.settlingSite();
      // By step, in an array: steps are numbered from 0 per kernel (a Map of every step was a Map grown by
      // thousands of entries per world).
      if (site !== undefined && this.stepSites[e.step] === undefined) this.stepSites[e.step] = site;
    });
  }

  /** Connects the machine the environment serves (after instantiate). */
  attach(m: Machine): void {
    this.m = m;
    this.cm = new CMem(m);
    // An interleaving search's footprint: the C's memory objects a step reads and writes (a twin serves a
    // hand-model object: its key is the object's, and the rproc's members are tracked by the rproc itself).
    const k = this.w.k;
    const machine = machinesOf.get(k) ?? 0;
    machinesOf.set(k, machine + 1);
    const onAccess = (obj: Obj, write: boolean): void => {
      if (k.footprint === null || obj.readonly || obj.kind === "function") return;
      k.touch(
        obj.io === null ? `c${machine} ${obj.id}` : `twin${machine} ${obj.id}`,
        write || obj.io !== null,
      );
    };
    // Only while a footprint is kept: otherwise every access would call it for nothing.
    m.mem.onAccess = k.footprint === null ? null : onAccess;
    k.watchFootprint((on) => {
      m.mem.onAccess = on ? onAccess : null;
    });
    m.subscribeTo(["suspend", "call", "return", "mem"], (e) => {
      if (e.type === "suspend") this.yields.set(e.thread, e.reason);
      else if (e.type === "call") {
        this.sites.push(e.site);
        const file = e.site.file;
        let inFile = this.callInfo.get(file);
        if (inFile === undefined) {
          inFile = new Map();
          this.callInfo.set(file, inFile);
        }
        let info = inFile.get(e.fn);
        if (info === undefined) {
          info = { layer: this.layerOf(file), opts: callOptions(this.modules, m.function(e.fn, file)) };
          inFile.set(e.fn, info);
        }
        const f = this.w.k.enter(info.layer, e.fn, info.opts);
        this.sites.pop();
        const stack = this.frames.get(e.thread);
        if (stack === undefined) this.frames.set(e.thread, [f]);
        else stack.push(f);
      } else if (e.type === "return") {
        const f = this.frames.get(e.thread)?.pop();
        if (f === undefined) return;
        this.sites.push(e.site);
        this.w.k.leave(f, e.value.k === "int" ? Number(e.value.v) : undefined);
        this.sites.pop();
      } else if (e.type === "mem" && e.e.type === "use-after-free") {
        const kobj = this.kobjOf(e.e.obj);
        const at = this.m?.where()?.caller ?? "?";
        this.sites.push(e.site);
        if (kobj !== null) this.w.k.use(kobj, at, e.e.write ? "write" : "read");
        else
          this.w.k.note(
            "core",
            at,
            "log",
            `use of ${e.e.obj.label} after its end (${e.e.obj.freedAt ?? "?"})`,
          );
        this.sites.pop();
      }
    });
  }

  fn(name: string): EnvFunction | undefined {
    let f = this.wrapped.get(name);
    if (f === undefined) {
      const raw = this.fns.get(name);
      f = raw === undefined ? null : this.api(raw);
      this.wrapped.set(name, f);
    }
    return f ?? undefined;
  }

  global(name: string, m: MachineApi): { obj: Obj; t: CType } | undefined {
    const bus = name === "tee_bus_type" ? "tee" : name === "platform_bus_type" ? "platform" : null;
    if (bus === null) return undefined;
    const t = m.structOf("bus_type");
    if (t === null) return undefined;
    let obj = this.busObjs.get(bus);
    if (obj === undefined) {
      const nameObj = m.object({
        size: bus.length + 1,
        label: `"${bus}"`,
        kind: "env",
        readonly: true,
        bytes: new TextEncoder().encode(`${bus}\u0000`),
      });
      obj = m.object({
        size: m.sizeOf(t),
        label: name,
        kind: "env",
        readonly: true,
        io: {
          read: (off, n) => le(64, nameObj.base).slice(off, off + n),
          write: () => {
            throw new Unsupported(`${name} is the environment's: the C may not write it`);
          },
        },
      });
      this.busObjs.set(bus, obj);
      this.twins.set(obj.id, { k: "bus", bus });
    }
    return { obj, t };
  }

  /** The kernel step's posted C statement, when the posted code made it. */
  siteOfStep(step: number): Site | undefined {
    return this.stepSites[step];
  }

  /**
   * The C state between two events, canonically (src/interp/digest.ts), and what the environment holds for
   * it: locks it holds, drivers it registered, module references it took.
   */
  stateDigest(): string {
    const refs = [...this.moduleRefs.values()].join(",");
    return `${memoryDigest(this.machine.mem)}|locks:${this.lockOwner.size}|drv:${this.drivers.size}|mod:${refs}`;
  }

  get machine(): Machine {
    if (this.m === null) throw new Error("the kernel environment is not attached to a machine");
    return this.m;
  }

  get c(): CMem {
    if (this.cm === null) throw new Error("the kernel environment is not attached to a machine");
    return this.cm;
  }

  // ---- running the C ---------------------------------------------------------------------------------

  /**
   * Runs a C function (by name, or through a function pointer) on a new kernel thread to its end, awaiting
   * the hand model wherever the C waits for it. Throws CannotRunC when the C ends unknown or faults.
   */
  async run(label: string, entry: { name: string } | { fn: Value }, args: readonly Value[]): Promise<Value> {
    const m = this.machine;
    const th: Thread =
      "name" in entry ? m.spawn(label, entry.name, args) : m.spawnPointer(label, entry.fn, args);
    const threads = this.w.k.threads;
    while (!th.done) {
      if (th.runnable) {
        m.step(th);
        // A C yield (a sleeping lock) is a scheduling point of the kernel thread the C runs on.
        if (threads !== null && threads.current !== null && !th.done && th.waiting === null)
          await threads.point(
            `${this.yields.get(th.id) ?? "a C yield"} in ${th.exec.innermost()?.name ?? label}`,
          );
        continue;
      }
      const p = this.pending.get(th.id);
      if (p === undefined && threads !== null && threads.current !== null) {
        // Waiting for another kernel thread (a lock it holds): blocked until the C may go on.
        await threads.block(th.waiting?.reason ?? "?", () => th.runnable);
        continue;
      }
      if (p === undefined) {
        th.result = {
          status: "unknown",
          what: `blocked forever (${th.waiting?.reason ?? "?"}) with no other thread`,
          site: th.exec.site(),
        };
        break;
      }
      await p;
    }
    return this.ended(th, label);
  }

  /**
   * The API call whose hand-model promise is settling while no C runs (the steps its continuations make, as
   * the TA's invoke inside tee_client_invoke_func): the one C thread waiting for the hand model. None when
   * several wait, or kernel threads are scheduled (another thread's hand-model code may be what runs).
   */
  private settlingSite(): Site | undefined {
    const threads = this.w.k.threads;
    if (this.pendingSites.size !== 1 || (threads !== null && threads.current !== null)) return undefined;
    return this.pendingSites.values().next().value;
  }

  /** Suspends the calling thread until a call of the hand model settles; its rejection is thrown in the C. */
  *hand<T>(call: EnvCall, p: Promise<T>): Gen<T> {
    let settled: { ok: true; v: T } | { ok: false; e: unknown } | null = null;
    const done = p.then(
      (v) => {
        settled = { ok: true, v };
      },
      (e: unknown) => {
        settled = { ok: false, e };
      },
    );
    this.pending.set(call.thread.id, done);
    this.pendingSites.set(call.thread.id, call.site);
    try {
      yield { k: "wait", reason: `${call.name} (the hand model)`, ready: () => settled !== null };
    } finally {
      this.pending.delete(call.thread.id);
      this.pendingSites.delete(call.thread.id);
    }
    const s = settled as { ok: true; v: T } | { ok: false; e: unknown } | null;
    if (s === null) throw new Error(`${call.name} resumed before it settled`);
    if (s.ok) return s.v;
    if (s.e instanceof CannotRunC)
      throw s.e.fault ? new Fault("bad-pointer", s.e.what) : new UnknownError(s.e.what, s.e.site);
    throw s.e;
  }

  // ---- lists shared between kernel threads -------------------------------------------------------------

  /**
   * The data-race monitor on lists (Eraser's lockset on list heads), while the kernel runs threads
   * (src/semantics/kthread.ts): a walk of the posted C starts on the running kernel thread; it ends with the
   * iterator's scope.
   */
  private listWalk(head: Value, text: string): (() => void) | null {
    const threads = this.w.k.threads;
    const kt = threads?.current ?? null;
    const th = this.machine.running();
    if (threads === null || kt === null || th === null || head.k !== "ptr") return null;
    // A walk's start and end are ordered against every change of a list (the reduction keeps them apart).
    this.w.k.touch("lists", true);
    const where = postedFrame(th);
    const w: KernelListWalk = {
      kt,
      th,
      head: head.addr,
      text,
      locks: [...threads.holding(kt)],
      fn: where.fn,
      site: where.site,
    };
    const end = this.walks.begin(w);
    return () => {
      end();
      this.w.k.touch("lists", true);
    };
  }

  /**
   * A change of the lists `nodes` are on by the running kernel thread (list_add*, list_del*, list_move*,
   * before they link or unlink): a data race with each walk of one of them another kernel thread is inside
   * (parked in the walk's body) when no lock the walker has held since its walk began is held by the changer.
   */
  private listChange(nodes: readonly Value[]): void {
    const threads = this.w.k.threads;
    const me = threads?.current ?? null;
    const th = this.machine.running();
    if (threads === null || me === null || th === null) return;
    this.w.k.touch("lists", false);
    if (this.walks.empty) return;
    const mine = threads.holding(me);
    const racing = this.walks.racing(this.machine.mem, nodes, mine, {
      other: (w) => w.kt !== me && !w.th.done && w.kt.state !== "done",
      holding: (w) => threads.holding(w.kt),
      same: (a, b) => a === b,
    });
    for (const { walk: w, dropped } of racing) {
      const ch = postedFrame(th);
      const key = `${w.fn}\u0000${ch.fn}\u0000${w.text}`;
      if (this.raced.has(key)) continue;
      this.raced.add(key);
      const held = (ls: readonly LockClass[]): string =>
        ls.length === 0 ? "no lock" : ls.map((l) => l.name).join(", ");
      const f: ThreadFindingOfKernel = {
        kind: "data-race",
        at: ch.fn,
        thread: threads.label(me),
        detail: `${threads.label(me)} changes the list ${w.text} with ${ch.api}() in ${ch.fn}${atSite(ch.site)}, holding ${held(mine)}, while ${threads.label(w.kt)} walks it in ${w.fn}${atSite(w.site)}, parked in the walk (${w.kt.reason}), having begun it with ${held(w.locks)}${dropped.length === 0 ? "" : ` and let ${held(dropped)} go since`}: no lock in common`,
        subject: `${w.fn} / ${ch.fn}`,
        step: this.w.k.lastStep(),
      };
      if (ch.site !== undefined) f.site = { file: ch.site.file, line: ch.site.line };
      threads.findings.push(f);
    }
  }

  // ---- twins -----------------------------------------------------------------------------------------

  twin(v: Value | undefined): { twin: Twin; obj: Obj; off: number } | null {
    if (v === undefined || v.k !== "ptr" || v.addr === 0n) return null;
    const obj = v.obj ?? this.machine.find(v.addr);
    if (obj === null) return null;
    const t = this.twins.get(obj.id);
    return t === undefined ? null : { twin: t, obj, off: Number(v.addr - obj.base) };
  }

  bind(obj: Obj, twin: Twin, key: object | null, freedWith: KObj | null): Obj {
    this.twins.set(obj.id, twin);
    if (key !== null) this.twinOf.set(key, obj);
    if (freedWith !== null) {
      this.dependents.set(freedWith, [...(this.dependents.get(freedWith) ?? []), obj]);
      if (freedWith.freed) {
        obj.freed = true;
        obj.freedAt = freedWith.freedAt;
      }
    }
    return obj;
  }

  /** The kernel object an interpreter object stands for (its lifetime), or null. */
  private kobjOf(obj: Obj): KObj | null {
    const t = this.twins.get(obj.id);
    if (t === undefined) return null;
    switch (t.k) {
      case "kobj":
      case "handle":
        return t.obj;
      case "io":
        return t.mapping;
      case "firmware":
      case "fw-data":
        return t.fw;
      case "rproc":
        return t.rproc.obj;
      case "ext":
        return t.kobj;
      default:
        return null;
    }
  }

  /** A pointer to the bytes of a kernel object (an object the hand model allocated, as a carveout buffer). */
  kobjPtr(kobj: KObj, off: number): Value & { k: "ptr" } {
    let obj = this.twinOf.get(kobj);
    if (obj === undefined) {
      if (!(kobj.data instanceof Uint8Array))
        throw new Unsupported(`${kobj.kind} ${kobj.label} has no bytes the C could address`);
      obj = this.bind(
        this.machine.object({
          size: kobj.data.length,
          label: `${kobj.kind} ${kobj.label}`,
          kind: "env",
          bytes: kobj.data,
        }),
        { k: "kobj", obj: kobj },
        kobj,
        kobj,
      );
    }
    return ptrInto(obj, off, T.void);
  }

  /** A pointer to physical memory `pa` through the window of the platform region holding it. */
  physPtr(pa: number): Value & { k: "ptr" } {
    const r = this.w.platform.regions.find((x) => !x.secure && pa >= x.pa && pa < x.pa + x.size);
    if (r === undefined)
      throw new Unsupported(`physical address 0x${pa.toString(16)} is in no memory region Linux can map`);
    let obj = this.regionViews.get(r.name);
    if (obj === undefined) {
      obj = this.bind(
        this.ioView(r.pa, r.size, `${r.name} window`),
        { k: "io", pa: r.pa, mapping: null },
        null,
        null,
      );
      this.regionViews.set(r.name, obj);
    }
    return ptrInto(obj, pa - r.pa, T.void);
  }

  private ioView(pa: number, size: number, label: string): Obj {
    const p = this.w.platform;
    return this.machine.object({
      size,
      label,
      kind: "env",
      io: {
        read: (off, n) => {
          const r = p.nsRead(pa + off, n);
          if (!r.ok || r.data === null)
            throw new Fault(
              "bad-pointer",
              `non-secure read of ${n} bytes at pa 0x${(pa + off).toString(16)}: ${r.detail}`,
            );
          return r.data;
        },
        write: (off, bytes) => {
          const r = p.nsWrite(pa + off, bytes);
          if (!r.ok)
            throw new Fault(
              "bad-pointer",
              `non-secure write of ${bytes.length} bytes at pa 0x${(pa + off).toString(16)}: ${r.detail}`,
            );
        },
      },
    });
  }

  /** The C pointer of a hand-model pointer (a kernel buffer, or device memory). */
  fromPtr(p: Ptr | null): Value & { k: "ptr" } {
    if (p === null) return NULLP;
    return p.kind === "mem" ? this.kobjPtr(p.obj, p.off) : this.physPtr(p.pa);
  }

  /** The hand-model pointer of a C pointer; one it cannot hold is an unknown naming it. */
  toPtr(v: Value, what: string): Ptr | null {
    if (v.k === "ptr" && v.addr === 0n) return null;
    const t = this.twin(v);
    if (t?.twin.k === "kobj") return { kind: "mem", obj: t.twin.obj as KObj<Uint8Array>, off: t.off };
    if (t?.twin.k === "io") return { kind: "io", pa: t.twin.pa + t.off };
    const obj = v.k === "ptr" ? (v.obj ?? this.machine.find(v.addr)) : null;
    throw new Unsupported(
      `${what}: a pointer to ${obj?.label ?? "nothing known"}, which the hand model cannot hold`,
    );
  }

  /** A C pointer the C gave back to the hand model (a function's result); one it cannot hold stops the run. */
  handPtr(v: Value, what: string): Ptr | null {
    try {
      return this.toPtr(v, what);
    } catch (e) {
      if (e instanceof Unsupported) throw new CannotRunC(e.message, { file: "?", line: 0 }, false);
      throw e;
    }
  }

  stringPtr(text: string): Value & { k: "ptr" } {
    let o = this.strings.get(text);
    if (o === undefined) {
      o = this.c.string(text, `"${text}"`);
      this.strings.set(text, o);
    }
    return ptrInto(o, 0, T.char);
  }

  /** The struct device pointer of a hand-model device (inside its struct tee_client_device / platform_device). */
  devicePtr(dev: Device): Value & { k: "ptr" } {
    const tag = dev.bus === "tee" ? "tee_client_device" : "platform_device";
    let obj = this.twinOf.get(dev);
    const devOff = this.c.member(tag, "dev").off;
    if (obj === undefined) {
      const served: Record<string, Served> = {};
      if (dev.bus === "tee") {
        const m = TA_DEVICE.exec(dev.name);
        if (m !== null) {
          const id = uuidBytes(m[1] as string);
          served.id = { get: () => id };
        }
      } else {
        served.name = { get: () => le(64, this.stringPtr(dev.name).addr) };
      }
      for (const mod of this.modules) Object.assign(served, mod.deviceMembers?.(this, dev, tag) ?? {});
      obj = this.bind(this.c.served(tag, dev.name, served), { k: "device", dev, devOff }, dev, null);
    }
    return ptrInto(obj, devOff, T.void);
  }

  /** The struct platform_device pointer of a hand-model platform device (what a platform driver's probe takes). */
  platformDevicePtr(dev: Device): Value & { k: "ptr" } {
    const p = this.devicePtr(dev);
    return { ...p, addr: p.addr - BigInt(this.c.member("platform_device", "dev").off) };
  }

  /** The hand-model device of a struct platform_device pointer. */
  platformDeviceOf(v: Value | undefined, what: string): Device {
    const t = this.twin(v);
    if (t?.twin.k === "device" && t.off === 0 && t.twin.dev.bus === "platform") return t.twin.dev;
    throw new Unsupported(`${what}: not a struct platform_device the driver core knows`);
  }

  deviceOf(v: Value | undefined, what: string): Device {
    const t = this.twin(v);
    if (t?.twin.k === "device" && t.off === t.twin.devOff) return t.twin.dev;
    throw new Unsupported(`${what}: not a struct device the driver core knows`);
  }

  /** The struct rproc of a hand-model rproc: the members its core keeps, served live. */
  rprocPtr(r: Rproc): Value & { k: "ptr" } {
    let obj = this.twinOf.get(r);
    if (obj === undefined) {
      const state = (): bigint => {
        const v = this.machine.enumValue(`RPROC_${r.state.toUpperCase()}`);
        if (v === undefined)
          throw new Unsupported(`rproc state ${r.state} has no enumerator RPROC_${r.state.toUpperCase()}`);
        return v;
      };
      const table = (get: () => Ptr | null, set: (p: Ptr | null) => void, what: string): Served => ({
        get: () => le(64, this.fromPtr(get()).addr),
        set: (b) => set(this.toPtr(this.addrPtr(unle(b)), `rproc->${what}`)),
      });
      const cached = (
        get: () => KObj<Uint8Array> | null,
        set: (o: KObj<Uint8Array> | null) => void,
        what: string,
      ): Served => ({
        get: () => {
          const o = get();
          return le(64, o === null ? 0n : this.kobjPtr(o, 0).addr);
        },
        set: (b) => {
          const p = this.toPtr(this.addrPtr(unle(b)), `rproc->${what}`);
          if (p !== null && (p.kind !== "mem" || p.off !== 0))
            throw new Unsupported(
              `rproc->${what}: the hand model keeps a whole kernel buffer there, not this pointer`,
            );
          set(p === null ? null : p.obj);
        },
      });
      const flag = (get: () => boolean, set: (v: boolean) => void): Served => ({
        get: () => le(8, get() ? 1 : 0),
        set: (b) => set((b[0] ?? 0) !== 0),
      });
      obj = this.bind(
        this.c.served("rproc", `rproc ${r.name}`, {
          name: { get: () => le(64, this.stringPtr(r.name).addr) },
          firmware: { get: () => le(64, this.stringPtr(r.firmware).addr) },
          state: {
            get: () => le(32, state()),
            set: (b) => {
              const v = unle(b);
              const name = Object.entries(this.machine.program.enums).find(
                ([n, e]) => n.startsWith("RPROC_") && e.v === v && n !== "RPROC_LAST",
              )?.[0];
              const to = name?.slice("RPROC_".length).toLowerCase();
              if (to === undefined) throw new Unsupported(`rproc->state = ${v}, which is no rproc state`);
              const from = r.state;
              r.state = to as Rproc["state"];
              const where = this.machine.where();
              this.w.k.stateChange(
                where === null ? "core" : this.layerOf(where.site.file),
                where?.caller ?? "?",
                r.name,
                from,
                to,
              );
            },
          },
          table_ptr: table(
            () => r.table_ptr,
            (p) => {
              r.table_ptr = p;
            },
            "table_ptr",
          ),
          cached_table: cached(
            () => r.cached_table,
            (o) => {
              r.cached_table = o;
            },
            "cached_table",
          ),
          clean_table: cached(
            () => r.clean_table,
            (o) => {
              r.clean_table = o;
            },
            "clean_table",
          ),
          table_sz: {
            get: () => le(64, r.table_sz),
            set: (b) => {
              r.table_sz = Number(unle(b));
            },
          },
          has_iommu: flag(
            () => r.has_iommu,
            (v) => {
              r.has_iommu = v;
            },
          ),
          auto_boot: flag(
            () => r.auto_boot,
            (v) => {
              r.auto_boot = v;
            },
          ),
          recovery_disabled: flag(
            () => r.recovery_disabled,
            (v) => {
              r.recovery_disabled = v;
            },
          ),
          crash_cnt: { get: () => le(32, r.crash_cnt) },
          bootaddr: {
            get: () => le(64, r.bootaddr),
            set: (b) => {
              r.bootaddr = Number(unle(b));
            },
          },
          ...Object.assign({}, ...this.modules.map((mod) => mod.rprocMembers?.(this, r) ?? {})),
        }),
        { k: "rproc", rproc: r },
        r,
        r.obj,
      );
      // rproc->lock, when the loaded struct rproc has it (a kernel tree's header), is the core's mutex.
      const rt = this.machine.structOf("rproc");
      const lockAt = rt === null ? null : this.machine.structs.member(rt, "lock");
      if (lockAt !== null) this.locks.set(obj.base + BigInt(lockAt.offset), r.lock);
    }
    return ptrInto(obj, 0, T.void);
  }

  rprocOf(v: Value | undefined, what: string): Rproc {
    const t = this.twin(v);
    if (t?.twin.k === "rproc" && t.off === 0) return t.twin.rproc;
    throw new Unsupported(`${what}: not a struct rproc the remoteproc core knows`);
  }

  /** The hand-model firmware of a struct firmware pointer. */
  fwOf(v: Value | undefined, what: string): FwObj {
    const t = this.twin(v);
    if (t?.twin.k === "firmware" && t.off === 0) return t.twin.fw;
    throw new Unsupported(`${what}: not a struct firmware the firmware loader gave`);
  }

  /** The data of an environment module's object behind a pointer, or null when it is not one of `what`. */
  extOf<D>(v: Value | undefined, what: string): { data: D; obj: Obj; off: number } | null {
    const t = this.twin(v);
    if (t?.twin.k !== "ext" || t.twin.what !== what) return null;
    return { data: t.twin.data as D, obj: t.obj, off: t.off };
  }

  /** The struct firmware of a hand-model firmware: size and data, each read a use of the firmware. */
  firmwarePtr(fw: FwObj): Value & { k: "ptr" } {
    let obj = this.twinOf.get(fw);
    if (obj === undefined) {
      const data = this.bind(
        this.machine.object({
          size: fw.data.data.length,
          label: `firmware ${fw.data.name} data`,
          kind: "env",
          bytes: fw.data.data,
          readonly: true,
        }),
        { k: "fw-data", fw },
        null,
        fw,
      );
      this.fwData.set(fw, data);
      const use = (what: string): void => this.w.k.use(fw, this.machine.where()?.caller ?? "?", what);
      obj = this.bind(
        this.c.served("firmware", `firmware ${fw.data.name}`, {
          size: {
            get: () => {
              use("fw->size");
              return le(64, fw.data.data.length);
            },
          },
          data: {
            get: () => {
              use("fw->data");
              return le(64, data.base);
            },
          },
        }),
        { k: "firmware", fw },
        fw,
        fw,
      );
    }
    return ptrInto(obj, 0, T.void);
  }

  handlePtr(kobj: KObj, what: string): Value & { k: "ptr" } {
    let obj = this.twinOf.get(kobj);
    if (obj === undefined)
      obj = this.bind(
        this.c.opaque(`struct ${what}`, `${what} ${kobj.label}`),
        { k: "handle", what, obj: kobj },
        kobj,
        kobj,
      );
    return ptrInto(obj, 0, T.void);
  }

  /** The hand-model object of a handle pointer (NULL: null); anything else is a fault, as the kernel would oops. */
  handleOf<O extends KObj>(v: Value | undefined, what: string, fn: string): O | null {
    if (v === undefined || (v.k === "ptr" && v.addr === 0n)) return null;
    const t = this.twin(v);
    if (t?.twin.k === "handle" && t.twin.what === what && t.off === 0) return t.twin.obj as O;
    const addr = v.k === "ptr" ? v.addr : 0n;
    throw new Fault("bad-pointer", `${fn}: 0x${addr.toString(16)} is not a struct ${what}`);
  }

  addrPtr(addr: bigint): Value & { k: "ptr" } {
    return { k: "ptr", t: { k: "ptr", to: T.void }, addr, obj: this.machine.find(addr) };
  }

  // ---- the kernel APIs -------------------------------------------------------------------------------

  /** Wraps an API: its calls keep the posted line for every kernel step they make. */
  private api(f: (call: EnvCall) => Value | Gen<Value>): EnvFunction {
    const sites = this.sites;
    return (call) => {
      sites.push(call.site);
      let r: Value | Gen<Value>;
      try {
        r = f(call);
      } finally {
        sites.pop();
      }
      if (typeof (r as { next?: unknown }).next !== "function") return r;
      const g = r as Gen<Value>;
      return (function* (): Gen<Value> {
        let input: undefined;
        for (;;) {
          sites.push(call.site);
          let step: IteratorResult<Suspend, Value>;
          try {
            step = g.next(input);
          } finally {
            sites.pop();
          }
          if (step.done) return step.value;
          yield step.value;
        }
      })();
    };
  }

  /** kmalloc and friends: a kernel object of the hand model whose bytes are the C's (`owner`: devm). */
  kmalloc(call: EnvCall, fn: string, size: bigint, flags: bigint, owner: Device | null): Value {
    const k = this.w.k;
    if ((flags & GFP_DIRECATRECLAIM) !== 0n) k.mightSleep(fn, call.caller);
    if (size > 1n << 30n) return NULLP;
    const n = Number(size);
    const label = `${fn}(${n}) at ${base(call.site.file)}:${call.site.line}`;
    const obj = this.machine.object({ size: n, label, kind: "heap" });
    const kobj = k.alloc("mem", label, obj.bytes, call.caller, owner);
    return ptrInto(this.bind(obj, { k: "kobj", obj: kobj }, kobj, kobj), 0, T.void);
  }

  /** ioremap and friends: a mapping (a kernel object, devm when `owner`) viewing the platform's memory. */
  ioremap(call: EnvCall, pa: number, size: number, owner: Device | null): Value {
    const k = this.w.k;
    k.mightSleep(call.name, call.caller);
    const ok =
      size > 0 && this.w.platform.regions.some((r) => !r.secure && pa >= r.pa && pa + size <= r.pa + r.size);
    if (!ok) {
      k.note(
        this.layerOf(call.site.file),
        call.caller,
        "log",
        `${call.name}(0x${pa.toString(16)}, 0x${size.toString(16)}): no memory Linux can map there`,
      );
      return NULLP;
    }
    const mapping = k.alloc(
      "mapping",
      `${call.name} 0x${pa.toString(16)}+0x${size.toString(16)}`,
      pa,
      call.caller,
      owner,
    );
    const view = this.bind(
      this.ioView(pa, size, `${call.name}(0x${pa.toString(16)})`),
      { k: "io", pa, mapping },
      null,
      mapping,
    );
    return ptrInto(view, 0, T.void);
  }

  /** The value an ended kernel thread returned; CannotRunC when it ended unknown or faulted. */
  private ended(th: Thread, label: string): Value {
    this.frames.delete(th.id);
    const r = th.result;
    if (r === null) throw new Error(`thread ${label} ended without a result`);
    if (r.status === "done") return r.value;
    if (r.status === "unknown") throw new CannotRunC(r.what, r.site, false);
    throw new CannotRunC(`${r.kind}: ${r.detail}`, r.site, true);
  }

  /**
   * Runs a C callback in interrupt context (a mailbox's rx callback, an interrupt handler) to its end, at
   * once: it may not wait for anything, so a wait is an unknown naming it.
   */
  runAtomic(label: string, fn: Value, args: readonly Value[], context = "interrupt context"): Value {
    const m = this.machine;
    const th = m.spawnPointer(label, fn, args);
    while (!th.done) {
      if (!th.runnable || this.pending.has(th.id)) {
        th.result = {
          status: "unknown",
          what: `${label} waits (${th.waiting?.reason ?? "?"}) in ${context}`,
          site: th.exec.site(),
        };
        break;
      }
      m.step(th);
    }
    return this.ended(th, label);
  }

  /**
   * The API functions: the kernel's own here, then each module's over those before it. A module's `before`
   * is a view of the layers before it (what a copy of the table would be, without copying it per module and
   * per world; objects chained by prototype cost more to make than the copies). The result is flat: one pass
   * over the layers, the last giving a name wins.
   */
  private table(): ReadonlyMap<string, ApiFn> {
    const k = this.w.k;
    const layer = (call: EnvCall): TraceLayer => this.layerOf(call.site.file);
    const alloc = (call: EnvCall, fn: string, size: bigint, flags: bigint, owner: Device | null): Value =>
      this.kmalloc(call, fn, size, flags, owner);
    const kfree = (call: EnvCall, p: Value | undefined): Value => {
      if (p === undefined || (p.k === "ptr" && p.addr === 0n)) return VOID;
      const t = this.twin(p);
      if (t?.twin.k !== "kobj" || t.off !== 0 || t.obj.kind !== "heap")
        throw new Fault(
          "bad-pointer",
          `${call.name} of a pointer no allocator returned (${t?.obj.label ?? "unknown memory"})`,
        );
      k.kfree(t.twin.obj, call.caller);
      return VOID;
    };
    const log =
      (level: string, dev: boolean) =>
      (call: EnvCall): Value => {
        const args = dev ? call.args.slice(1) : call.args;
        k.note(layer(call), call.caller, "log", `${level}: ${this.format(args)}`);
        return VOID;
      };
    const lock =
      (kind: "spinlock" | "mutex") =>
      (call: EnvCall): LockBase => {
        const p = this.c.ptr(call.args[0], call.name);
        let l = this.locks.get(p.addr);
        if (l === undefined) {
          const obj = p.obj ?? this.machine.find(p.addr);
          const name =
            obj === null
              ? `lock at 0x${p.addr.toString(16)}`
              : p.addr === obj.base
                ? obj.label
                : `${obj.label}+${p.addr - obj.base}`;
          l = kind === "spinlock" ? new SpinLock(k, name) : new Mutex(k, name);
          this.locks.set(p.addr, l);
        }
        if (l.kind !== kind) throw new Unsupported(`${call.name} on ${l.name}, a ${l.kind}`);
        return l;
      };
    const self = this;
    function* acquire(call: EnvCall, l: LockBase): Gen<void> {
      while (l.held && self.lockOwner.get(l) !== call.thread.id)
        yield { k: "wait", reason: `${l.kind} ${l.name} held by ${l.holder ?? "?"}`, ready: () => !l.held };
    }
    const spinLock = (call: EnvCall): Gen<Value> =>
      (function* () {
        const l = lock("spinlock")(call) as SpinLock;
        yield* acquire(call, l);
        l.spin_lock(call.caller);
        self.lockOwner.set(l, call.thread.id);
        return call.name === "__interp_spin_lock_irqsave" ? intVal(T.ulong, 0n) : VOID;
      })();
    const unlock =
      (kind: "spinlock" | "mutex") =>
      (call: EnvCall): Value => {
        const l = lock(kind)(call);
        l.unlock(call.caller);
        this.lockOwner.delete(l);
        return VOID;
      };
    const mutexLock = (call: EnvCall): Gen<Value> =>
      (function* () {
        const l = lock("mutex")(call) as Mutex;
        yield { k: "yield", reason: `${call.name} might sleep` };
        yield* acquire(call, l);
        if (call.name === "mutex_lock_interruptible") {
          const r = l.mutex_lock_interruptible(call.caller);
          if (r === 0) self.lockOwner.set(l, call.thread.id);
          return intVal(T.int, BigInt(r));
        }
        l.mutex_lock(call.caller);
        self.lockOwner.set(l, call.thread.id);
        return VOID;
      })();
    const initLock =
      (kind: "spinlock" | "mutex") =>
      (call: EnvCall): Value => {
        const p = this.c.ptr(call.args[0], call.name);
        const obj = p.obj ?? this.machine.find(p.addr);
        const name =
          obj === null
            ? `lock at 0x${p.addr.toString(16)}`
            : p.addr === obj.base
              ? obj.label
              : `${obj.label}+${p.addr - obj.base}`;
        this.locks.set(p.addr, kind === "spinlock" ? new SpinLock(k, name) : new Mutex(k, name));
        return VOID;
      };
    const ioremap = (call: EnvCall): Value =>
      this.ioremap(call, Number(int(call.args[0], call.name)), Number(int(call.args[1], call.name)), null);
    const iounmap = (call: EnvCall): Value => {
      const t = this.twin(call.args[0]);
      if (t?.twin.k !== "io" || t.twin.mapping === null || t.off !== 0)
        throw new Fault("bad-pointer", `${call.name} of an address no mapping returned`);
      k.free(t.twin.mapping, call.caller);
      return VOID;
    };
    const va = (call: EnvCall, r: { ptr: Ptr; is_iomem: boolean } | null): Value => {
      const isIomem = call.args[3];
      if (isIomem !== undefined && isIomem.k === "ptr" && isIomem.addr !== 0n)
        this.machine.write(isIomem, le(8, r?.is_iomem === true ? 1 : 0));
      return r === null ? NULLP : this.fromPtr(r.ptr);
    };
    const fns: Record<string, (call: EnvCall) => Value | Gen<Value>> = {
      __interp_warn: (call) => {
        const cond = int(call.args[0], "WARN_ON") !== 0n;
        const what = this.machine.cstring(call.args[1] ?? NULLP);
        k.WARN_ON(cond, call.caller, `WARN_ON(${what}) at ${base(call.site.file)}:${call.site.line}`);
        return intVal(T.int, cond ? 1n : 0n);
      },
      kmalloc: (call) =>
        alloc(call, "kmalloc", int(call.args[0], "kmalloc"), int(call.args[1], "kmalloc"), null),
      kzalloc: (call) =>
        alloc(call, "kzalloc", int(call.args[0], "kzalloc"), int(call.args[1], "kzalloc"), null),
      kcalloc: (call) =>
        alloc(
          call,
          "kcalloc",
          int(call.args[0], "kcalloc") * int(call.args[1], "kcalloc"),
          int(call.args[2], "kcalloc"),
          null,
        ),
      kmalloc_array: (call) =>
        alloc(
          call,
          "kmalloc_array",
          int(call.args[0], "kmalloc_array") * int(call.args[1], "kmalloc_array"),
          int(call.args[2], "kmalloc_array"),
          null,
        ),
      devm_kzalloc: (call) =>
        alloc(
          call,
          "devm_kzalloc",
          int(call.args[1], "devm_kzalloc"),
          int(call.args[2], "devm_kzalloc"),
          this.deviceOf(call.args[0], "devm_kzalloc"),
        ),
      devm_kmalloc: (call) =>
        alloc(
          call,
          "devm_kmalloc",
          int(call.args[1], "devm_kmalloc"),
          int(call.args[2], "devm_kmalloc"),
          this.deviceOf(call.args[0], "devm_kmalloc"),
        ),
      kmemdup: (call) => {
        const n = int(call.args[1], "kmemdup");
        const bytes = this.machine.read(this.c.ptr(call.args[0], "kmemdup"), Number(n));
        const p = alloc(call, "kmemdup", n, int(call.args[2], "kmemdup"), null);
        if (p.k === "ptr" && p.addr !== 0n) this.machine.write(p, bytes);
        return p;
      },
      kfree: (call) => kfree(call, call.args[0]),
      devm_kfree: (call) => kfree(call, call.args[1]),
      dev_err: log("err", true),
      dev_warn: log("warn", true),
      dev_notice: log("notice", true),
      dev_info: log("info", true),
      dev_dbg: log("dbg", true),
      pr_err: log("err", false),
      pr_warn: log("warn", false),
      pr_info: log("info", false),
      pr_debug: log("dbg", false),
      spin_lock_init: initLock("spinlock"),
      spin_lock: spinLock,
      spin_lock_irq: spinLock,
      spin_lock_bh: spinLock,
      __interp_spin_lock_irqsave: spinLock,
      spin_unlock: unlock("spinlock"),
      spin_unlock_irq: unlock("spinlock"),
      spin_unlock_bh: unlock("spinlock"),
      spin_unlock_irqrestore: unlock("spinlock"),
      mutex_init: initLock("mutex"),
      mutex_destroy: () => VOID,
      mutex_lock: mutexLock,
      mutex_lock_interruptible: mutexLock,
      mutex_unlock: unlock("mutex"),
      try_module_get: (call) => {
        const p = call.args[0];
        const key = p?.k === "ptr" ? p.addr : 0n;
        const n = (this.moduleRefs.get(key) ?? 0) + 1;
        this.moduleRefs.set(key, n);
        k.note(layer(call), "try_module_get", "state", `module refcount ${n}`);
        return intVal(T.bool, 1n);
      },
      module_put: (call) => {
        const p = call.args[0];
        const key = p?.k === "ptr" ? p.addr : 0n;
        const n = (this.moduleRefs.get(key) ?? 0) - 1;
        this.moduleRefs.set(key, n);
        k.note(layer(call), "module_put", "state", `module refcount ${n}`);
        return VOID;
      },
      ioremap,
      ioremap_wc: ioremap,
      memremap: ioremap,
      iounmap,
      memunmap: iounmap,
      rproc_pa_to_va: (call) => {
        if (!k.facts.core.paToVa)
          throw new Unsupported(
            "rproc_pa_to_va(): the modelled remoteproc core of this design does not have it",
          );
        const r = this.rprocOf(call.args[0], "rproc_pa_to_va");
        return va(
          call,
          rproc_pa_to_va(
            k,
            r,
            Number(int(call.args[1], "rproc_pa_to_va")),
            Number(int(call.args[2], "rproc_pa_to_va")),
          ),
        );
      },
      rproc_da_to_va: (call) => {
        const r = this.rprocOf(call.args[0], "rproc_da_to_va");
        return va(
          call,
          rproc_da_to_va(
            k,
            r,
            Number(int(call.args[1], "rproc_da_to_va")),
            Number(int(call.args[2], "rproc_da_to_va")),
          ),
        );
      },
      device_link_add: (call) => {
        const consumer = this.deviceOf(call.args[0], "device_link_add consumer");
        const supplier = this.deviceOf(call.args[1], "device_link_add supplier");
        const link = this.w.core.device_link_add(
          consumer,
          supplier,
          Number(int(call.args[2], "device_link_add")),
          call.caller,
        );
        return this.handlePtr(link, "device_link");
      },
      device_link_del: (call) => {
        const link = this.handleOf<KObj<DeviceLink>>(call.args[0], "device_link", call.name);
        if (link !== null) this.w.core.device_link_del(link, call.caller);
        return VOID;
      },
      driver_register: (call) => this.driverRegister(call, this.c.ptr(call.args[0], call.name)),
      driver_unregister: (call) => this.driverUnregister(call, this.c.ptr(call.args[0], call.name)),
      tee_client_driver_register: (call) =>
        this.driverRegister(call, this.c.at(call.args[0], "tee_client_driver", "driver")),
      tee_client_driver_unregister: (call) =>
        this.driverUnregister(call, this.c.at(call.args[0], "tee_client_driver", "driver")),
      tee_client_open_context: (call) => this.teeOpenContext(call),
      tee_client_close_context: (call) => {
        const ctx = this.handleOf<TeeContext>(call.args[0], "tee_context", call.name);
        return (function* () {
          yield* self.hand(
            call,
            k.call("tee", "tee_client_close_context", async () => {
              await tee_client_close_context(k, ctx, call.caller);
              return undefined;
            }),
          );
          return VOID;
        })();
      },
      tee_client_open_session: (call) => this.teeOpenSession(call),
      tee_client_close_session: (call) => {
        const ctx = this.handleOf<TeeContext>(call.args[0], "tee_context", call.name);
        const session = Number(int(call.args[1], call.name));
        return (function* () {
          const ret = yield* self.hand(
            call,
            k.call("tee", "tee_client_close_session", () =>
              tee_client_close_session(k, ctx, session, call.caller),
            ),
          );
          return intVal(T.int, BigInt(ret));
        })();
      },
      tee_client_invoke_func: (call) => this.teeInvoke(call),
      tee_shm_register_kernel_buf: (call) => {
        const ctx = this.handleOf<TeeContext>(call.args[0], "tee_context", call.name);
        const p = this.c.ptr(call.args[1], call.name);
        const n = Number(int(call.args[2], call.name));
        const { obj, off } = this.machine.mem.check(p.obj, p.addr, n, false);
        if (obj.io !== null)
          throw new Unsupported(`${call.name} of ${obj.label}, memory the TEE cannot share`);
        const shm = tee_shm_register_kernel_buf(k, ctx, obj.bytes.subarray(off, off + n), call.caller);
        return typeof shm === "number" ? errPtr(shm) : this.handlePtr(shm, "tee_shm");
      },
      tee_shm_free: (call) => {
        const shm = this.handleOf<TeeShm>(call.args[0], "tee_shm", call.name);
        if (shm !== null) tee_shm_free(k, shm, call.caller);
        return VOID;
      },
    };
    const layers: Readonly<Record<string, ApiFn>>[] = [fns];
    const flat = new Map(Object.entries(fns));
    const known = SYNC_APIS.has(this.modules);
    const sync = new Map(known ? [] : Object.keys(fns).map((name) => [name, TABLE_SYNC.has(name)]));
    for (const mod of this.modules) {
      const mine = mod.fns(this, layersView(layers.slice()));
      layers.push(mine);
      for (const name of Object.keys(mine)) {
        flat.set(name, mine[name] as ApiFn);
        if (!known) sync.set(name, mod.sync?.includes(name) === true);
      }
    }
    if (!known) {
      // The interpreter's libc (memset, strcmp, …) where the environment gives no function of that name.
      for (const name of Object.keys(BUILTINS.libc)) if (!flat.has(name)) sync.set(name, true);
      SYNC_APIS.set(this.modules, new Set([...sync].filter(([, plain]) => plain).map(([name]) => name)));
    }
    return flat;
  }

  /**
   * printk's format: C's conversions, and the kernel's %p extensions drivers use (%pa: a phys_addr_t by
   * reference, %pe: an ERR_PTR's errno; any other prints the pointer). A log line never stops the C: what
   * cannot be formatted is kept as written.
   */
  format(args: readonly Value[]): string {
    const m = this.machine;
    const fmtPtr = args[0];
    if (fmtPtr === undefined) return "";
    let fmt: string;
    try {
      fmt = m.cstring(fmtPtr);
    } catch {
      return "(unreadable format)";
    }
    const rest = args.slice(1);
    let ai = 0;
    let out = "";
    const re = /%(%|([-+ #0]*(?:\d+)?(?:\.\d+)?(?:hh|h|ll|l|z|t|j)?)([diuxXocsp]))/g;
    let last = 0;
    for (let mm = re.exec(fmt); mm !== null; mm = re.exec(fmt)) {
      out += fmt.slice(last, mm.index);
      last = re.lastIndex;
      if (mm[1] === "%") {
        out += "%";
        continue;
      }
      const arg = rest[ai++];
      const spec = `%${mm[2] ?? ""}${mm[3] ?? ""}`;
      try {
        if (arg === undefined) throw new Unsupported("missing argument");
        const ext = mm[3] === "p" ? (/^[a-zA-Z]+/.exec(fmt.slice(last))?.[0] ?? "") : "";
        if (ext.startsWith("a")) {
          out += `0x${unle(m.read(arg, 8)).toString(16)}`;
          last += ext.startsWith("ad") ? 2 : 1;
        } else if (ext.startsWith("e")) {
          out += String(arg.k === "ptr" ? BigInt.asIntN(64, arg.addr) : 0n);
          last += 1;
        } else out += formatC(spec, [arg], (p) => m.cstring(p));
      } catch {
        out += spec;
      }
    }
    return `${out}${fmt.slice(last)}`.replace(/\n$/, "");
  }

  // ---- the driver core -------------------------------------------------------------------------------

  private driverRegister(call: EnvCall, drv: Value & { k: "ptr" }): Gen<Value> {
    const c = this.c;
    const name = this.machine.cstring(c.getPtr(drv, "device_driver", "name"));
    const busT = this.twin(c.getPtr(drv, "device_driver", "bus"));
    if (busT?.twin.k !== "bus") throw new Unsupported(`driver ${name}: a bus the driver core does not know`);
    const bus = busT.twin.bus;
    const probe = c.getPtr(drv, "device_driver", "probe");
    const remove = c.getPtr(drv, "device_driver", "remove");
    const hd: Driver = {
      name,
      bus,
      match: (dev) => this.matches(drv, bus, dev),
      probe: async (kk, dev) => {
        this.sameKernel(kk);
        if (probe.addr === 0n) return 0;
        const v = await this.run(`${name} probe`, { fn: probe }, [this.devicePtr(dev)]);
        return v.k === "int" ? Number(v.v) : 0;
      },
      remove: async (kk, dev) => {
        this.sameKernel(kk);
        if (remove.addr !== 0n) await this.run(`${name} remove`, { fn: remove }, [this.devicePtr(dev)]);
      },
    };
    this.drivers.set(drv.addr, hd);
    const self = this;
    return (function* () {
      const ret = yield* self.hand(call, self.w.core.driver_register(hd));
      return intVal(T.int, BigInt(ret));
    })();
  }

  private driverUnregister(call: EnvCall, drv: Value & { k: "ptr" }): Gen<Value> {
    const hd = this.drivers.get(drv.addr);
    if (hd === undefined) throw new Unsupported(`${call.name} of a driver that was not registered`);
    const self = this;
    return (function* () {
      yield* self.hand(call, self.w.core.driver_unregister(hd));
      self.drivers.delete(drv.addr);
      return VOID;
    })();
  }

  /** The bus's match: a TEE client driver's id_table against the device's TA UUID. */
  private matches(drv: Value & { k: "ptr" }, bus: "platform" | "tee", dev: Device): boolean {
    if (dev.bus !== bus) return false;
    if (bus === "platform")
      throw new Unsupported(
        "matching a platform driver (of_match_table over the device tree) is not provided yet",
      );
    const m = TA_DEVICE.exec(dev.name);
    if (m === null) return false;
    const want = m[1] as string;
    const c = this.c;
    const off = c.member("tee_client_driver", "driver").off;
    const tdrv = { ...drv, addr: drv.addr - BigInt(off) };
    let id = c.getPtr(tdrv, "tee_client_driver", "id_table");
    const size = c.sizeOf("tee_client_device_id");
    for (let i = 0; i < 64 && id.addr !== 0n; i++) {
      const b = this.machine.read(c.at(id, "tee_client_device_id", "uuid"), 16);
      if (b.every((x) => x === 0)) return false;
      if (uuidText(b) === want) return true;
      id = { ...id, addr: id.addr + BigInt(size) };
    }
    return false;
  }

  private sameKernel(kk: Kernel): void {
    if (kk !== this.w.k)
      throw new Error(
        "the interpreted driver runs on the kernel it was loaded in (a forked world is not supported yet)",
      );
  }

  // ---- the TEE client API ----------------------------------------------------------------------------

  private teeOpenContext(call: EnvCall): Gen<Value> {
    const [start, match, data, vers] = call.args;
    if (start !== undefined && start.k === "ptr" && start.addr !== 0n)
      throw new Unsupported(
        "tee_client_open_context with a start context is not provided by the environment",
      );
    if (vers !== undefined && vers.k === "ptr" && vers.addr !== 0n)
      throw new Unsupported(
        "tee_client_open_context filling in the version data is not provided by the environment",
      );
    const self = this;
    const k = this.w.k;
    return (function* () {
      const matched = new Set<number>();
      for (const d of self.w.teedevs) {
        if (match === undefined || (match.k === "ptr" && match.addr === 0n)) {
          matched.add(d.implId);
          continue;
        }
        const ver = self.c.served("tee_ioctl_version_data", `version data of ${d.name}`, {
          impl_id: { get: () => le(32, d.implId) },
        });
        const r = yield* self.machine.callFunction(match, [ptrInto(ver, 0, T.void), data ?? NULLP]);
        if (truthy(r)) matched.add(d.implId);
      }
      const ctx = tee_client_open_context(k, self.w.teedevs, (v) => matched.has(v.impl_id), call.caller);
      return typeof ctx === "number" ? errPtr(ctx) : self.handlePtr(ctx, "tee_context");
    })();
  }

  /** The TEE parameters of a C array of struct tee_param, as the emulated TA takes them. */
  private readParams(p: Value | undefined, n: number, fn: string): TeeParam[] {
    const c = this.c;
    const size = c.sizeOf("tee_param");
    const out: TeeParam[] = [];
    for (let i = 0; i < n; i++) {
      if (p === undefined || p.k !== "ptr" || p.addr === 0n)
        throw new Fault("null-deref", `${fn}: NULL parameters`);
      const at = { ...p, addr: p.addr + BigInt(i * size) };
      const attr = Number(c.getInt(at, "tee_param", "attr") & 0xffn);
      const a = Number(c.getInt(at, "tee_param", "u.value.a"));
      const b = Number(c.getInt(at, "tee_param", "u.value.b"));
      switch (attr) {
        case ATTR.NONE:
          out.push({ type: "none" });
          break;
        case ATTR.VALUE_INPUT:
          out.push({ type: "value-in", a, b });
          break;
        case ATTR.VALUE_OUTPUT:
          out.push({ type: "value-out", a, b });
          break;
        case ATTR.VALUE_INOUT:
          out.push({ type: "value-inout", a, b });
          break;
        case ATTR.MEMREF_INPUT: {
          const shm = this.handleOf<TeeShm>(c.getPtr(at, "tee_param", "u.memref.shm"), "tee_shm", fn);
          if (shm === null) throw new Unsupported(`${fn}: a memref parameter without shared memory`);
          out.push({
            type: "memref-in",
            shm: shm.data.id,
            offset: Number(c.getInt(at, "tee_param", "u.memref.shm_offs")),
            size: Number(c.getInt(at, "tee_param", "u.memref.size")),
          });
          break;
        }
        default:
          throw new Unsupported(
            `${fn}: TEE parameter ${i} of attribute ${attr}, which the emulated TA does not take`,
          );
      }
    }
    return out;
  }

  /** Writes the TA's outputs back into the C's parameters (values of output and in/out parameters). */
  private writeParams(p: Value | undefined, params: readonly TeeParam[], n: number): void {
    if (p === undefined || p.k !== "ptr") return;
    const c = this.c;
    const size = c.sizeOf("tee_param");
    for (let i = 0; i < n; i++) {
      const q = params[i];
      if (q === undefined || (q.type !== "value-out" && q.type !== "value-inout")) continue;
      const at = { ...p, addr: p.addr + BigInt(i * size) };
      const attr = Number(c.getInt(at, "tee_param", "attr") & 0xffn);
      if (attr !== ATTR.VALUE_OUTPUT && attr !== ATTR.VALUE_INOUT) continue;
      c.setInt(at, "tee_param", "u.value.a", BigInt(q.a >>> 0));
      c.setInt(at, "tee_param", "u.value.b", BigInt(q.b >>> 0));
    }
  }

  /** The TA UUIDs the emulated OP-TEE hosts: those of the TEE bus devices it enumerated. */
  private hostedTas(): Set<string> {
    const out = new Set<string>();
    for (const d of this.w.core.devices) {
      const m = d.bus === "tee" ? TA_DEVICE.exec(d.name) : null;
      if (m !== null) out.add(m[1] as string);
    }
    return out;
  }

  private teeOpenSession(call: EnvCall): Gen<Value> {
    const k = this.w.k;
    const c = this.c;
    const ctx = this.handleOf<TeeContext>(call.args[0], "tee_context", call.name);
    const arg = c.ptr(call.args[1], call.name);
    const AT = "tee_ioctl_open_session_arg";
    const uuid = uuidText(this.machine.read(c.at(arg, AT, "uuid"), 16));
    if (!this.hostedTas().has(uuid))
      throw new Unsupported(`${call.name}: a session to TA ${uuid}, which the emulated OP-TEE does not host`);
    const n = Number(c.getInt(arg, AT, "num_params"));
    const params = this.readParams(call.args[2], n, call.name);
    const harg: OpenSessionArg = {
      uuid,
      clnt_login: Number(c.getInt(arg, AT, "clnt_login")),
      ret: 0,
      session: 0,
    };
    const self = this;
    return (function* () {
      const ret = yield* self.hand(
        call,
        k.call("tee", "tee_client_open_session", () =>
          tee_client_open_session(k, ctx, harg, params, call.caller),
        ),
      );
      c.setInt(arg, AT, "ret", BigInt(harg.ret >>> 0));
      c.setInt(arg, AT, "session", BigInt(harg.session >>> 0));
      return intVal(T.int, BigInt(ret));
    })();
  }

  private teeInvoke(call: EnvCall): Gen<Value> {
    const k = this.w.k;
    const c = this.c;
    const ctx = this.handleOf<TeeContext>(call.args[0], "tee_context", call.name);
    const arg = c.ptr(call.args[1], call.name);
    const AT = "tee_ioctl_invoke_arg";
    const func = Number(c.getInt(arg, AT, "func"));
    const n = Number(c.getInt(arg, AT, "num_params"));
    const params = this.readParams(call.args[2], n, call.name);
    const harg: InvokeArg = { func, session: Number(c.getInt(arg, AT, "session")), ret: 0 };
    const self = this;
    return (function* () {
      const ret = yield* self.hand(
        call,
        k.call(
          "tee",
          "tee_client_invoke_func",
          () => tee_client_invoke_func(k, ctx, harg, params, call.caller),
          {
            detail: taCommandName(func),
          },
        ),
      );
      c.setInt(arg, AT, "ret", BigInt(harg.ret >>> 0));
      self.writeParams(call.args[2], params, n);
      // A TA error is a failure the caller sees in arg->ret (the error-swallowed monitor reads it).
      if (ret >= 0 && harg.ret !== 0) k.reportFailure(`TA ${taCommandName(func)}`, harg.ret);
      return intVal(T.int, BigInt(ret));
    })();
  }
}
