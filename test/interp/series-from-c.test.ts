/**
 * A series input whose TEE client driver runs from C (src/node/versions.ts cDesign): fixture series of our own
 * (test/fixtures/fxtee/fxtee.ts) and, when ../shared is present, the posted v16 reviewed against v15.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { firstDivergence } from "../../src/compare/diff.ts";
import { interpretedTeeDriver, loadTeeDriver } from "../../src/interp/env/remoteproc_tee.ts";
import { decodeSeriesC, lowerSeriesC, seriesCDesign } from "../../src/interp/env/series.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { MODEL_ONLY_ENV, resolveVersion } from "../../src/node/versions.ts";
import { renderMarkdown } from "../../src/report/index.ts";
import { builtinSubject, runReview, seriesSubject, withC } from "../../src/review/run.ts";
import { renderMatrixText } from "../../src/scenarios/render.ts";
import type { CellResult, MatrixResult } from "../../src/scenarios/result.ts";
import { runMatrix } from "../../src/scenarios/run.ts";
import { mapSeries } from "../../src/semantics/map/index.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { fxteeDriver, fxteeMbox } from "../fixtures/fxtee/fxtee.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";
import { cellOutcome } from "./helpers.ts";

const TEE = "drivers/remoteproc/remoteproc_tee.c";
const CONFIG_N = "rproc-remove@REMOTEPROC_TEE=n";
const mbox = (v: 5 | 6 | 7) => join(import.meta.dirname, "..", "fixtures", "fxtee", `fxtee-v${v}.mbox`);
const lineOf = (v: 5 | 6 | 7, text: string): number =>
  fxteeDriver(v)
    .split("\n")
    .findIndex((l) => l.includes(text)) + 1;

const cell = (m: MatrixResult, version: string, scenario: string): CellResult => {
  const c = m.results.find((r) => r.version === version && r.scenario === scenario);
  if (c === undefined) throw new Error(`no cell ${version} / ${scenario}`);
  return c;
};
const outcome = cellOutcome;

describe("the fixture series", () => {
  it("are the committed mboxes", () => {
    for (const v of [5, 6, 7] as const) expect(fxteeMbox(v)).toBe(readFileSync(mbox(v), "utf8"));
  });

  it("v5 and v6 read as the same design facts: no fact describes what v6 changes", async () => {
    const parser = await cParser();
    const [a, b] = [mapSeries(await loadInput(mbox(5)), parser), mapSeries(await loadInput(mbox(6)), parser)];
    expect(b.facts).toEqual(a.facts);
    expect(b.status).toEqual(a.status);
  });
});

describe("a series input runs the TEE client driver it creates from C", () => {
  let m: MatrixResult;
  beforeAll(async () => {
    const designs = [];
    for (const v of [5, 6, 7] as const) designs.push((await resolveVersion(mbox(v))).design);
    m = await runMatrix(designs);
  });

  it("says per file what ran: the driver from C, the core and STM32 driver from the model", () => {
    for (const v of m.versions) {
      expect(v.ran?.find((r) => r.file === TEE)).toEqual({ file: TEE, from: "C", why: "created by patch 2" });
      expect(v.ran?.filter((r) => r.from === "model").map((r) => r.file)).toEqual([
        "drivers/remoteproc/remoteproc_core.c",
        "drivers/remoteproc/remoteproc_elf_loader.c",
        "drivers/remoteproc/remoteproc_virtio.c",
        "drivers/remoteproc/stm32_rproc.c",
      ]);
    }
    const text = renderMatrixText(m);
    expect(text).toContain(
      "ran: v6: remoteproc_tee.c from C; core, elf loader, virtio, stm32 from the model",
    );
  });

  it("v6's spinlock around STOP is a sleep in atomic context at the posted line of the TEE call", () => {
    expect(outcome(cell(m, "v5", "boot"))).toMatchObject({ unknown: false, ok: true, findings: [] });
    const boot = cell(m, "v6", "boot");
    expect(boot).toMatchObject({ unknown: false, ok: true, finalState: "running" });
    const sleeps = boot.findings.filter((f) => f.kind === "sleep-in-atomic");
    expect(sleeps.map((f) => ({ at: f.at, detail: f.detail, site: f.site }))).toEqual([
      {
        at: "fx_invoke",
        detail: "tee_client_invoke_func may sleep while holding spinlock fx_spin (held by rproc_tee_stop)",
        site: { file: TEE, line: lineOf(6, "ret = tee_client_invoke_func(") },
      },
    ]);
    expect(renderMatrixText(m)).toContain(
      `v6 / boot: sleep-in-atomic in fx_invoke at ${TEE}:${lineOf(6, "ret = tee_client_invoke_func(")}`,
    );
  });

  it("v6's failed start returns -ETIMEDOUT where v5 returns the TA's -EIO", () => {
    expect(outcome(cell(m, "v5", "tee-start-fails"))).toMatchObject({ unknown: false, ok: false, errno: -5 });
    expect(outcome(cell(m, "v6", "tee-start-fails"))).toMatchObject({
      unknown: false,
      ok: false,
      errno: -110,
    });
  });

  it("v7 calls an API the environment lacks: the cells that reach it are unknown naming it and the posted line", () => {
    const line = lineOf(7, "tee_client_get_version(");
    const reached = m.results.filter((c) => c.version === "v7" && c.unknown && c.scenario !== CONFIG_N);
    expect(reached.map((c) => c.scenario)).toContain("boot");
    for (const c of reached) {
      expect(c.ok).toBe(false);
      expect(c.unknownBecause?.[0]).toMatchObject({
        what: expect.stringContaining("tee_client_get_version()"),
        files: [TEE],
        at: { file: TEE, line },
      });
    }
    // Cells that never reach rproc_tee_start ran the C to the end: they are known and as v5's.
    for (const s of ["boot-bad-signature", "probe-binding-dt"])
      expect(outcome(cell(m, "v7", s))).toEqual(outcome(cell(m, "v5", s)));
  });

  it("a line that moves the posted code down is not a behaviour difference", () => {
    // v7 inserts lines above rproc_tee_register: its allocations are named at other lines than v5's.
    const [a, b] = [cell(m, "v5", "boot-bad-signature").trace, cell(m, "v7", "boot-bad-signature").trace];
    const moved = a.findIndex((s, i) => s.detail !== b[i]?.detail);
    expect(moved).toBeGreaterThanOrEqual(0);
    expect(a[moved]?.detail).toMatch(/remoteproc_tee\.c:\d+/);
    expect(firstDivergence(a, b)).toBeNull();
  });
});

describe("--model-only (RPROC_REVIEW_MODEL_ONLY) keeps the hand model for inputs", () => {
  it("gives designs with no C, where v5 and v6 cannot be told apart", async () => {
    const [a, b] = [
      (await resolveVersion(mbox(5), undefined, {}, { modelOnly: true })).design,
      (await resolveVersion(mbox(6), undefined, {}, { modelOnly: true })).design,
    ];
    expect(a.tee).toBeUndefined();
    expect(a.ran).toBeUndefined();
    const m = await runMatrix([a, b], ["boot", "tee-start-fails"]);
    expect(m.versions.every((v) => v.ran === undefined)).toBe(true);
    for (const s of ["boot", "tee-start-fails"])
      expect(outcome(cell(m, "v6", s))).toEqual(outcome(cell(m, "v5", s)));
  });

  it("is read from the environment when no option says otherwise", async () => {
    const old = process.env[MODEL_ONLY_ENV];
    process.env[MODEL_ONLY_ENV] = "1";
    try {
      expect((await resolveVersion(mbox(6))).design.tee).toBeUndefined();
      expect((await resolveVersion(mbox(6), undefined, {}, { modelOnly: false })).design.tee).toBeDefined();
    } finally {
      if (old === undefined) delete process.env[MODEL_ONLY_ENV];
      else process.env[MODEL_ONLY_ENV] = old;
    }
  });
});

describe("the review room over C cells", () => {
  it("v5 -> v6: the sleep is introduced, raised from C at the posted line; v7's unknown cells classify nothing", async () => {
    const [v5, v6, v7] = [
      await resolveVersion(mbox(5)),
      await resolveVersion(mbox(6)),
      await resolveVersion(mbox(7)),
    ];
    const { report } = await runReview(v5, v6, { scenarios: ["boot", "tee-start-fails"], exploreDepth: 0 });
    expect(report.b.ran?.find((r) => r.file === TEE)?.from).toBe("C");
    const sleep = report.causes.find((c) => c.kind === "sleep-in-atomic");
    expect(sleep?.class).toBe("introduced");
    expect(sleep?.raisedAt).toEqual([{ file: TEE, lines: [lineOf(6, "ret = tee_client_invoke_func(")] }]);
    expect(sleep?.line).toContain(`raised from C at ${TEE}:${lineOf(6, "ret = tee_client_invoke_func(")}`);
    const start = report.diff.scenarios.find((s) => s.scenario === "tee-start-fails");
    expect(start?.status).toBe("different");
    // The first divergence names the posted statement that made each side's step.
    expect(start?.divergence).toMatchObject({
      a: { fn: "rproc_tee_start", event: "return", detail: "-EIO" },
      aAt: { file: TEE, line: lineOf(5, "return fx_invoke(e, FX_CMD_START") },
      b: { fn: "rproc_tee_start", event: "return", detail: "-ETIMEDOUT" },
      bAt: { file: TEE, line: lineOf(6, "return ret ? -ETIMEDOUT : 0;") },
    });
    expect(renderMarkdown(report)).toContain(
      `\`tee rproc_tee_start return: -ETIMEDOUT\`, made by the posted C at ${TEE}:${lineOf(6, "return ret ? -ETIMEDOUT : 0;")}`,
    );

    const r7 = (await runReview(v5, v7, { scenarios: ["boot", "tee-start-fails"], exploreDepth: 0 })).report;
    for (const s of r7.diff.scenarios) {
      expect(s.status).toBe("unknown");
      expect(s.findings).toEqual([]);
    }
    expect(r7.causes).toEqual([]);
  });

  it("v5 -> v7: the exploration runs v7's C, stops where the cells stopped, and is not judged", async () => {
    const [v5, v7] = [await resolveVersion(mbox(5)), await resolveVersion(mbox(7))];
    const { report } = await runReview(v5, v7, {
      scenarios: ["boot", "boot-bad-signature"],
      exploreDepth: 1,
    });
    // boot-bad-signature never reaches rproc_tee_start: that cell ran the C to its end; boot stopped.
    expect(report.diff.scenarios.find((s) => s.scenario === "boot")?.status).toBe("unknown");
    const stopped = `${v7.design.id}'s posted C stopped in 1 explored sequence (first: start at ${TEE}:${lineOf(7, "tee_client_get_version(")}: tee_client_get_version()`;
    expect(report.explore?.unknown).toContain(stopped);
    expect(report.explore?.b.fromC).toBe(true);
    expect(report.verdict.line).toContain("explore (depth 1): not judged");
    expect(report.verdict.line).not.toMatch(/explore \(depth 1\): \d+ (introduced|fixed|carried)/);
  });
});

describe("the mapper explains, the interpreter decides", () => {
  it("where the C that ran and the design's facts over the hand model disagree, the report says the facts do not explain it", async () => {
    // v16's facts (a spinlock around the TEE calls) with a TEE driver whose C holds a mutex there (v5 of the
    // fixture): the C decides the cells, and the report says the facts could not explain them.
    const v16 = builtinVersion("v16");
    if (v16 === undefined) throw new Error("no built-in v16");
    const b = builtinSubject(v16);
    const loaded = loadTeeDriver(await cParser(), { source: { path: TEE, text: fxteeDriver(5) } });
    const ran = [{ file: TEE, from: "C" as const, why: "created by patch 2" }];
    b.design = { ...b.design, id: "v16+fx", tee: interpretedTeeDriver(loaded), ran };
    const side = b.side;
    b.side = (cells, id) => ({ ...side(cells, id), ran });
    const { report } = await runReview(builtinSubject(v16), b, { scenarios: ["boot"], exploreDepth: 0 });
    const notes = report.notes.filter((n) => n.includes("do not explain"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /^v16\+fx: the design facts read from the diff do not explain what ran in 1 scenario \(boot\)/,
    );
    expect(notes[0]).toContain(`${TEE} from C gives ok, running`);
    expect(notes[0]).toContain("the facts over the hand model ok, running, TA LOAD_FW");
    expect(notes[0]).toContain("sleep-in-atomic in rproc_tee_register");
    // v16's sleep is gone in what ran: fixed, from the C's cell; attribution, over the facts, names no fact
    // that moves it (the facts' model still has the spinlock).
    const boot = report.diff.scenarios.find((s) => s.scenario === "boot");
    expect(boot?.status).toBe("different");
    expect(boot?.findings.filter((f) => f.kind === "sleep-in-atomic").every((f) => f.class === "fixed")).toBe(
      true,
    );
    // The exploration runs the C too (judged): v16's sleep at bind is gone there; the facts over the hand model
    // (which keep the spinlock) are said to disagree, and count for nothing.
    const explored = await runReview(builtinSubject(v16), b, { scenarios: ["boot"], exploreDepth: 1 });
    expect(explored.report.explore?.unknown).toBeNull();
    expect(explored.report.explore?.b.fromC).toBe(true);
    expect(explored.report.explore?.fixed.map((f) => `${f.kind} in ${f.at}`)).toContain(
      "sleep-in-atomic in rproc_tee_register",
    );
    const disagree = explored.report.notes.find((n) => n.startsWith("v16+fx: the exploration of its C"));
    expect(disagree?.split("only its facts over the hand model raise")[1]).toContain(
      "sleep-in-atomic in rproc_tee_register",
    );
    expect(explored.report.verdict.line).not.toContain("explore (depth 1): not judged");
    const model = await runReview(builtinSubject(v16), builtinSubject(v16), {
      scenarios: ["boot"],
      exploreDepth: 1,
    });
    expect(model.report.explore?.unknown).toBeNull();
  });
});

const V16 = join(SHARED, "lkml", "v16");
describe.skipIf(!sharedAvailable(join(V16, "2.eml")))("the posted v16 reviewed against v15", () => {
  it("still fails with the spinlock root cause, now raised from C at remoteproc_tee.c's posted lines", async () => {
    const v16 = await resolveVersion(V16);
    const v15 = await resolveVersion("v15");
    expect(v15.design.tee).toBeUndefined();
    const { report, cells } = await runReview(v15, v16, { exploreDepth: 0 });
    expect(report.verdict.status).toBe("fail");
    expect(report.b.ran?.filter((r) => r.from === "C").map((r) => r.file)).toEqual([
      TEE,
      "include/linux/remoteproc_tee.h",
    ]);
    expect(report.a.ran).toBeUndefined();
    const rc1 = report.causes[0];
    expect(rc1).toMatchObject({ class: "introduced", kind: "sleep-in-atomic", lock: "spinlock ctx_lock" });
    expect(rc1?.raisedAt).toEqual([{ file: TEE, lines: [471, 490, 503, 545, 585] }]);
    const text = readFileSync(join(V16, "2.eml"), "utf8");
    expect(text).toContain("spin_lock(&ctx_lock)");
    // Every v16 cell ran the C: the TEE layer's own static helper is in the traces.
    const b = cells.filter((c) => c.version === v16.design.id && c.scenario !== CONFIG_N);
    expect(b.length).toBe(16);
    expect(b.every((c) => c.trace.some((s) => s.fn === "rproc_to_trproc"))).toBe(true);
    // On a CONFIG_REMOTEPROC_TEE=n kernel no TEE driver runs: remove calls the posted header's stub, which WARNs.
    const n = cells.find((c) => c.version === v16.design.id && c.scenario === CONFIG_N);
    expect(n?.trace.some((s) => s.fn === "rproc_to_trproc")).toBe(false);
    expect(n?.findings.map((f) => [f.kind, f.at, f.site?.file])).toEqual([
      ["warn", "rproc_tee_unregister", "include/linux/remoteproc_tee.h"],
    ]);
    // The C and the facts over the hand model agree on every cell: no note says the facts cannot explain.
    expect(report.notes.filter((n) => n.includes("do not explain"))).toEqual([]);
  });

  it("without its C (a job that came without it) is not judged by its exploration, and cannot fail on it", async () => {
    const series = await loadInput(V16);
    const parser = await cParser();
    const v15 = await resolveVersion("v15");
    const bare = withC(
      seriesSubject(series, mapSeries(series, parser), V16),
      seriesCDesign(decodeSeriesC(series, undefined)),
    );
    const opts = { scenarios: ["boot"], exploreDepth: 1 };
    const { report } = await runReview(v15, bare, opts);
    expect(report.explore?.unknown).toMatch(/v16's remoteproc_tee\.c did not run from C/);
    expect(report.verdict.status).toBe("warn");
    const withIt = withC(
      seriesSubject(series, mapSeries(series, parser), V16),
      seriesCDesign(lowerSeriesC(series, parser)),
    );
    const judged = await runReview(v15, withIt, opts);
    expect(judged.report.explore?.unknown).toBeNull();
    expect(judged.report.verdict.status).toBe("fail");
  });
});
