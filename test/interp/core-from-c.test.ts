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
import { CORE_MODULES, coreExit, coreInit, loadTreeDrivers } from "../../src/interp/env/drivers.ts";
import { KernelEnv } from "../../src/interp/env/kernel.ts";
import { moduleInit } from "../../src/interp/env/remoteproc_tee.ts";
import { instantiate } from "../../src/interp/index.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { Device, DriverCore } from "../../src/semantics/device.ts";
import { referenceDt } from "../../src/semantics/devicetree.ts";
import { Kernel } from "../../src/semantics/kernel.ts";
import { Monitors } from "../../src/semantics/monitors.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const have = sharedAvailable("kernel/linux-6.12/drivers/remoteproc/remoteproc_core.c");
const CORE = "drivers/remoteproc/remoteproc_core.c";
const ELF = "drivers/remoteproc/remoteproc_elf_loader.c";
/** In the order the core's #include lines bring them in. */
const HEADERS = [
  "include/linux/remoteproc.h",
  "drivers/remoteproc/remoteproc_internal.h",
  "drivers/remoteproc/remoteproc_elf_helpers.h",
];
const read = (path: string) => ({ path, text: readFileSync(join(TREE, path), "utf8") });

/** A platform driver of our own over the core's API (not kernel code). */
const DRIVER = String.raw`
static int fx_start(struct rproc *rproc) { return 0; }
static int fx_stop(struct rproc *rproc) { return 0; }
static const struct rproc_ops fx_ops = { .start = fx_start, .stop = fx_stop };
static struct rproc *fx;
static int fx_auto_boot;

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

async function world(autoBoot: boolean, firmware: Record<string, Uint8Array> = {}) {
  const parser = await cParser();
  const loaded = loadTreeDrivers(parser, {
    headers: HEADERS.map(read),
    core: read(CORE),
    elf: read(ELF),
    tee: null,
    stm32: {
      path: "fx_rproc.c",
      text: DRIVER.replace("fx_auto_boot;", `fx_auto_boot = ${autoBoot ? 1 : 0};`),
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
    (f) => (f === CORE || f === ELF ? "core" : "stm32"),
    CORE_MODULES,
  );
  const m = instantiate(loaded.program, env);
  env.attach(m);
  await coreInit(env, m, CORE);
  await moduleInit(env, m, "fx_rproc.c");
  const logs = () => k.trace.filter((s) => s.event === "log").map((s) => s.detail);
  return { loaded, k, env, m, core, dev, monitors, logs, fx };
}

describe.skipIf(!have)("linux-6.12's remoteproc_core.c from C", () => {
  it("SCRATCH auto boot", async () => {
    const fx = await loadFixtures();
    const w = await world(true, { "fx-fw": fx.elf.good });
    console.log(await w.core.device_add(w.dev));
    await w.k.flushWork().catch((e) => console.log(String(e)));
    console.log(w.k.trace.map((s) => `${s.layer} ${s.fn} ${s.event} ${s.detail}`).join("\n"));
    console.log(w.monitors.findings);
  });
  it("lowers with no problem, and names what it calls that the environment lacks, with the line", async () => {
    const w = await world(false);
    expect(w.loaded.problems).toEqual([]);
    const needs = neededNames(w.loaded.program, CORE, BUILTINS, (n) => w.env.fn(n) !== undefined);
    const names = needs.map((n) => n.name);
    // The IOMMU (no STM32 coprocessor has one) and the virtio device the core registers for a vdev resource.
    expect(names).toContain("iommu_domain_alloc");
    expect(names).toContain("platform_device_register_data");
    // Everything rproc_alloc and rproc_add call is provided.
    for (const n of ["device_initialize", "ida_alloc", "kstrdup_const", "device_add", "put_device"])
      expect(names).not.toContain(n);
    const first = needs.find((n) => n.name === "platform_device_register_data");
    expect(first?.file).toBe(CORE);
    expect(first?.line).toBeGreaterThan(0);
  });

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
});
