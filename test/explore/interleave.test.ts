import { describe, expect, it } from "vitest";
import {
  DEFAULT_WORLD,
  exploreInterleavings,
  loadThreadedDriver,
  runSchedule,
  type ThreadedDriver,
  threadFindingKey,
} from "../../src/explore/interleave.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { FX_RPROC_PATH, type FxSchedVersion, fxRprocDriver } from "../fixtures/fxsched/fxsched.ts";

async function driver(version: FxSchedVersion): Promise<ThreadedDriver> {
  return loadThreadedDriver(await cParser(), {
    source: { path: FX_RPROC_PATH, text: fxRprocDriver(version) },
  });
}

async function inline(text: string): Promise<ThreadedDriver> {
  return loadThreadedDriver(await cParser(), { source: { path: "drivers/remoteproc/fx_inline.c", text } });
}

const UNBIND = { ...DEFAULT_WORLD, unbind: true };

describe("interleavings: the auto-boot before the start op is set", () => {
  it("finds the call through the NULL start op with a shortest schedule, and replay reproduces it thread by thread", async () => {
    const d = await driver(1);
    expect(d.problems).toEqual([]);
    // The default schedule (the module load runs on until it yields for good) sets the op in time.
    expect(runSchedule(d, DEFAULT_WORLD, []).findings).toEqual([]);
    expect(exploreInterleavings(d, DEFAULT_WORLD, { depth: 3 }).findings).toEqual([]);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 6 });
    expect(r.findings.map((f) => [f.finding.kind, f.finding.at, f.schedule])).toEqual([
      ["null-op-call", "rproc_fw_boot", [2, 2, 2, 2]],
    ]);
    const f = r.findings[0];
    expect(f?.finding.thread).toBe("t2 firmware rproc-fw");
    expect(f?.finding.detail).toMatch(
      /rproc->ops->start, which is NULL \(.*rproc_auto_boot_callback → rproc_boot/,
    );
    const x = runSchedule(d, DEFAULT_WORLD, [2, 2, 2, 2]);
    expect(x.invalidAt).toBeNull();
    expect(x.findings.map(threadFindingKey)).toEqual([threadFindingKey(f?.finding as never)]);
    expect(x.trace).toEqual(f?.trace);
    // Every step names its thread; the module load added the rproc (and queued the firmware request) first.
    expect(x.trace.every((s) => x.threads.some((t) => t.id === s.thread))).toBe(true);
    const spawn = x.trace.findIndex((s) => s.event === "spawn" && s.detail === "t2 firmware rproc-fw");
    const oops = x.trace.findIndex((s) => s.event === "finding");
    expect(x.trace[spawn]?.thread).toBe(1);
    expect(spawn).toBeLessThan(oops);
    expect(x.trace.slice(spawn + 1, oops + 1).every((s) => s.thread === 2)).toBe(true);
  });

  it("reports nothing once probe sets the op before it registers the rproc", async () => {
    const d = await driver(2);
    const r = exploreInterleavings(d, UNBIND, { depth: 6 });
    expect(r.executions).toBeGreaterThan(10);
    expect(r.findings).toEqual([]);
    expect(r.unknown).toBeNull();
  });

  it("a replay schedule naming a thread that cannot run there is refused with its position", async () => {
    const x = runSchedule(await driver(1), DEFAULT_WORLD, [2, 7]);
    expect(x.invalidAt).toBe(1);
  });
});

describe("interleavings: lock order", () => {
  it("reports the inversion on the default schedule, which never deadlocks, and the deadlock where a schedule reaches it", async () => {
    const d = await driver(3);
    const plain = runSchedule(d, UNBIND, []);
    expect(plain.findings.map((f) => f.kind)).toEqual(["lock-inversion"]);
    expect(plain.findings[0]?.detail).toMatch(
      /t3 unbind takes &rproc->lock while holding &ddata->ctx_lock in rproc_shutdown; t2 firmware rproc-fw in fx_rproc_start took &rproc->lock then &ddata->ctx_lock/,
    );
    const r = exploreInterleavings(d, UNBIND, { depth: 4 });
    const dead = r.findings.find((f) => f.finding.kind === "deadlock");
    expect(dead?.schedule).toEqual([1, 3, 3]);
    expect(dead?.finding.detail).toMatch(
      /t2 firmware rproc-fw waits in fx_rproc_start: mutex_lock\(&ddata->ctx_lock\) held by t3; t3 unbind waits in rproc_shutdown: mutex_lock_interruptible\(&rproc->lock\) held by t2/,
    );
    // One inversion however many threads close the cycle.
    expect(r.findings.filter((f) => f.finding.kind === "lock-inversion")).toHaveLength(1);
    const x = runSchedule(d, UNBIND, [1, 3, 3]);
    expect(x.findings.map((f) => f.kind)).toContain("deadlock");
    expect(x.outcome).toMatch(/2:blocked\|3:blocked/);
  });
});

describe("interleavings: monitors", () => {
  it("sees a mutex used before its init, and a sleep under a spinlock", async () => {
    const d = await inline(`
#include <linux/platform_device.h>
struct fx { struct mutex lock; spinlock_t spin; };
static int fx_probe(struct platform_device *pdev)
{
	struct fx *f = devm_kzalloc(&pdev->dev, sizeof(*f), GFP_KERNEL);

	mutex_lock(&f->lock);
	mutex_unlock(&f->lock);
	spin_lock_init(&f->spin);
	spin_lock(&f->spin);
	msleep(1);
	spin_unlock(&f->spin);
	return 0;
}
static struct platform_driver fx_driver = { .probe = fx_probe, .driver = { .name = "fx" } };
module_platform_driver(fx_driver);
`);
    const x = runSchedule(d, DEFAULT_WORLD, []);
    expect(x.findings.map((f) => [f.kind, f.at])).toEqual([
      ["before-init", "fx_probe"],
      ["sleep-in-atomic", "fx_probe"],
    ]);
    expect(x.findings[1]?.detail).toBe("msleep may sleep while &f->spin is held");
    expect(x.findings[0]?.site).toEqual({ file: "drivers/remoteproc/fx_inline.c", line: 8 });
  });

  it("sees work running after the object it works on was freed", async () => {
    const d = await inline(`
#include <linux/platform_device.h>
struct fx { struct work_struct work; int n; };
static void fx_work(struct work_struct *w)
{
	struct fx *f = container_of(w, struct fx, work);

	f->n++;
}
static int fx_probe(struct platform_device *pdev)
{
	struct fx *f = kzalloc(sizeof(*f), GFP_KERNEL);

	INIT_WORK(&f->work, fx_work);
	schedule_work(&f->work);
	kfree(f);
	return 0;
}
static struct platform_driver fx_driver = { .probe = fx_probe, .driver = { .name = "fx" } };
module_platform_driver(fx_driver);
`);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 2 });
    const uaf = r.findings.find((f) => f.finding.kind === "use-after-free");
    // The worker touches the work item first (the kernel's process_one_work), inside the freed struct fx.
    expect(uaf?.finding.at).toBe("process_one_work");
    expect(uaf?.finding.detail).toMatch(
      /^write to kzalloc\(\d+\) at drivers\/remoteproc\/fx_inline.c:12 after it was freed/,
    );
    expect(uaf?.schedule).toEqual([]);
    // Had the work run first, nothing would be wrong: the reduction still explores that order.
    expect(runSchedule(d, DEFAULT_WORLD, [2]).findings).toEqual([]);
  });
});

/** A work item that walks a list, sleeping at each entry, while probe changes the list; `locked`: both under f->lock. */
function listRace(locked: boolean): string {
  const lock = locked ? "\tmutex_lock(&f->lock);\n" : "";
  const unlock = locked ? "\tmutex_unlock(&f->lock);\n" : "";
  return `
#include <linux/platform_device.h>
struct fx_item { struct list_head node; int v; };
struct fx { struct work_struct work; struct mutex lock; struct list_head items; struct fx_item a, b, c; };
static void fx_work(struct work_struct *w)
{
	struct fx *f = container_of(w, struct fx, work);
	struct fx_item *it;

${lock}	list_for_each_entry(it, &f->items, node) {
		msleep(1);
		it->v++;
	}
${unlock}}
static int fx_probe(struct platform_device *pdev)
{
	struct fx *f = devm_kzalloc(&pdev->dev, sizeof(*f), GFP_KERNEL);

	mutex_init(&f->lock);
	INIT_LIST_HEAD(&f->items);
	list_add_tail(&f->a.node, &f->items);
	list_add_tail(&f->b.node, &f->items);
	INIT_WORK(&f->work, fx_work);
	schedule_work(&f->work);
${lock}	list_del(&f->a.node);
	list_add_tail(&f->c.node, &f->items);
${unlock}	return 0;
}
static struct platform_driver fx_driver = { .probe = fx_probe, .driver = { .name = "fx" } };
module_platform_driver(fx_driver);
`;
}

describe("interleavings: data races on lists", () => {
  it("sees a list changed while another thread walks it unlocked, with a shortest schedule that replays it", async () => {
    const d = await inline(listRace(false));
    // Probe changes the list before the work runs: nothing is walking it then.
    expect(runSchedule(d, DEFAULT_WORLD, []).findings).toEqual([]);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 4 });
    const race = r.findings.find((f) => f.finding.kind === "data-race");
    expect(race?.schedule).toEqual([2]);
    expect(race?.finding.at).toBe("fx_probe");
    expect(race?.finding.detail).toBe(
      "t1 insmod changes the list &f->items with list_del() in fx_probe (drivers/remoteproc/fx_inline.c:25), holding no lock, while t2 work fx_work walks it in fx_work (drivers/remoteproc/fx_inline.c:10), having begun with no lock: no lock in common",
    );
    expect(race?.finding.site).toEqual({ file: "drivers/remoteproc/fx_inline.c", line: 25 });
    const x = runSchedule(d, DEFAULT_WORLD, [2]);
    expect(x.findings.map((f) => f.kind)).toContain("data-race");
    expect(x.trace.find((t) => t.event === "finding" && t.detail.startsWith("data-race:"))?.thread).toBe(1);
  });

  it("a walk ends with its loop, a break too: a change while the walker sleeps after it is no race", async () => {
    const text = listRace(false).replace(
      "\t\tmsleep(1);\n\t\tit->v++;\n\t}\n",
      "\t\tif (it->v == 0)\n\t\t\tbreak;\n\t}\n\tmsleep(1);\n",
    );
    expect(text).toContain("break;");
    const d = await inline(text);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 4 });
    expect(r.findings).toEqual([]);
    expect(runSchedule(d, DEFAULT_WORLD, [2]).trace.map((t) => t.event)).toContain("sleep");
  });

  it("two different locks are no lock in common: the walker's f->lock does not order probe's f->other", async () => {
    const text = listRace(true)
      .replace("struct mutex lock;", "struct mutex lock, other;")
      .replace("\tmutex_init(&f->lock);\n", "\tmutex_init(&f->lock);\n\tmutex_init(&f->other);\n")
      .replace("\tmutex_lock(&f->lock);\n\tlist_del", "\tmutex_lock(&f->other);\n\tlist_del")
      .replace("\tmutex_unlock(&f->lock);\n\treturn 0;", "\tmutex_unlock(&f->other);\n\treturn 0;");
    expect(text).toContain("mutex_lock(&f->other);\n\tlist_del");
    const d = await inline(text);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 4 });
    const race = r.findings.find((f) => f.finding.kind === "data-race");
    expect(race?.finding.detail).toMatch(
      /^t1 insmod changes the list &f->items with list_del\(\) in fx_probe \(drivers\/remoteproc\/fx_inline.c:\d+\), holding &f->other, while t2 work fx_work walks it in fx_work \(drivers\/remoteproc\/fx_inline.c:\d+\), having begun with &f->lock: no lock in common$/,
    );
  });

  it("a lock the walker lets go inside the walk (to sleep) protects nothing: the change under it is a race", async () => {
    const text = listRace(true).replace(
      "\t\tmsleep(1);\n",
      "\t\tmutex_unlock(&f->lock);\n\t\tmsleep(1);\n\t\tmutex_lock(&f->lock);\n",
    );
    expect(text).toContain("mutex_unlock(&f->lock);\n\t\tmsleep(1);");
    const d = await inline(text);
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 4 });
    const race = r.findings.find((f) => f.finding.kind === "data-race");
    expect(race?.finding.detail).toMatch(
      /holding &f->lock, while t2 work fx_work walks it in fx_work \(drivers\/remoteproc\/fx_inline.c:\d+\), having begun with &f->lock and let &f->lock go since: no lock in common$/,
    );
    const x = runSchedule(d, DEFAULT_WORLD, race?.schedule ?? []);
    expect(x.findings.map((f) => f.kind)).toContain("data-race");
  });

  it("reports nothing when the walk and the changes hold the same lock", async () => {
    const d = await inline(listRace(true));
    const r = exploreInterleavings(d, DEFAULT_WORLD, { depth: 4 });
    expect(r.findings).toEqual([]);
    expect(r.executions).toBeGreaterThan(1);
  });
});

describe("interleavings: the sleep-set reduction", () => {
  it("--audit: at small depths the reduced search finds every finding, configuration and outcome of the full one, with fewer executions", async () => {
    for (const [v, world] of [
      [1, { ...UNBIND, writers: ["stop"] }],
      [3, UNBIND],
    ] as const) {
      const d = await driver(v);
      const r = exploreInterleavings(d, world, { depth: 5, audit: true });
      expect(r.audit).toBeDefined();
      expect(r.executions).toBeLessThan(r.audit?.executions ?? 0);
      expect(r.pruned).toBeGreaterThan(0);
      const full = exploreInterleavings(d, world, { depth: 5, reduce: false });
      expect(r.findings.map((f) => [threadFindingKey(f.finding), f.schedule.length])).toEqual(
        full.findings.map((f) => [threadFindingKey(f.finding), f.schedule.length]),
      );
    }
  });

  it("--audit fails, naming what was lost, when the reduction takes dependent steps for independent ones", async () => {
    const d = await driver(1);
    const world = { ...UNBIND, writers: ["stop" as const] };
    expect(() => exploreInterleavings(d, world, { depth: 5, audit: true, conflicts: () => false })).toThrow(
      /the reduction is unsound at depth 5: it misses 0 finding\(s\) \(\), 1 configuration\(s\)/,
    );
  });
});
