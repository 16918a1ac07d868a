import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Fixtures } from "../../src/emulator/api.ts";
import { loadFixtures } from "../../src/emulator/fixtures.ts";
import {
  exploreKernelInterleavings,
  KERNEL_SCENARIOS,
  type KernelInterleaveResult,
  runKernelSchedule,
} from "../../src/explore/kernel-interleave.ts";
import { loadInput } from "../../src/node/inputs.ts";
import {
  builtinInterleaveDesign,
  kernelTreeInterleaveDesign,
} from "../../src/node/kernel-interleave-input.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import type { Design } from "../../src/scenarios/run.ts";
import { runCli } from "../helpers/cli.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { mainlineFromTree } from "../interp/helpers.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const have =
  sharedAvailable("kernel/linux-6.12/drivers/remoteproc/stm32_rproc.c") && sharedAvailable("lkml/v16");

const scenario = (id: string) => {
  const s = KERNEL_SCENARIOS.find((x) => x.id === id);
  if (s === undefined) throw new Error(`no scenario ${id}`);
  return s;
};

const kinds = (r: KernelInterleaveResult) =>
  r.findings.map((f) => `${f.finding.kind} ${f.finding.at}`).sort();

/** linux-6.12's STM32 driver (with `edit` applied to its text) and ELF loader from C, mainline facts. */
function mainlineDesign(edit: (text: string) => string = (t) => t): Promise<Design> {
  return mainlineFromTree(TREE, false, edit);
}

describe.skipIf(!have)("interleavings of linux-6.12's drivers from C", () => {
  let fx: Fixtures;
  let v16: Design;
  beforeAll(async () => {
    fx = await loadFixtures();
    const dir = join(SHARED, "lkml", "v16");
    // The kernel-thread world keeps the hand model's core (src/node/kernel-interleave-input.ts).
    v16 = (await mappedSubject(await loadInput(dir), dir, { kernelTree: TREE, modelCore: true })).design;
  }, 120_000);

  it("v16 auto-boot at probe: the firmware loader's callback runs on its own worker and boots the rproc", async () => {
    const x = await runKernelSchedule(v16, scenario("auto-boot-at-probe").world, [], fx);
    expect(x.unknown).toBeNull();
    expect(x.threads.map((t) => t.name)).toEqual(["insmod", "work rproc_auto_boot_callback"]);
    // The boot ran on the worker, through the posted TEE driver's C.
    const boot = x.trace.findIndex((s) => s.fn === "rproc_boot" && s.event === "call");
    const worker = x.segments.filter((s) => s.from <= boot).at(-1)?.thread;
    expect(worker).toBe(2);
    expect(x.trace.some((s) => s.layer === "tee" && s.fn === "rproc_tee_start" && s.event === "call")).toBe(
      true,
    );
    // rproc_add's queueing is a choice point: the worker may run before probe ends.
    expect(x.choices.length).toBeGreaterThan(0);
    const early = await runKernelSchedule(v16, scenario("auto-boot-at-probe").world, [2], fx);
    expect(early.unknown).toBeNull();
    expect(early.segments[1]?.thread).toBe(2);
  }, 60_000);

  it("v16 unbind racing start: the start that lands between rproc_del's shutdown and RPROC_DELETED leaves the boot's resources behind", async () => {
    const r = await exploreKernelInterleavings(v16, scenario("unbind-racing-start"), fx, { depth: 3 });
    expect(r.unknown).toBeNull();
    // The posted TEE driver's spinlock findings are there whatever the schedule (the matrix reports them too).
    const atomic = r.findings.filter((f) => f.finding.kind === "sleep-in-atomic");
    expect(atomic.length).toBeGreaterThan(0);
    for (const f of atomic) expect(f.schedule).toEqual([]);
    // The leak needs the interleaving: the default schedule (start, then unbind) has none.
    const leak = r.findings.find((f) => f.finding.kind === "leak" && f.finding.at === "rproc_alloc");
    expect(leak?.schedule).toEqual([3, 3]);
    const x = await runKernelSchedule(v16, scenario("unbind-racing-start").world, [], fx);
    expect(x.findings.filter((f) => f.kind === "leak")).toEqual([]);
    // Replaying the shortest schedule reproduces it, and the trace shows rproc_boot between the two.
    const again = await runKernelSchedule(
      v16,
      scenario("unbind-racing-start").world,
      leak?.schedule ?? [],
      fx,
    );
    expect(again.findings.some((f) => f.kind === "leak" && f.at === "rproc_alloc")).toBe(true);
    const seq = again.trace
      .filter((s) => s.event === "call" && ["rproc_shutdown", "rproc_boot"].includes(s.fn))
      .map((s) => s.fn);
    expect(seq.slice(0, 2)).toEqual(["rproc_shutdown", "rproc_boot"]);
  }, 120_000);

  it("mainline 6.12 recovery racing stop runs from C to its end on every schedule to depth 3", async () => {
    const design = await mainlineDesign();
    const r = await exploreKernelInterleavings(design, scenario("recovery-racing-stop"), fx, { depth: 3 });
    expect(r.unknown).toBeNull();
    expect(r.executions).toBeGreaterThan(1);
    const x = await runKernelSchedule(design, scenario("recovery-racing-stop").world, [], fx);
    expect(x.threads.map((t) => t.name)).toContain("work rproc_crash_handler_work");
    expect(x.trace.some((s) => s.fn === "stm32_rproc_wdg" && s.event === "call")).toBe(true);
  }, 120_000);

  describe("our own change to 6.12's driver: a mutex of its own in the start op and around rproc_del", () => {
    const start = "\tstm32_rproc_add_coredump_trace(rproc);";
    const del = "\trproc_del(rproc);";
    const inverted = (t: string) => {
      expect(t).toContain(start);
      expect(t).toContain(del);
      return t
        .replace(
          '#include "remoteproc_internal.h"',
          '#include "remoteproc_internal.h"\nstatic DEFINE_MUTEX(fx_lock);',
        )
        .replace(start, `\tmutex_lock(&fx_lock); ${start.trim()} mutex_unlock(&fx_lock);`)
        .replace(del, `\tmutex_lock(&fx_lock); ${del.trim()} mutex_unlock(&fx_lock);`);
    };
    // The order fixed: remove takes the driver's lock only after rproc_del let rproc->lock go.
    const fixed = (t: string) =>
      inverted(t).replace(
        `\tmutex_lock(&fx_lock); ${del.trim()} mutex_unlock(&fx_lock);`,
        `\t${del.trim()} mutex_lock(&fx_lock); mutex_unlock(&fx_lock);`,
      );

    it("reports the inversion without the deadlock on the default schedule, and the deadlock where a schedule reaches it", async () => {
      const design = await mainlineDesign(inverted);
      const s = scenario("unbind-racing-start");
      const x = await runKernelSchedule(design, s.world, [], fx);
      expect(x.findings.map((f) => f.kind)).toContain("lock-inversion");
      expect(x.findings.map((f) => f.kind)).not.toContain("deadlock");
      const r = await exploreKernelInterleavings(design, s, fx, { depth: 4 });
      const inv = r.findings.find((f) => f.finding.kind === "lock-inversion");
      expect(inv?.schedule).toEqual([]);
      expect(inv?.finding.subject).toMatch(/fx_lock/);
      expect(inv?.finding.subject).toMatch(/->lock/);
      const dl = r.findings.find((f) => f.finding.kind === "deadlock");
      expect(dl).toBeDefined();
      const replay = await runKernelSchedule(design, s.world, dl?.schedule ?? [], fx);
      const again = replay.findings.find((f) => f.kind === "deadlock");
      expect(again?.detail).toMatch(/fx_lock/);
      expect(again?.detail).toMatch(/->lock/);
    }, 120_000);

    it("the same change with the order fixed reports neither", async () => {
      const design = await mainlineDesign(fixed);
      const r = await exploreKernelInterleavings(design, scenario("unbind-racing-start"), fx, { depth: 4 });
      expect(kinds(r).filter((k) => k.startsWith("lock-inversion") || k.startsWith("deadlock"))).toEqual([]);
      // Both paths still take the driver's lock.
      const x = await runKernelSchedule(design, scenario("unbind-racing-start").world, [], fx);
      const takers = x.trace
        .filter((s) => s.event === "lock" && s.detail === "mutex fx_lock")
        .map((s) => s.fn);
      expect(takers).toEqual(["stm32_rproc_start", "stm32_rproc_remove"]);
    }, 120_000);
  });
});

describe.skipIf(!have)("explore --interleave --kernel-tree and replay --schedule --kernel-tree", () => {
  it("prints the shortest schedule of a finding and a replay command that reproduces it", async () => {
    const v16 = join(SHARED, "lkml", "v16");
    // The hand model's core ($RPROC_REVIEW_MODEL_CORE): its rproc_del leaves the window the leak needs, which
    // 6.12's C core closes (rproc->deleting, below).
    process.env.RPROC_REVIEW_MODEL_CORE = "1";
    try {
      await replayTheLeak(v16);
    } finally {
      delete process.env.RPROC_REVIEW_MODEL_CORE;
    }
  }, 120_000);

  const replayTheLeak = async (v16: string) => {
    const r = await runCli([
      "explore",
      "--interleave",
      "--versions",
      v16,
      "--kernel-tree",
      TREE,
      "--scenario",
      "unbind-racing-start",
      "--depth",
      "3",
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^v16 \/ unbind-racing-start: interleavings to depth 3 \(sleep-sets\): /);
    expect(r.out).toMatch(/! leak in rproc_alloc on teardown/);
    const cmd = /replay: (rproc-review replay .* --schedule t3,t3)/.exec(r.out)?.[1] ?? "";
    expect(cmd).toBe(
      `rproc-review replay ${v16} --kernel-tree ${TREE} --scenario unbind-racing-start --schedule t3,t3`,
    );
    const replayed = await runCli(cmd.split(" ").slice(1));
    expect(replayed.code).toBe(0);
    expect(replayed.out).toMatch(/threads:\n {2}t1 insmod\n {2}t2 sysfs state start\n {2}t3 sysfs unbind\n/);
    expect(replayed.out).toMatch(/\[t2 sysfs state start\] core rproc_boot call/);
    expect(replayed.out).toMatch(/\n {2}leak in rproc_alloc on teardown/);
  };

  it("an input's design for the kernel threads runs its core from C as its matrix cells do, to the end of every schedule", async () => {
    const c = await kernelTreeInterleaveDesign(join(SHARED, "lkml", "v16"), TREE);
    expect(c.stm32?.core).toBeDefined();
    const core = c.ran?.find(
      (r) => r.file === "drivers/remoteproc/remoteproc_core.c" && r.config === undefined,
    );
    expect(core?.from).toBe("C");
    const fx = await loadFixtures();
    for (const s of KERNEL_SCENARIOS) {
      const r = await exploreKernelInterleavings(c, s, fx, { depth: 3 });
      expect(r.unknown).toBeNull();
      // The posted TEE driver's spinlock findings, on every schedule, as with the hand model's core.
      expect(kinds(r)).toEqual([
        "sleep-in-atomic rproc_tee_register",
        "sleep-in-atomic rproc_tee_remove",
        "sleep-in-atomic rproc_tee_unregister",
      ]);
    }
    // 6.12's rproc_del sets rproc->deleting before its shutdown and rproc_boot refuses a deleting rproc: the
    // start between the two that the hand model's core lets boot (the leak at t3,t3 above) fails here. Nor
    // does a start that began before rproc_del's device_del boot a freed rproc (kernfs drains its writers).
    const deep = await exploreKernelInterleavings(c, scenario("unbind-racing-start"), fx, { depth: 5 });
    expect(deep.unknown).toBeNull();
    expect(kinds(deep).filter((k) => !k.startsWith("sleep-in-atomic"))).toEqual([]);
    const x = await runKernelSchedule(c, scenario("unbind-racing-start").world, [1, 2, 3, 3, 3], fx);
    expect(x.trace.some((t) => t.detail === "err: can't boot deleting rproc m4")).toBe(true);
    expect(x.findings.filter((f) => f.kind === "use-after-free")).toEqual([]);
  }, 180_000);

  it("mainline on the tree runs its drivers as they are; bad scenarios, schedules and built-in ids are usage errors", async () => {
    const m = await runCli([
      "explore",
      "--interleave",
      "--versions",
      "mainline",
      "--kernel-tree",
      TREE,
      "--scenario",
      "auto-boot-at-probe",
      "--depth",
      "2",
      "--json",
    ]);
    expect(m.code).toBe(0);
    const json = JSON.parse(m.out) as { runs: { design: string; executions: number; unknown: unknown }[] };
    expect(json.runs[0]?.design).toBe("mainline");
    expect(json.runs[0]?.unknown).toBeNull();
    const bad = await runCli([
      "explore",
      "--interleave",
      "--versions",
      "mainline",
      "--kernel-tree",
      TREE,
      "--scenario",
      "nope",
    ]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown interleaving scenario "nope"/);
    const builtin = await runCli(["explore", "--interleave", "--versions", "v16", "--kernel-tree", TREE]);
    expect(builtin.code).toBe(2);
    expect(builtin.err).toMatch(/give its mails/);
    const sched = await runCli([
      "replay",
      "mainline",
      "--kernel-tree",
      TREE,
      "--scenario",
      "unbind-racing-start",
      "--schedule",
      "t9",
    ]);
    expect(sched.code).toBe(2);
    expect(sched.err).toMatch(/schedule entry 1 \(t9\) cannot run/);
  }, 120_000);
});

describe.skipIf(!have)("two-way: the drivers from C and the hand model interleave alike", () => {
  it("same findings with the same shortest schedules and the same number of executions, per design and scenario, to depth 4, each reduced search audited against the full one", async () => {
    const fx = await loadFixtures();
    const key = (r: KernelInterleaveResult) =>
      r.findings.map((f) => `${f.finding.kind} ${f.finding.at} @${f.schedule.join(",")}`).sort();
    for (const [id, spec] of [
      ["mainline", "mainline"],
      ["v16", join(SHARED, "lkml", "v16")],
      ["v15", join(SHARED, "lkml", "v15")],
      ["v14", join(SHARED, "lkml", "v14")],
    ] as const) {
      const model = builtinInterleaveDesign(id);
      if (model === null) throw new Error(`no built-in ${id}`);
      // The drivers compared: both over the hand model's core ($RPROC_REVIEW_MODEL_CORE).
      process.env.RPROC_REVIEW_MODEL_CORE = "1";
      const c = await kernelTreeInterleaveDesign(spec, TREE).finally(() => {
        delete process.env.RPROC_REVIEW_MODEL_CORE;
      });
      expect(c.stm32).toBeDefined();
      expect(c.stm32?.core).toBeUndefined();
      for (const s of KERNEL_SCENARIOS) {
        // The audit throws when the sleep sets lose a finding, a configuration or an outcome of the full
        // search, or find one later; it ran when the result carries the full search's figures.
        const a = await exploreKernelInterleavings(model, s, fx, { depth: 4, audit: true });
        const b = await exploreKernelInterleavings(c, s, fx, { depth: 4, audit: true });
        expect(a.audit?.executions).toBeGreaterThanOrEqual(a.executions);
        expect(b.audit?.executions).toBe(a.audit?.executions);
        expect({
          id,
          scenario: s.id,
          executions: b.executions,
          findings: key(b),
          unknown: b.unknown,
        }).toEqual({
          id,
          scenario: s.id,
          executions: a.executions,
          findings: key(a),
          unknown: a.unknown,
        });
      }
    }
  }, 300_000);

  it("with the core from C too, each reduced search to depth 4 is audited against the full one (v16, every scenario)", async () => {
    const fx = await loadFixtures();
    const c = await kernelTreeInterleaveDesign(join(SHARED, "lkml", "v16"), TREE);
    expect(c.stm32?.core).toBeDefined();
    for (const s of KERNEL_SCENARIOS) {
      const r = await exploreKernelInterleavings(c, s, fx, { depth: 4, audit: true });
      expect(r.unknown).toBeNull();
      expect(r.audit?.executions).toBeGreaterThanOrEqual(r.executions);
    }
  }, 300_000);
});

describe("the hand model's interleavings of a built-in design (no kernel tree needed)", () => {
  it("v16: unbind racing start leaks the boot's resources at t3,t3; replay reproduces it", async () => {
    const r = await runCli([
      "explore",
      "--interleave",
      "--versions",
      "v16",
      "--scenario",
      "unbind-racing-start",
      "--depth",
      "6",
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/the hand model's interleavings/);
    expect(r.out).toMatch(
      /^v16 \/ unbind-racing-start: interleavings to depth 6 \(sleep-sets\): 11 schedules, 7 executions/,
    );
    expect(r.out).toMatch(/! leak in rproc_alloc on teardown/);
    const cmd = /replay: (rproc-review replay v16 .* --schedule t3,t3)/.exec(r.out)?.[1] ?? "";
    expect(cmd).toBe("rproc-review replay v16 --scenario unbind-racing-start --schedule t3,t3");
    const replayed = await runCli(cmd.split(" ").slice(1));
    expect(replayed.code).toBe(0);
    expect(replayed.out).toMatch(/\n {2}leak in rproc_alloc on teardown/);
    const plain = await runCli(["replay", "v16", "--scenario", "unbind-racing-start", "--schedule", ""]);
    expect(plain.out).not.toMatch(/\n {2}leak in/);
  }, 60_000);

  it("sleep sets on the kernel threads: recovery racing stop to depth 6 runs a tenth of the full search's executions, and the audit fails when every step is taken for independent", async () => {
    const fx = await loadFixtures();
    const design = builtinInterleaveDesign("v16");
    if (design === null) throw new Error("no built-in v16");
    const s = scenario("recovery-racing-stop");
    const r = await exploreKernelInterleavings(design, s, fx, { depth: 6, audit: true });
    expect(r.reduction).toBe("sleep-sets");
    expect(r.audit?.executions).toBe(996);
    expect(r.executions).toBeLessThan(100);
    expect(r.states).toBe(r.audit?.states);
    await expect(
      exploreKernelInterleavings(design, s, fx, { depth: 6, audit: true, conflicts: () => false }),
    ).rejects.toThrow(
      /v16 \/ recovery-racing-stop: the reduction is unsound at depth 6: it misses .* 1 configuration/,
    );
  }, 60_000);
});
