/**
 * remoteproc_tee.c driven directly on the runtime (kernel, driver core, emulator): sessions, the TA command
 * sequences of parse_fw/load/start/stop/release, the lifetime of the global context and of the per-rproc
 * entries when the TEE driver is unbound, and sleeping under the context lock. Every expectation reads the
 * kernel's events (what a monitor sees), never a version name.
 */
import { describe, expect, it } from "vitest";
import { createPlatform, loadFixtures, type Platform } from "../../src/emulator/api.ts";
import { Device, type Driver, DriverCore } from "../../src/semantics/device.ts";
import { applyFactChanges, type DesignFacts } from "../../src/semantics/facts.ts";
import { type KEvent, Kernel } from "../../src/semantics/kernel.ts";
import { type FwObj, Rproc, type RprocOps } from "../../src/semantics/remoteproc_core.ts";
import {
  RPROC_TEE_BUS_DEVICE,
  rproc_tee_find_loaded_rsc_table,
  rproc_tee_fw_mod_init,
  rproc_tee_load_fw,
  rproc_tee_module_refcount,
  rproc_tee_parse_fw,
  rproc_tee_register,
  rproc_tee_release_fw,
  rproc_tee_start,
  rproc_tee_stop,
  rproc_tee_unregister,
} from "../../src/semantics/remoteproc_tee.ts";
import { TEE_IMPL_ID_OPTEE } from "../../src/semantics/tee_client.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

function factsOf(id: string, set: Record<string, unknown> = {}): DesignFacts {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  const { facts, errors } = applyFactChanges(v.facts, set);
  if (errors.length > 0) throw new Error(errors.join("; "));
  return facts;
}

interface Rig {
  k: Kernel;
  core: DriverCore;
  platform: Platform;
  teeDev: Device;
  m4Dev: Device;
  rproc: Rproc;
  /** TA commands in the order invoked. */
  ta: () => string[];
  fw: (image: Uint8Array) => FwObj;
}

/**
 * A kernel with OP-TEE, the remoteproc_tee driver bound to the TA's bus device, and a consumer platform
 * driver whose probe registers its rproc with the TEE driver and whose remove unregisters it.
 */
async function rig(facts: DesignFacts): Promise<Rig> {
  const fx = await loadFixtures();
  const k = new Kernel(facts);
  const platform = await createPlatform("stm32mp15", { keys: [fx.keys.rsaPublicPem] });
  k.attachPlatform(platform);
  const core = new DriverCore(k);
  await rproc_tee_fw_mod_init(k, core, [{ name: "optee", implId: TEE_IMPL_ID_OPTEE, ta: platform.ta }]);
  const teeDev = new Device(RPROC_TEE_BUS_DEVICE, "tee");
  await core.device_add(teeDev);
  const m4Dev = new Device("m4@10000000", "platform");
  const io = {
    read: (pa: number, len: number) => platform.nsRead(pa, len).data,
    write: (pa: number, bytes: Uint8Array) => platform.nsWrite(pa, bytes).ok,
  };
  const rproc = new Rproc(k, "m4", m4Dev, {} as RprocOps, "rproc-m4-fw", io);
  const consumer: Driver = {
    name: "consumer",
    bus: "platform",
    match: (d) => d === m4Dev,
    probe: (kk, d) => rproc_tee_register(kk, d, rproc, platform.procId),
    remove: async (kk, d) => {
      await rproc_tee_unregister(kk, d, rproc);
    },
  };
  await core.driver_register(consumer);
  await core.device_add(m4Dev);
  const ta = () =>
    k.events.flatMap((e) =>
      e.type === "emu" && e.e.layer === "ta" && e.e.fn === "invoke" ? [e.e.cmdName] : [],
    );
  const fw = (image: Uint8Array) =>
    k.alloc("firmware", "rproc-m4-fw", { name: "rproc-m4-fw", data: image }, "test");
  return { k, core, platform, teeDev, m4Dev, rproc, ta, fw };
}

/** Uses of an object after its free event (what the use-after-free monitor reports). */
function uses(k: Kernel): Extract<KEvent, { type: "use" }>[] {
  const freed = new Set<number>();
  const out: Extract<KEvent, { type: "use" }>[] = [];
  for (const e of k.events) {
    if (e.type === "free") freed.add(e.obj.id);
    if (e.type === "use" && freed.has(e.obj.id)) out.push(e);
  }
  return out;
}
const doubleFrees = (k: Kernel) =>
  k.events.filter((e): e is Extract<KEvent, { type: "free" }> => e.type === "free" && e.already);
const sleepsInAtomic = (k: Kernel) =>
  k.events.filter(
    (e): e is Extract<KEvent, { type: "sleep" }> => e.type === "sleep" && e.spinlocks.length > 0,
  );

describe("rproc_tee_register / unregister", () => {
  it.each(["v13", "v14", "v16"])("%s: one TA session per rproc, closed on unregister", async (id) => {
    const r = await rig(factsOf(id));
    expect(r.m4Dev.driver?.name).toBe("consumer");
    expect(r.platform.ta.sessionCount).toBe(1);
    await r.core.device_release_driver(r.m4Dev);
    expect(r.platform.ta.sessionCount).toBe(0);
    expect(uses(r.k)).toEqual([]);
    expect(doubleFrees(r.k)).toEqual([]);
  });

  it("takes a module reference only where the design calls try_module_get", async () => {
    expect(rproc_tee_module_refcount((await rig(factsOf("v13"))).k)).toBe(1);
    expect(rproc_tee_module_refcount((await rig(factsOf("v16"))).k)).toBe(0);
  });

  it("defers the consumer's probe until the TEE driver has probed", async () => {
    const k = new Kernel(factsOf("v16"));
    const fx = await loadFixtures();
    const platform = await createPlatform("stm32mp15", { keys: [fx.keys.rsaPublicPem] });
    const core = new DriverCore(k);
    await rproc_tee_fw_mod_init(k, core, [{ name: "optee", implId: TEE_IMPL_ID_OPTEE, ta: platform.ta }]);
    const m4Dev = new Device("m4", "platform");
    const rproc = new Rproc(k, "m4", m4Dev, {}, "fw", { read: () => null, write: () => false });
    await core.driver_register({
      name: "consumer",
      bus: "platform",
      match: (d) => d === m4Dev,
      probe: (kk, d) => rproc_tee_register(kk, d, rproc, 0),
      remove: async () => undefined,
    });
    expect(await core.device_add(m4Dev)).toBe(-517);
    expect(m4Dev.deferred).toBe(true);
    await core.device_add(new Device(RPROC_TEE_BUS_DEVICE, "tee"));
    expect(m4Dev.driver?.name).toBe("consumer");
  });

  it("without a TEE driver (CONFIG_REMOTEPROC_TEE=n): register is -ENODEV, the other stubs WARN", async () => {
    const k = new Kernel(factsOf("v16", { tee: false }));
    const m4Dev = new Device("m4", "platform");
    const rproc = new Rproc(k, "m4", m4Dev, {}, "fw", { read: () => null, write: () => false });
    expect(await rproc_tee_register(k, m4Dev, rproc, 0)).toBe(-19);
    expect(await rproc_tee_unregister(k, m4Dev, rproc)).toBe(0);
    expect(k.events.filter((e) => e.type === "warn").map((e) => e.type === "warn" && e.at)).toEqual([
      "rproc_tee_unregister",
    ]);
  });
});

describe("TA commands of the TEE functions", () => {
  it("v13/v16 parse_fw loads then reads the table; v14 parse_fw only reads it", async () => {
    const fx = await loadFixtures();
    for (const [id, cmds] of [
      ["v13", ["LOAD_FW", "GET_RSC_TABLE"]],
      ["v16", ["LOAD_FW", "GET_RSC_TABLE"]],
      ["v14", ["LOAD_FW", "GET_RSC_TABLE"]],
    ] as const) {
      const r = await rig(factsOf(id));
      const fw = r.fw(fx.stm32mp15.good);
      if (!r.k.facts.tee?.parseFwLoads) expect(await rproc_tee_load_fw(r.k, r.rproc, fw)).toBe(0);
      expect(await rproc_tee_parse_fw(r.k, r.rproc, fw)).toBe(0);
      expect(r.ta(), id).toEqual(cmds);
      expect(r.rproc.cached_table?.data.length).toBe(r.rproc.table_sz);
      expect(r.rproc.table_sz).toBeGreaterThan(0);
    }
  });

  it("v14 parse_fw without a prior load fails on the TA's BAD_STATE and releases", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v14"));
    expect(await rproc_tee_parse_fw(r.k, r.rproc, r.fw(fx.stm32mp15.good))).toBe(-5);
    expect(r.ta()).toEqual(["GET_RSC_TABLE", "RELEASE_FW"]);
  });

  it("a missing resource table makes parse_fw fail (map of size 0) and release", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v16"));
    expect(await rproc_tee_parse_fw(r.k, r.rproc, r.fw(fx.stm32mp15.noResourceTable))).toBe(-12);
    expect(r.ta()).toEqual(["LOAD_FW", "GET_RSC_TABLE", "RELEASE_FW"]);
    expect(r.rproc.cached_table).toBeNull();
    const variant = await rig(factsOf("v16", { "tee.zeroSizeTable": "no-table" }));
    expect(await rproc_tee_parse_fw(variant.k, variant.rproc, variant.fw(fx.stm32mp15.noResourceTable))).toBe(
      0,
    );
    expect(variant.ta()).toEqual(["LOAD_FW", "GET_RSC_TABLE"]);
  });

  it("an authentication failure in parse_fw returns the error without RELEASE", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v16"));
    expect(await rproc_tee_parse_fw(r.k, r.rproc, r.fw(fx.stm32mp15.badSignature))).toBe(-5);
    expect(r.ta()).toEqual(["LOAD_FW"]);
    expect(r.k.live().filter((o) => o.kind === "shm")).toEqual([]);
  });

  it("start swallows a failed invoke where the design says so; a variant propagates it", async () => {
    const fx = await loadFixtures();
    for (const [set, expected] of [
      [{}, 0],
      [
        {
          "tee.invokeErrorResult": { ...factsOf("v16").tee?.invokeErrorResult, rproc_tee_start: "propagate" },
        },
        -5,
      ],
    ] as const) {
      const r = await rig(factsOf("v16", set));
      const fw = r.fw(fx.stm32mp15.good);
      expect(await rproc_tee_parse_fw(r.k, r.rproc, fw)).toBe(0);
      r.platform.ta.failNext("transport");
      expect(await rproc_tee_start(r.k, r.rproc)).toBe(expected);
      expect(r.platform.ta.state(r.platform.procId)).toBe("LOADED");
    }
  });

  it("a TA error in start is -EIO; stop reports a transport failure as is", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v13"));
    expect(await rproc_tee_parse_fw(r.k, r.rproc, r.fw(fx.stm32mp15.good))).toBe(0);
    r.platform.ta.failNext("ta");
    expect(await rproc_tee_start(r.k, r.rproc)).toBe(-5);
    expect(await rproc_tee_start(r.k, r.rproc)).toBe(0);
    r.platform.ta.failNext("transport", -110);
    expect(await rproc_tee_stop(r.k, r.rproc)).toBe(-110);
  });

  it("release_fw sends RELEASE_FW only for an OFFLINE rproc", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v16"));
    expect(await rproc_tee_parse_fw(r.k, r.rproc, r.fw(fx.stm32mp15.good))).toBe(0);
    r.rproc.state = "running";
    await rproc_tee_release_fw(r.k, r.rproc);
    r.rproc.state = "detached";
    await rproc_tee_release_fw(r.k, r.rproc);
    r.rproc.state = "offline";
    await rproc_tee_release_fw(r.k, r.rproc);
    expect(r.ta()).toEqual(["LOAD_FW", "GET_RSC_TABLE", "RELEASE_FW"]);
    expect(r.platform.ta.state(r.platform.procId)).toBe("OFF");
  });

  it("find_loaded_rsc_table returns NULL when the table's pa is in no allocated carveout", async () => {
    const fx = await loadFixtures();
    const r = await rig(factsOf("v16"));
    const fw = r.fw(fx.stm32mp15.good);
    expect(await rproc_tee_parse_fw(r.k, r.rproc, fw)).toBe(0);
    expect(await rproc_tee_find_loaded_rsc_table(r.k, r.rproc, fw)).toBeNull();
    expect(r.rproc.table_sz).toBeGreaterThan(0);
  });
});

describe("unbinding the TEE driver", () => {
  it.each(["v13", "v14", "v15"])(
    "%s: the devm context and the kfree'd entries are used after free, the entry freed twice",
    async (id) => {
      const fx = await loadFixtures();
      const r = await rig(factsOf(id));
      const fw = r.fw(fx.stm32mp15.good);
      if (r.k.facts.core.loadFwOp) await rproc_tee_load_fw(r.k, r.rproc, fw);
      expect(await rproc_tee_parse_fw(r.k, r.rproc, fw)).toBe(0);
      await r.core.device_release_driver(r.teeDev);
      // no device link: the consumer is still bound
      expect(r.m4Dev.driver?.name).toBe("consumer");
      expect(uses(r.k)).toEqual([]);
      await rproc_tee_start(r.k, r.rproc);
      const freedKinds = new Set(uses(r.k).map((e) => e.obj.kind));
      expect([...freedKinds].sort()).toEqual(["mem", "tee_context", "trproc"]);
      await r.core.device_release_driver(r.m4Dev);
      expect(doubleFrees(r.k).map((e) => e.obj.kind)).toEqual(["trproc"]);
    },
  );

  it("v16: the device link unbinds the consumer first (session closed before the context), nothing freed twice", async () => {
    const r = await rig(factsOf("v16"));
    await r.core.device_release_driver(r.teeDev);
    expect(r.m4Dev.driver).toBeNull();
    expect(r.platform.ta.sessionCount).toBe(0);
    const order = r.k.trace.filter((s) => s.event === "call").map((s) => s.fn);
    expect(order.indexOf("rproc_tee_unregister")).toBeLessThan(order.indexOf("rproc_tee_remove"));
    expect(uses(r.k)).toEqual([]);
    expect(doubleFrees(r.k)).toEqual([]);
  });

  it("v16 without the device link: start after the TEE unbind dereferences the cleared context", async () => {
    const r = await rig(factsOf("v16", { "tee.deviceLink": false }));
    await r.core.device_release_driver(r.teeDev);
    expect(r.m4Dev.driver?.name).toBe("consumer");
    await rproc_tee_start(r.k, r.rproc);
    expect(r.k.events.some((e) => e.type === "warn" && /NULL pointer/.test(e.detail))).toBe(true);
  });
});

describe("the context lock", () => {
  it("v16 sleeps under the ctx_lock spinlock in register and unregister", async () => {
    const r = await rig(factsOf("v16"));
    expect(sleepsInAtomic(r.k).map((e) => `${e.at}:${e.fn}`)).toEqual([
      "rproc_tee_register:kzalloc",
      "rproc_tee_register:tee_client_open_session",
      "rproc_tee_register:device_link_add",
    ]);
    await r.core.device_release_driver(r.m4Dev);
    expect(sleepsInAtomic(r.k).map((e) => e.fn)).toContain("tee_client_close_session");
  });

  it("v13 has no lock: nothing sleeps in atomic context", async () => {
    const r = await rig(factsOf("v13"));
    await r.core.device_release_driver(r.teeDev);
    expect(sleepsInAtomic(r.k)).toEqual([]);
  });

  it("a mutex instead of the spinlock (a variant) removes the sleep-in-atomic", async () => {
    const r = await rig(factsOf("v16", { "tee.ctxLock": "mutex" }));
    await r.core.device_release_driver(r.teeDev);
    expect(sleepsInAtomic(r.k)).toEqual([]);
    expect(r.k.events.some((e) => e.type === "lock" && e.lock.kind === "mutex")).toBe(true);
  });
});
