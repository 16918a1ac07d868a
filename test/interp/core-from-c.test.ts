/**
 * The tree's remoteproc_core.c run from C over the environment (src/interp/env/drivers.ts CORE_MODULES):
 * it lowers completely, what it calls that the environment lacks is named with its line before any run, and
 * a driver of our own registers and unregisters an rproc through the C core (rproc_alloc, rproc_add,
 * rproc_del, rproc_free) with the device core's reference counting, the ida and the release callback.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createPlatform, loadFixtures } from "../../src/emulator/api.ts";
import { BUILTINS } from "../../src/interp/builtins.ts";
import { neededNames } from "../../src/interp/calls.ts";
import {
  CORE_MODULES,
  CORE_UNREACHED,
  coreExit,
  coreInit,
  coreNeeds,
  loadTreeDrivers,
} from "../../src/interp/env/drivers.ts";
import { CannotRunC, KernelEnv } from "../../src/interp/env/kernel.ts";
import { moduleInit } from "../../src/interp/env/remoteproc_tee.ts";
import { instantiate } from "../../src/interp/index.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { applySeriesToTree } from "../../src/node/kernel-tree.ts";
import { layerOfFile } from "../../src/scenarios/result.ts";
import { Device, DriverCore } from "../../src/semantics/device.ts";
import { referenceDt } from "../../src/semantics/devicetree.ts";
import { Kernel } from "../../src/semantics/kernel.ts";
import { Monitors } from "../../src/semantics/monitors.ts";
import { loadOrder, runnableFiles } from "../../src/tree/index.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const have = sharedAvailable("kernel/linux-6.12/drivers/remoteproc/remoteproc_core.c");
const haveV16 = have && sharedAvailable("lkml/v16");
const CORE = "drivers/remoteproc/remoteproc_core.c";
const ELF = "drivers/remoteproc/remoteproc_elf_loader.c";
const VIRTIO = "drivers/remoteproc/remoteproc_virtio.c";
/** In the order the core's #include lines bring them in. */
const HEADERS = [
  "include/linux/remoteproc.h",
  "drivers/remoteproc/remoteproc_internal.h",
  "drivers/remoteproc/remoteproc_elf_helpers.h",
];
const read = (path: string) => ({ path, text: readFileSync(join(TREE, path), "utf8") });

/** A platform driver of our own over the core's API (not kernel code). */
const DRIVER = String.raw`
static int fx_started;
static int fx_start(struct rproc *rproc) { fx_started++; return 0; }
static int fx_stop(struct rproc *rproc) { fx_started--; return 0; }
static void fx_kick(struct rproc *rproc, int vqid) { dev_info(&rproc->dev, "kick %d\n", vqid); }

static int fx_mem_alloc(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	void *va = ioremap_wc(mem->dma, mem->len);

	if (!va)
		return -ENOMEM;
	mem->va = va;
	return 0;
}

static int fx_mem_release(struct rproc *rproc, struct rproc_mem_entry *mem)
{
	iounmap(mem->va);
	return 0;
}

/* The coprocessor's memories: its SRAM at the address Linux sees it, its RETRAM at 0. */
static int fx_prepare(struct rproc *rproc)
{
	struct rproc_mem_entry *mem;

	mem = rproc_mem_entry_init(rproc->dev.parent, NULL, 0x10000000, 0x40000, 0x10000000,
				   fx_mem_alloc, fx_mem_release, "%s%d", "mcuram", 2);
	if (!mem)
		return -ENOMEM;
	rproc_add_carveout(rproc, mem);
	mem = rproc_mem_entry_init(rproc->dev.parent, NULL, 0x38000000, 0x10000, 0, fx_mem_alloc, fx_mem_release,
				   "retram");
	if (!mem)
		return -ENOMEM;
	rproc_add_carveout(rproc, mem);
	return 0;
}

/* A firmware may come without a resource table. */
static int fx_parse_fw(struct rproc *rproc, const struct firmware *fw)
{
	if (rproc_elf_load_rsc_table(rproc, fw))
		dev_info(&rproc->dev, "no resource table\n");
	return 0;
}

static const struct rproc_ops fx_ops = {
	.prepare = fx_prepare,
	.start = fx_start,
	.stop = fx_stop,
	.kick = fx_kick,
	.parse_fw = fx_parse_fw,
	.load = rproc_elf_load_segments,
	.sanity_check = rproc_elf_sanity_check,
	.get_boot_addr = rproc_elf_get_boot_addr,
	.find_loaded_rsc_table = rproc_elf_find_loaded_rsc_table,
};
static struct rproc *fx;
static int fx_auto_boot;

/* The first vdev's status byte in the loaded resource table, and its vrings' notify ids and addresses. */
int fx_vdev(void)
{
	struct rproc_vdev *rvdev;
	struct fw_rsc_vdev *rsc;

	if (list_empty(&fx->rvdevs)) {
		dev_info(&fx->dev, "no vdev\n");
		return -1;
	}
	rvdev = list_first_entry(&fx->rvdevs, struct rproc_vdev, node);
	rsc = (void *)fx->table_ptr + rvdev->rsc_offset;
	dev_info(&fx->dev, "vdev %s status 0x%x vring0 %d da 0x%x vring1 %d da 0x%x\n", dev_name(&rvdev->pdev->dev),
		 rsc->status, rsc->vring[0].notifyid, rsc->vring[0].da, rsc->vring[1].notifyid, rsc->vring[1].da);
	return rsc->status;
}

/* What the sysfs state file does: boot, then stop. */
int fx_cycle(void)
{
	int ret = rproc_boot(fx);

	dev_info(&fx->dev, "boot %d state %d started %d carveout %s\n", ret, fx->state, fx_started,
		 list_first_entry(&fx->carveouts, struct rproc_mem_entry, node)->name);
	if (ret)
		return ret;
	rproc_shutdown(fx);
	dev_info(&fx->dev, "shutdown state %d started %d\n", fx->state, fx_started);
	return 0;
}

static int fx_probe(struct platform_device *pdev)
{
	int ret;

	fx = rproc_alloc(&pdev->dev, "fx", &fx_ops, "fx-fw", 16);
	if (!fx)
		return -ENOMEM;
	fx->auto_boot = fx_auto_boot;
	ret = rproc_add(fx);
	if (ret)
		rproc_free(fx);
	dev_info(&pdev->dev, "added %s index %d state %d fw %s\n", fx->name, fx->index, fx->state, fx->firmware);
	return ret;
}

static void fx_remove(struct platform_device *pdev)
{
	rproc_del(fx);
	rproc_free(fx);
}

static const struct of_device_id fx_of_match[] = {
	{ .compatible = "st,stm32mp1-m4" },
	{},
};

static struct platform_driver fx_driver = {
	.probe = fx_probe,
	.remove = fx_remove,
	.driver = { .name = "fx-rproc", .of_match_table = fx_of_match },
};
module_platform_driver(fx_driver);
`;

async function world(
  autoBoot: boolean,
  firmware: Record<string, Uint8Array> = {},
  edit: (driver: string) => string = (d) => d,
) {
  const parser = await cParser();
  const loaded = loadTreeDrivers(parser, {
    headers: HEADERS.map(read),
    core: read(CORE),
    virtio: read(VIRTIO),
    elf: read(ELF),
    tee: null,
    stm32: {
      path: "fx_rproc.c",
      text: edit(DRIVER.replace("fx_auto_boot;", `fx_auto_boot = ${autoBoot ? 1 : 0};`)),
    },
  });
  const fx = await loadFixtures();
  const platform = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
  const k = new Kernel();
  k.attachPlatform(platform);
  const monitors = new Monitors(k, platform);
  const core = new DriverCore(k);
  const dev = new Device(
    "m4@10000000",
    "platform",
    referenceDt(
      "st,stm32mp1-m4",
      platform.regions.filter((r) => !r.secure),
    ),
  );
  const env = new KernelEnv(
    { k, core, platform, teedevs: [], store: { get: (name: string) => firmware[name] } },
    (f) => (f === "fx_rproc.c" ? "stm32" : layerOfFile(f)),
    CORE_MODULES,
  );
  const m = instantiate(loaded.program, env);
  env.attach(m);
  await coreInit(env, m, CORE);
  // remoteproc_virtio.c's builtin_platform_driver (a device initcall, after the core's subsys initcall).
  await moduleInit(env, m, VIRTIO);
  await moduleInit(env, m, "fx_rproc.c");
  const logs = () => k.trace.filter((s) => s.event === "log").map((s) => s.detail);
  return { loaded, k, env, m, core, dev, monitors, logs, fx, platform };
}

describe.skipIf(!have)("linux-6.12's remoteproc_core.c from C", () => {
  it("lowers with no problem, and names what it calls that the environment lacks, with the line", async () => {
    const w = await world(false);
    expect(w.loaded.problems).toEqual([]);
    const needs = neededNames(w.loaded.program, CORE, BUILTINS, (n) => w.env.fn(n) !== undefined);
    const names = needs.map((n) => n.name);
    // The IOMMU (no STM32 coprocessor has one; rproc->has_iommu stays false), rproc_va_to_pa's page walk
    // and the firmware-name property helper.
    expect(names).toContain("iommu_domain_alloc");
    expect(names).toContain("is_vmalloc_addr");
    // Everything rproc_alloc, rproc_add and the vdev's platform device call is provided.
    for (const n of [
      "device_initialize",
      "ida_alloc",
      "kstrdup_const",
      "device_add",
      "put_device",
      "platform_device_register_data",
      "platform_device_unregister",
    ])
      expect(names).not.toContain(n);
    const first = needs.find((n) => n.name === "iommu_domain_alloc");
    expect(first?.file).toBe(CORE);
    expect(first?.line).toBeGreaterThan(0);
    // The virtio transport calls nothing the environment lacks.
    expect(neededNames(w.loaded.program, VIRTIO, BUILTINS, (n) => w.env.fn(n) !== undefined)).toEqual([]);
    // Over the core, the virtio transport and the tree's headers, what is missing is only what CORE_UNREACHED
    // lists (the matrix runs the core from C on that condition), each with its file and line.
    expect(await coreNeeds(w.loaded)).toEqual([]);
    const all = await coreNeeds(w.loaded, true);
    expect(all.length).toBeGreaterThan(0);
    for (const n of all) {
      expect(Object.keys(CORE_UNREACHED)).toContain(n.name);
      expect(n.line).toBeGreaterThan(0);
    }
    expect(all.map((n) => n.file)).toContain("drivers/remoteproc/remoteproc_elf_helpers.h");
  });

  it("a path the environment lacks, reached anyway (an rproc behind an IOMMU), stops unknown naming the API and its line", async () => {
    const image = (await loadFixtures()).elf.noResourceTable;
    const w = await world(false, { "fx-fw": image }, (d) =>
      d.replace(
        "\tfx->auto_boot = fx_auto_boot;",
        "\tfx->auto_boot = fx_auto_boot;\n\tfx->has_iommu = true;",
      ),
    );
    expect(await w.core.device_add(w.dev)).toBe(0);
    const stopped = await w.env.run("fx_cycle", { name: "fx_cycle" }, []).then(
      () => null,
      (e: unknown) => e,
    );
    expect(stopped).toBeInstanceOf(CannotRunC);
    const e = stopped as CannotRunC;
    expect(e.fault).toBe(false);
    expect(e.what).toMatch(/^iommu_domain_alloc\(\): not defined in the files and not provided/);
    expect(e.site.file).toBe(CORE);
    expect(read(CORE).text.split("\n")[e.site.line - 1]).toContain("iommu_domain_alloc(");
  });

  it.skipIf(!haveV16)(
    "v16's patched core (patches 1 and 3 applied to the tree) lowers with the drivers with no problem",
    async () => {
      const series = await loadInput(join(SHARED, "lkml", "v16"));
      const report = await applySeriesToTree(series, TREE);
      const files = runnableFiles(report);
      const get = (p: string) => {
        const f = files.find((x) => x.path === p);
        return f === undefined ? null : { path: f.path, text: f.text };
      };
      expect(report.files.find((f) => f.path === CORE)?.provenance).toEqual({
        kind: "patched",
        patches: [1, 3],
      });
      const headers = loadOrder(report).filter((f) => f.path.endsWith(".h"));
      // The order the sources include them in: the tree's remoteproc.h before remoteproc_internal.h.
      const at = (p: string) => headers.findIndex((h) => h.path === p);
      expect(at("include/linux/remoteproc.h")).toBeLessThan(at("drivers/remoteproc/remoteproc_internal.h"));
      const loaded = loadTreeDrivers(await cParser(), {
        headers,
        core: get(CORE),
        elf: get(ELF),
        stm32: get("drivers/remoteproc/stm32_rproc.c"),
        tee: get("drivers/remoteproc/remoteproc_tee.c"),
      });
      expect(loaded.problems).toEqual([]);
      // The series' rproc_pa_to_va (patch 1) is the C's now, not the environment's.
      expect(loaded.program.functions.rproc_pa_to_va?.file).toBe(CORE);
    },
    60_000,
  );

  it("registers and unregisters an rproc: the class device, its index, the release callback frees it", async () => {
    const w = await world(false);
    expect(await w.core.device_add(w.dev)).toBe(0);
    expect(w.logs()).toContain("info: added fx index 0 state 0 fw fx-fw");
    const added = w.k.trace.filter((s) => s.event === "device_add").map((s) => s.detail);
    expect(added).toEqual(["remoteproc0"]);
    await w.core.device_release_driver(w.dev);
    expect(w.k.trace.filter((s) => s.event === "release").map((s) => s.detail)).toEqual([
      "remoteproc0: last reference put",
    ]);
    // The core unloaded too (remoteproc_exit): what its initcall made (the recovery workqueue) goes with it.
    await coreExit(w.env, w.m, CORE);
    w.k.leakCheck();
    expect(w.monitors.findings).toEqual([]);
  });

  it("boots and shuts down from C: the driver's carveout, the ELF segments through it, the start and stop ops", async () => {
    const image = (await loadFixtures()).elf.noResourceTable;
    const w = await world(false, { "fx-fw": image });
    expect(await w.core.device_add(w.dev)).toBe(0);
    const ret = await w.env.run("fx_cycle", { name: "fx_cycle" }, []);
    expect(ret).toMatchObject({ k: "int", v: 0n });
    // RPROC_RUNNING = 2, RPROC_OFFLINE = 0.
    expect(w.logs()).toContain("info: boot 0 state 2 started 1 carveout mcuram2");
    expect(w.logs()).toContain("info: shutdown state 0 started 0");
    expect(w.logs()).toContain("info: no resource table");
    // The segment for 0x10000000 is in the coprocessor's SRAM, through the carveout's ioremap_wc.
    const elf = new DataView(image.buffer, image.byteOffset, image.byteLength);
    const phdr = elf.getUint32(28, true) + 32 * 1;
    expect(elf.getUint32(phdr + 8, true)).toBe(0x10000000);
    const off = elf.getUint32(phdr + 4, true);
    const filesz = elf.getUint32(phdr + 16, true);
    const sram = w.platform.nsRead(0x10000000, filesz);
    expect(sram.ok).toBe(true);
    expect([...(sram.data ?? [])]).toEqual([...image.subarray(off, off + filesz)]);
    await w.core.device_release_driver(w.dev);
    await coreExit(w.env, w.m, CORE);
    w.k.leakCheck();
    expect(w.monitors.findings).toEqual([]);
  });

  it("the auto boot runs from the firmware loader's work through the vdev: the rproc-virtio device probes, its virtio device is registered, the rpmsg stand-in negotiates, finds its queues, sets DRIVER_OK and kicks vring 0", async () => {
    const w = await world(true, { "fx-fw": (await loadFixtures()).elf.good });
    expect(await w.core.device_add(w.dev)).toBe(0);
    const fns = () => w.k.trace.filter((s) => s.event === "call").map((s) => s.fn);
    // rproc_add queued the request: nothing booted yet.
    expect(fns()).not.toContain("rproc_boot");
    await w.k.flushWork();
    for (const fn of [
      "rproc_auto_boot_callback",
      "rproc_boot",
      "rproc_handle_vdev",
      "rproc_virtio_probe",
      "rproc_alloc_vring",
      "rproc_vdev_do_start",
      "rproc_add_virtio_dev",
      "rproc_virtio_finalize_features",
      "rp_find_vq",
      "rproc_virtio_notify",
    ])
      expect(fns()).toContain(fn);
    expect(w.logs()).toContain("info: kick 0");
    expect(w.logs()).toContain("info: registered virtio0 (type 7)");
    expect(await w.env.run("fx_vdev", { name: "fx_vdev" }, [])).toMatchObject({ k: "int", v: 0x0fn });
    const vdev = w.logs().find((l) => l.startsWith("info: vdev "));
    // The notify ids the core allocated, and the vrings' addresses rp_find_vq wrote into the table.
    expect(vdev).toMatch(
      /^info: vdev rproc-virtio\.0\.auto status 0xf vring0 0 da 0x[0-9a-f]+ vring1 1 da 0x[0-9a-f]+$/,
    );
    expect(w.monitors.findings).toEqual([]);
    // The rproc is removed with its vdev: the virtio device unregistered (reset), the platform device
    // unregistered (its remove puts the rproc), everything freed.
    await w.core.device_release_driver(w.dev);
    const released = w.k.trace.filter((s) => s.event === "release").map((s) => s.detail);
    expect(released).toEqual([
      "virtio0: last reference put",
      "rproc-virtio.0.auto: last reference put",
      "remoteproc0: last reference put",
    ]);
    await coreExit(w.env, w.m, CORE);
    w.k.leakCheck();
    expect(w.monitors.findings).toEqual([]);
  });

  it("a vdev on a driver with no kick op: rproc_add_virtio_dev refuses it and the boot fails, as the hand model's", async () => {
    const image = (await loadFixtures()).elf.good;
    const w = await world(false, { "fx-fw": image }, (d) => d.replace("\t.kick = fx_kick,\n", ""));
    expect(await w.core.device_add(w.dev)).toBe(0);
    const ret = await w.env.run("fx_cycle", { name: "fx_cycle" }, []);
    expect(ret).toMatchObject({ k: "int", v: -22n });
    expect(w.logs().some((l) => l.includes(".kick method not defined for fx"))).toBe(true);
    await w.core.device_release_driver(w.dev);
    await coreExit(w.env, w.m, CORE);
    w.k.leakCheck();
  });
});
