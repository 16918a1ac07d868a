/**
 * Kernel helpers the remoteproc core calls that no modelled file gives, each over the hand model's kernel:
 * mm/util.c's string duplicates (kernel objects, as kmalloc's), kernel/dma/mapping.c's coherent buffers
 * (kernel memory with a bus address, as the hand model's core allocates its carveouts), drivers/base/devres.c's
 * resources with a release callback, kernel/rcu's grace period and kernel/time's delays (no other reader:
 * nothing to wait for), kernel/notifier.c's atomic chains, kernel/workqueue.c's cancel of a work item.
 */
import type { Device } from "../../semantics/device.ts";
import type { KObj } from "../../semantics/kernel.ts";
import type { EnvCall } from "../env.ts";
import { Fault, type Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import { le } from "./cmem.ts";
import type { ApiFn, EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

/** The first bus address of a coherent buffer (the hand model's core starts its carveouts there too). */
const DMA_BASE = 0xc0000000;

interface Devres {
  release: Value;
  res: Value & { k: "ptr" };
  added: boolean;
}

const state = perKernel(() => ({
  dmaNext: DMA_BASE,
  dma: new Map<bigint, KObj>(),
  devres: new Map<bigint, Devres>(),
  chains: new Map<bigint, bigint[]>(),
}));

const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};
const ret = (n: number): Value => intVal(T.int, BigInt(n));

/** The name of the C function a function pointer points to (for trace notes). */
function fnName(env: KernelEnv, fn: Value): string {
  if (fn.k !== "ptr") return "?";
  const c = (fn.obj ?? env.machine.find(fn.addr))?.callee;
  return c === undefined || c === null ? "?" : c.k === "c" ? c.def.name : c.name;
}

/** A NUL-terminated copy of `text` in a kernel object of the hand model. */
function dup(env: KernelEnv, call: EnvCall, text: string, flags: bigint): Value {
  const bytes = new TextEncoder().encode(text);
  const p = env.kmalloc(call, call.name, BigInt(bytes.length + 1), flags, null);
  if (p.k !== "ptr" || p.addr === 0n) return NULLP;
  env.machine.write(p, new Uint8Array([...bytes, 0]));
  return p;
}

/** Runs a devres release callback at once on the unbinding thread (it may not wait for the hand model). */
function releaseNow(env: KernelEnv, what: string, fn: Value, args: readonly Value[]): void {
  env.runAtomic(what, fn, args, "a devres release (the driver core's unbind runs it at once)");
}

export const KERNEL_UTIL: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "kstrdup_const",
    "kstrndup",
    "kfree_const",
    "kasprintf",
    "devres_alloc",
    "devres_add",
    "snprintf",
    "vsnprintf",
    "sprintf",
    "scnprintf",
    "strscpy",
    "synchronize_rcu",
    "cancel_work_sync",
    "atomic_notifier_chain_register",
    "atomic_notifier_chain_unregister",
  ],
  fns: (env, before) => {
    const k = env.w.k;
    const kfree: ApiFn | undefined = before.kfree;
    const owner = (call: EnvCall): Device => env.deviceOf(call.args[0], call.name);
    return {
      /** mm/util.c: kstrdup_const() (a copy: the environment's strings are not in .rodata) */
      kstrdup_const: (call) =>
        dup(env, call, env.machine.cstring(call.args[0] ?? NULLP), int(call.args[1], call.name)),
      /** mm/util.c: kstrdup() */
      kstrdup: (call) => {
        const a = call.args[0];
        if (a === undefined || (a.k === "ptr" && a.addr === 0n)) return NULLP;
        return dup(env, call, env.machine.cstring(a), int(call.args[1], call.name));
      },
      /** mm/util.c: kstrndup() */
      kstrndup: (call) => {
        const a = call.args[0];
        if (a === undefined || (a.k === "ptr" && a.addr === 0n)) return NULLP;
        const max = Number(int(call.args[1], call.name));
        return dup(env, call, env.machine.cstring(a).slice(0, max), int(call.args[2], call.name));
      },
      /** mm/util.c: kfree_const() */
      kfree_const: (call) => {
        if (kfree === undefined) throw new Unsupported("kfree_const: the environment has no kfree");
        return kfree(call);
      },
      /** lib/kasprintf.c: kasprintf() */
      kasprintf: (call) => dup(env, call, env.format(call.args.slice(1)), int(call.args[0], call.name)),
      /** kernel/dma/mapping.c: dma_alloc_coherent() — kernel memory with a bus address in *dma_handle */
      dma_alloc_coherent: (call) => {
        const size = Number(int(call.args[1], call.name));
        const handle = env.c.ptr(call.args[2], call.name);
        k.mightSleep("dma_alloc_coherent", call.caller);
        const s = state(env);
        const buf = k.alloc("mem", `dma ${size} bytes`, new Uint8Array(size), call.caller);
        const dma = s.dmaNext;
        s.dmaNext += Math.ceil(size / 0x1000) * 0x1000;
        const p = env.kobjPtr(buf, 0);
        s.dma.set(p.addr, buf);
        env.machine.write(handle, le(64, BigInt(dma)));
        return p;
      },
      /** kernel/dma/mapping.c: dma_free_coherent() */
      dma_free_coherent: (call) => {
        const p = env.c.ptr(call.args[2], call.name);
        const s = state(env);
        const buf = s.dma.get(p.addr);
        if (buf === undefined)
          throw new Fault(
            "bad-pointer",
            `dma_free_coherent of 0x${p.addr.toString(16)}, no dma_alloc_coherent's`,
          );
        s.dma.delete(p.addr);
        k.free(buf, call.caller);
        return VOID;
      },
      /** drivers/base/devres.c: __devres_alloc_node() (devres_alloc) — `size` bytes for the release's data */
      devres_alloc: (call) => {
        const release = call.args[0] ?? NULLP;
        const size = int(call.args[1], call.name);
        const res = env.kmalloc(call, "devres_alloc", size, int(call.args[2], call.name), null);
        if (res.k !== "ptr" || res.addr === 0n) return NULLP;
        state(env).devres.set(res.addr, { release, res, added: false });
        return res;
      },
      /** drivers/base/devres.c: devres_add() — the release runs (then the data is freed) at unbind */
      devres_add: (call) => {
        const dev = owner(call);
        const devPtr = call.args[0] ?? NULLP;
        const res = env.c.ptr(call.args[1], call.name);
        const d = state(env).devres.get(res.addr);
        if (d === undefined) throw new Fault("bad-pointer", "devres_add of data devres_alloc did not give");
        d.added = true;
        k.devm_add_action(dev, fnName(env, d.release), () => {
          releaseNow(env, fnName(env, d.release), d.release, [devPtr, res]);
          state(env).devres.delete(res.addr);
          kfree?.({ ...call, name: "kfree", args: [res] });
        });
        return VOID;
      },
      /** drivers/base/devres.c: devres_free() — data devres_alloc gave and devres_add did not take */
      devres_free: (call) => {
        const a = call.args[0];
        if (a === undefined || a.k !== "ptr" || a.addr === 0n) return VOID;
        state(env).devres.delete(a.addr);
        return kfree === undefined ? VOID : kfree({ ...call, name: "kfree" });
      },
      /** drivers/base/devres.c: devm_add_action_or_reset() — on failure the action runs at once */
      __interp_devm_add_action_or_reset: (call) => {
        const dev = owner(call);
        const fn = call.args[1] ?? NULLP;
        const data = call.args[2] ?? NULLP;
        const name = fnName(env, fn);
        k.devm_add_action(dev, name, () => releaseNow(env, name, fn, [data]));
        return ret(0);
      },
      /** lib/vsprintf.c: snprintf() — at most size-1 bytes and a NUL; the length it wanted */
      snprintf: (call) => {
        const buf = env.c.ptr(call.args[0], call.name);
        const size = Number(int(call.args[1], call.name));
        const bytes = new TextEncoder().encode(env.format(call.args.slice(2)));
        if (size > 0) {
          const n = Math.min(bytes.length, size - 1);
          env.machine.write(buf, new Uint8Array([...bytes.subarray(0, n), 0]));
        }
        return ret(bytes.length);
      },
      /** lib/vsprintf.c: sprintf() — the whole text and a NUL; its length */
      sprintf: (call) => {
        const buf = env.c.ptr(call.args[0], call.name);
        const bytes = new TextEncoder().encode(env.format(call.args.slice(1)));
        env.machine.write(buf, new Uint8Array([...bytes, 0]));
        return ret(bytes.length);
      },
      /** lib/vsprintf.c: scnprintf() — as snprintf, but the length written (without the NUL) */
      scnprintf: (call) => {
        const buf = env.c.ptr(call.args[0], call.name);
        const size = Number(int(call.args[1], call.name));
        if (size <= 0) return ret(0);
        const bytes = new TextEncoder().encode(env.format(call.args.slice(2)));
        const n = Math.min(bytes.length, size - 1);
        env.machine.write(buf, new Uint8Array([...bytes.subarray(0, n), 0]));
        return ret(n);
      },
      /** lib/string.c: strscpy() — at most count-1 bytes and a NUL; the length, or -E2BIG when cut */
      strscpy: (call) => {
        const dst = env.c.ptr(call.args[0], call.name);
        const src = new TextEncoder().encode(env.machine.cstring(call.args[1] ?? NULLP));
        const count = Number(int(call.args[2], call.name));
        const E2BIG = -7;
        if (count <= 0) return intVal(T.long, BigInt(E2BIG));
        const n = Math.min(src.length, count - 1);
        env.machine.write(dst, new Uint8Array([...src.subarray(0, n), 0]));
        return intVal(T.long, BigInt(n < src.length ? E2BIG : n));
      },
      /** lib/vsprintf.c: vsnprintf() — snprintf with the arguments of a va_list */
      vsnprintf: (call) => {
        const buf = env.c.ptr(call.args[0], call.name);
        const size = Number(int(call.args[1], call.name));
        const va = env.machine.vaArgs(call.args[3] ?? NULLP);
        if (va === undefined) throw new Unsupported("vsnprintf of a va_list va_start did not make");
        const bytes = new TextEncoder().encode(env.format([call.args[2] ?? NULLP, ...va]));
        if (size > 0) {
          const n = Math.min(bytes.length, size - 1);
          env.machine.write(buf, new Uint8Array([...bytes.subarray(0, n), 0]));
        }
        return ret(bytes.length);
      },
      /**
       * include/linux/rcupdate.h: rcu_read_lock()/rcu_read_unlock() — the core's readers of its rproc list
       * (the panic notifier); not tracked as an atomic section (nothing in the core sleeps inside one).
       */
      rcu_read_lock: () => VOID,
      rcu_read_unlock: () => VOID,
      /** kernel/rcu/tree.c: synchronize_rcu() — sleeps for a grace period (no reader here to wait for) */
      synchronize_rcu: (call) => {
        k.mightSleep("synchronize_rcu", call.caller);
        return VOID;
      },
      /** include/linux/delay.h: mdelay() — a busy wait (no sleep) */
      mdelay: () => VOID,
      /** kernel/workqueue.c: cancel_work_sync() — sleeps; the world's pending work runs when it flushes */
      cancel_work_sync: (call) => {
        k.mightSleep("cancel_work_sync", call.caller);
        return intVal(T.bool, 0n);
      },
      /** kernel/notifier.c: atomic_notifier_chain_register() */
      atomic_notifier_chain_register: (call) => {
        const head = env.c.ptr(call.args[0], call.name).addr;
        const nb = env.c.ptr(call.args[1], call.name).addr;
        const s = state(env);
        s.chains.set(head, [...(s.chains.get(head) ?? []), nb]);
        return ret(0);
      },
      /** kernel/notifier.c: atomic_notifier_chain_unregister() */
      atomic_notifier_chain_unregister: (call) => {
        const head = env.c.ptr(call.args[0], call.name).addr;
        const nb = env.c.ptr(call.args[1], call.name).addr;
        const s = state(env);
        const list = s.chains.get(head) ?? [];
        if (!list.includes(nb)) return ret(-2);
        s.chains.set(
          head,
          list.filter((x) => x !== nb),
        );
        return ret(0);
      },
    };
  },
};
