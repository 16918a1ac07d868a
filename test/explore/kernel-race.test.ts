/**
 * The data-race monitor on lists in the kernel-thread world (src/interp/env/kernel.ts): linux-6.12's
 * stm32_rproc.c with a list of our own (test/fixtures/fxrace/stm32-watch.ts) walked by the start op, which
 * sleeps in the walk (each entry's mutex), and changed by remove before the rproc's shutdown. Without the
 * list's lock in the walk, a sysfs start parked in the walk while the unbind deletes the entry is a data race,
 * found with its shortest schedule, reproduced by a replay of that schedule, classed by the review's compare
 * and marked in the matrix's interleaving rows; with the lock on both sides there is none.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compareInterleavings, type InterleaveSubject } from "../../src/compare/interleave.ts";
import type { Fixtures } from "../../src/emulator/api.ts";
import { loadFixtures } from "../../src/emulator/fixtures.ts";
import {
  exploreKernelInterleavings,
  KERNEL_SCENARIOS,
  type KernelInterleaveResult,
  runInterleaveRows,
  runKernelSchedule,
} from "../../src/explore/kernel-interleave.ts";
import { interleaveCellVerdict } from "../../src/scenarios/render.ts";
import type { Design } from "../../src/scenarios/run.ts";
import { lineOf, stm32Watches } from "../fixtures/fxrace/stm32-watch.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { mainlineFromTree } from "../interp/helpers.ts";

const TREE = join(SHARED, "kernel", "linux-6.12");
const STM32 = "drivers/remoteproc/stm32_rproc.c";
const have = sharedAvailable(`kernel/linux-6.12/${STM32}`);

const unbindRacingStart = (() => {
  const s = KERNEL_SCENARIOS.find((x) => x.id === "unbind-racing-start");
  if (s === undefined) throw new Error("no scenario unbind-racing-start");
  return s;
})();

const races = (r: KernelInterleaveResult) => r.findings.filter((f) => f.finding.kind === "data-race");

describe.skipIf(!have)(
  "data races on lists in the kernel-thread world (6.12's STM32 driver, our own list)",
  () => {
    let fx: Fixtures;
    let mainline: Design;
    let racy: Design;
    let locked: Design;
    let racyText: string;
    beforeAll(async () => {
      fx = await loadFixtures();
      mainline = await mainlineFromTree(TREE, false);
      racy = await mainlineFromTree(TREE, false, stm32Watches(false));
      locked = await mainlineFromTree(TREE, false, stm32Watches(true));
      racyText = stm32Watches(false)(readFileSync(join(TREE, STM32), "utf8"));
    }, 120_000);

    it("finds the unbind's list_del while a sysfs start is parked in the walk, with both functions and lines, at its shortest schedule", async () => {
      const r = await exploreKernelInterleavings(racy, unbindRacingStart, fx, { depth: 5 });
      expect(r.unknown).toBeNull();
      const [race, ...more] = races(r);
      expect(more).toEqual([]);
      expect(race?.finding).toMatchObject({
        at: "fx_watch_del",
        subject: "fx_watch_start / fx_watch_del",
        thread: "t3 sysfs unbind",
        site: { file: STM32, line: lineOf(racyText, "list_del(&w->node);") },
      });
      const walkLine = lineOf(racyText, "list_for_each_entry(w, &fx_watches, node) {");
      expect(race?.finding.detail).toContain(
        `changes the list &fx_watches with list_del() in fx_watch_del (${STM32}:${race?.finding.site?.line}), holding fx_lock`,
      );
      expect(race?.finding.detail).toContain(
        `while t2 sysfs state start walks it in fx_watch_start (${STM32}:${walkLine}), parked in the walk (mutex_lock might sleep in fx_watch_start)`,
      );
      expect(race?.finding.detail).toMatch(/having begun it with m4->lock: no lock in common/);
      // The start must be inside the walk when the unbind runs: five choices (a breadth-first search's first).
      expect(race?.schedule).toEqual([1, 2, 2, 3, 3]);
      const shallower = await exploreKernelInterleavings(racy, unbindRacingStart, fx, { depth: 4 });
      expect(races(shallower)).toEqual([]);
    }, 120_000);

    it("a replay of the shortest schedule reproduces it; the default schedule has none", async () => {
      const again = await runKernelSchedule(racy, unbindRacingStart.world, [1, 2, 2, 3, 3], fx);
      const race = again.findings.find((f) => f.kind === "data-race");
      expect(race?.subject).toBe("fx_watch_start / fx_watch_del");
      // The walk went on over the freed entry: the race's consequences follow it on the same schedule.
      expect(again.findings.some((f) => f.kind === "use-after-free" && f.at === "fx_watch_start")).toBe(true);
      // The trace at the finding's step is the unbind's, inside fx_watch_del.
      const s = again.trace[race?.step ?? -1];
      expect(s?.fn).toBe("fx_watch_del");
      const plain = await runKernelSchedule(racy, unbindRacingStart.world, [], fx);
      expect(plain.findings.filter((f) => f.kind === "data-race")).toEqual([]);
    }, 120_000);

    it("with fx_lock around the walk too, no schedule to the same depth races (and both sides do take it)", async () => {
      const r = await exploreKernelInterleavings(locked, unbindRacingStart, fx, { depth: 5 });
      expect(races(r)).toEqual([]);
      // Nor does the walk go on over a freed entry, nor is the watch left behind: the unbind does not run
      // inside probe (the driver core's device_lock), nor the sysfs start before rproc_add made its file.
      expect(r.findings.filter((f) => f.finding.at.startsWith("fx_watch"))).toEqual([]);
      expect(r.findings.some((f) => f.finding.at === "stm32_rproc_probe")).toBe(false);
      const x = await runKernelSchedule(locked, unbindRacingStart.world, [], fx);
      const takers = x.trace
        .filter((s) => s.event === "lock" && s.detail === "mutex fx_lock")
        .map((s) => s.fn);
      expect(takers).toEqual(["fx_watch_add", "fx_watch_start", "fx_watch_del"]);
    }, 120_000);

    it("the review's compare classes it introduced against mainline, with the replay command; the locked change has no race of any class", async () => {
      const subject = (design: Design, as: string): InterleaveSubject => ({
        design,
        replayAs: `--version ${as} --kernel-tree ${TREE}`,
        notRepresented: [],
      });
      const a = subject(mainline, "mainline");
      const x = await compareInterleavings(a, subject(racy, "racy"), a, fx, 5, ["unbind-racing-start"]);
      const s = x.scenarios[0];
      expect(s?.notJudged).toBeNull();
      const race = s?.findings.find((f) => f.kind === "data-race");
      expect(race).toMatchObject({
        class: "introduced",
        at: "fx_watch_del",
        schedule: [1, 2, 2, 3, 3],
        replay: `rproc-review replay --version racy --kernel-tree ${TREE} --scenario unbind-racing-start --schedule t1,t2,t2,t3,t3`,
      });
      const y = await compareInterleavings(a, subject(locked, "locked"), a, fx, 5, ["unbind-racing-start"]);
      expect(y.scenarios[0]?.notJudged).toBeNull();
      expect(y.scenarios[0]?.findings.filter((f) => f.kind === "data-race")).toEqual([]);
    }, 240_000);

    it("with the core from C too on every side, the compare classes the same race introduced (one choice deeper); the locked change has none", async () => {
      const cMainline = await mainlineFromTree(TREE, true);
      const cRacy = await mainlineFromTree(TREE, true, stm32Watches(false));
      const cLocked = await mainlineFromTree(TREE, true, stm32Watches(true));
      expect(cRacy.stm32?.core).toBeDefined();
      const a: InterleaveSubject = { design: cMainline, replayAs: "--version mainline", notRepresented: [] };
      const b: InterleaveSubject = { design: cRacy, replayAs: "--version racy", notRepresented: [] };
      const x = await compareInterleavings(a, b, a, fx, 6, ["unbind-racing-start"]);
      expect(x.scenarios[0]?.notJudged).toBeNull();
      const race = x.scenarios[0]?.findings.find((f) => f.kind === "data-race");
      expect(race).toMatchObject({ class: "introduced", at: "fx_watch_del", schedule: [1, 1, 2, 2, 3, 3] });
      expect(race?.detail).toMatch(
        /while t2 sysfs state start walks it in fx_watch_start .*: no lock in common/,
      );
      const l: InterleaveSubject = { design: cLocked, replayAs: "--version locked", notRepresented: [] };
      const y = await compareInterleavings(a, l, a, fx, 6, ["unbind-racing-start"]);
      expect(y.scenarios[0]?.notJudged).toBeNull();
      expect(y.scenarios[0]?.findings).toEqual([]);
      // A side on the hand model's core against sides on the C core: not judged, the cores would be compared.
      const mixed = await compareInterleavings(a, { ...b, design: racy }, a, fx, 6, ["unbind-racing-start"]);
      expect(mixed.scenarios[0]?.notJudged).toMatch(
        /the sides run different remoteproc cores \(mainline from C, mainline the hand model's\)/,
      );
      expect(mixed.scenarios[0]?.findings).toEqual([]);
    }, 240_000);

    it("the matrix's interleaving rows mark it !race", async () => {
      const rows = await runInterleaveRows([{ ...racy, id: "racy" }], 5, fx);
      const cell = rows.cells.find((c) => c.scenario === "unbind-racing-start");
      expect(cell?.unknown).toBeNull();
      expect(interleaveCellVerdict(cell as (typeof rows.cells)[number]).split(" ")).toContain("!race");
    }, 120_000);
  },
);
