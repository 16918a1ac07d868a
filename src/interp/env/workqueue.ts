/**
 * kernel/workqueue.c over the hand model's work items (Kernel.queue_work, run when the world flushes after
 * each driven operation): a work item is the C's struct work_struct; queueing it runs its func on a kernel
 * thread of its own. A workqueue is a kernel object of the hand model (destroy_workqueue frees it; queueing
 * on a destroyed one is a use after free).
 */
import type { KObj } from "../../semantics/kernel.ts";
import type { EnvCall } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, VOID } from "../values.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const keys = perKernel(() => new Map<bigint, object>());

function queue(env: KernelEnv, call: EnvCall, work: Value | undefined): Value {
  const k = env.w.k;
  const p = env.c.ptr(work, call.name);
  const fn = env.c.getPtr(p, "work_struct", "func");
  const o = fn.obj ?? env.machine.find(fn.addr);
  const callee = o?.callee;
  const name =
    callee === null || callee === undefined ? "work" : callee.k === "c" ? callee.def.name : callee.name;
  const m = keys(env);
  let key = m.get(p.addr);
  if (key === undefined) {
    key = { work: p.addr };
    m.set(p.addr, key);
  }
  const queued = k.queue_work(key, name, async () => {
    await env.run(name, { fn }, [p]);
  });
  return intVal(T.bool, queued ? 1n : 0n);
}

export const WORKQUEUE: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["__interp_alloc_workqueue", "destroy_workqueue", "queue_work"],
  fns: (env) => {
    const k = env.w.k;
    return {
      /** kernel/workqueue.c: alloc_workqueue() (create_workqueue) */
      __interp_alloc_workqueue: (call) => {
        k.mightSleep("alloc_workqueue", call.caller);
        const name = env.machine.cstring(call.args[0] ?? NULLP);
        const wq = k.alloc("mem", `workqueue ${name}`, name, call.caller);
        return env.handlePtr(wq, "workqueue_struct");
      },
      /** kernel/workqueue.c: destroy_workqueue() */
      destroy_workqueue: (call) => {
        const wq = env.handleOf<KObj>(call.args[0], "workqueue_struct", call.name);
        k.mightSleep("destroy_workqueue", call.caller);
        if (wq !== null) k.free(wq, call.caller);
        return VOID;
      },
      /** kernel/workqueue.c: queue_work() — false when the item is already pending */
      queue_work: (call) => {
        const wq = env.handleOf<KObj>(call.args[0], "workqueue_struct", call.name);
        if (wq !== null) k.use(wq, call.caller, "queue_work");
        return queue(env, call, call.args[1]);
      },
      /** kernel/workqueue.c: schedule_work() (the system workqueue) */
      schedule_work: (call) => queue(env, call, call.args[0]),
    };
  },
};
