/**
 * kernel/irq/manage.c and devres.c over the emulated platform: the interrupt lines of a device are those of
 * its node's `interrupts` property; the coprocessor node's first is the watchdog (its binding says so), the
 * one line the emulated platform raises. A handler runs in interrupt context when the platform raises it,
 * until the devm release of its device frees it. Interrupt numbers are the environment's (Linux's are
 * virtual too).
 */
import type { Device } from "../../semantics/device.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, Unsupported } from "../values.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const EINVAL = 22;
const ENXIO = 6;

/** What raises an interrupt line of the platform. */
type Line = "watchdog";

interface Irq {
  readonly virq: number;
  readonly dev: Device;
  readonly index: number;
  readonly line: Line;
  wake: number;
}

interface State {
  readonly irqs: Map<number, Irq>;
  next: number;
}

const state = perKernel<State>(() => ({ irqs: new Map(), next: 32 }));

/** The interrupt number of line `index` of a device (platform_get_irq), or -ENXIO when it has none. */
export function deviceIrq(env: KernelEnv, dev: Device, index: number): number {
  const p = dev.of_node?.props.get("interrupts");
  if (p === undefined || index !== 0) return -ENXIO;
  const s = state(env);
  for (const irq of s.irqs.values()) if (irq.dev === dev && irq.index === index) return irq.virq;
  const virq = s.next++;
  s.irqs.set(virq, { virq, dev, index, line: "watchdog", wake: 0 });
  return virq;
}

const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};

export const IRQ: EnvModule = {
  fns: (env) => {
    const k = env.w.k;
    const irqOf = (v: Value | undefined, what: string): Irq | undefined =>
      state(env).irqs.get(Number(int(v, what)));
    return {
      /** kernel/irq/devres.c: devm_request_irq() — the handler runs when the platform raises the line */
      devm_request_irq: (call) => {
        const dev = env.deviceOf(call.args[0], call.name);
        k.mightSleep("request_threaded_irq", call.caller);
        const irq = irqOf(call.args[1], call.name);
        const handler = env.c.ptr(call.args[2], call.name);
        const devId = call.args[5] ?? intVal(T.ulong, 0n);
        if (irq === undefined) return intVal(T.int, BigInt(-EINVAL));
        const on = { enabled: true };
        const args = [intVal(T.int, BigInt(irq.virq)), devId];
        env.w.platform.copro.onWatchdog(() => {
          if (on.enabled) env.runAtomic(`irq ${irq.virq} (${irq.line})`, handler, args);
        });
        k.devm_add_action(dev, "devm_free_irq", () => {
          on.enabled = false;
        });
        return intVal(T.int, 0n);
      },
      /** kernel/irq/manage.c: enable_irq_wake() */
      enable_irq_wake: (call) => {
        const irq = irqOf(call.args[0], call.name);
        if (irq === undefined) return intVal(T.int, BigInt(-EINVAL));
        irq.wake += 1;
        return intVal(T.int, 0n);
      },
      /** kernel/irq/manage.c: disable_irq_wake() — an unbalanced one warns, as irq_set_irq_wake does */
      disable_irq_wake: (call) => {
        const irq = irqOf(call.args[0], call.name);
        if (irq === undefined) return intVal(T.int, BigInt(-EINVAL));
        if (irq.wake === 0) {
          k.WARN_ON(true, call.caller, `Unbalanced IRQ ${irq.virq} wake disable`);
          return intVal(T.int, BigInt(-EINVAL));
        }
        irq.wake -= 1;
        return intVal(T.int, 0n);
      },
    };
  },
};
