/**
 * drivers/base/core.c for devices the C embeds and owns (the remoteproc core's class device, rproc->dev):
 * the reference count device_initialize starts at one, get_device/put_device, and the release callback
 * (the device type's, else the class's) the last put runs on the calling thread; device_add/device_del make
 * it visible in sysfs and take it out again. A put of a device whose count is already zero is a use after
 * free the kernel would make (the refcount warns) and stops the C as a fault; a device that reaches zero
 * with no release callback is the kernel's "does not have a release() function" WARN.
 *
 * Devices of the hand model's driver core (a platform device, a TEE bus device) are not these: dev_name and
 * get/put_device of them keep the platform module's behaviour.
 *
 * Also drivers/base/power/wakeup.c's pm_stay_awake/pm_relax (a wakeup source held across the crash handler),
 * recorded as trace notes.
 */
import type { EnvCall, Gen } from "../env.ts";
import { Fault, type Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import { le, type Served, unle } from "./cmem.ts";
import type { ApiFn, EnvModule, KernelEnv } from "./kernel.ts";
import { perKernel } from "./state.ts";

interface CDevice {
  refs: number;
  name: string | null;
  added: boolean;
  released: boolean;
  /** Wakeup events held (pm_stay_awake without its pm_relax). */
  awake: number;
  /** Operations on its sysfs files in progress (kernfs's active references): device_del waits for them. */
  active?: number;
  /** The release of a device the environment made (a platform device it registered), instead of the C's. */
  envRelease?: (call: EnvCall) => Value | Gen<Value>;
}

const ret = (n: number): Value => intVal(T.int, BigInt(n));
const devices = perKernel(() => new Map<bigint, CDevice>());

/** The C device at a pointer, when device_initialize made it one; null for a hand-model device. */
function cDevice(env: KernelEnv, v: Value | undefined): { addr: bigint; d: CDevice } | null {
  if (v === undefined || v.k !== "ptr" || v.addr === 0n) return null;
  const d = devices(env).get(v.addr);
  return d === undefined ? null : { addr: v.addr, d };
}

function label(d: CDevice, addr: bigint): string {
  return d.name ?? `device at 0x${addr.toString(16)}`;
}

/**
 * The last reference is gone: the device's own release, else its type's, else its class's dev_release, runs
 * on this thread (the order of the driver core's device_release).
 */
function* release(env: KernelEnv, call: EnvCall, addr: bigint, d: CDevice): Gen<Value> {
  d.released = true;
  const k = env.w.k;
  const dev = env.addrPtr(addr);
  const c = env.c;
  if (d.envRelease !== undefined) {
    k.note(env.layerOf(call.site.file), call.caller, "release", `${label(d, addr)}: last reference put`);
    const r = d.envRelease(call);
    if (typeof (r as { next?: unknown }).next === "function") yield* r as Gen<Value>;
    return VOID;
  }
  const own =
    env.machine.structs.member(c.struct("device"), "release") === null
      ? null
      : c.getPtr(dev, "device", "release");
  if (own !== null && own.addr !== 0n) {
    k.note(env.layerOf(call.site.file), call.caller, "release", `${label(d, addr)}: last reference put`);
    yield* env.machine.callFunction(own, [dev]);
    return VOID;
  }
  const type = c.getPtr(dev, "device", "type");
  const typeRelease = type.addr === 0n ? null : c.getPtr(type, "device_type", "release");
  const cls = c.getPtr(dev, "device", "class");
  const clsRelease =
    cls.addr === 0n || env.machine.structs.member(c.struct("class"), "dev_release") === null
      ? null
      : c.getPtr(cls, "class", "dev_release");
  const fn = typeRelease !== null && typeRelease.addr !== 0n ? typeRelease : clsRelease;
  if (fn === null || fn.addr === 0n) {
    k.WARN_ON(true, call.caller, `Device '${label(d, addr)}' does not have a release() function`);
    return VOID;
  }
  k.note(env.layerOf(call.site.file), call.caller, "release", `${label(d, addr)}: last reference put`);
  yield* env.machine.callFunction(fn, [dev]);
  return VOID;
}

/** A function that takes a hand-model device too: the earlier module's, when the pointer is not a C device. */
function orBefore(env: KernelEnv, before: Readonly<Record<string, ApiFn>>, name: string, mine: ApiFn): ApiFn {
  return (call) => {
    if (cDevice(env, call.args[0]) !== null) return mine(call);
    const other = before[name];
    if (other === undefined)
      throw new Unsupported(`${name} of a device the environment did not initialise (no device_initialize)`);
    return other(call);
  };
}

/**
 * The driver data of a device of the hand model's driver core that the C set to a pointer of its own (the
 * C core's struct rproc): dev_set_drvdata keeps the address.
 */
export class CDriverData {
  constructor(readonly addr: bigint) {}
}

export const DEVICE_CORE: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "device_initialize",
    "dev_set_name",
    "dev_name",
    "device_add",
    "get_device",
    "pm_stay_awake",
    "pm_relax",
  ],
  deviceMembers: (env, dev, tag): Record<string, Served> => {
    if (tag !== "platform_device") return {};
    return {
      // dev_get_drvdata / platform_set_drvdata with the C core: the driver keeps the C's struct rproc there.
      "dev.driver_data": {
        get: () => {
          env.w.k.touch(`dev ${dev.name}`, false);
          const d = dev.drvdata;
          if (d === null) return le(64, 0n);
          if (d instanceof CDriverData) return le(64, d.addr);
          throw new Unsupported(
            `the driver data of ${dev.name} is the hand model's driver's, not a C pointer`,
          );
        },
        set: (b) => {
          const v = unle(b);
          env.w.k.touch(`dev ${dev.name}`, true);
          dev.drvdata = v === 0n ? null : new CDriverData(v);
        },
      },
    };
  },
  fns: (env, before) => {
    const k = env.w.k;
    const layer = (call: EnvCall) => env.layerOf(call.site.file);
    const mustBe = (call: EnvCall): { addr: bigint; d: CDevice } => {
      const cd = cDevice(env, call.args[0]);
      if (cd === null)
        throw new Unsupported(
          `${call.name} of a device the environment did not initialise (no device_initialize)`,
        );
      if (cd.d.released)
        throw new Fault("bad-pointer", `${call.name} of ${label(cd.d, cd.addr)}, already released`);
      return cd;
    };
    return {
      /** drivers/base/core.c: device_initialize() — one reference, not yet in sysfs */
      device_initialize: (call) => {
        const p = env.c.ptr(call.args[0], call.name);
        devices(env).set(p.addr, { refs: 1, name: null, added: false, released: false, awake: 0 });
        return VOID;
      },
      /** drivers/base/core.c: dev_set_name() (a printf format) */
      dev_set_name: (call) => {
        const { d } = mustBe(call);
        d.name = env.format(call.args.slice(1));
        return ret(0);
      },
      dev_name: orBefore(env, before, "dev_name", (call) => {
        const { addr, d } = mustBe(call);
        return env.stringPtr(label(d, addr));
      }),
      /** drivers/base/core.c: device_add() — the class device appears in sysfs (no bus: nothing binds it) */
      device_add: (call) => {
        const { addr, d } = mustBe(call);
        k.mightSleep("device_add", call.caller);
        if (d.name === null) return ret(-22);
        d.added = true;
        d.refs++;
        k.note(layer(call), call.caller, "device_add", label(d, addr));
        return ret(0);
      },
      /**
       * drivers/base/core.c: device_del() — out of sysfs (kernfs_drain: it waits for the operations on its
       * files in progress, none starts after); drops device_add's reference
       */
      device_del: (call) => {
        const cd = mustBe(call);
        k.mightSleep("device_del", call.caller);
        if (!cd.d.added) {
          k.WARN_ON(true, call.caller, `device_del of ${label(cd.d, cd.addr)}, which was not added`);
          return VOID;
        }
        cd.d.added = false;
        k.note(layer(call), call.caller, "device_del", label(cd.d, cd.addr));
        if ((cd.d.active ?? 0) === 0) return put(env, call, cd.addr, cd.d);
        return (function* (): Gen<Value> {
          k.touch(`sysfs ${cd.addr}`, false);
          yield {
            k: "wait",
            reason: `device_del(${label(cd.d, cd.addr)}) drains its sysfs files' writers`,
            ready: () => (cd.d.active ?? 0) === 0,
          };
          const r = put(env, call, cd.addr, cd.d);
          if (typeof (r as { next?: unknown }).next === "function") return yield* r as Gen<Value>;
          return r as Value;
        })();
      },
      /** drivers/base/core.c: get_device() (NULL stays NULL) */
      get_device: orBefore(env, before, "get_device", (call) => {
        const { d } = mustBe(call);
        d.refs++;
        return call.args[0] ?? NULLP;
      }),
      /** drivers/base/core.c: put_device() — the last put releases (NULL: nothing) */
      put_device: (call) => {
        const a = call.args[0];
        if (a === undefined || (a.k === "ptr" && a.addr === 0n)) return VOID;
        if (cDevice(env, a) === null) {
          const other = before.put_device;
          if (other !== undefined) return other(call);
        }
        const { addr, d } = mustBe(call);
        return put(env, call, addr, d);
      },
      /** drivers/base/power/wakeup.c: pm_stay_awake() */
      pm_stay_awake: (call) => {
        const cd = cDevice(env, call.args[0]);
        if (cd !== null) cd.d.awake++;
        k.note(layer(call), call.caller, "wakeup", "pm_stay_awake");
        return VOID;
      },
      /** drivers/base/power/wakeup.c: pm_relax() */
      pm_relax: (call) => {
        const cd = cDevice(env, call.args[0]);
        if (cd !== null && cd.d.awake > 0) cd.d.awake--;
        k.note(layer(call), call.caller, "wakeup", "pm_relax");
        return VOID;
      },
    };
  },
};

/**
 * fs/kernfs: an operation on a sysfs file of the C device at `addr` (a write of the rproc's state file) takes
 * an active reference for its duration: null when the device is not in sysfs (its files are gone, as
 * -ENODEV), else what drops it. device_del waits until none is held.
 */
export function sysfsActive(env: KernelEnv, addr: bigint): (() => void) | null {
  const d = devices(env).get(addr);
  if (d === undefined || !d.added) return null;
  const k = env.w.k;
  k.touch(`sysfs ${addr}`, true);
  d.active = (d.active ?? 0) + 1;
  return () => {
    k.touch(`sysfs ${addr}`, true);
    d.active = (d.active ?? 1) - 1;
  };
}

function put(env: KernelEnv, call: EnvCall, addr: bigint, d: CDevice): Value | Gen<Value> {
  d.refs--;
  if (d.refs > 0) return VOID;
  return release(env, call, addr, d);
}

/** Whether the C device at `addr` is still referenced (for tests and the leak check of a world). */
export function cDeviceRefs(env: KernelEnv, addr: bigint): number | null {
  return devices(env).get(addr)?.refs ?? null;
}

/**
 * A C device the environment registers itself (drivers/base/platform.c's platform_device_register_data):
 * device_initialize and dev_set_name, then device_add; `release` runs at its last put.
 */
export function addEnvDevice(
  env: KernelEnv,
  call: EnvCall,
  addr: bigint,
  name: string,
  release: (call: EnvCall) => Value | Gen<Value>,
): void {
  devices(env).set(addr, { refs: 2, name, added: true, released: false, awake: 0, envRelease: release });
  env.w.k.note(env.layerOf(call.site.file), call.caller, "device_add", name);
}

/** device_unregister of a C device: out of sysfs (device_del), then its reference dropped (put_device). */
export function unregisterCDevice(env: KernelEnv, call: EnvCall, addr: bigint): Value | Gen<Value> {
  const d = devices(env).get(addr);
  if (d === undefined || d.released)
    throw new Fault(
      "bad-pointer",
      `device_unregister of a device that is not registered (0x${addr.toString(16)})`,
    );
  if (!d.added) {
    env.w.k.WARN_ON(true, call.caller, `device_del of ${label(d, addr)}, which was not added`);
    return VOID;
  }
  d.added = false;
  env.w.k.note(env.layerOf(call.site.file), call.caller, "device_del", label(d, addr));
  // device_del drops device_add's reference, device_unregister's put_device the caller's.
  const first = put(env, call, addr, d);
  return (function* () {
    if (typeof (first as { next?: unknown }).next === "function") yield* first as Gen<Value>;
    const second = put(env, call, addr, d);
    if (typeof (second as { next?: unknown }).next === "function") yield* second as Gen<Value>;
    return VOID;
  })();
}

/** The name of a C device (dev_set_name's), or null when it is none. */
export function cDeviceName(env: KernelEnv, addr: bigint): string | null {
  return devices(env).get(addr)?.name ?? null;
}

/** dev_set_name of a C device the environment names itself (a virtio device's "virtio<index>"). */
export function setCDeviceName(env: KernelEnv, addr: bigint, name: string): void {
  const d = devices(env).get(addr);
  if (d === undefined) throw new Unsupported(`dev_set_name of a device the environment did not initialise`);
  d.name = name;
}
