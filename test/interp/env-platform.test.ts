/**
 * The environment modules a platform driver runs over (src/interp/env/of.ts, platform.ts, irq.ts, regmap.ts,
 * reset.ts, mailbox.ts, workqueue.ts, handled.ts), with a platform driver of our own probing the reference
 * device tree of the emulated STM32MP15 coprocessor.
 */
import { describe, expect, it } from "vitest";
import { createPlatform, loadFixtures } from "../../src/emulator/api.ts";
import { TREE_MODULES } from "../../src/interp/env/drivers.ts";
import { testedCallees } from "../../src/interp/env/handled.ts";
import { ENV_HEADERS_FOR_TREE } from "../../src/interp/env/headers.ts";
import { CannotRunC, KernelEnv } from "../../src/interp/env/kernel.ts";
import { moduleInit } from "../../src/interp/env/remoteproc_tee.ts";
import { instantiate, loadProgram } from "../../src/interp/index.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { Device, DriverCore } from "../../src/semantics/device.ts";
import { referenceDt } from "../../src/semantics/devicetree.ts";
import { Kernel } from "../../src/semantics/kernel.ts";
import { Monitors } from "../../src/semantics/monitors.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

const DRIVER = String.raw`
static struct regmap *hold;
static unsigned int hold_reg, hold_mask;
static struct reset_control *mcu, *hb;
static struct mbox_client cl_a, cl_b, cl_vq;
static struct mbox_chan *shut, *vq;
static struct work_struct work;
static int kicks, works;

static void fx_work(struct work_struct *w)
{
	works++;
	dev_info(cl_vq.dev, "work %d\n", works);
}

static void fx_rx(struct mbox_client *cl, void *data)
{
	kicks++;
	dev_info(cl->dev, "rx %d\n", kicks);
	queue_work(NULL, &work);
}

static irqreturn_t fx_wdg(int irq, void *data)
{
	dev_info(&((struct platform_device *)data)->dev, "watchdog irq %d\n", irq);
	return IRQ_HANDLED;
}

static int fx_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct device_node *np = dev->of_node;
	struct of_phandle_iterator it;
	struct reserved_mem *rmem;
	struct mbox_chan *again;
	unsigned int v;
	u32 cells[3];
	int n, irq, err;

	dev_info(dev, "node %s, %d dma-ranges\n", np->name,
		 of_property_count_elems_of_size(dev->parent->of_node, "dma-ranges", 12));
	of_phandle_iterator_init(&it, np, "memory-region", NULL, 0);
	n = 0;
	while (of_phandle_iterator_next(&it) == 0) {
		rmem = of_reserved_mem_lookup(it.node);
		if (rmem && n++ == 0)
			dev_info(dev, "first region %s at %llx\n", it.node->name, rmem->base);
	}
	dev_info(dev, "%d regions, u32 of a flag: %d, absent: %d\n", n,
		 of_property_read_u32(np, "wakeup-source", &v), of_property_read_u32(np, "st,nothing", &v));
	hold = syscon_regmap_lookup_by_phandle(np, "st,syscfg-holdboot");
	if (IS_ERR(hold))
		return PTR_ERR(hold);
	of_property_read_u32_index(np, "st,syscfg-holdboot", 1, &hold_reg);
	of_property_read_u32_index(np, "st,syscfg-holdboot", 2, &hold_mask);
	dev_info(dev, "tz syscon %ld\n", PTR_ERR(syscon_regmap_lookup_by_phandle(np, "st,syscfg-tz")));
	err = regmap_update_bits(hold, hold_reg, hold_mask, 1);
	regmap_read(hold, hold_reg, &v);
	dev_info(dev, "hold boot bit %u\n", v);
	mcu = devm_reset_control_get_optional(dev, "mcu_rst");
	hb = devm_reset_control_get_optional(dev, "hold_boot");
	dev_info(dev, "hold_boot reset %s, assert on it %d\n", hb ? "present" : "absent", reset_control_assert(hb));
	cl_a.dev = dev;
	cl_a.tx_block = true;
	cl_b.dev = dev;
	cl_vq.dev = dev;
	cl_vq.rx_callback = fx_rx;
	INIT_WORK(&work, fx_work);
	shut = mbox_request_channel_byname(&cl_a, "shutdown");
	again = mbox_request_channel_byname(&cl_b, "shutdown");
	dev_info(dev, "second client %ld, unknown name %ld\n", PTR_ERR(again),
		 PTR_ERR(mbox_request_channel_byname(&cl_b, "nope")));
	vq = mbox_request_channel_byname(&cl_vq, "vq0");
	irq = platform_get_irq_optional(pdev, 0);
	dev_info(dev, "irq %d, second %d\n", irq > 0, platform_get_irq_optional(pdev, 1));
	err = devm_request_irq(dev, irq, fx_wdg, 0, dev_name(dev), pdev);
	return err;
}

static void fx_remove(struct platform_device *pdev)
{
	dev_info(&pdev->dev, "shutdown message %d\n", mbox_send_message(shut, "detach"));
	mbox_free_channel(shut);
	mbox_free_channel(vq);
	reset_control_assert(mcu);
}

static const struct of_device_id fx_match[] = {
	{ .compatible = "st,stm32mp1-m4" },
	{},
};

static struct platform_driver fx_driver = {
	.probe = fx_probe,
	.remove = fx_remove,
	.driver = { .name = "fx-plat", .of_match_table = fx_match },
};
module_platform_driver(fx_driver);
`;

async function world(text: string) {
  const fx = await loadFixtures();
  const platform = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
  const k = new Kernel(builtinVersion("v16")?.facts);
  k.attachPlatform(platform);
  const monitors = new Monitors(k, platform);
  const core = new DriverCore(k);
  const dt = referenceDt(
    "st,stm32mp1-m4",
    platform.regions.filter((r) => !r.secure),
  );
  const dev = new Device("m4@10000000", "platform", dt);
  const env = new KernelEnv(
    { k, core, platform, teedevs: [], store: { get: () => undefined } },
    () => "stm32",
    TREE_MODULES,
  );
  const { program, problems } = loadProgram(await cParser(), [{ path: "fxplat.c", text }], {
    envHeaders: ENV_HEADERS_FOR_TREE,
  });
  expect(problems).toEqual([]);
  const m = instantiate(program, env);
  env.attach(m);
  await moduleInit(env, m, "fxplat.c");
  const logs = () => k.trace.filter((s) => s.event === "log").map((s) => s.detail);
  return { k, env, m, core, dev, platform, monitors, logs, fx };
}

describe("a platform driver of the C over the environment's modules", () => {
  it("matches by of_match_table and reads the device tree model with the kernel's conventions", async () => {
    const w = await world(DRIVER);
    expect(await w.core.device_add(w.dev)).toBe(0);
    const logs = w.logs();
    const regions = w.platform.regions.filter((r) => !r.secure);
    expect(logs).toContain(`info: node m4, ${regions.length} dma-ranges`);
    expect(logs).toContain(`info: first region ${regions[0]?.name} at ${regions[0]?.pa.toString(16)}`);
    // A flag has no value (-ENODATA), an absent property is -EINVAL; an absent syscon phandle is -ENODEV.
    expect(logs).toContain(`info: ${regions.length} regions, u32 of a flag: -61, absent: -22`);
    expect(logs).toContain("info: tz syscon -19");
    expect(logs).toContain("info: irq 1, second -6");
  });

  it("the hold-boot syscon bit is the coprocessor's hold boot; an absent optional reset is NULL", async () => {
    const w = await world(DRIVER);
    expect(w.platform.copro.status().holdBoot).toBe(true);
    await w.core.device_add(w.dev);
    expect(w.platform.copro.status().holdBoot).toBe(false);
    expect(w.logs()).toContain("info: hold boot bit 1");
    expect(w.logs()).toContain("info: hold_boot reset absent, assert on it 0");
  });

  it("a channel has one client (-EBUSY), an unknown name is -EINVAL; a blocking send the halted core cannot answer is -ETIME", async () => {
    const w = await world(DRIVER);
    await w.core.device_add(w.dev);
    expect(w.logs()).toContain("info: second client -16, unknown name -22");
    const boots = w.platform.copro.status().boots;
    await w.core.device_release_driver(w.dev);
    expect(w.logs()).toContain("info: shutdown message -62");
    // The MCU reset asserted with the hold boot released: the hardware restarts the core at once.
    expect(w.platform.copro.status().boots).toBe(boots + 1);
  });

  it("a firmware kick reaches the rx callback, whose work runs when the world flushes; freed channels stop", async () => {
    const w = await world(DRIVER);
    await w.core.device_add(w.dev);
    // A boot stage starts firmware: the core held, reset, loaded and released.
    const start = () => {
      w.platform.copro.setHoldBoot(true);
      w.platform.copro.assertReset();
      w.platform.bootStageLoad(w.fx.elf.good);
    };
    start();
    expect(w.platform.copro.status().run).toBe("running");
    const rx = () => w.logs().filter((l) => l.startsWith("info: rx"));
    expect(w.platform.copro.firmwareKick("vq0")).toBe(true);
    expect(rx()).toEqual(["info: rx 1"]);
    expect(w.logs()).not.toContain("info: work 1");
    await w.k.flushWork();
    expect(w.logs()).toContain("info: work 1");
    await w.core.device_release_driver(w.dev);
    start();
    expect(w.platform.copro.firmwareKick("vq0")).toBe(true);
    expect(rx()).toEqual(["info: rx 1"]);
  });

  it("the watchdog runs the handler in interrupt context until the device's devres frees it", async () => {
    const w = await world(DRIVER);
    await w.core.device_add(w.dev);
    w.platform.copro.crash("test");
    expect(w.logs().filter((l) => l.startsWith("info: watchdog irq"))).toHaveLength(1);
    await w.core.device_release_driver(w.dev);
    w.platform.copro.crash("again");
    expect(w.logs().filter((l) => l.startsWith("info: watchdog irq"))).toHaveLength(1);
  });

  it("an API the environment lacks stops the probe naming it and the posted line", async () => {
    const w = await world(
      DRIVER.replace(
        "\tirq = platform_get_irq_optional(pdev, 0);",
        "\tclk_prepare_enable(NULL);\n\tirq = 0;",
      ),
    );
    const line =
      DRIVER.replace("\tirq = platform_get_irq_optional(pdev, 0);", "\tclk_prepare_enable(NULL);\n\tirq = 0;")
        .split("\n")
        .findIndex((l) => l.includes("clk_prepare_enable")) + 1;
    const e = await w.core.device_add(w.dev).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(CannotRunC);
    expect((e as CannotRunC).what).toMatch(
      /clk_prepare_enable\(\): not defined in the files and not provided/,
    );
    expect((e as CannotRunC).site).toEqual({ file: "fxplat.c", line });
  });
});

describe("which failures a C function gets past (handled.ts)", () => {
  it("a callee tested where the failure branch goes on is ignored; one whose failure branch returns an error is watched", async () => {
    const { program } = loadProgram(
      await cParser(),
      [
        {
          path: "h.c",
          text: String.raw`
int opt(void);
int must(void);
int inner(void);
int f(void)
{
	int err = opt();
	if (err)
		pr_info("no opt\n");
	err = must();
	if (err < 0) {
		pr_err("must failed\n");
		if (!err)
			return -5;
	}
	err = inner();
	if (!err)
		return 0;
	return 0;
}`,
        },
      ],
      { envHeaders: ENV_HEADERS_FOR_TREE },
    );
    const f = program.functions.f;
    if (f === undefined) throw new Error("no f");
    // opt: logged and passed; must: its failure branch returns -EIO (only when err is 0: the -errno is
    // swallowed, so it stays watched); inner: only its success is tested, its failure goes on.
    expect([...testedCallees(f)].sort()).toEqual(["inner", "opt"]);
  });
});
