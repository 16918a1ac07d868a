import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures, parseResourceTable } from "../../src/emulator/api.ts";
import type { TraceStep } from "../../src/scenarios/result.ts";
import { World } from "../../src/scenarios/world.ts";
import { applyFactChanges } from "../../src/semantics/facts.ts";
import { rproc_detach } from "../../src/semantics/remoteproc_core.ts";
import { MAINLINE } from "../../src/semantics/versions.ts";

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await loadFixtures();
});

/** The key calls of rproc_start, in order (a boot and a recovery both end with them). */
const START = [
  "rproc_start",
  "rproc_load_segments",
  "rproc_find_loaded_rsc_table",
  "rproc_prepare_subdevices",
  "stm32_rproc_start",
  "rproc_start_subdevices",
];
/** The key calls of rproc_stop, in order (a shutdown and a recovery both begin with them). */
const STOP = [
  "rproc_stop",
  "rproc_stop_subdevices",
  "rproc_reset_rsc_table_on_stop",
  "stm32_rproc_stop",
  "rproc_unprepare_subdevices",
];
/** The expected key calls of each operation. */
const BOOT = [
  "rproc_boot",
  "request_firmware",
  "rproc_fw_boot",
  "rproc_fw_sanity_check",
  "rproc_prepare_device",
  "rproc_parse_fw",
  "rproc_handle_resources",
  "rproc_alloc_registered_carveouts",
  ...START,
];
const SHUTDOWN = ["rproc_shutdown", ...STOP, "rproc_resource_cleanup", "rproc_unprepare_device"];
const RECOVERY = [
  "rproc_crash_handler_work",
  "rproc_trigger_recovery",
  "rproc_boot_recovery",
  ...STOP,
  "request_firmware",
  ...START,
];
const ATTACH = [
  "rproc_boot",
  "rproc_attach",
  "rproc_prepare_device",
  "rproc_set_rsc_table",
  "rproc_handle_resources",
  "rproc_alloc_registered_carveouts",
  "__rproc_attach",
  "rproc_prepare_subdevices",
  "stm32_rproc_attach",
  "rproc_start_subdevices",
];
/** The C functions the order tests follow: every one they expect, so none goes unseen. */
const KEY_FNS = new Set([...BOOT, ...SHUTDOWN, ...RECOVERY, ...ATTACH]);

/** The key C functions called between two trace indices, in order. */
function calls(trace: TraceStep[], from = 0, to = trace.length): string[] {
  return trace
    .slice(from, to)
    .filter((t) => t.event === "call" && KEY_FNS.has(t.fn))
    .map((t) => t.fn);
}

/** A world on the reference DT of stm32mp15, drivers not yet bound. */
function unbound(facts = MAINLINE): Promise<World> {
  return World.create(facts, { platform: "stm32mp15", dt: "reference", fixtures });
}

/** A world with its drivers bound (probe must succeed). */
async function world(facts = MAINLINE): Promise<World> {
  const w = await unbound(facts);
  expect(await w.bindDrivers()).toBe(0);
  return w;
}

/** A world whose coprocessor a boot stage started: the rproc probes DETACHED. */
async function attachable(): Promise<World> {
  const w = await unbound();
  w.platform.bootStageLoad(fixtures.elf.good);
  await w.bindDrivers();
  return w;
}

describe("remoteproc core at v6.15 with the STM32 driver (mainline facts)", () => {
  it("boots in the order of rproc_boot / rproc_fw_boot / rproc_start", async () => {
    const w = await world();
    const mark = w.k.trace.length;
    expect(await w.start()).toBe(0);
    expect(calls(w.k.trace, mark)).toEqual(BOOT);
    expect(w.rproc?.state).toBe("running");
    expect(w.platform.copro.status().run).toBe("running");
    expect(w.platform.copro.status().firmware).toBe("good");
    // the firmware buffer lives only during the boot call
    const fw = w.k.objects.filter((o) => o.kind === "firmware");
    expect(fw.length).toBe(1);
    expect(fw[0]?.freedAt).toBe("release_firmware");
  });

  it("copies the cached table into the loaded table and points table_ptr at device memory", async () => {
    const w = await world();
    await w.start();
    const r = w.rproc!;
    expect(r.table_ptr?.kind).toBe("io");
    expect(r.cached_table?.freed).toBe(false);
    const pa = r.table_ptr?.kind === "io" ? r.table_ptr.pa : 0;
    const device = parseResourceTable(w.platform.peek(pa, r.table_sz));
    const cached = parseResourceTable(r.cached_table!.data);
    const vdevOf = (t: typeof device) => t?.entries.find((e) => e.type === "vdev");
    const dv = vdevOf(device);
    const cv = vdevOf(cached);
    if (dv?.type !== "vdev" || cv?.type !== "vdev") throw new Error("no vdev in the tables");
    // host-assigned notifyids reached the device copy; virtio_rpmsg set DRIVER_OK there, not in the cache
    expect(dv.vrings.map((v) => v.notifyid)).toEqual([0, 1]);
    expect(cv.vrings.map((v) => v.notifyid)).toEqual([0, 1]);
    expect(dv.status).toBe(0x0f);
    expect(cv.status).toBe(0);
  });

  it("stops in the order of rproc_shutdown / rproc_stop and frees every boot resource", async () => {
    const w = await world();
    await w.start();
    const mark = w.k.trace.length;
    expect(await w.stop()).toBe(0);
    expect(calls(w.k.trace, mark)).toEqual(SHUTDOWN);
    const r = w.rproc!;
    expect(r.state).toBe("offline");
    expect(r.cached_table).toBeNull();
    expect(r.table_ptr).toBeNull();
    expect(r.table_sz).toBe(0);
    expect(r.carveouts).toEqual([]);
    expect(w.platform.copro.status().run).toBe("halted");
  });

  it("keeps table_sz after shutdown when the design does not clear it", async () => {
    const { facts } = applyFactChanges(MAINLINE, { "core.shutdownClearsTableSz": false });
    const w = await world(facts);
    await w.start();
    await w.stop();
    expect(w.rproc?.table_sz).toBeGreaterThan(0);
  });

  it("recovers a watchdog crash: stop(crashed), new request_firmware, rproc_start, without parse or prepare", async () => {
    const w = await world();
    await w.start();
    const mark = w.k.trace.length;
    expect(await w.crash()).toBe(0);
    expect(calls(w.k.trace, mark)).toEqual(RECOVERY);
    expect(w.rproc?.state).toBe("running");
    expect(w.rproc?.crash_cnt).toBe(1);
    expect(w.platform.copro.status().boots).toBe(2);
    // no shutdown message is sent to a crashed firmware
    expect(w.k.trace.slice(mark).some((t) => t.layer === "platform" && t.detail.startsWith("shutdown"))).toBe(
      false,
    );
  });

  it("leaves a crashed processor CRASHED with recovery disabled; stop then fails with -EINVAL", async () => {
    const w = await world();
    await w.recovery(false);
    await w.start();
    await w.crash();
    expect(w.rproc?.state).toBe("crashed");
    expect(await w.stop()).toBe(-22);
    expect(w.rproc?.power.read()).toBe(1);
  });

  it("counts users: a second start only raises the power count, the next stop does not stop", async () => {
    const w = await world();
    await w.start();
    expect(await w.start()).toBe(0);
    expect(w.rproc?.power.read()).toBe(2);
    const mark = w.k.trace.length;
    expect(await w.stop()).toBe(0);
    expect(calls(w.k.trace, mark)).toEqual(["rproc_shutdown"]);
    expect(w.rproc?.state).toBe("running");
    expect(w.rproc?.power.read()).toBe(1);
    expect(await w.stop()).toBe(0);
    expect(w.rproc?.state).toBe("offline");
    expect(w.rproc?.power.read()).toBe(0);
  });

  it("attaches to a coprocessor a boot stage started: DETACHED at probe, ATTACHED on start, powered off on stop", async () => {
    const w = await attachable();
    expect(w.rproc?.state).toBe("detached");
    const mark = w.k.trace.length;
    expect(await w.start()).toBe(0);
    expect(calls(w.k.trace, mark)).toEqual(ATTACH);
    expect(w.rproc?.state).toBe("attached");
    expect(w.rproc?.table_sz).toBe(1024);
    expect(await w.stop()).toBe(0);
    expect(w.rproc?.state).toBe("offline");
    expect(w.platform.copro.status().run).toBe("halted");
  });

  it("refuses to change the firmware name while running (-EBUSY) and boots the new name once offline", async () => {
    const w = await world();
    await w.start();
    expect(await w.setFirmware("rproc-m4-alt-fw")).toBe(-16);
    await w.stop();
    expect(await w.setFirmware("rproc-m4-alt-fw")).toBe(0);
    expect(await w.start()).toBe(0);
    expect(w.platform.copro.status().firmware).toBe("alternate");
  });

  it("fails the boot with -ENOENT when the firmware file is missing, and drops the power count", async () => {
    const w = await world();
    w.firmware.delete("rproc-m4-fw");
    expect(await w.start()).toBe(-2);
    expect(w.rproc?.state).toBe("offline");
    expect(w.rproc?.power.read()).toBe(0);
  });

  it("auto-boots from the firmware loader after probe when the DT sets st,auto-boot", async () => {
    const w = await unbound();
    w.dt.props.set("st,auto-boot", { kind: "flag" });
    expect(await w.bindDrivers()).toBe(0);
    const order = w.k.trace.filter((t) => t.event === "call").map((t) => t.fn);
    expect(order.indexOf("rproc_auto_boot_callback")).toBeGreaterThan(order.indexOf("stm32_rproc_probe"));
    expect(w.rproc?.state).toBe("running");
    expect(w.rproc?.power.read()).toBe(1);
  });

  it("detaches from an attached coprocessor: it keeps running and the device table is restored", async () => {
    const w = await attachable();
    await w.start();
    const r = w.rproc!;
    const pa = r.table_ptr?.kind === "io" ? r.table_ptr.pa : 0;
    const before = w.platform.peek(pa, 1024);
    expect(await rproc_detach(w.k, r)).toBe(0);
    expect(r.state).toBe("detached");
    expect(w.platform.copro.status().run).toBe("running");
    expect(Array.from(w.platform.peek(pa, 1024))).not.toEqual(Array.from(before));
    expect(r.clean_table?.freed).toBe(true);
    expect(r.cached_table).toBeNull();
    // v6.15 leaves table_sz stale after detach
    expect(r.table_sz).toBe(1024);
  });

  it("delivers a firmware doorbell through the vq work under rproc->lock to rproc_vq_interrupt", async () => {
    const w = await world();
    await w.start();
    const mark = w.k.trace.length;
    await w.firmwareKick("vq1");
    const steps = w.k.trace.slice(mark).map((t) => `${t.fn}:${t.event}`);
    expect(steps).toEqual(
      expect.arrayContaining([
        "stm32_rproc_mb_callback:irq",
        "stm32_rproc_mb_vq_work:lock",
        "vring_interrupt:irq",
      ]),
    );
    expect(steps.indexOf("stm32_rproc_mb_vq_work:lock")).toBeLessThan(steps.indexOf("vring_interrupt:irq"));
    await w.stop();
    await w.teardown();
    expect(w.monitors.findings).toEqual([]);
  });

  it("ignores a crash report while OFFLINE", async () => {
    const w = await world();
    await w.crash();
    expect(w.k.trace.some((t) => t.fn === "rproc_trigger_recovery")).toBe(false);
    expect(w.rproc?.state).toBe("offline");
  });

  it("fails probe with -ENOENT when the MCU reset is missing and the design requires it", async () => {
    const w = await unbound();
    w.dt.props.delete("resets");
    expect(await w.bindDrivers()).toBe(-2);
    expect(w.rproc).toBeNull();
  });
});
