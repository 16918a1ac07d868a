import { describe, expect, it } from "vitest";
import { createPlatform, loadFixtures } from "../../src/emulator/api.ts";
import { ENV_HEADERS } from "../../src/interp/env/headers.ts";
import { CannotRunC, KernelEnv } from "../../src/interp/env/kernel.ts";
import { instantiate, loadProgram } from "../../src/interp/index.ts";
import { T } from "../../src/interp/types.ts";
import { intVal } from "../../src/interp/values.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { DriverCore } from "../../src/semantics/device.ts";
import { Kernel } from "../../src/semantics/kernel.ts";
import { Monitors } from "../../src/semantics/monitors.ts";
import { TEE_IMPL_ID_OPTEE } from "../../src/semantics/tee_client.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";

/** The C of `text` over the hand model's kernel of v16 (its monitors attached), as drv.c of the TEE layer. */
async function world(text: string) {
  const fx = await loadFixtures();
  const platform = await createPlatform("stm32mp15", { keys: [fx.keys.rsa] });
  const k = new Kernel(builtinVersion("v16")?.facts);
  k.attachPlatform(platform);
  const monitors = new Monitors(k, platform);
  const core = new DriverCore(k);
  const env = new KernelEnv(
    { k, core, platform, teedevs: [{ name: "optee", implId: TEE_IMPL_ID_OPTEE, ta: platform.ta }] },
    () => "tee",
  );
  const { program, problems } = loadProgram(await cParser(), [{ path: "drv.c", text }], {
    envHeaders: ENV_HEADERS,
  });
  expect(problems).toEqual([]);
  const m = instantiate(program, env);
  env.attach(m);
  return { k, env, monitors, m };
}

describe("the hand model as the interpreter's kernel environment", () => {
  it("a kzalloc under a spinlock is the hand model's sleep-in-atomic, at the posted line; the C's functions are kernel frames", async () => {
    const { k, env, monitors } = await world(`
static DEFINE_SPINLOCK(lock);
static void *slot;
static int fill(void)
{
	spin_lock(&lock);
	slot = kzalloc(16, GFP_KERNEL);
	spin_unlock(&lock);
	return slot ? 0 : -ENOMEM;
}
int outer(void) { return fill(); }`);
    await env.run("outer", { name: "outer" }, []);
    expect(monitors.findings).toEqual([
      expect.objectContaining({
        kind: "sleep-in-atomic",
        detail: "kzalloc may sleep while holding spinlock lock (held by fill)",
        at: "fill",
      }),
    ]);
    const f = monitors.findings[0];
    expect(f === undefined ? undefined : env.siteOfStep(f.step)).toEqual({ file: "drv.c", line: 7 });
    expect(k.trace.map((s) => `${s.layer} ${s.fn} ${s.event} ${s.detail}`)).toEqual([
      "tee outer call ",
      "tee fill call ",
      "core fill lock spinlock lock",
      "core fill might-sleep kzalloc with lock (held by fill)",
      "core fill alloc mem kzalloc(16) at drv.c:7",
      "core fill unlock spinlock lock",
      "tee fill return 0",
      "tee outer return 0",
    ]);
  });

  it("GFP_ATOMIC does not sleep; kfree twice and a use after kfree are the hand model's findings", async () => {
    const { env, monitors } = await world(`
struct obj { int v; };
int f(void)
{
	struct obj *o = kzalloc(sizeof(*o), GFP_ATOMIC);
	int v;

	kfree(o);
	v = o->v;
	kfree(o);
	return v;
}`);
    await env.run("f", { name: "f" }, []);
    expect(monitors.findings.map((x) => [x.kind, x.detail, x.at, env.siteOfStep(x.step)?.line])).toEqual([
      ["use-after-free", 'read of mem "kzalloc(4) at drv.c:5" freed in f', "f", 9],
      ["double-free", 'mem "kzalloc(4) at drv.c:5" already freed in f', "f", 10],
    ]);
  });

  it("an error a function returns as 0 after a failed call is error-swallowed, as for the hand model's own functions", async () => {
    const { env, monitors } = await world(`
static int inner(void) { return -EIO; }
int outer(void) { inner(); return 0; }`);
    await env.run("outer", { name: "outer" }, []);
    expect(monitors.findings).toEqual([
      expect.objectContaining({
        kind: "error-swallowed",
        detail: "inner failed (-EIO) but outer returned 0",
        at: "outer",
      }),
    ]);
  });

  it("dev_err is a log line of the caller with printk's formatting; WARN_ON is the hand model's warn", async () => {
    const { k, env, monitors } = await world(`
int f(void)
{
	phys_addr_t pa = 0x10000100;

	dev_err(NULL, "map %pa+%zx failed: %d\\n", &pa, (size_t)140, -12);
	return WARN_ON(pa != 0);
}`);
    expect(await env.run("f", { name: "f" }, [])).toMatchObject({ v: 1n });
    expect(k.trace.find((s) => s.event === "log")).toEqual({
      layer: "tee",
      fn: "f",
      event: "log",
      detail: "err: map 0x10000100+8c failed: -12",
    });
    expect(monitors.findings).toEqual([
      expect.objectContaining({ kind: "warn", detail: "WARN_ON(pa != 0) at drv.c:7", at: "f" }),
    ]);
  });

  it("an API the environment lacks stops the run with an unknown naming it and the posted line", async () => {
    const { env } = await world(`
int f(void)
{
	struct tee_ioctl_version_data v;

	tee_client_get_version(NULL, &v);
	return 0;
}`);
    const e = await env.run("f", { name: "f" }, []).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CannotRunC);
    expect(e).toMatchObject({
      what: "tee_client_get_version(): not defined in the files and not provided by the environment",
      site: { file: "drv.c", line: 6 },
      fault: false,
    });
  });

  it("ioremap is a view of the platform's memory through non-secure accesses; what no region holds is NULL", async () => {
    const { k, env } = await world(`
u32 f(phys_addr_t pa)
{
	u32 *va = ioremap_wc(pa, 8);
	u32 v;

	if (!va)
		return 0xdead;
	va[1] = 0x11223344;
	v = va[1];
	iounmap(va);
	return v;
}`);
    expect(await env.run("f", { name: "f" }, [intVal(T.ulong, 0x10000000n)])).toMatchObject({
      v: 0x11223344n,
    });
    expect(await env.run("f", { name: "f" }, [intVal(T.ulong, 0x4000n)])).toMatchObject({ v: 0xdeadn });
    const steps = k.trace.map((s) => `${s.layer} ${s.fn} ${s.event} ${s.detail}`);
    expect(steps).toContain("platform nsWrite action write of 4 bytes at pa 0x10000004 in mcuram2");
    expect(steps).toContain("core f alloc mapping ioremap_wc 0x10000000+0x8");
    expect(steps).toContain("core f free mapping ioremap_wc 0x10000000+0x8");
    expect(steps).toContain("tee f log ioremap_wc(0x4000, 0x8): no memory Linux can map there");
  });

  it("memcpy_toio, memset_io and memcpy_fromio copy through a mapping as the loader's is_iomem path does", async () => {
    const { k, env } = await world(`
u32 f(phys_addr_t pa)
{
	u32 src[2] = { 0x11223344, 0x55667788 };
	u32 back[2] = { 0, 0 };
	u32 *va = ioremap_wc(pa, 16);

	if (!va)
		return 0xdead;
	memcpy_toio(va, src, sizeof(src));
	memset_io(va + 2, 0xab, 8);
	memcpy_fromio(back, va + 1, sizeof(back));
	va[3] = 0x99;
	iounmap(va);
	return back[0] == 0x55667788 && back[1] == 0xabababab;
}`);
    expect(await env.run("f", { name: "f" }, [intVal(T.ulong, 0x10000000n)])).toMatchObject({ v: 1n });
    const steps = k.trace.map((s) => `${s.layer} ${s.fn} ${s.event} ${s.detail}`);
    expect(steps).toContain("platform nsWrite action write of 8 bytes at pa 0x10000000 in mcuram2");
    expect(steps).toContain("platform nsWrite action write of 8 bytes at pa 0x10000008 in mcuram2");
    // The plain store makes its platform step with no API call: its site is the statement.
    const store = steps.indexOf("platform nsWrite action write of 4 bytes at pa 0x1000000c in mcuram2");
    expect(env.siteOfStep(store)).toEqual({ file: "drv.c", line: 13 });
    expect(env.siteOfStep(steps.indexOf(steps.find((x) => x.includes("0x10000008")) ?? ""))).toEqual({
      file: "drv.c",
      line: 11,
    });
  });

  it("records the C's memory accesses in a step's footprint only while the interleaving search keeps one", async () => {
    const { k, env, m } = await world(`
static int counter;
int bump(void) { counter++; return counter; }`);
    expect(m.mem.onAccess).toBeNull();
    const fp = new Map<string, boolean>();
    k.footprint = fp;
    expect(m.mem.onAccess).not.toBeNull();
    await env.run("bump", { name: "bump" }, []);
    k.footprint = null;
    expect(m.mem.onAccess).toBeNull();
    // counter is written (c<machine> <object id>); the run without a footprint adds nothing to it.
    const written = [...fp].filter(([key, w]) => key.startsWith("c") && w).map(([key]) => key);
    expect(written).toHaveLength(1);
    const size = fp.size;
    await env.run("bump", { name: "bump" }, []);
    expect(fp.size).toBe(size);
  });
});
