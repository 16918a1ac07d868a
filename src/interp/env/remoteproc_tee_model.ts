/**
 * The TEE client driver's API (include/linux/remoteproc_tee.h) for a C driver that calls it while the TEE
 * client driver itself is the hand model's (src/semantics/remoteproc_tee.ts): each function is the hand
 * model's, with the C's arguments (struct device, struct rproc, struct firmware) as the hand model's objects.
 * When the posted remoteproc_tee.c is loaded with the driver, its own functions are called instead (a
 * function of the program comes before the environment's).
 */
import type { RprocTeeApi } from "../../semantics/stm32_rproc.ts";
import type { EnvCall, Gen } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, Unsupported, VOID } from "../values.ts";
import type { ApiFn, EnvModule, KernelEnv } from "./kernel.ts";

const int = (n: number): Value => intVal(T.int, BigInt(n));

/**
 * The module over a world's hand-model TEE client API; `whyNone`: why a world without one has none (default:
 * the design has no TEE loader).
 */
export function teeModelModule(api: RprocTeeApi | null, whyNone?: string): EnvModule {
  return {
    fns: (env: KernelEnv) => {
      const k = env.w.k;
      const need = (call: EnvCall): RprocTeeApi => {
        if (api === null)
          throw new Unsupported(
            `${call.name}(): the world has no TEE client driver (${whyNone ?? "the design has no TEE loader"})`,
          );
        return api;
      };
      const hand = <R>(call: EnvCall, p: () => Promise<R>, out: (v: R) => Value): Gen<Value> =>
        (function* () {
          return out(yield* env.hand(call, p()));
        })();
      const rproc = (call: EnvCall, i: number) => env.rprocOf(call.args[i], call.name);
      const fns: Record<string, ApiFn> = {
        /** remoteproc_tee.c: rproc_tee_register() (the hand model's) */
        rproc_tee_register: (call) => {
          const a = call.args[2];
          const id = a?.k === "int" ? Number(a.v) : 0;
          return hand(
            call,
            () => need(call).rproc_tee_register(k, env.deviceOf(call.args[0], call.name), rproc(call, 1), id),
            int,
          );
        },
        /** remoteproc_tee.c: rproc_tee_unregister() */
        rproc_tee_unregister: (call) =>
          hand(
            call,
            () => need(call).rproc_tee_unregister(k, env.deviceOf(call.args[0], call.name), rproc(call, 1)),
            int,
          ),
        /** remoteproc_tee.c: rproc_tee_load_fw() */
        rproc_tee_load_fw: (call) =>
          hand(
            call,
            () => need(call).rproc_tee_load_fw(k, rproc(call, 0), env.fwOf(call.args[1], call.name)),
            int,
          ),
        /** remoteproc_tee.c: rproc_tee_parse_fw() */
        rproc_tee_parse_fw: (call) =>
          hand(
            call,
            () => need(call).rproc_tee_parse_fw(k, rproc(call, 0), env.fwOf(call.args[1], call.name)),
            int,
          ),
        /** remoteproc_tee.c: rproc_tee_find_loaded_rsc_table() */
        rproc_tee_find_loaded_rsc_table: (call) =>
          hand(
            call,
            () =>
              need(call).rproc_tee_find_loaded_rsc_table(
                k,
                rproc(call, 0),
                env.fwOf(call.args[1], call.name),
              ),
            (p) => env.fromPtr(p),
          ),
        /** remoteproc_tee.c: rproc_tee_start() */
        rproc_tee_start: (call) => hand(call, () => need(call).rproc_tee_start(k, rproc(call, 0)), int),
        /** remoteproc_tee.c: rproc_tee_stop() */
        rproc_tee_stop: (call) => hand(call, () => need(call).rproc_tee_stop(k, rproc(call, 0)), int),
        /** remoteproc_tee.c: rproc_tee_release_fw() */
        rproc_tee_release_fw: (call) =>
          hand(
            call,
            () => need(call).rproc_tee_release_fw(k, rproc(call, 0)),
            () => VOID,
          ),
      };
      return fns;
    },
  };
}
