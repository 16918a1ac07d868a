/**
 * drivers/reset/core.c over the emulated platform: a device's reset lines are its node's `resets`, named by
 * `reset-names`. The line named "hold_boot" (the SCMI way of the binding) is the coprocessor's hold boot:
 * asserting it holds the core; any other is the MCU reset: asserting it halts the core, and the hardware
 * releases it by itself (deasserting has nothing to do). An optional line that is absent is NULL, on which
 * every operation succeeds.
 */
import type { Device } from "../../semantics/device.ts";
import type { EnvCall } from "../env.ts";
import type { Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported } from "../values.ts";
import type { EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

const ENOENT = 2;
const EINVAL = 22;

interface ResetLine {
  readonly dev: Device;
  readonly index: number;
  readonly line: "hold_boot" | "mcu";
}

const handles = perKernel(() => new Map<string, Value & { k: "ptr" }>());

function errPtr(n: number): Value & { k: "ptr" } {
  return { k: "ptr", t: { k: "ptr", to: T.void }, addr: BigInt.asUintN(64, BigInt(n)), obj: null };
}

function handle(env: KernelEnv, dev: Device, index: number, name: string | undefined): Value & { k: "ptr" } {
  const m = handles(env);
  const key = `${dev.name}#${index}`;
  const known = m.get(key);
  if (known !== undefined) return known;
  {
    const line: ResetLine = { dev, index, line: name === "hold_boot" ? "hold_boot" : "mcu" };
    const obj = env.bind(
      env.c.opaque("struct reset_control", `reset ${name ?? index} of ${dev.name}`),
      { k: "ext", what: "reset_control", data: line, kobj: null },
      null,
      null,
    );
    const p = env.c.pointer(obj);
    m.set(key, p);
    return p;
  }
}

export const RESET: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: ["devm_reset_control_get_optional", "devm_reset_control_get_by_index"],
  fns: (env) => {
    const k = env.w.k;
    const lines = (dev: Device) => {
      const r = dev.of_node?.props.get("resets");
      const n = dev.of_node?.props.get("reset-names");
      return {
        count: r?.kind === "phandles" ? r.values.length : 0,
        names: n?.kind === "strings" ? n.values : [],
      };
    };
    const byName = (optional: boolean) => (call: EnvCall) => {
      const dev = env.deviceOf(call.args[0], call.name);
      k.mightSleep("mutex_lock", call.caller);
      const id = env.machine.cstring(call.args[1] ?? NULLP);
      const { count, names } = lines(dev);
      const i = names.indexOf(id);
      if (i < 0 || i >= count) return optional ? NULLP : errPtr(-ENOENT);
      return handle(env, dev, i, id);
    };
    const byIndex = (call: EnvCall) => {
      const dev = env.deviceOf(call.args[0], call.name);
      k.mightSleep("mutex_lock", call.caller);
      const a = call.args[1];
      const i = a?.k === "int" ? Number(a.v) : -1;
      const { count, names } = lines(dev);
      if (i < 0 || i >= count) return errPtr(-ENOENT);
      return handle(env, dev, i, names[i]);
    };
    const lineOf = (v: Value | undefined, fn: string): ResetLine | null | "err" => {
      if (v === undefined || (v.k === "ptr" && v.addr === 0n)) return null;
      if (v.k === "ptr" && BigInt.asIntN(64, v.addr) < 0n && BigInt.asIntN(64, v.addr) >= -4095n)
        return "err";
      const e = env.extOf<ResetLine>(v, "reset_control");
      if (e === null) throw new Unsupported(`${fn}: not a reset control of the environment`);
      return e.data;
    };
    const op = (what: "assert" | "deassert" | "reset") => (call: EnvCall) => {
      const l = lineOf(call.args[0], call.name);
      if (l === null) return intVal(T.int, 0n);
      if (l === "err") {
        k.WARN_ON(true, call.caller, `${call.name} of an error pointer`);
        return intVal(T.int, BigInt(-EINVAL));
      }
      const copro = env.w.platform.copro;
      if (l.line === "hold_boot") {
        if (what !== "reset") copro.setHoldBoot(what === "assert");
        else throw new Unsupported(`${call.name} of the hold boot line: a hold boot is not pulsed`);
      } else if (what !== "deassert") copro.assertReset();
      return intVal(T.int, 0n);
    };
    return {
      /** drivers/reset/core.c: __devm_reset_control_get() (optional, exclusive, by name) */
      devm_reset_control_get_optional: byName(true),
      devm_reset_control_get_optional_exclusive: byName(true),
      /** drivers/reset/core.c: __devm_reset_control_get() (exclusive, by name) */
      devm_reset_control_get: byName(false),
      devm_reset_control_get_exclusive: byName(false),
      /** drivers/reset/core.c: __devm_reset_control_get() (exclusive, by index) */
      devm_reset_control_get_by_index: byIndex,
      devm_reset_control_get_exclusive_by_index: byIndex,
      /** drivers/reset/core.c: reset_control_assert() */
      reset_control_assert: op("assert"),
      /** drivers/reset/core.c: reset_control_deassert() */
      reset_control_deassert: op("deassert"),
      /** drivers/reset/core.c: reset_control_reset() */
      reset_control_reset: op("reset"),
    };
  },
};
