/**
 * The remoteproc core's API for a driver run from C (drivers/remoteproc/remoteproc_core.c, remoteproc_coredump.c,
 * remoteproc_virtio.c's rproc_vq_interrupt, remoteproc_elf_loader.c), backed by the hand model's core
 * (src/semantics/remoteproc_core.ts): the rproc a driver allocates is the hand model's, with the driver's ops
 * table read from the C (each op the core calls runs the C function it points to, or the environment's
 * function it names), its private data the C's memory, freed with the rproc. The members of struct rproc
 * the core keeps in lists (traces, dump segments) are served as lists of the C's layout.
 */
import type { FwObj, IoMem, Ptr, Rproc, RprocMemEntry, RprocOps } from "../../semantics/remoteproc_core.ts";
import {
  devm_rproc_alloc,
  rproc_add,
  rproc_add_carveout,
  rproc_boot,
  rproc_del,
  rproc_mem_entry_init,
  rproc_report_crash,
  rproc_resource_cleanup,
  rproc_shutdown,
} from "../../semantics/remoteproc_core.ts";
import {
  rproc_elf_find_loaded_rsc_table,
  rproc_elf_get_boot_addr,
  rproc_elf_load_rsc_table,
  rproc_elf_load_segments,
  rproc_elf_sanity_check,
} from "../../semantics/remoteproc_elf_loader.ts";
import { rproc_vq_interrupt } from "../../semantics/remoteproc_virtio.ts";
import type { EnvCall, Gen } from "../env.ts";
import type { Obj, Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, ptrInto, Unsupported, VOID } from "../values.ts";
import { le, type Served, unle } from "./cmem.ts";
import { CannotRunC, type EnvModule, type KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const EINVAL = 22;
const ELFCLASS32 = 1;
const ELFCLASS64 = 2;

interface Segment {
  da: bigint;
  size: bigint;
}

interface State {
  readonly priv: Map<Rproc, Obj>;
  readonly mems: Map<RprocMemEntry, Obj>;
  /** The C pointer a driver stored in mem->va, and the hand-model pointer it became. */
  readonly memVa: Map<RprocMemEntry, { c: Value; hand: Ptr | null }>;
  readonly memPriv: Map<RprocMemEntry, bigint>;
  readonly segments: Map<Rproc, Segment[]>;
  readonly elf: Map<Rproc, { cls: number; machine: number }>;
  readonly items: Map<object, Obj>;
  /** Members a series adds to struct rproc for its own driver's use (rproc_tee_itf): the C's storage. */
  readonly own: Map<Rproc, Map<string, Uint8Array>>;
}

const state = perKernel<State>(() => ({
  priv: new Map(),
  mems: new Map(),
  memVa: new Map(),
  memPriv: new Map(),
  segments: new Map(),
  elf: new Map(),
  items: new Map(),
  own: new Map(),
}));

const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};
const num = (v: Value): number => (v.k === "int" ? Number(BigInt.asIntN(32, v.v)) : 0);
const ret = (n: number): Value => intVal(T.int, BigInt(n));

/** The name of the C function a function pointer points to (for the thread and the trace). */
function fnName(env: KernelEnv, fn: Value): string {
  if (fn.k !== "ptr") return "?";
  const o = fn.obj ?? env.machine.find(fn.addr);
  const c = o?.callee;
  if (c === undefined || c === null) return o?.label ?? "?";
  return c.k === "c" ? c.def.name : c.name;
}

/** Linux's ioremap access to the platform's memory, for the core's own copies (the hand model's IoMem). */
function ioOf(env: KernelEnv): IoMem {
  const p = env.w.platform;
  return {
    read: (pa, len) => {
      const r = p.nsRead(pa, len);
      return r.ok ? r.data : null;
    },
    write: (pa, bytes) => p.nsWrite(pa, bytes).ok,
  };
}

function store(env: KernelEnv) {
  const s = env.w.store;
  if (s === undefined)
    throw new Unsupported("the remoteproc core needs /lib/firmware, which this world does not give");
  return s;
}

/** A C op the hand model's core cannot call (it calls it synchronously, or with arguments it does not have). */
function notCallable(name: string): never {
  throw new CannotRunC(
    `ops->${name} of the driver: the hand model's core cannot call a C ${name} op yet`,
    { file: "?", line: 0 },
    false,
  );
}

/** The hand-model ops table of a C struct rproc_ops: each op runs the C (or environment) function it holds. */
export function opsFromC(env: KernelEnv, p: Value): RprocOps {
  const c = env.c;
  const t = c.struct("rproc_ops");
  const ops: Record<string, unknown> = {};
  for (const f of env.machine.structs.get(t).fields) {
    if (f.name === null) continue;
    const name = f.name;
    const fn = c.getPtr(p, "rproc_ops", name);
    if (fn.addr === 0n) continue;
    ops[name] = opOf(env, name, fn);
  }
  return ops as RprocOps;
}

/** The hand-model op of a C function pointer held by struct rproc_ops member `name`. */
function opOf(env: KernelEnv, name: string, fn: Value & { k: "ptr" }): unknown {
  const label = fnName(env, fn);
  const run = (args: readonly Value[]): Promise<Value> => env.run(label, { fn }, args);
  switch (name) {
    case "prepare":
    case "unprepare":
    case "start":
    case "stop":
    case "attach":
    case "detach":
      return async (_k: unknown, r: Rproc) => num(await run([env.rprocPtr(r)]));
    case "kick":
      return async (_k: unknown, r: Rproc, vqid: number) => {
        await run([env.rprocPtr(r), intVal(T.int, BigInt(vqid))]);
      };
    case "parse_fw":
    case "load":
    case "load_segments":
    case "sanity_check":
    case "load_fw":
      return async (_k: unknown, r: Rproc, fw: FwObj) =>
        num(await run([env.rprocPtr(r), env.firmwarePtr(fw)]));
    case "get_boot_addr":
      return async (_k: unknown, r: Rproc, fw: FwObj) => {
        const v = await run([env.rprocPtr(r), env.firmwarePtr(fw)]);
        return v.k === "int" ? Number(v.v) : 0;
      };
    case "find_loaded_rsc_table":
      return async (_k: unknown, r: Rproc, fw: FwObj) =>
        env.handPtr(await run([env.rprocPtr(r), env.firmwarePtr(fw)]), `ops->${name} (${label})`);
    case "get_loaded_rsc_table":
      return async (_k: unknown, r: Rproc) => {
        const sz = env.machine.alloc(8, `table_sz of ${label}`, T.ulong);
        const v = await run([env.rprocPtr(r), sz]);
        if (v.k !== "ptr" || v.addr === 0n) return null;
        const e = BigInt.asIntN(64, v.addr);
        if (e < 0n && e >= -4095n) return Number(e);
        const table = env.handPtr(v, `ops->${name} (${label})`);
        return table === null ? null : { table, size: Number(unle(env.machine.read(sz, 8))) };
      };
    case "release_fw":
      return async (_k: unknown, r: Rproc) => {
        await run([env.rprocPtr(r)]);
      };
    default:
      return () => notCallable(name);
  }
}

/**
 * The core's ELF defaults (rproc_alloc_ops) as the C of the tree's remoteproc_elf_loader.c when it is loaded:
 * the hand model's core puts its own helpers in the ops a driver leaves empty.
 */
function cElfDefaults(env: KernelEnv, r: Rproc): void {
  const helpers: [unknown, string][] = [
    [rproc_elf_load_segments, "rproc_elf_load_segments"],
    [rproc_elf_load_rsc_table, "rproc_elf_load_rsc_table"],
    [rproc_elf_find_loaded_rsc_table, "rproc_elf_find_loaded_rsc_table"],
    [rproc_elf_sanity_check, "rproc_elf_sanity_check"],
    [rproc_elf_get_boot_addr, "rproc_elf_get_boot_addr"],
  ];
  const ops = r.ops as Record<string, unknown>;
  for (const [op, f] of Object.entries(ops)) {
    const name = helpers.find(([h]) => h === f)?.[1];
    const def = name === undefined ? undefined : env.machine.program.functions[name];
    if (name === undefined || def === undefined) continue;
    const obj = env.machine.functionObj(name, { k: "c", def }, name);
    ops[op] = opOf(env, op, ptrInto(obj, 0, T.void));
  }
}

/** The struct rproc_mem_entry of a hand-model carveout: its members served live, freed with it. */
export function memEntryPtr(env: KernelEnv, mem: RprocMemEntry): Value & { k: "ptr" } {
  const s = state(env);
  let obj = s.mems.get(mem);
  if (obj === undefined) {
    const u = (bits: 8 | 32 | 64, get: () => number, set?: (v: number) => void): Served => ({
      get: () => le(bits, BigInt.asUintN(bits, BigInt(get()))),
      ...(set === undefined ? {} : { set: (b: Uint8Array) => set(Number(unle(b))) }),
    });
    const fnPtr = (f: RprocMemEntry["alloc"], what: string): Served => ({
      get: () => {
        if (f === null) return le(64, 0n);
        const c = cFns.get(f)?.c;
        if (c?.k !== "ptr")
          throw new Unsupported(`mem->${what} of ${mem.name}: the hand model's core made it, not the C`);
        return le(64, c.addr);
      },
    });
    obj = env.bind(
      env.c.served("rproc_mem_entry", `rproc_mem_entry ${mem.name}`, {
        va: {
          get: () => {
            const raw = s.memVa.get(mem);
            if (raw !== undefined && raw.hand === mem.va && raw.c.k === "ptr") return le(64, raw.c.addr);
            return le(64, env.fromPtr(mem.va).addr);
          },
          set: (b) => {
            const v = env.addrPtr(unle(b));
            const hand = env.toPtr(v, "mem->va");
            mem.va = hand;
            s.memVa.set(mem, { c: v, hand });
          },
        },
        is_iomem: u(
          8,
          () => (mem.is_iomem ? 1 : 0),
          (v) => {
            mem.is_iomem = v !== 0;
          },
        ),
        dma: u(
          64,
          () => mem.dma,
          (v) => {
            mem.dma = v;
          },
        ),
        len: u(
          64,
          () => mem.len,
          (v) => {
            mem.len = v;
          },
        ),
        da: u(
          32,
          () => mem.da,
          (v) => {
            mem.da = v;
          },
        ),
        rsc_offset: u(32, () => mem.rsc_offset),
        of_resm_idx: u(32, () => mem.of_resm_idx),
        priv: {
          get: () => le(64, s.memPriv.get(mem) ?? 0n),
          set: (b) => {
            s.memPriv.set(mem, unle(b));
          },
        },
        name: {
          get: () => {
            const out = new Uint8Array(32);
            out.set(new TextEncoder().encode(mem.name).subarray(0, 31));
            return out;
          },
        },
        alloc: fnPtr(mem.alloc, "alloc"),
        release: fnPtr(mem.release, "release"),
      }),
      { k: "ext", what: "rproc_mem_entry", data: mem, kobj: mem.obj },
      null,
      mem.obj,
    );
    s.mems.set(mem, obj);
  }
  return ptrInto(obj, 0, T.void);
}

/** The C function pointer behind a hand-model alloc/release the environment made of it. */
const cFns = new WeakMap<object, { c: Value }>();

function memOf(env: KernelEnv, v: Value | undefined, what: string): RprocMemEntry {
  const e = env.extOf<RprocMemEntry>(v, "rproc_mem_entry");
  if (e === null || e.off !== 0) throw new Unsupported(`${what}: not a struct rproc_mem_entry of the core`);
  return e.data;
}

/** A carveout allocator/release of the C, as the hand model's core calls it. */
function memFn(env: KernelEnv, fn: Value | undefined): RprocMemEntry["alloc"] {
  if (fn === undefined || fn.k !== "ptr" || fn.addr === 0n) return null;
  const label = fnName(env, fn);
  const f = async (_k: unknown, r: Rproc, mem: RprocMemEntry): Promise<number> =>
    num(await env.run(label, { fn }, [env.rprocPtr(r), memEntryPtr(env, mem)]));
  cFns.set(f, { c: fn });
  return f;
}

/**
 * A list the hand model keeps as an array, served to the C as a list_head of the C's layout: `head` is the
 * list_head's address; each item is an object whose `node` member links it.
 */
function listHead(head: () => bigint, items: () => { obj: Obj; nodeOff: number }[]): Served {
  return {
    get: () => {
      const xs = items();
      const first = xs[0];
      const last = xs[xs.length - 1];
      const h = head();
      const next = first === undefined ? h : first.obj.base + BigInt(first.nodeOff);
      const prev = last === undefined ? h : last.obj.base + BigInt(last.nodeOff);
      return new Uint8Array([...le(64, next), ...le(64, prev)]);
    },
  };
}

function itemNode(head: () => bigint, items: () => { obj: Obj; nodeOff: number }[], self: () => Obj): Served {
  return {
    get: () => {
      const xs = items();
      const i = xs.findIndex((x) => x.obj === self());
      const at = (j: number): bigint => {
        const x = xs[j];
        return x === undefined ? head() : x.obj.base + BigInt(x.nodeOff);
      };
      return new Uint8Array([...le(64, at(i + 1)), ...le(64, i <= 0 ? head() : at(i - 1))]);
    },
  };
}

function memberAddr(env: KernelEnv, r: Rproc, member: string): bigint {
  return env.rprocPtr(r).addr + BigInt(env.c.member("rproc", member).off);
}

/** rproc->traces: the hand model's trace carveouts as struct rproc_debug_trace (remoteproc_internal.h). */
function traceItems(env: KernelEnv, r: Rproc): { obj: Obj; nodeOff: number }[] {
  const s = state(env);
  const head = () => memberAddr(env, r, "traces");
  const nodeOff = env.c.member("rproc_debug_trace", "node").off;
  return r.traces.map((t) => {
    let obj = s.items.get(t);
    if (obj === undefined) {
      const use = (what: string) => env.w.k.use(t, env.machine.where()?.caller ?? "?", what);
      const self = () => s.items.get(t) as Obj;
      obj = env.bind(
        env.c.served("rproc_debug_trace", `trace ${t.data.name}`, {
          rproc: { get: () => le(64, env.rprocPtr(r).addr) },
          node: itemNode(head, () => traceItems(env, r), self),
          "trace_mem.da": {
            get: () => {
              use("trace->trace_mem.da");
              return le(32, t.data.da);
            },
          },
          "trace_mem.len": {
            get: () => {
              use("trace->trace_mem.len");
              return le(64, t.data.len);
            },
          },
        }),
        { k: "ext", what: "rproc_debug_trace", data: t, kobj: t },
        null,
        t,
      );
      s.items.set(t, obj);
    }
    return { obj, nodeOff };
  });
}

/** rproc->dump_segments: the segments drivers added (the hand model has no coredump; the environment keeps them). */
function segmentItems(env: KernelEnv, r: Rproc): { obj: Obj; nodeOff: number }[] {
  const s = state(env);
  const head = () => memberAddr(env, r, "dump_segments");
  const nodeOff = env.c.member("rproc_dump_segment", "node").off;
  return (s.segments.get(r) ?? []).map((seg) => {
    let obj = s.items.get(seg);
    if (obj === undefined) {
      const self = () => s.items.get(seg) as Obj;
      obj = env.bind(
        env.c.served("rproc_dump_segment", `dump segment 0x${seg.da.toString(16)}`, {
          node: itemNode(head, () => segmentItems(env, r), self),
          da: { get: () => le(64, seg.da) },
          size: { get: () => le(64, seg.size) },
        }),
        { k: "ext", what: "rproc_dump_segment", data: seg, kobj: r.obj },
        null,
        r.obj,
      );
      s.items.set(seg, obj);
    }
    return { obj, nodeOff };
  });
}

/** A pointer member of struct rproc the C owns (zero at rproc_alloc's kzalloc). */
function own(s: State, r: Rproc, member: string): Served {
  const of = () => {
    let m = s.own.get(r);
    if (m === undefined) {
      m = new Map();
      s.own.set(r, m);
    }
    return m;
  };
  return {
    get: () => of().get(member) ?? new Uint8Array(8),
    set: (b) => {
      of().set(member, b.slice());
    },
  };
}

/** enum rproc_crash_type's enumerator of a value, as the hand model names crash types ("watchdog"). */
function crashType(env: KernelEnv, v: bigint): string {
  for (const name of ["RPROC_MMUFAULT", "RPROC_WATCHDOG", "RPROC_FATAL_ERROR"]) {
    if (env.machine.enumValue(name) === v) return name.slice("RPROC_".length).toLowerCase().replace("_", " ");
  }
  return `type ${v}`;
}

export const REMOTEPROC_CORE: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["rproc_coredump_add_segment", "rproc_coredump_set_elf_info"],
  rprocMembers: (env, r) => {
    const s = state(env);
    return {
      priv: {
        get: () => {
          const p = s.priv.get(r);
          if (p === undefined)
            throw new Unsupported(
              `rproc->priv of ${r.name}, whose driver is the hand model's (its private data is not C memory)`,
            );
          return le(64, p.base);
        },
      },
      "dev.parent": { get: () => le(64, env.devicePtr(r.dev).addr) },
      "power.counter": { get: () => le(32, r.power.read()) },
      traces: listHead(
        () => memberAddr(env, r, "traces"),
        () => traceItems(env, r),
      ),
      dump_segments: listHead(
        () => memberAddr(env, r, "dump_segments"),
        () => segmentItems(env, r),
      ),
      // The TEE client driver's link from the rproc (v14, v15): kept for the C, which alone uses it.
      rproc_tee_itf: own(s, r, "rproc_tee_itf"),
      elf_class: { get: () => le(8, s.elf.get(r)?.cls ?? 0) },
      elf_machine: { get: () => le(16, s.elf.get(r)?.machine ?? 0) },
    };
  },
  fns: (env) => {
    const k = env.w.k;
    const rproc = (call: EnvCall, i = 0): Rproc => env.rprocOf(call.args[i], call.name);
    const hand = <R>(call: EnvCall, p: Promise<R>, out: (v: R) => Value): Gen<Value> =>
      (function* () {
        return out(yield* env.hand(call, p));
      })();
    return {
      /** remoteproc_core.c: devm_rproc_alloc() — the core's rproc with the C's ops and private data */
      devm_rproc_alloc: (call) => {
        const dev = env.deviceOf(call.args[0], call.name);
        const name = env.machine.cstring(call.args[1] ?? NULLP);
        const ops = opsFromC(env, env.c.ptr(call.args[2], call.name));
        const fwArg = call.args[3];
        const firmware =
          fwArg === undefined || (fwArg.k === "ptr" && fwArg.addr === 0n) ? null : env.machine.cstring(fwArg);
        const len = Number(int(call.args[4], call.name));
        const r = devm_rproc_alloc(k, dev, name, ops, firmware, ioOf(env));
        if (r === null) return NULLP;
        cElfDefaults(env, r);
        const priv = env.bind(
          env.machine.object({ size: Math.max(len, 1), label: `rproc ${name} priv`, kind: "heap" }),
          { k: "ext", what: "rproc priv", data: r, kobj: r.obj },
          null,
          r.obj,
        );
        state(env).priv.set(r, priv);
        return env.rprocPtr(r);
      },
      /** remoteproc_core.c: rproc_add() */
      rproc_add: (call) => hand(call, rproc_add(k, rproc(call), store(env)), ret),
      /** remoteproc_core.c: rproc_del() */
      rproc_del: (call) => hand(call, rproc_del(k, rproc(call)), ret),
      /** remoteproc_core.c: rproc_boot() */
      rproc_boot: (call) => hand(call, rproc_boot(k, rproc(call), store(env)), ret),
      /** remoteproc_core.c: rproc_shutdown() */
      rproc_shutdown: (call) => hand(call, rproc_shutdown(k, rproc(call)), ret),
      /** remoteproc_core.c: rproc_resource_cleanup() */
      rproc_resource_cleanup: (call) => hand(call, rproc_resource_cleanup(k, rproc(call)), () => VOID),
      /** remoteproc_core.c: rproc_report_crash() — safe in interrupt context: queues the crash handler */
      rproc_report_crash: (call) => {
        const a = call.args[0];
        const r = a !== undefined && a.k === "ptr" && a.addr === 0n ? null : rproc(call);
        rproc_report_crash(k, r, crashType(env, int(call.args[1], call.name)), store(env));
        return VOID;
      },
      /** remoteproc_virtio.c: rproc_vq_interrupt() — IRQ_NONE when no registered vring has the id */
      rproc_vq_interrupt: (call) => {
        const r = rproc(call);
        const id = Number(int(call.args[1], call.name));
        const handled = r.notifyids.get(id)?.registered === true;
        return hand(call, rproc_vq_interrupt(k, r, id), () => ret(handled ? 1 : 0));
      },
      /** remoteproc_core.c: rproc_mem_entry_init() (name: a printf format) */
      rproc_mem_entry_init: (call) => {
        const name = env.format(call.args.slice(7));
        const mem = rproc_mem_entry_init(
          k,
          name,
          Number(int(call.args[2], call.name)),
          Number(int(call.args[3], call.name)),
          Number(int(call.args[4], call.name)),
          memFn(env, call.args[5]),
          memFn(env, call.args[6]),
          call.caller,
        );
        const va = call.args[1];
        if (va !== undefined && va.k === "ptr" && va.addr !== 0n) {
          mem.va = env.toPtr(va, "rproc_mem_entry_init va");
          state(env).memVa.set(mem, { c: va, hand: mem.va });
        }
        return memEntryPtr(env, mem);
      },
      /** remoteproc_core.c: rproc_of_resm_mem_entry_init() — a region whose memory the vdev allocates from */
      rproc_of_resm_mem_entry_init: (call) => {
        const name = env.format(call.args.slice(4));
        const mem = rproc_mem_entry_init(
          k,
          name,
          0,
          Number(int(call.args[2], call.name)),
          Number(int(call.args[3], call.name)),
          null,
          null,
          call.caller,
        );
        mem.of_resm_idx = Number(int(call.args[1], call.name));
        return memEntryPtr(env, mem);
      },
      /** remoteproc_core.c: rproc_add_carveout() */
      rproc_add_carveout: (call) => {
        rproc_add_carveout(rproc(call), memOf(env, call.args[1], call.name));
        return VOID;
      },
      /** remoteproc_coredump.c: rproc_coredump_add_segment() (kept by the environment: no coredump in the model) */
      rproc_coredump_add_segment: (call) => {
        const r = rproc(call);
        k.mightSleep("kzalloc", call.caller);
        const s = state(env);
        const list = s.segments.get(r) ?? [];
        list.push({ da: int(call.args[1], call.name), size: int(call.args[2], call.name) });
        s.segments.set(r, list);
        return ret(0);
      },
      /** remoteproc_coredump.c: rproc_coredump_set_elf_info() */
      rproc_coredump_set_elf_info: (call) => {
        const r = rproc(call);
        const cls = Number(int(call.args[1], call.name));
        if (cls !== ELFCLASS32 && cls !== ELFCLASS64) return ret(-EINVAL);
        state(env).elf.set(r, { cls, machine: Number(int(call.args[2], call.name)) });
        return ret(0);
      },
      /** remoteproc_elf_loader.c: rproc_elf_load_segments() (the hand model's loader) */
      rproc_elf_load_segments: (call) =>
        hand(call, rproc_elf_load_segments(k, rproc(call), env.fwOf(call.args[1], call.name)), ret),
      /** remoteproc_elf_loader.c: rproc_elf_load_rsc_table() */
      rproc_elf_load_rsc_table: (call) =>
        hand(call, rproc_elf_load_rsc_table(k, rproc(call), env.fwOf(call.args[1], call.name)), ret),
      /** remoteproc_elf_loader.c: rproc_elf_sanity_check() */
      rproc_elf_sanity_check: (call) =>
        hand(call, rproc_elf_sanity_check(k, rproc(call), env.fwOf(call.args[1], call.name)), ret),
      /** remoteproc_elf_loader.c: rproc_elf_get_boot_addr() */
      rproc_elf_get_boot_addr: (call) =>
        hand(call, rproc_elf_get_boot_addr(k, rproc(call), env.fwOf(call.args[1], call.name)), (v) =>
          intVal(T.ulong, BigInt(v)),
        ),
      /** remoteproc_elf_loader.c: rproc_elf_find_loaded_rsc_table() */
      rproc_elf_find_loaded_rsc_table: (call) =>
        hand(call, rproc_elf_find_loaded_rsc_table(k, rproc(call), env.fwOf(call.args[1], call.name)), (p) =>
          env.fromPtr(p),
        ),
    };
  },
};
