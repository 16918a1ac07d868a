/**
 * The review's interleaving scenarios (src/compare/interleave.ts): our own fixture TEE driver with a race
 * (test/fixtures/fxtee/fxrace.ts: the unregister that stops a still-running firmware after freeing its entry)
 * reviewed against the driver without it. The race shows as introduced, with its shortest schedule and a
 * replay command that reproduces it; the leaks mainline has in the same schedule are pre-existing; and a side
 * whose file did not run from C makes every interleaving scenario not judged, never fixed or passed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadInput } from "../../src/node/inputs.ts";
import { mappedSubject } from "../../src/node/versions.ts";
import { renderReview } from "../../src/report/index.ts";
import { failOnOutcome, type ReviewReport, type ReviewSubject, runReview } from "../../src/review/index.ts";
import { withC } from "../../src/review/run.ts";
import { fxraceDriver, fxraceSeries } from "../fixtures/fxtee/fxrace.ts";
import { fxteeMbox } from "../fixtures/fxtee/fxtee.ts";
import { renderMbox } from "../fixtures/map/build.ts";
import { runCli } from "../helpers/cli.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const TEE = "drivers/remoteproc/remoteproc_tee.c";
/** The posted line where the stop after the free reads the freed entry (fx_invoke's argument from e). */
const RACE_LINE =
  fxraceDriver()
    .split("\n")
    .findIndex((l) => l.includes("struct tee_ioctl_invoke_arg arg = {")) + 1;

describe("the review's interleaving scenarios", () => {
  let dir: string;
  let a: ReviewSubject;
  let b: ReviewSubject;
  let bPath: string;
  let report: ReviewReport;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rproc-race-"));
    const aPath = join(dir, "fxtee-v5.mbox");
    bPath = join(dir, "fxtee-v8.mbox");
    await writeFile(aPath, fxteeMbox(5));
    await writeFile(bPath, renderMbox(fxraceSeries()));
    a = await mappedSubject(await loadInput(aPath), aPath);
    b = await mappedSubject(await loadInput(bPath), bPath);
    report = (await runReview(a, b, { scenarios: ["boot"], exploreDepth: 0, interleaveDepth: 2 })).report;
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("both sides run their TEE driver from C", () => {
    for (const s of [a, b]) expect(s.design.tee).toBeDefined();
  });

  it("classes the race our driver adds as introduced, with its shortest schedule, posted line and replay", () => {
    const x = report.interleave;
    expect(x?.depth).toBe(2);
    const race = x?.scenarios.find((s) => s.scenario === "unbind-racing-start");
    expect(race?.notJudged).toBeNull();
    const uaf = race?.findings.find((f) => f.kind === "use-after-free");
    expect(uaf).toMatchObject({
      class: "introduced",
      at: "fx_invoke",
      schedule: [3, 3],
      site: { file: TEE, line: RACE_LINE },
      replay: `rproc-review replay --version ${bPath} --scenario unbind-racing-start --schedule t3,t3`,
    });
    expect(uaf?.detail).toMatch(/freed in rproc_tee_unregister/);
    // The default schedule (start before unbind) is clean: the race needs the two choices.
    expect(uaf?.schedule.length).toBeGreaterThan(0);
    // The leaks of the same schedule are mainline's too: pre-existing, not blamed on the series.
    const leak = race?.findings.find((f) => f.kind === "leak" && f.at === "rproc_alloc");
    expect(leak?.class).toBe("pre-existing");
    // Nothing A raised that B does not: no "fixed"; no finding at all in the other two scenarios.
    expect(x?.counts.fixed).toBe(0);
    for (const id of ["auto-boot-at-probe", "recovery-racing-stop"]) {
      const s = x?.scenarios.find((y) => y.scenario === id);
      expect(s?.notJudged).toBeNull();
      expect(s?.findings).toEqual([]);
    }
  });

  it("fails the verdict on it and renders it in every format", () => {
    expect(report.verdict.status).toBe("fail");
    expect(report.verdict.line).toMatch(
      /interleavings \(depth 2\): 2 introduced, 1 carried, \d+ pre-existing/,
    );
    expect(failOnOutcome(report.diff, ["introduced"], report.explore, report.interleave)).toBe("findings");
    const md = renderReview(report, "markdown");
    expect(md).toContain("### Thread interleavings (depth 2)");
    expect(md).toContain("| ❌ introduced | **use-after-free** in `fx_invoke` on t3 sysfs unbind");
    expect(md).toContain("t3,t3, then the lowest runnable");
    // A root cause of its own (no scenario raises it), shown in the mail with the command that replays it.
    const cause = report.causes.find((c) => c.kind === "use-after-free" && c.functions.includes("fx_invoke"));
    expect(cause).toMatchObject({
      class: "introduced",
      scenarios: [],
      interleave: { scenario: "unbind-racing-start", schedule: [3, 3] },
    });
    expect(cause?.raisedAt).toEqual([{ file: TEE, lines: [RACE_LINE] }]);
    const mail = renderReview(report, "email");
    expect(mail).toMatch(/interleavings \(depth 2\): 2 introduced/);
    expect(mail).toContain(`${cause?.id} introduced: use-after-free in fx_invoke()`);
    expect(mail).toMatch(/rproc-review replay --version \S+ --scenario unbind-racing-start --schedule t3,t3/);
    const html = renderReview(report, "html", { html: { mermaidScript: "" } });
    expect(html).toContain("<h2>Thread interleavings (depth 2)</h2>");
    expect(html).toMatch(/<td class="fail">introduced<\/td><td>use-after-free in fx_invoke/);
    const json = JSON.parse(renderReview(report, "json")) as ReviewReport;
    expect(json.interleave?.counts.introduced).toBe(report.interleave?.counts.introduced);
  });

  it("the replay command it prints reproduces the race", async () => {
    const cmd = report.interleave?.scenarios
      .flatMap((s) => s.findings)
      .find((f) => f.kind === "use-after-free")?.replay;
    expect(cmd).toBeDefined();
    const args = (cmd as string).split(" ").slice(1);
    const r = await runCli(args.map((x) => (x === '""' ? "" : x)));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\n {2}use-after-free in fx_invoke on t3 sysfs unbind/);
    expect(r.err).toMatch(/no kernel tree: remoteproc_tee\.c from C/);
  }, 60_000);

  it("one choice is not enough: at depth 1 the race is not found, and nothing is claimed fixed", async () => {
    const r = (await runReview(a, b, { scenarios: ["boot"], exploreDepth: 0, interleaveDepth: 1 })).report;
    const all = r.interleave?.scenarios.flatMap((s) => s.findings) ?? [];
    expect(all.some((f) => f.kind === "use-after-free")).toBe(false);
    expect(r.interleave?.counts.fixed).toBe(0);
  }, 60_000);

  it("a side whose file did not run from C makes every scenario not judged: no class, no pass", async () => {
    const ran = [
      ...(b.design.ran ?? []),
      {
        file: "drivers/remoteproc/stm32_rproc.c",
        from: "not run" as const,
        why: "test: its C did not lower",
      },
    ];
    const notRun = withC(b, { ran });
    const r = (await runReview(a, notRun, { scenarios: ["boot"], exploreDepth: 0, interleaveDepth: 2 }))
      .report;
    const x = r.interleave;
    expect(x?.counts.notJudged).toBe(3);
    for (const s of x?.scenarios ?? []) {
      expect(s.notJudged).toMatch(/stm32 did not run from C/);
      expect(s.findings).toEqual([]);
    }
    expect(r.verdict.line).toMatch(/interleavings \(depth 2\): not judged, .*stm32 did not run from C/);
    expect(r.verdict.status).not.toBe("pass");
    expect(failOnOutcome(r.diff, ["fixed"], r.explore, r.interleave)).not.toBe("clean");
    expect(renderReview(r, "markdown")).toMatch(/Not judged: unbind-racing-start: .*did not run from C/);
  }, 60_000);

  it("a review --model-only runs B's facts over the hand model, which read a fact the mapper could not: not judged, and its replay says why", async () => {
    const model = await mappedSubject(await loadInput(bPath), bPath, { modelOnly: true });
    expect(model.design.tee).toBeUndefined();
    const r = (
      await runReview(a, model, { scenarios: ["boot"], exploreDepth: 0, interleaveDepth: 2, modelOnly: true })
    ).report;
    for (const s of r.interleave?.scenarios ?? []) {
      expect(s.notJudged).toMatch(/the model ran in place of the posted code: tee\.ctxStorage/);
      expect(s.findings).toEqual([]);
    }
    expect(r.verdict.line).toMatch(/interleavings \(depth 2\): not judged/);
    // The replay of an input the review ran with the hand model runs the hand model too (--model-only).
    const replayed = await runCli([
      "replay",
      "--version",
      bPath,
      "--model-only",
      "--scenario",
      "unbind-racing-start",
      "--schedule",
      "t3,t3",
    ]);
    expect(replayed.code).toBe(0);
    expect(replayed.err).toMatch(/no kernel tree: the hand model \(its facts\) runs every file/);
    expect(replayed.out).toMatch(/\nunknown: the model ran in place of the posted code: tee\.ctxStorage/);
  }, 60_000);

  it("review's short form names the open race (JSON and text) when --interleave-depth is given, and runs none without it", async () => {
    const args = ["review", bPath, "--against", join(dir, "fxtee-v5.mbox")];
    const json = await runCli([...args, "--interleave-depth", "2", "--explore-depth", "0", "--json"]);
    expect(json.code).toBe(0);
    const out = JSON.parse(json.out) as {
      interleave: { depth: number; open: { kind: string; at: string; schedule: number[] }[] } | null;
    };
    expect(out.interleave?.depth).toBe(2);
    expect(out.interleave?.open).toContainEqual(
      expect.objectContaining({ kind: "use-after-free", at: "fx_invoke", schedule: [3, 3] }),
    );
    const text = await runCli([...args, "--interleave-depth", "2"]);
    expect(text.out).toMatch(
      /introduced \(interleavings, unbind-racing-start, schedule t3,t3\): use-after-free in fx_invoke/,
    );
    const none = await runCli([...args, "--json"]);
    expect((JSON.parse(none.out) as { interleave: unknown }).interleave).toBeNull();
  }, 60_000);

  it("--interleave-depth takes 0 to 8", async () => {
    const r = await runCli(["review", "v16", "--interleave-depth", "9", "--format", "json"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--interleave-depth/);
  });
});

describe.skipIf(
  !sharedAvailable("kernel/linux-6.12/drivers/remoteproc/remoteproc_core.c") || !sharedAvailable("lkml/v16"),
)("the review's interleavings of a side whose core ran from C (a kernel tree)", () => {
  it("are not judged against sides on the hand model's core, naming why, rather than classing what the cores do differently", async () => {
    const r = await runCli([
      "review",
      join(SHARED, "lkml", "v16"),
      "--kernel-tree",
      join(SHARED, "kernel", "linux-6.12"),
      "--format",
      "json",
      "--interleave-depth",
      "1",
      "--explore-depth",
      "0",
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as ReviewReport;
    expect(report.b.ran?.find((f) => f.file === "drivers/remoteproc/remoteproc_core.c")?.from).toBe("C");
    expect(report.interleave?.counts.notJudged).toBe(3);
    for (const s of report.interleave?.scenarios ?? []) {
      // A (built-in v15) is the hand model's: its core's rproc_del leaves a window 6.12's closes. Mainline is
      // the tree without the series, from C like v16 (node/versions.ts treeMainline).
      expect(s.notJudged).toBe(
        "the sides run different remoteproc cores (v16, mainline from C, v15 the hand model's): their interleavings would compare the cores, not the series",
      );
      expect(s.findings).toEqual([]);
    }
  }, 180_000);
});
