/**
 * The interleaving scenarios as matrix rows (`matrix --interleave`, src/explore/kernel-interleave.ts
 * runInterleaveRows): each cell the design's search to a depth, "ok", its finding kinds, or "?" with why when
 * the design's interleavings would run the model in place of code that did not run.
 */
import { describe, expect, it } from "vitest";
import { loadFixtures } from "../../src/emulator/fixtures.ts";
import { runInterleaveRows } from "../../src/explore/kernel-interleave.ts";
import { REVIEW_INTERLEAVE_DEPTH } from "../../src/review/depth.ts";
import { interleaveCellVerdict, renderInterleaveRowsText } from "../../src/scenarios/render.ts";
import type { Design } from "../../src/scenarios/run.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { runCli } from "../helpers/cli.ts";

const design = (id: string): Design => {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no ${id}`);
  return { id: v.id, title: v.title, facts: v.facts };
};

describe("the matrix's interleaving rows", () => {
  it("give each design's search per scenario: ok, the finding kinds with their shortest schedule, or ? with why", async () => {
    const notRun: Design = {
      ...design("v16"),
      id: "v16-not-run",
      ran: [{ file: "drivers/remoteproc/stm32_rproc.c", from: "not run", why: "test: its C did not lower" }],
    };
    const rows = await runInterleaveRows(
      [design("mainline"), design("v16"), notRun],
      2,
      await loadFixtures(),
    );
    const cell = (v: string, s: string) => {
      const c = rows.cells.find((x) => x.version === v && x.scenario === s);
      if (c === undefined) throw new Error(`no cell ${v} / ${s}`);
      return c;
    };
    expect(rows.scenarios.map((s) => s.id)).toEqual([
      "auto-boot-at-probe",
      "unbind-racing-start",
      "recovery-racing-stop",
    ]);
    expect(interleaveCellVerdict(cell("mainline", "auto-boot-at-probe"))).toBe("ok");
    // The start that lands between rproc_del's shutdown and RPROC_DELETED: mainline's leak, at t3,t3.
    const leak = cell("mainline", "unbind-racing-start").findings.find((f) => f.at === "rproc_alloc");
    expect(leak).toMatchObject({ kind: "leak", schedule: [3, 3] });
    expect(interleaveCellVerdict(cell("v16", "auto-boot-at-probe"))).toBe("!atomic");
    for (const s of rows.scenarios) {
      const c = cell("v16-not-run", s.id);
      expect(interleaveCellVerdict(c)).toBe("?");
      expect(c.unknown).toMatch(/stm32_rproc\.c did not run from C/);
    }
    const text = renderInterleaveRowsText(rows, ["mainline", "v16", "v16-not-run"]);
    expect(text).toMatch(/^auto-boot-at-probe +ok +!atomic +\?$/m);
    expect(text).toMatch(/v16-not-run \/ unbind-racing-start: .*did not run from C/);
    expect(text).toMatch(
      /\[mainline, v16\] unbind-racing-start: leak in rproc_alloc on teardown, schedule t3,t3/,
    );
  }, 60_000);

  it("are behind matrix --interleave, in its JSON too; a bad depth is a usage error before any work", async () => {
    const plain = await runCli(["matrix", "--versions", "mainline", "--scenarios", "boot", "--json"]);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.out)).not.toHaveProperty("interleave");
    const r = await runCli([
      "matrix",
      "--versions",
      "mainline,v16",
      "--scenarios",
      "boot",
      "--interleave-depth",
      "1",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { interleave: { depth: number; cells: { version: string }[] } };
    expect(json.interleave.depth).toBe(1);
    expect(json.interleave.cells.map((c) => c.version)).toEqual([
      "mainline",
      "mainline",
      "mainline",
      "v16",
      "v16",
      "v16",
    ]);
    const text = await runCli(["matrix", "--versions", "v16", "--scenarios", "boot", "--interleave"]);
    // Without --interleave-depth: the review's default depth.
    expect(text.out).toMatch(
      new RegExp(`^interleavings \\(every schedule to ${REVIEW_INTERLEAVE_DEPTH} scheduling choices`, "m"),
    );
    const bad = await runCli(["matrix", "--interleave-depth", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--interleave-depth/);
  }, 60_000);
});
