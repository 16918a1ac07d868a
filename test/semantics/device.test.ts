import { describe, expect, it } from "vitest";
import { Device, DL_FLAG_AUTOREMOVE_CONSUMER, type Driver, DriverCore } from "../../src/semantics/device.ts";
import { EPROBE_DEFER, Kernel } from "../../src/semantics/kernel.ts";

function driver(name: string, bus: "platform" | "tee", log: string[], probe: Driver["probe"]): Driver {
  return {
    name,
    bus,
    match: (dev) => dev.name.startsWith(name),
    probe,
    remove: async (_k, dev) => {
      log.push(`remove ${dev.name}`);
    },
  };
}

describe("driver core", () => {
  it("releases devm objects and actions after remove, newest first", async () => {
    const k = new Kernel();
    const core = new DriverCore(k);
    const log: string[] = [];
    const dev = new Device("a0", "platform");
    await core.driver_register(
      driver("a", "platform", log, async (kk, d) => {
        kk.alloc("mem", "first", 1, "probe", d);
        kk.devm_add_action(d, "action", () => log.push("action"));
        kk.alloc("mem", "last", 2, "probe", d);
        return 0;
      }),
    );
    await core.device_add(dev);
    expect(dev.driver?.name).toBe("a");
    await core.device_release_driver(dev);
    const frees = k.trace.filter((t) => t.event === "free").map((t) => t.detail);
    expect(log).toEqual(["remove a0", "action"]);
    expect(frees).toEqual(["mem last", "mem first"]);
    expect(k.live()).toEqual([]);
  });

  it("defers a probe that returns -EPROBE_DEFER and retries it when another driver binds", async () => {
    const k = new Kernel();
    const core = new DriverCore(k);
    const log: string[] = [];
    let supplierReady = false;
    const consumer = new Device("consumer0", "platform");
    const supplier = new Device("supplier0", "tee");
    await core.driver_register(
      driver("consumer", "platform", log, async () => (supplierReady ? 0 : -EPROBE_DEFER)),
    );
    expect(await core.device_add(consumer)).toBe(-EPROBE_DEFER);
    expect(consumer.driver).toBeNull();
    expect(consumer.deferred).toBe(true);
    await core.driver_register(
      driver("supplier", "tee", log, async () => {
        supplierReady = true;
        return 0;
      }),
    );
    await core.device_add(supplier);
    expect(consumer.driver?.name).toBe("consumer");
  });

  it("unbinds consumers first through an AUTOREMOVE_CONSUMER link, and drops the link with the consumer", async () => {
    const k = new Kernel();
    const core = new DriverCore(k);
    const log: string[] = [];
    const consumer = new Device("consumer0", "platform");
    const supplier = new Device("supplier0", "tee");
    await core.driver_register(driver("supplier", "tee", log, async () => 0));
    await core.driver_register(
      driver("consumer", "platform", log, async (_kk, d) => {
        core.device_link_add(d, supplier, DL_FLAG_AUTOREMOVE_CONSUMER, "probe");
        return 0;
      }),
    );
    await core.device_add(supplier);
    await core.device_add(consumer);
    await core.device_release_driver(supplier);
    expect(log).toEqual(["remove consumer0", "remove supplier0"]);
    expect(consumer.driver).toBeNull();
    expect(core.links.every((l) => l.freed)).toBe(true);
  });
});
