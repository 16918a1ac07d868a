/**
 * drivers/base/platform.c (and the device-core helpers a platform driver calls: dev_name, the wakeup and
 * wake-IRQ settings of drivers/base/power/, the DMA mask, devm mappings and arrays) over the hand model's
 * driver core: a platform driver of the C is a driver of the hand model's core, matched by its
 * of_match_table against the device tree model's compatible, probed and removed through its C functions.
 */
import type { Device, Driver } from "../../semantics/device.ts";
import { Rproc } from "../../semantics/remoteproc_core.ts";
import type { EnvCall } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, Unsupported, VOID } from "../values.ts";
import { le, type Served, unle } from "./cmem.ts";
import { deviceIrq } from "./irq.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const EEXIST = 17;

interface Wakeup {
  capable: boolean;
  enabled: boolean;
  irq: number | null;
}

interface State {
  readonly drivers: Map<bigint, Driver>;
  readonly wakeup: Map<Device, Wakeup>;
}

const state = perKernel<State>(() => ({ drivers: new Map(), wakeup: new Map() }));

const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};
const ret = (n: number): Value => intVal(T.int, BigInt(n));

/** The compatibles of an of_match_table (to its empty entry). */
function matchTable(env: KernelEnv, table: Value & { k: "ptr" }): string[] {
  const out: string[] = [];
  if (table.addr === 0n) return out;
  const size = env.c.sizeOf("of_device_id");
  const off = env.c.member("of_device_id", "compatible").off;
  for (let i = 0; i < 64; i++) {
    const at = table.addr + BigInt(i * size);
    const entry = { ...table, addr: at };
    const bytes = env.machine.read(entry, size);
    if (bytes.every((b) => b === 0)) break;
    const c = bytes.subarray(off, off + 128);
    const end = c.indexOf(0);
    out.push(new TextDecoder().decode(c.subarray(0, end < 0 ? c.length : end)));
  }
  return out;
}

function wake(env: KernelEnv, dev: Device): Wakeup {
  const s = state(env);
  let w = s.wakeup.get(dev);
  if (w === undefined) {
    w = { capable: false, enabled: false, irq: null };
    s.wakeup.set(dev, w);
  }
  return w;
}

export const PLATFORM: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "platform_get_irq_optional",
    "dev_name",
    "device_init_wakeup",
    "device_may_wakeup",
    "dev_pm_set_wake_irq",
    "dev_pm_clear_wake_irq",
    "dma_coerce_mask_and_coherent",
    "devm_kcalloc",
  ],
  deviceMembers: (env, dev, tag): Record<string, Served> => {
    if (tag !== "platform_device") return {};
    return {
      // dev_get_drvdata / platform_set_drvdata: the hand model's driver core keeps the rproc there.
      "dev.driver_data": {
        get: () => {
          env.w.k.touch(`dev ${dev.name}`, false);
          const d = dev.drvdata;
          if (d === null) return le(64, 0n);
          if (d instanceof Rproc) return le(64, env.rprocPtr(d).addr);
          throw new Unsupported(
            `the driver data of ${dev.name} is the hand model's driver's, not a C pointer`,
          );
        },
        set: (b) => {
          const v = unle(b);
          env.w.k.touch(`dev ${dev.name}`, true);
          dev.drvdata = v === 0n ? null : env.rprocOf(env.addrPtr(v), `the driver data of ${dev.name}`);
        },
      },
    };
  },
  fns: (env) => {
    const k = env.w.k;
    const register = (call: EnvCall) => {
      const c = env.c;
      const drv = c.ptr(call.args[0], call.name);
      const name = env.machine.cstring(c.getPtr(drv, "platform_driver", "driver.name"));
      const probe = c.getPtr(drv, "platform_driver", "probe");
      const removeFn = c.getPtr(drv, "platform_driver", "remove");
      const remove = removeFn.addr !== 0n ? removeFn : c.getPtr(drv, "platform_driver", "remove_new");
      const compatibles = matchTable(env, c.getPtr(drv, "platform_driver", "driver.of_match_table"));
      const hd: Driver = {
        name,
        bus: "platform",
        match: (dev) => {
          const p = dev.of_node?.props.get("compatible");
          return p?.kind === "strings" && p.values.some((v) => compatibles.includes(v));
        },
        probe: async (_kk, dev) => {
          if (probe.addr === 0n) return 0;
          const v = await env.run(`${name} probe`, { fn: probe }, [env.platformDevicePtr(dev)]);
          return v.k === "int" ? Number(BigInt.asIntN(32, v.v)) : 0;
        },
        remove: async (_kk, dev) => {
          if (remove.addr !== 0n)
            await env.run(`${name} remove`, { fn: remove }, [env.platformDevicePtr(dev)]);
        },
      };
      state(env).drivers.set(drv.addr, hd);
      return (function* () {
        return ret(yield* env.hand(call, env.w.core.driver_register(hd)));
      })();
    };
    return {
      /** drivers/base/platform.c: __platform_driver_register() */
      platform_driver_register: register,
      /** drivers/base/platform.c: platform_driver_unregister() */
      platform_driver_unregister: (call) => {
        const drv = env.c.ptr(call.args[0], call.name);
        const hd = state(env).drivers.get(drv.addr);
        if (hd === undefined) throw new Unsupported(`${call.name} of a driver that was not registered`);
        return (function* () {
          yield* env.hand(call, env.w.core.driver_unregister(hd));
          state(env).drivers.delete(drv.addr);
          return VOID;
        })();
      },
      /** drivers/base/platform.c: platform_get_irq_optional() */
      platform_get_irq_optional: (call) =>
        ret(
          deviceIrq(env, env.platformDeviceOf(call.args[0], call.name), Number(int(call.args[1], call.name))),
        ),
      /** drivers/base/platform.c: platform_get_irq() — logs when the line is missing */
      platform_get_irq: (call) => {
        const dev = env.platformDeviceOf(call.args[0], call.name);
        const n = Number(int(call.args[1], call.name));
        const irq = deviceIrq(env, dev, n);
        if (irq < 0) k.note(env.layerOf(call.site.file), call.caller, "log", `err: IRQ index ${n} not found`);
        return ret(irq);
      },
      /** drivers/base/core.c: dev_name() */
      dev_name: (call) => env.stringPtr(env.deviceOf(call.args[0], call.name).name),
      /** drivers/base/power/wakeup.c: device_init_wakeup() — enabling registers a wakeup source (may sleep) */
      device_init_wakeup: (call) => {
        const w = wake(env, env.deviceOf(call.args[0], call.name));
        const on = int(call.args[1], call.name) !== 0n;
        if (on) k.mightSleep("wakeup_source_register", call.caller);
        w.capable = on;
        w.enabled = on;
        return ret(0);
      },
      /** include/linux/pm_wakeup.h: device_may_wakeup() */
      device_may_wakeup: (call) => {
        const w = wake(env, env.deviceOf(call.args[0], call.name));
        return intVal(T.bool, w.capable && w.enabled ? 1n : 0n);
      },
      /** drivers/base/power/wakeirq.c: dev_pm_set_wake_irq() */
      dev_pm_set_wake_irq: (call) => {
        const w = wake(env, env.deviceOf(call.args[0], call.name));
        k.mightSleep("kzalloc", call.caller);
        if (w.irq !== null) return ret(-EEXIST);
        w.irq = Number(int(call.args[1], call.name));
        return ret(0);
      },
      /** drivers/base/power/wakeirq.c: dev_pm_clear_wake_irq() */
      dev_pm_clear_wake_irq: (call) => {
        wake(env, env.deviceOf(call.args[0], call.name)).irq = null;
        return VOID;
      },
      /** kernel/dma/mapping.c: dma_coerce_mask_and_coherent() (the model's devices address all of memory) */
      dma_coerce_mask_and_coherent: () => ret(0),
      /** kernel/dma/mapping.c: dma_set_mask_and_coherent() */
      dma_set_mask_and_coherent: () => ret(0),
      /** lib/devres.c: devm_ioremap_wc() — a mapping released with the device */
      devm_ioremap_wc: (call) =>
        env.ioremap(
          call,
          Number(int(call.args[1], call.name)),
          Number(int(call.args[2], call.name)),
          env.deviceOf(call.args[0], call.name),
        ),
      /** lib/devres.c: devm_ioremap() */
      devm_ioremap: (call) =>
        env.ioremap(
          call,
          Number(int(call.args[1], call.name)),
          Number(int(call.args[2], call.name)),
          env.deviceOf(call.args[0], call.name),
        ),
      /** include/linux/device.h: devm_kcalloc() */
      devm_kcalloc: (call) =>
        env.kmalloc(
          call,
          "devm_kcalloc",
          int(call.args[1], call.name) * int(call.args[2], call.name),
          int(call.args[3], call.name),
          env.deviceOf(call.args[0], call.name),
        ),
    };
  },
};
