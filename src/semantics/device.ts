/**
 * The driver core (drivers/base/dd.c, core.c, devres.c): devices, drivers, bind and unbind, devm resources
 * released after remove in reverse order, device links with DL_FLAG_AUTOREMOVE_CONSUMER (unbinding a supplier
 * first unbinds its consumers; the link goes away when the consumer unbinds), and deferred probe.
 */
import type { DtNode } from "./devicetree.ts";
import { EPROBE_DEFER, type Kernel, type KObj } from "./kernel.ts";
import type { KThread } from "./kthread.ts";

/** struct device (the parts the model needs). */
export class Device {
  driver: Driver | null = null;
  /** dev_get_drvdata / platform_get_drvdata. */
  drvdata: unknown = null;
  /** Devices whose probe returned -EPROBE_DEFER are retried when another driver binds. */
  deferred = false;
  /** The kernel thread holding dev->mutex (device_lock), while the kernel runs threads. */
  lockedBy: KThread | null = null;
  constructor(
    readonly name: string,
    readonly bus: "platform" | "tee",
    readonly of_node: DtNode | null = null,
  ) {}
}

/** struct device_driver with its bus's probe/remove (platform_driver, tee_client_driver). */
export interface Driver {
  readonly name: string;
  readonly bus: "platform" | "tee";
  /** of_match_table / id_table. */
  match(dev: Device): boolean;
  probe(k: Kernel, dev: Device): Promise<number>;
  remove(k: Kernel, dev: Device): Promise<void>;
}

export const DL_FLAG_AUTOREMOVE_CONSUMER = 1 << 2;

export interface DeviceLink {
  consumer: Device;
  supplier: Device;
  flags: number;
}

/** The driver core of one scenario run. */
export class DriverCore {
  readonly devices: Device[] = [];
  readonly drivers: Driver[] = [];
  readonly links: KObj<DeviceLink>[] = [];

  constructor(private readonly k: Kernel) {}

  /** device_add: registers a device and tries to bind it. Returns the probe result (0 when none matched). */
  async device_add(dev: Device): Promise<number> {
    this.devices.push(dev);
    return this.device_attach(dev);
  }

  /** driver_register: registers a driver and binds every matching unbound device. */
  async driver_register(drv: Driver): Promise<number> {
    this.drivers.push(drv);
    let first = 0;
    for (const dev of this.devices) {
      if (dev.driver === null && dev.bus === drv.bus && drv.match(dev)) {
        const ret = await this.really_probe(dev, drv);
        if (first === 0 && ret !== 0) first = ret;
      }
    }
    return first;
  }

  /** driver_unregister: unbinds every device bound to the driver. */
  async driver_unregister(drv: Driver): Promise<void> {
    for (const dev of this.devices) if (dev.driver === drv) await this.device_release_driver(dev);
    const i = this.drivers.indexOf(drv);
    if (i >= 0) this.drivers.splice(i, 1);
  }

  /** device_attach: binds `dev` to the first matching driver. */
  async device_attach(dev: Device): Promise<number> {
    this.k.touch(`dev ${dev.name}`, false);
    if (dev.driver !== null) return 0;
    const drv = this.drivers.find((d) => d.bus === dev.bus && d.match(dev));
    return drv === undefined ? 0 : this.really_probe(dev, drv);
  }

  /**
   * models drivers/base/core.c: device_lock() — dev->mutex, which the driver core holds across a probe and a
   * remove, so that a sysfs unbind waits for the probe in progress. It matters only where the kernel runs
   * threads (src/semantics/kthread.ts): a thread blocks while another holds it, with no scheduling point of
   * its own and no lockdep class (the kernel's dev->mutex is lockdep_set_novalidate_class) and no trace step.
   */
  private async device_lock(dev: Device): Promise<void> {
    const t = this.k.threads;
    const me = t?.current ?? null;
    if (t === null || me === null) return;
    this.k.touch(`device_lock ${dev.name}`, true);
    await t.block(`device_lock(${dev.name}) held by ${t.label(dev.lockedBy)}`, () => dev.lockedBy === null);
    dev.lockedBy = me;
  }

  /** models drivers/base/core.c: device_unlock() */
  private device_unlock(dev: Device): void {
    if (this.k.threads === null || dev.lockedBy === null) return;
    this.k.touch(`device_lock ${dev.name}`, true);
    dev.lockedBy = null;
  }

  /**
   * models drivers/base/dd.c: really_probe() — probe under the device's lock (driver_probe_device's
   * caller takes it); on failure devres is released; -EPROBE_DEFER defers
   */
  private async really_probe(dev: Device, drv: Driver): Promise<number> {
    await this.device_lock(dev);
    let ret: number;
    try {
      ret = await this.probeLocked(dev, drv);
    } finally {
      this.device_unlock(dev);
    }
    if (ret === 0) await this.driver_deferred_probe_trigger();
    return ret;
  }

  private async probeLocked(dev: Device, drv: Driver): Promise<number> {
    this.k.touch(`dev ${dev.name}`, true);
    dev.driver = drv;
    const ret = await this.k.call("core", "really_probe", () => drv.probe(this.k, dev), {
      detail: `${drv.name} on ${dev.name}`,
    });
    if (ret !== 0) {
      this.k.devresRelease(dev, "devres_release_all");
      this.removeConsumerLinks(dev);
      this.k.touch(`dev ${dev.name}`, true);
      dev.driver = null;
      dev.drvdata = null;
      dev.deferred = ret === -EPROBE_DEFER;
      return ret;
    }
    dev.deferred = false;
    return 0;
  }

  /** models drivers/base/dd.c: driver_deferred_probe_trigger() — retries deferred devices */
  private async driver_deferred_probe_trigger(): Promise<void> {
    for (const dev of this.devices.filter((d) => d.deferred && d.driver === null)) {
      dev.deferred = false;
      await this.device_attach(dev);
    }
  }

  /**
   * models drivers/base/dd.c: device_release_driver() — consumers first (device links), then remove, then
   * devres in reverse order, then the links this device consumes (AUTOREMOVE_CONSUMER).
   */
  async device_release_driver(dev: Device): Promise<void> {
    this.k.touch(`dev ${dev.name}`, false);
    this.k.touch("links", false);
    if (dev.driver === null) return;
    for (const link of this.links.filter((l) => !l.freed && l.data.supplier === dev)) {
      await this.device_release_driver(link.data.consumer);
    }
    // __device_release_driver runs under the device's lock, and finds the driver bound (or not) under it.
    await this.device_lock(dev);
    try {
      await this.releaseLocked(dev);
    } finally {
      this.device_unlock(dev);
    }
  }

  private async releaseLocked(dev: Device): Promise<void> {
    this.k.touch(`dev ${dev.name}`, false);
    const drv = dev.driver;
    if (drv === null) return;
    await this.k.call(
      "core",
      "device_release_driver",
      async () => {
        await drv.remove(this.k, dev);
        return undefined;
      },
      { detail: `${drv.name} from ${dev.name}` },
    );
    this.k.devresRelease(dev, "devres_release_all");
    this.removeConsumerLinks(dev);
    this.k.touch(`dev ${dev.name}`, true);
    dev.driver = null;
    dev.drvdata = null;
  }

  /** Binds `dev` again (sysfs bind). */
  async bind(dev: Device): Promise<number> {
    return this.device_attach(dev);
  }

  /** models drivers/base/core.c: device_link_add() — may sleep; returns the link object */
  device_link_add(consumer: Device, supplier: Device, flags: number, at: string): KObj<DeviceLink> {
    this.k.mightSleep("device_link_add", at);
    const link = this.k.alloc<DeviceLink>(
      "device_link",
      `${consumer.name}->${supplier.name}`,
      { consumer, supplier, flags },
      at,
    );
    this.k.touch("links", true);
    this.links.push(link);
    return link;
  }

  /** models drivers/base/core.c: device_link_del() */
  device_link_del(link: KObj<DeviceLink>, at: string): void {
    this.k.free(link, at);
  }

  private removeConsumerLinks(dev: Device): void {
    this.k.touch("links", true);
    for (const link of this.links) {
      if (
        !link.freed &&
        link.data.consumer === dev &&
        (link.data.flags & DL_FLAG_AUTOREMOVE_CONSUMER) !== 0
      ) {
        this.k.free(link, "__device_links_no_driver");
      }
    }
  }

  find(name: string): Device | undefined {
    return this.devices.find((d) => d.name === name);
  }
}
