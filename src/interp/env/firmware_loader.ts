/**
 * drivers/base/firmware_loader/main.c over the world's /lib/firmware: request_firmware is the hand model's
 * (src/semantics/remoteproc_core.ts, the same trace step and kernel object, so the leak monitor sees a
 * firmware the C never releases), its struct firmware the environment's twin (kernel.ts firmwarePtr);
 * request_firmware_nowait queues the loader's work, which requests the file and calls the C's callback with
 * it (or NULL) and the context on a kernel thread of its own.
 */
import { release_firmware, request_firmware } from "../../semantics/remoteproc_core.ts";
import type { Gen } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import { le } from "./cmem.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";

function store(env: KernelEnv) {
  const s = env.w.store;
  if (s === undefined)
    throw new Unsupported("the firmware loader needs /lib/firmware, which this world does not give");
  return s;
}

export const FIRMWARE_LOADER: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["release_firmware"],
  fns: (env) => {
    const k = env.w.k;
    return {
      /** firmware_loader/main.c: request_firmware() — *fw is the file, or NULL and -ENOENT */
      request_firmware: (call) => {
        const out = env.c.ptr(call.args[0], call.name);
        const name = env.machine.cstring(call.args[1] ?? NULLP);
        return (function* (): Gen<Value> {
          const { ret, fw } = yield* env.hand(call, request_firmware(k, store(env), name));
          env.machine.write(out, le(64, fw === null ? 0n : env.firmwarePtr(fw).addr));
          return intVal(T.int, BigInt(ret));
        })();
      },
      /** firmware_loader/main.c: release_firmware() (NULL: nothing) */
      release_firmware: (call) => {
        const a = call.args[0];
        if (a === undefined || (a.k === "ptr" && a.addr === 0n)) return VOID;
        release_firmware(k, env.fwOf(a, call.name));
        return VOID;
      },
      /** firmware_loader/main.c: request_firmware_nowait() — the loader's work calls cont(fw, context) */
      request_firmware_nowait: (call) => {
        const name = env.machine.cstring(call.args[2] ?? NULLP);
        const context = call.args[5] ?? NULLP;
        const cont = env.c.ptr(call.args[6], call.name);
        const s = store(env);
        k.queue_work(
          { firmwareNowait: context.k === "ptr" ? context.addr : 0n, name },
          "request_firmware_work_func",
          async () => {
            const { fw } = await request_firmware(k, s, name);
            await env.run("request_firmware_work_func", { fn: cont }, [
              fw === null ? NULLP : env.firmwarePtr(fw),
              context,
            ]);
          },
        );
        return intVal(T.int, 0n);
      },
    };
  },
};
