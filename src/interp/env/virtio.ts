/**
 * The kernel around the tree's remoteproc_virtio.c when it runs from C with the core:
 *
 * - drivers/base/platform.c for the rproc-virtio device: platform_device_register_data makes a C platform
 *   device (its platform data copied, a ".auto" id), binds it at once to the registered platform driver of
 *   that name (a driver with no of_match_table matches by name) and runs its probe; platform_device_unregister
 *   runs its remove, releases its devm allocations and drops it (the last put frees the device and its data);
 *   drivers/base/core.c's device_for_each_child over the virtio devices registered under it.
 * - drivers/virtio/virtio.c: register_virtio_device (reset, ACKNOWLEDGE, the "virtio<n>" device) and the
 *   probe of the driver of its id; unregister_virtio_device (the driver's remove, then the device's last put
 *   runs the C's dev->release).
 * - the driver a remoteproc's rpmsg vdev binds: virtio_rpmsg_bus is not loaded. What stands in for its probe
 *   is what the hand model's rproc_vdev_do_start does (src/semantics/remoteproc_virtio.ts): DRIVER and
 *   FEATURES_OK through the C's config operations (the features negotiated as the virtio core does, the
 *   name-service feature being the driver's only one), its two virtqueues through the C's find_vqs, DRIVER_OK
 *   (so the resource table's status reads 0x0f, as the hand model writes it) and one kick of its receive
 *   queue through the C's notify (the rproc's ops->kick with vring 0's notifyid). Its remove resets the
 *   device (status 0) and deletes the queues.
 * - drivers/virtio/virtio_ring.c: a split virtqueue over the C's zeroed vring memory (no buffers are ever
 *   added: the stand-in sends no message), vring_interrupt of such a queue, the transport features.
 * - kernel/dma and drivers/of/of_reserved_mem.c: the rproc-virtio device's DMA (direct, a 32-bit mask, the
 *   parent's ranges: the model's devices have none) and its reserved memory or declared coherent pool, kept
 *   as associations released with the device.
 *
 * Written by this project from the interfaces' documentation, never copied from the kernel.
 */
import type { EnvCall, Gen } from "../env.ts";
import { Fault, type Value } from "../memory.ts";
import { T } from "../types.ts";
import { intVal, NULLP, Unsupported, VOID } from "../values.ts";
import { le, type Served } from "./cmem.ts";
import { addEnvDevice, cDeviceName, setCDeviceName, unregisterCDevice } from "./device_core.ts";
import type { ApiFn, EnvModule, KernelEnv } from "./kernel.ts";
import { ofNodeOf } from "./of.ts";
import { perKernel } from "./state.ts";

type Ptr = Value & { k: "ptr" };

const EINVAL = 22;
const ENODEV = 19;
const ENOMEM = 12;
const EBUSY = 16;
/** include/linux/platform_device.h: PLATFORM_DEVID_NONE, PLATFORM_DEVID_AUTO. */
const DEVID_NONE = -1n;
const DEVID_AUTO = -2n;
/** gfp.h: GFP_KERNEL. */
const GFP_KERNEL = 0xcc0n;
/** uapi virtio_ids.h: VIRTIO_ID_RPMSG. */
const VIRTIO_ID_RPMSG = 7n;
/** uapi virtio_config.h: the status bits. */
const S_ACKNOWLEDGE = 1n;
const S_DRIVER = 2n;
const S_DRIVER_OK = 4n;
const S_FEATURES_OK = 8n;
/** uapi virtio_rpmsg.h: VIRTIO_RPMSG_F_NS, the rpmsg driver's only feature. */
const RPMSG_FEATURES = 1n << 0n;
/** The transport feature bits (uapi virtio_config.h) and those the split ring keeps (virtio_ring.c). */
const TRANSPORT_F_START = 28;
const TRANSPORT_F_END = 42;
const RING_KEEPS = new Set([28, 29, 32, 33, 34, 36, 38, 40]);
/** virtio_rpmsg_bus's queues: receive ("input") first, then transmit ("output"). */
const RPMSG_QUEUES = ["input", "output"] as const;

interface PlatformDev {
  readonly name: string;
  readonly data: Ptr | null;
  /** The platform driver bound to it (its struct platform_driver), or null. */
  driver: Ptr | null;
  /** devm allocations of the bound driver, released after its remove. */
  readonly devres: Ptr[];
}

interface VirtioDev {
  /** The struct device the virtio device is registered under (dev.parent). */
  readonly parent: bigint;
  readonly name: string;
  /** The rpmsg stand-in bound it (its queues found, DRIVER_OK). */
  bound: boolean;
  /** The stand-in's queues (vqs[0] receives), while bound. */
  vqs: Ptr[];
}

interface Vq {
  readonly notify: Ptr;
  readonly callback: Ptr;
  readonly vdev: bigint;
  readonly name: string;
}

const state = perKernel(() => ({
  /** Platform drivers that match by name (no of_match_table), by name. */
  drivers: new Map<string, Ptr>(),
  pdevs: new Map<bigint, PlatformDev>(),
  autoIds: new Map<string, number>(),
  vdevs: new Map<bigint, VirtioDev>(),
  vdevIndex: 0,
  vqs: new Map<bigint, Vq>(),
  /** Devices with reserved memory or a declared coherent pool associated, by the device's address. */
  rmem: new Map<bigint, string>(),
  coherent: new Map<bigint, string>(),
}));

const ret = (n: number | bigint): Value => intVal(T.int, BigInt(n));
const int = (v: Value | undefined, what: string): bigint => {
  if (v === undefined || v.k !== "int") throw new Unsupported(`${what}: an integer was expected`);
  return v.v;
};
const errPtr = (errno: number): Ptr => ({
  k: "ptr",
  t: { k: "ptr", to: T.void },
  addr: BigInt.asUintN(64, BigInt(-errno)),
  obj: null,
});
const isGen = (r: Value | Gen<Value>): r is Gen<Value> =>
  typeof (r as { next?: unknown }).next === "function";
function* done(r: Value | Gen<Value>): Gen<Value> {
  return isGen(r) ? yield* r : r;
}

export const VIRTIO: EnvModule = {
  /** The APIs below that return at once (EnvModule.sync). */
  sync: [
    "devm_kzalloc",
    "get_dma_ops",
    "set_dma_ops",
    "dma_get_mask",
    "dma_release_coherent_memory",
    "of_reserved_mem_device_init_by_idx",
    "of_reserved_mem_device_release",
    "vring_new_virtqueue",
    "vring_del_virtqueue",
    "vring_transport_features",
  ],
  deviceMembers: (_env, _dev, tag): Record<string, Served> => {
    if (tag !== "platform_device") return {};
    // A device of the hand model's driver core has no DMA ranges, platform data or release of the C's.
    return {
      "dev.dma_range_map": { get: () => le(64, 0n) },
      "dev.platform_data": { get: () => le(64, 0n) },
    };
  },
  fns: (env, before) => {
    const k = env.w.k;
    const m = () => env.machine;
    const s = () => state(env);
    const layer = (call: EnvCall) => env.layerOf(call.site.file);
    const sub = (call: EnvCall, name: string, args: Value[]): EnvCall => ({ ...call, name, args });
    const need = (name: string): ApiFn => {
      const f = before[name];
      if (f === undefined) throw new Unsupported(`${name}: not provided by the environment`);
      return f;
    };
    const devOf = (pdev: Ptr): Ptr => env.c.at(pdev, "platform_device", "dev");
    const pdevAt = (dev: Value | undefined): { addr: bigint; p: PlatformDev } | null => {
      if (dev === undefined || dev.k !== "ptr" || dev.addr === 0n) return null;
      const addr = dev.addr - BigInt(env.c.member("platform_device", "dev").off);
      const p = s().pdevs.get(addr);
      return p === undefined ? null : { addr, p };
    };
    const kfree = (call: EnvCall, p: Ptr): Value | Gen<Value> => need("kfree")(sub(call, "kfree", [p]));

    /** The driver's probe of a device it matched (really_probe: a failure leaves it unbound). */
    function* probe(call: EnvCall, pdev: Ptr, p: PlatformDev, drv: Ptr): Gen<void> {
      const fn = env.c.getPtr(drv, "platform_driver", "probe");
      p.driver = drv;
      const r = fn.addr === 0n ? ret(0) : yield* m().callFunction(fn, [pdev]);
      const err = r.k === "int" ? BigInt.asIntN(32, r.v) : 0n;
      if (err !== 0n) {
        p.driver = null;
        yield* releaseDevres(call, p);
        env.c.writePtr(env.c.at(devOf(pdev), "device", "driver_data"), NULLP);
        k.note(
          layer(call),
          call.caller,
          "log",
          `err: ${p.name}: probe with driver ${p.name.split(".")[0]} failed with error ${err}`,
        );
      }
    }
    function* releaseDevres(call: EnvCall, p: PlatformDev): Gen<void> {
      for (const r of p.devres.splice(0).reverse()) yield* done(kfree(call, r));
    }
    function* unbind(call: EnvCall, pdev: Ptr, p: PlatformDev): Gen<void> {
      const drv = p.driver;
      if (drv === null) return;
      const fn = env.c.getPtr(drv, "platform_driver", "remove");
      if (fn.addr !== 0n) yield* m().callFunction(fn, [pdev]);
      p.driver = null;
      yield* releaseDevres(call, p);
      env.c.writePtr(env.c.at(devOf(pdev), "device", "driver_data"), NULLP);
    }

    const vdevOf = (v: Value | undefined, what: string): { addr: bigint; d: VirtioDev } => {
      const p = env.c.ptr(v, what);
      const d = s().vdevs.get(p.addr);
      if (d === undefined)
        throw new Fault("bad-pointer", `${what}: 0x${p.addr.toString(16)} is no registered virtio device`);
      return { addr: p.addr, d };
    };
    const op = (vdev: Ptr, name: string): Ptr => {
      const fn = env.c.getPtr(env.c.getPtr(vdev, "virtio_device", "config"), "virtio_config_ops", name);
      if (fn.addr === 0n) throw new Unsupported(`the virtio device's config has no ${name}`);
      return fn;
    };
    function* status(vdev: Ptr): Gen<bigint> {
      const r = yield* m().callFunction(op(vdev, "get_status"), [vdev]);
      return r.k === "int" ? r.v & 0xffn : 0n;
    }
    /** virtio.c: virtio_add_status() */
    function* addStatus(vdev: Ptr, bits: bigint): Gen<void> {
      const now = yield* status(vdev);
      yield* m().callFunction(op(vdev, "set_status"), [vdev, intVal(T.uchar, now | bits)]);
    }

    /** virtio_rpmsg_bus's probe, as the hand model's rproc_vdev_do_start stands for it. */
    function* rpmsgProbe(call: EnvCall, vdev: Ptr, d: VirtioDev): Gen<number> {
      // virtio.c: virtio_dev_probe() — the features, then FEATURES_OK.
      yield* addStatus(vdev, S_DRIVER);
      const offered = yield* m().callFunction(op(vdev, "get_features"), [vdev]);
      const device = offered.k === "int" ? offered.v : 0n;
      let features = device & RPMSG_FEATURES;
      for (let i = TRANSPORT_F_START; i < TRANSPORT_F_END; i++)
        if ((device >> BigInt(i)) & 1n) features |= 1n << BigInt(i);
      env.c.setInt(vdev, "virtio_device", "features", features);
      const fin = yield* m().callFunction(op(vdev, "finalize_features"), [vdev]);
      if (fin.k === "int" && BigInt.asIntN(32, fin.v) !== 0n) return Number(BigInt.asIntN(32, fin.v));
      yield* addStatus(vdev, S_FEATURES_OK);
      if (((yield* status(vdev)) & S_FEATURES_OK) === 0n) return -ENODEV;
      // rpmsg_probe(): its receive and transmit queues (no callbacks: the stand-in receives nothing).
      const n = RPMSG_QUEUES.length;
      const vqs = env.kmalloc(call, "kcalloc", BigInt(8 * n), GFP_KERNEL, null) as Ptr;
      const infoSize = env.c.sizeOf("virtqueue_info");
      const infos = env.kmalloc(call, "kcalloc", BigInt(infoSize * n), GFP_KERNEL, null) as Ptr;
      if (vqs.addr === 0n || infos.addr === 0n) return -ENOMEM;
      RPMSG_QUEUES.forEach((q, i) => {
        const info = { ...infos, addr: infos.addr + BigInt(i * infoSize) };
        env.c.writePtr(env.c.at(info, "virtqueue_info", "name"), env.stringPtr(q));
      });
      const found = yield* m().callFunction(op(vdev, "find_vqs"), [
        vdev,
        intVal(T.uint, BigInt(n)),
        vqs,
        infos,
        NULLP,
      ]);
      const got = RPMSG_QUEUES.map((_, i) => env.c.readPtr({ ...vqs, addr: vqs.addr + BigInt(8 * i) }));
      yield* done(kfree(call, infos));
      yield* done(kfree(call, vqs));
      const err = found.k === "int" ? Number(BigInt.asIntN(32, found.v)) : 0;
      if (err !== 0) return err;
      d.vqs = got;
      d.bound = true;
      // virtio_device_ready(), then the receive queue's kick (virtqueue_notify).
      yield* addStatus(vdev, S_DRIVER_OK);
      const rx = got[0];
      const q = rx === undefined ? undefined : s().vqs.get(rx.addr);
      if (rx !== undefined && q !== undefined) yield* m().callFunction(q.notify, [rx]);
      return 0;
    }
    /** virtio_rpmsg_bus's remove: the device reset, its queues deleted. */
    function* rpmsgRemove(vdev: Ptr, d: VirtioDev): Gen<void> {
      yield* m().callFunction(op(vdev, "reset"), [vdev]);
      yield* m().callFunction(op(vdev, "del_vqs"), [vdev]);
      d.bound = false;
      d.vqs = [];
    }

    return {
      /** drivers/base/platform.c: __platform_driver_register() — a driver with no OF table matches by name */
      platform_driver_register: (call) => {
        const drv = env.c.ptr(call.args[0], call.name);
        if (env.c.getPtr(drv, "platform_driver", "driver.of_match_table").addr !== 0n)
          return need("platform_driver_register")(call);
        const name = m().cstring(env.c.getPtr(drv, "platform_driver", "driver.name"));
        if (s().drivers.has(name)) return ret(-EBUSY);
        s().drivers.set(name, drv);
        k.note(layer(call), call.caller, "driver_register", name);
        return ret(0);
      },
      /** drivers/base/platform.c: platform_driver_unregister() */
      platform_driver_unregister: (call) => {
        const drv = env.c.ptr(call.args[0], call.name);
        const name = [...s().drivers].find(([, d]) => d.addr === drv.addr)?.[0];
        if (name === undefined) return need("platform_driver_unregister")(call);
        s().drivers.delete(name);
        return VOID;
      },
      /** drivers/base/platform.c: platform_device_register_full() (platform_device_register_data) */
      platform_device_register_data: (call) => {
        const parent = env.c.ptr(call.args[0], call.name);
        const name = m().cstring(env.c.ptr(call.args[1], call.name));
        const id = BigInt.asIntN(32, int(call.args[2], call.name));
        const data = env.c.ptr(call.args[3], call.name);
        const size = int(call.args[4], call.name);
        k.mightSleep(call.name, call.caller);
        const pdev = env.kmalloc(
          call,
          "kzalloc",
          BigInt(env.c.sizeOf("platform_device")),
          GFP_KERNEL,
          null,
        ) as Ptr;
        if (pdev.addr === 0n) return errPtr(ENOMEM);
        const copy: Ptr | null =
          data.addr !== 0n && size > 0n
            ? (env.kmalloc(call, "kmemdup", size, GFP_KERNEL, null) as Ptr)
            : null;
        if (copy !== null) {
          if (copy.addr === 0n) return errPtr(ENOMEM);
          m().write(copy, m().read(data, Number(size)));
        }
        let devName = name;
        let devId = id;
        if (id === DEVID_AUTO) {
          const n = s().autoIds.get(name) ?? 0;
          s().autoIds.set(name, n + 1);
          devId = BigInt(n);
          devName = `${name}.${n}.auto`;
        } else if (id !== DEVID_NONE) devName = `${name}.${id}`;
        env.c.writePtr(env.c.at(pdev, "platform_device", "name"), env.stringPtr(name));
        env.c.setInt(pdev, "platform_device", "id", devId);
        const dev = devOf(pdev);
        env.c.writePtr(env.c.at(dev, "device", "parent"), parent);
        env.c.writePtr(env.c.at(dev, "device", "platform_data"), copy ?? NULLP);
        const p: PlatformDev = { name: devName, data: copy, driver: null, devres: [] };
        s().pdevs.set(pdev.addr, p);
        // platform_device_release(): the device and its platform data are freed at its last put.
        addEnvDevice(env, call, dev.addr, devName, (put) =>
          (function* () {
            s().pdevs.delete(pdev.addr);
            if (copy !== null) yield* done(kfree(put, copy));
            yield* done(kfree(put, pdev));
            return VOID;
          })(),
        );
        const drv = s().drivers.get(name);
        return (function* () {
          if (drv !== undefined) yield* probe(call, pdev, p, drv);
          return pdev;
        })();
      },
      /** drivers/base/platform.c: platform_device_unregister() — unbound, out of sysfs, its reference put */
      platform_device_unregister: (call) => {
        const a = call.args[0];
        if (a === undefined || a.k !== "ptr" || a.addr === 0n || a.addr >= BigInt.asUintN(64, -4095n))
          return VOID;
        const p = s().pdevs.get(a.addr);
        if (p === undefined)
          throw new Fault(
            "bad-pointer",
            `${call.name} of a device platform_device_register_data did not give`,
          );
        k.mightSleep(call.name, call.caller);
        return (function* () {
          yield* unbind(call, a, p);
          yield* done(unregisterCDevice(env, call, devOf(a).addr));
          return VOID;
        })();
      },
      /** drivers/base/devres.c: devm_kzalloc() — of a device registered here: freed after its driver's remove */
      devm_kzalloc: (call) => {
        const at = pdevAt(call.args[0]);
        if (at === null) return need("devm_kzalloc")(call);
        const r = env.kmalloc(
          call,
          "devm_kzalloc",
          int(call.args[1], call.name),
          int(call.args[2], call.name),
          null,
        ) as Ptr;
        if (r.addr !== 0n) at.p.devres.push(r);
        return r;
      },
      /** drivers/base/core.c: device_for_each_child() — the virtio devices registered under `dev` */
      device_for_each_child: (call) => {
        const parent = env.c.ptr(call.args[0], call.name);
        const data = call.args[1] ?? NULLP;
        const fn = env.c.ptr(call.args[2], call.name);
        const children = [...s().vdevs].filter(([, d]) => d.parent === parent.addr).map(([a]) => a);
        const vdevDev = BigInt(env.c.member("virtio_device", "dev").off);
        return (function* () {
          for (const a of children) {
            const r = yield* m().callFunction(fn, [env.addrPtr(a + vdevDev), data]);
            if (r.k === "int" && BigInt.asIntN(32, r.v) !== 0n) return r;
          }
          return ret(0);
        })();
      },
      /** include/linux/dma-map-ops.h: get_dma_ops() — the model's devices use direct mapping (NULL) */
      get_dma_ops: () => NULLP,
      /** include/linux/dma-map-ops.h: set_dma_ops() */
      set_dma_ops: (call) => {
        const ops = call.args[1];
        if (ops !== undefined && ops.k === "ptr" && ops.addr !== 0n)
          throw new Unsupported("set_dma_ops with DMA ops: the environment maps DMA directly");
        return VOID;
      },
      /** include/linux/dma-mapping.h: dma_get_mask() — the model's devices address 32 bits */
      dma_get_mask: () => intVal(T.ullong, 0xffffffffn),
      /** kernel/dma/coherent.c: dma_declare_coherent_memory() — the device allocates from that pool */
      dma_declare_coherent_memory: (call) => {
        const dev = env.c.ptr(call.args[0], call.name);
        const pa = int(call.args[1], call.name);
        const len = int(call.args[3], call.name);
        if (s().coherent.has(dev.addr)) return ret(-EBUSY);
        s().coherent.set(dev.addr, `0x${pa.toString(16)}+0x${len.toString(16)}`);
        return ret(0);
      },
      /** kernel/dma/coherent.c: dma_release_coherent_memory() */
      dma_release_coherent_memory: (call) => {
        s().coherent.delete(env.c.ptr(call.args[0], call.name).addr);
        return VOID;
      },
      /** drivers/of/of_reserved_mem.c: of_reserved_mem_device_init_by_idx() — the node's idx-th region */
      of_reserved_mem_device_init_by_idx: (call) => {
        const dev = env.c.ptr(call.args[0], call.name);
        const np = ofNodeOf(env, call.args[1], call.name);
        const idx = Number(BigInt.asIntN(32, int(call.args[2], call.name)));
        if (np === null) return ret(-EINVAL);
        const regions = np.props.get("memory-region");
        const region = regions?.kind === "phandles" ? regions.values[idx] : undefined;
        if (region === undefined) return ret(-ENODEV);
        s().rmem.set(dev.addr, region.label);
        k.note(layer(call), call.caller, "log", `assigned reserved memory node ${region.label}`);
        return ret(0);
      },
      /** drivers/of/of_reserved_mem.c: of_reserved_mem_device_release() */
      of_reserved_mem_device_release: (call) => {
        s().rmem.delete(env.c.ptr(call.args[0], call.name).addr);
        return VOID;
      },
      /** drivers/virtio/virtio.c: register_virtio_device() — then the bus probes the driver of its id */
      register_virtio_device: (call) => {
        const vdev = env.c.ptr(call.args[0], call.name);
        k.mightSleep(call.name, call.caller);
        const dev = env.c.at(vdev, "virtio_device", "dev");
        const index = s().vdevIndex++;
        env.c.setInt(vdev, "virtio_device", "index", BigInt(index));
        const name = `virtio${index}`;
        const parent = env.c.getPtr(dev, "device", "parent").addr;
        return (function* (): Gen<Value> {
          yield* done(need("device_initialize")(sub(call, "device_initialize", [dev])));
          setCDeviceName(env, dev.addr, name);
          // The vqs list head, then the reset and ACKNOWLEDGE (virtio.c does them before device_add).
          const vqs = env.c.at(vdev, "virtio_device", "vqs");
          env.c.writePtr(vqs, vqs);
          env.c.writePtr({ ...vqs, addr: vqs.addr + 8n }, vqs);
          yield* m().callFunction(op(vdev, "reset"), [vdev]);
          yield* addStatus(vdev, S_ACKNOWLEDGE);
          const r = yield* done(need("device_add")(sub(call, "device_add", [dev])));
          if (r.k === "int" && r.v !== 0n) return r;
          const d: VirtioDev = { parent, name, bound: false, vqs: [] };
          s().vdevs.set(vdev.addr, d);
          if (env.c.getInt(vdev, "virtio_device", "id.device") === VIRTIO_ID_RPMSG) {
            const err = yield* rpmsgProbe(call, vdev, d);
            if (err !== 0) {
              yield* addStatus(vdev, 0x80n);
              k.note(
                layer(call),
                call.caller,
                "log",
                `err: ${name}: probe of virtio_rpmsg_bus failed with error ${err}`,
              );
            }
          }
          return ret(0);
        })();
      },
      /** drivers/virtio/virtio.c: unregister_virtio_device() — the driver's remove, then device_unregister */
      unregister_virtio_device: (call) => {
        const { addr, d } = vdevOf(call.args[0], call.name);
        const vdev = env.addrPtr(addr);
        const dev = env.c.at(vdev, "virtio_device", "dev");
        k.mightSleep(call.name, call.caller);
        return (function* () {
          if (d.bound) yield* rpmsgRemove(vdev, d);
          s().vdevs.delete(addr);
          yield* done(unregisterCDevice(env, call, dev.addr));
          return VOID;
        })();
      },
      /** drivers/virtio/virtio_ring.c: vring_new_virtqueue() — a split ring over the C's memory */
      vring_new_virtqueue: (call) => {
        const index = int(call.args[0], call.name);
        const num = int(call.args[1], call.name);
        const vdev = env.c.ptr(call.args[3], call.name);
        const pages = env.c.ptr(call.args[6], call.name);
        const notify = env.c.ptr(call.args[7], call.name);
        const callback = env.c.ptr(call.args[8], call.name);
        const name = env.c.ptr(call.args[9], call.name);
        if (pages.addr === 0n || num === 0n || (num & (num - 1n)) !== 0n) return NULLP;
        const vq = env.kmalloc(call, "kzalloc", BigInt(env.c.sizeOf("virtqueue")), GFP_KERNEL, null) as Ptr;
        if (vq.addr === 0n) return NULLP;
        env.c.writePtr(env.c.at(vq, "virtqueue", "callback"), callback);
        env.c.writePtr(env.c.at(vq, "virtqueue", "name"), name);
        env.c.writePtr(env.c.at(vq, "virtqueue", "vdev"), vdev);
        env.c.setInt(vq, "virtqueue", "index", index);
        env.c.setInt(vq, "virtqueue", "num_free", num);
        env.c.setInt(vq, "virtqueue", "num_max", num);
        // list_add_tail(&vq->list, &vdev->vqs)
        const head = env.c.at(vdev, "virtio_device", "vqs");
        const node = env.c.at(vq, "virtqueue", "list");
        const prev = env.c.readPtr({ ...head, addr: head.addr + 8n });
        env.c.writePtr(node, head);
        env.c.writePtr({ ...node, addr: node.addr + 8n }, prev);
        env.c.writePtr(prev, node);
        env.c.writePtr({ ...head, addr: head.addr + 8n }, node);
        s().vqs.set(vq.addr, { notify, callback, vdev: vdev.addr, name: m().cstring(name) });
        return vq;
      },
      /** drivers/virtio/virtio_ring.c: vring_del_virtqueue() */
      vring_del_virtqueue: (call) => {
        const vq = env.c.ptr(call.args[0], call.name);
        if (!s().vqs.delete(vq.addr)) throw new Fault("bad-pointer", `${call.name} of no virtqueue`);
        // list_del(&vq->list)
        const node = env.c.at(vq, "virtqueue", "list");
        const next = env.c.readPtr(node);
        const prev = env.c.readPtr({ ...node, addr: node.addr + 8n });
        env.c.writePtr({ ...next, addr: next.addr + 8n }, prev);
        env.c.writePtr(prev, next);
        return kfree(call, vq);
      },
      /** drivers/virtio/virtio_ring.c: vring_interrupt() — no buffer was ever added: nothing used */
      vring_interrupt: (call) => {
        const vq = env.c.ptr(call.args[1], call.name);
        const q = s().vqs.get(vq.addr);
        if (q === undefined) throw new Fault("bad-pointer", `${call.name} of no virtqueue`);
        const vdev = [...s().vdevs].find(([a]) => a === q.vdev)?.[1];
        k.note("core", "vring_interrupt", "irq", `${vdev?.name ?? "virtio"} vring ${q.name}`);
        if (q.callback.addr === 0n) return ret(1);
        return (function* () {
          yield* m().callFunction(q.callback, [vq]);
          return ret(1);
        })();
      },
      /** drivers/virtio/virtio_ring.c: vring_transport_features() — the transport bits the ring supports */
      vring_transport_features: (call) => {
        const vdev = env.c.ptr(call.args[0], call.name);
        let f = env.c.getInt(vdev, "virtio_device", "features");
        for (let i = TRANSPORT_F_START; i < TRANSPORT_F_END; i++)
          if (!RING_KEEPS.has(i)) f &= ~(1n << BigInt(i));
        env.c.setInt(vdev, "virtio_device", "features", f);
        return VOID;
      },
    };
  },
};

/** The name of a C device registered here (for tests). */
export function virtioDeviceName(env: KernelEnv, devAddr: bigint): string | null {
  return cDeviceName(env, devAddr);
}
