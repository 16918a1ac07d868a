/**
 * The lowered C that travels with a job (src/interp/codec.ts, src/interp/env/series.ts): what a Node process
 * lowers, a Worker decodes to the same program and runs to the same cells; whatever is corrupted, truncated,
 * of another format version, of another text or of other environment headers is refused naming what is
 * wrong, and the cells that need it are unknown (never the hand model in its place). Fixture series of our
 * own (test/fixtures/fxtee).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeProgram, encodeProgram, PROGRAM_FORMAT_VERSION } from "../../src/interp/codec.ts";
import {
  decodeSeriesC,
  encodeSeriesC,
  lowerSeriesC,
  type SeriesC,
  type SeriesCJson,
  seriesCDesign,
} from "../../src/interp/env/series.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { seriesSubject, withC } from "../../src/review/run.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import { runScenario } from "../../src/scenarios/run.ts";
import { mapSeries } from "../../src/semantics/map/index.ts";
import type { Series } from "../../src/series/types.ts";

const mbox = (v: 5 | 6 | 7) => join(import.meta.dirname, "..", "fixtures", "fxtee", `fxtee-v${v}.mbox`);
const TEE = "drivers/remoteproc/remoteproc_tee.c";

/** The same JSON a job carries (through its text: no object identity survives). */
const wire = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));

const outcome = (c: CellResult) => ({
  unknown: c.unknown,
  unknownBecause: (c.unknownBecause ?? []).map((u) => u.why),
  ok: c.ok,
  errno: c.errno,
  state: c.finalState,
  tee: c.tee,
  trace: c.trace.map((s) => `${s.layer} ${s.fn} ${s.event}`),
  findings: c.findings.map((f) => `${f.kind} ${f.at}`).sort(),
});

async function cellsOf(series: Series, c: SeriesC, scenarios: readonly string[]) {
  const parser = await cParser();
  const subject = withC(seriesSubject(series, mapSeries(series, parser), "fxtee"), seriesCDesign(c));
  const out: Record<string, ReturnType<typeof outcome>> = {};
  for (const s of scenarios) out[s] = outcome(await runScenario(subject.design, s));
  return out;
}

describe("a lowered program as JSON", () => {
  let series: Series;
  let lowered: SeriesC;
  beforeAll(async () => {
    series = await loadInput(mbox(5));
    lowered = lowerSeriesC(series, await cParser());
  });

  it("decodes to the program that was encoded, bigints included", () => {
    const unit = lowered.driver;
    if (unit === null || !unit.ok) throw new Error("the fixture's TEE driver did not lower");
    const back = decodeProgram(wire(encodeProgram(unit.loaded)));
    if (!back.ok) throw new Error(back.why);
    expect(back.loaded.program).toEqual(unit.loaded.program);
    expect(back.loaded.problems).toEqual(unit.loaded.problems);
  });

  it("runs to the same cells as the program lowered in process", async () => {
    const scenarios = ["boot", "boot-bad-signature", "crash-recovery", "tee-unbind-while-running"];
    const decoded = decodeSeriesC(series, wire(encodeSeriesC(series, lowered)));
    expect(decoded.driver?.ok).toBe(true);
    // the fixture posts no remoteproc_tee.h: no stubs unit either side
    expect(decoded.stubs).toBeNull();
    expect(lowered.stubs).toBeNull();
    const here = await cellsOf(series, lowered, scenarios);
    const there = await cellsOf(series, decoded, scenarios);
    expect(there).toEqual(here);
    // and the cells did run the posted C (its file is in the trace), not the hand model
    expect(here.boot?.unknown).toBe(false);
    expect(here.boot?.trace.some((t) => t.startsWith("tee "))).toBe(true);
  });

  it("refuses another format version, a corrupted node and a truncated program, saying where", () => {
    const unit = lowered.driver;
    if (unit === null || !unit.ok) throw new Error("the fixture's TEE driver did not lower");
    const json = wire(encodeProgram(unit.loaded)) as { version: number; program: Record<string, unknown> };

    const other = decodeProgram({ ...json, version: PROGRAM_FORMAT_VERSION + 1 });
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.why).toMatch(/version/);

    const text = JSON.stringify(json);
    // A statement kind no interpreter knows, in place of the first return.
    const corrupted = decodeProgram(JSON.parse(text.replace('"k":"return"', '"k":"retrun"')));
    expect(corrupted.ok).toBe(false);
    if (!corrupted.ok) expect(corrupted.why).toMatch(/functions/);

    const { functions: _dropped, ...truncated } = json.program;
    const cut = decodeProgram({ ...json, program: truncated });
    expect(cut.ok).toBe(false);
    if (!cut.ok) expect(cut.why).toMatch(/functions/);

    expect(decodeProgram("not a program").ok).toBe(false);
  });
});

describe("the series' C as it comes with a job", () => {
  let series: Series;
  let json: SeriesCJson;
  beforeAll(async () => {
    series = await loadInput(mbox(5));
    json = encodeSeriesC(series, lowerSeriesC(series, await cParser()));
  });

  const whyOf = (c: SeriesC): string => {
    if (c.driver === null || c.driver.ok) throw new Error("expected a refused driver unit");
    return c.driver.why;
  };

  it("is refused when absent, of another format, version or environment, naming which", () => {
    expect(whyOf(decodeSeriesC(series, undefined))).toMatch(/did not come with the job/);
    expect(whyOf(decodeSeriesC(series, { ...json, format: "something/else" }))).toMatch(
      /not rproc-review\/series-c JSON/,
    );
    expect(whyOf(decodeSeriesC(series, { ...json, version: 99 }))).toMatch(/format version 99/);
    expect(whyOf(decodeSeriesC(series, { ...json, env: "0000000000000000" }))).toMatch(
      /other environment headers/,
    );
  });

  it("is refused when lowered from another version's text", async () => {
    const v6 = await loadInput(mbox(6));
    const foreign = encodeSeriesC(v6, lowerSeriesC(v6, await cParser()));
    const why = whyOf(decodeSeriesC(series, wire(foreign)));
    expect(why).toMatch(/lowered from another text/);
    expect(why).toContain(TEE);
  });

  it("says the driver's file did not run when its C did not come", () => {
    const ran = seriesCDesign(decodeSeriesC(series, undefined)).ran ?? [];
    expect(ran.find((r) => r.file === TEE)).toMatchObject({
      from: "not run",
      why: expect.stringMatching(/did not come with the job/),
    });
    const here = seriesCDesign(decodeSeriesC(series, wire(json))).ran ?? [];
    expect(here.find((r) => r.file === TEE)?.from).toBe("C");
  });

  it("makes the cells that need it unknown, naming it, never the hand model", async () => {
    const cells = await cellsOf(series, decodeSeriesC(series, undefined), ["boot"]);
    expect(cells.boot?.unknown).toBe(true);
    expect(cells.boot?.unknownBecause.join(" ")).toMatch(/did not come with the job/);
    expect(cells.boot?.trace.some((t) => t.startsWith("tee "))).toBe(false);
  });
});
