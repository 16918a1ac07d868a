/**
 * lib/idr.c: the ID allocators the remoteproc core uses (the device index of rproc_dev_index, an ida; the
 * notify ids of rproc->notifyids, an idr). An allocator is the C's storage, found by its address; the ids it
 * hands out are kept here. An id allocates the lowest free one in its range; an idr maps each to the C
 * pointer it was given. Freeing an id that is not allocated is the kernel's WARN.
 */
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const ENOSPC = 28;
/** INT_MAX: the end of an idr range given as 0 (no limit). */
const INT_MAX = 0x7fffffff;

const allocators = perKernel(() => new Map<bigint, Map<number, bigint>>());

function ids(env: KernelEnv, at: bigint): Map<number, bigint> {
  const m = allocators(env);
  let s = m.get(at);
  if (s === undefined) {
    s = new Map();
    m.set(at, s);
  }
  return s;
}

/** The lowest id in [start, end) not in use, or null. */
function lowestFree(used: ReadonlyMap<number, bigint>, start: number, end: number): number | null {
  for (let id = start; id < end; id++) if (!used.has(id)) return id;
  return null;
}

const num = (v: unknown, what: string): number => {
  const x = v as { k?: string; v?: bigint } | undefined;
  if (x?.k !== "int" || x.v === undefined) throw new Unsupported(`${what}: an integer was expected`);
  return Number(BigInt.asIntN(32, x.v));
};

export const IDR: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["ida_alloc", "ida_free", "ida_destroy", "idr_init", "idr_alloc", "idr_remove", "idr_destroy"],
  fns: (env) => {
    const k = env.w.k;
    const at = (v: unknown, what: string) => env.c.ptr(v as never, what).addr;
    return {
      /** lib/idr.c: ida_alloc() — the lowest free id from 0 */
      ida_alloc: (call) => {
        k.mightSleep("ida_alloc", call.caller);
        const used = ids(env, at(call.args[0], call.name));
        const id = lowestFree(used, 0, INT_MAX);
        if (id === null) return intVal(T.int, BigInt(-ENOSPC));
        used.set(id, 0n);
        return intVal(T.int, BigInt(id));
      },
      /** lib/idr.c: ida_free() */
      ida_free: (call) => {
        const used = ids(env, at(call.args[0], call.name));
        const id = num(call.args[1], call.name);
        if (!used.delete(id))
          k.WARN_ON(true, call.caller, `ida_free called for id=${id} which is not allocated`);
        return VOID;
      },
      /** lib/idr.c: ida_destroy() */
      ida_destroy: (call) => {
        ids(env, at(call.args[0], call.name)).clear();
        return VOID;
      },
      /** lib/idr.c: idr_init() */
      idr_init: (call) => {
        ids(env, at(call.args[0], call.name)).clear();
        return VOID;
      },
      /** lib/idr.c: idr_alloc() — the lowest free id in [start, end) (end 0: no limit) mapped to ptr */
      idr_alloc: (call) => {
        const used = ids(env, at(call.args[0], call.name));
        const ptr = call.args[1];
        const start = num(call.args[2], call.name);
        const end = num(call.args[3], call.name);
        if (start < 0) return intVal(T.int, -22n);
        const id = lowestFree(used, start, end <= 0 ? INT_MAX : end);
        if (id === null) return intVal(T.int, BigInt(-ENOSPC));
        used.set(id, ptr !== undefined && ptr.k === "ptr" ? ptr.addr : 0n);
        return intVal(T.int, BigInt(id));
      },
      /** lib/idr.c: idr_remove() — the pointer the id mapped to, or NULL */
      idr_remove: (call) => {
        const used = ids(env, at(call.args[0], call.name));
        const id = num(call.args[1], call.name);
        const p = used.get(id);
        used.delete(id);
        return p === undefined || p === 0n ? NULLP : env.addrPtr(p);
      },
      /** lib/idr.c: idr_find() */
      idr_find: (call) => {
        const p = ids(env, at(call.args[0], call.name)).get(num(call.args[1], call.name));
        return p === undefined || p === 0n ? NULLP : env.addrPtr(p);
      },
      /** lib/idr.c: idr_destroy() */
      idr_destroy: (call) => {
        ids(env, at(call.args[0], call.name)).clear();
        return VOID;
      },
    };
  },
};
