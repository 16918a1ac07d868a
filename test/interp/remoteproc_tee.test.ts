/**
 * The posted remoteproc_tee.c of the series (from the patch's new-file hunk in ../shared/lkml), run by the
 * interpreter with the hand model as the rest of the kernel, against the hand model's own remoteproc_tee.ts
 * (the oracle) on the same scenarios. Every disagreement is a bug in one of the two, unless it is listed
 * here with its explanation.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Fixtures, loadFixtures } from "../../src/emulator/api.ts";
import {
  interpretedTeeDriver,
  type LoadedTeeDriver,
  loadTeeDriver,
} from "../../src/interp/env/remoteproc_tee.ts";
import { lowerSeriesC } from "../../src/interp/env/series.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import type { CellResult } from "../../src/scenarios/result.ts";
import { type Design, runScenario } from "../../src/scenarios/run.ts";
import { SCENARIOS } from "../../src/scenarios/scenarios.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import { newFileContent } from "../../src/series/index.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const TEE_C = "drivers/remoteproc/remoteproc_tee.c";
const TEE_H = "include/linux/remoteproc_tee.h";
const has =
  sharedAvailable(join(SHARED, "lkml", "v16", "2.eml")) &&
  sharedAvailable(join(SHARED, "lkml", "v13", "2.eml"));

/** The files a version's patches create whole, by path. */
async function created(version: string): Promise<Map<string, string>> {
  const s = await loadInput(join(SHARED, "lkml", version));
  const out = new Map<string, string>();
  for (const p of s.patches)
    for (const f of p.files) {
      const text = newFileContent(f);
      if (text !== null) out.set(f.path, text);
    }
  return out;
}

async function posted(version: string): Promise<{ loaded: LoadedTeeDriver; lines: string[] }> {
  const files = await created(version);
  const c = files.get(TEE_C);
  const h = files.get(TEE_H);
  if (c === undefined || h === undefined) throw new Error(`${version} does not create ${TEE_C} and ${TEE_H}`);
  const loaded = loadTeeDriver(await cParser(), {
    headers: [{ path: TEE_H, text: h }],
    source: { path: TEE_C, text: c },
  });
  return { loaded, lines: c.split("\n") };
}

function design(id: string): Design {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`no built-in ${id}`);
  return { id, title: v.title, facts: v.facts };
}

/** The client API's returns in order (the TEE layer's public functions and the bus driver's probe/remove). */
function apiReturns(r: CellResult): string[] {
  const api =
    /^rproc_tee_(register|unregister|load_fw|parse_fw|find_loaded_rsc_table|start|stop|release_fw|probe|remove)$/;
  return r.trace
    .filter((s) => s.layer === "tee" && s.event === "return" && api.test(s.fn))
    .map((s) =>
      // Explained: the hand model models rproc_tee_remove() as void; the posted C returns int 0.
      s.fn === "rproc_tee_remove" && s.detail === "0" ? "rproc_tee_remove=void" : `${s.fn}=${s.detail}`,
    );
}

/** Findings by kind, function and detail. */
function findings(r: CellResult): string[] {
  return r.findings
    .map((f) =>
      `${f.kind} | ${f.at} | ${f.detail}`
        // Explained: the table rproc_tee_parse_fw() kmemdup's is the same allocation; the hand model names
        // it by its role (cached_table "m4"), the environment by its allocator and posted line.
        .replace(/mem "kmemdup\(\d+\) at remoteproc_tee\.c:\d+"/, 'cached_table "m4"'),
    )
    .sort();
}

/** What a cell did, as the two-way check compares it. */
function outcome(r: CellResult) {
  return {
    ok: r.ok,
    errno: r.errno,
    state: r.finalState,
    tee: r.tee,
    api: apiReturns(r),
    findings: findings(r),
  };
}

/** The line the two-way check reports for a scenario where the C's cell is not the hand model's, or null. */
function disagreement(scenario: string, hand: CellResult, c: CellResult): string | null {
  const a = outcome(hand);
  const b = outcome(c);
  return c.unknown || JSON.stringify(a) !== JSON.stringify(b)
    ? `${scenario}: hand ${JSON.stringify(a)}\n  C ${JSON.stringify(b)} ${JSON.stringify(c.unknownBecause ?? [])}`
    : null;
}

describe.skipIf(!has)("the posted remoteproc_tee.c of v16, interpreted, against the hand model", () => {
  let fixtures: Fixtures;
  let v16: { loaded: LoadedTeeDriver; lines: string[] };
  beforeAll(async () => {
    fixtures = await loadFixtures();
    v16 = await posted("v16");
  });

  it("lowers with no problem over the environment's headers", () => {
    expect(v16.loaded.problems).toEqual([]);
  });

  it("boot: register/probe, parse_fw (LOAD_FW, GET_RSC_TABLE), load, find_loaded_rsc_table, start, stop, release, unregister agree", async () => {
    const hand = await runScenario(design("v16"), "boot", fixtures);
    const c = await runScenario(design("v16"), "boot", fixtures, { tee: interpretedTeeDriver(v16.loaded) });
    expect(c.unknown).toBe(false);
    expect(c.tee).toEqual([
      "LOAD_FW",
      "GET_RSC_TABLE",
      "LOAD_FW",
      "GET_RSC_TABLE",
      "START_FW",
      "STOP_FW",
      "RELEASE_FW",
    ]);
    expect({ ok: c.ok, errno: c.errno, finalState: c.finalState, tee: c.tee }).toEqual({
      ok: hand.ok,
      errno: hand.errno,
      finalState: hand.finalState,
      tee: hand.tee,
    });
    expect(apiReturns(c)).toEqual(apiReturns(hand));
    expect(apiReturns(c)).toEqual([
      "rproc_tee_probe=0",
      "rproc_tee_register=0",
      "rproc_tee_load_fw=0",
      "rproc_tee_parse_fw=0",
      "rproc_tee_load_fw=0",
      "rproc_tee_find_loaded_rsc_table=void",
      "rproc_tee_start=0",
      "rproc_tee_stop=0",
      "rproc_tee_release_fw=void",
      "rproc_tee_unregister=0",
      "rproc_tee_remove=void",
    ]);
    expect(findings(c)).toEqual(findings(hand));
    // It ran the posted C: its own static helpers are in the trace, which the hand model does not have.
    expect(c.trace.some((s) => s.fn === "rproc_to_trproc" && s.event === "call")).toBe(true);
    expect(hand.trace.some((s) => s.fn === "rproc_to_trproc" && s.event === "call")).toBe(false);
  });

  it("the spinlock's sleep-in-atomic findings are raised by the interpreted code at the posted lines", async () => {
    const c = await runScenario(design("v16"), "boot", fixtures, { tee: interpretedTeeDriver(v16.loaded) });
    const sleeps = c.findings.filter((f) => f.kind === "sleep-in-atomic");
    const expected = [
      { api: "kzalloc", at: "rproc_tee_register", line: 471 },
      { api: "tee_client_open_session", at: "rproc_tee_register", line: 490 },
      { api: "device_link_add", at: "rproc_tee_register", line: 503 },
      { api: "tee_client_close_session", at: "rproc_tee_unregister", line: 545 },
      { api: "tee_client_close_context", at: "rproc_tee_remove", line: 585 },
    ];
    expect(sleeps.map((f) => ({ detail: f.detail, at: f.at, site: f.site }))).toEqual(
      expected.map((e) => ({
        detail: `${e.api} may sleep while holding spinlock ctx_lock (held by ${e.at})`,
        at: e.at,
        site: { file: TEE_C, line: e.line },
      })),
    );
    // Each line is the call in the posted text, and the lock was taken before it in the same function.
    for (const e of expected) expect(v16.lines[e.line - 1]).toContain(`${e.api}(`);
    expect(v16.lines[460 - 1]).toContain("spin_lock(&ctx_lock)");
  });

  it("a finding the TA's command raises carries the posted line that sent the command", async () => {
    // The TA's RELEASE_FW is a step of the hand model's tee_client_invoke_func, made after the C's call
    // waits for it: the finding is at the C's call of tee_client_invoke_func, in rproc_tee_release_fw.
    const c = await runScenario(design("v16"), "boot-no-resource-table", fixtures, {
      tee: interpretedTeeDriver(v16.loaded),
    });
    const f = c.findings.find((x) => x.kind === "double-release");
    expect(f?.site?.file).toBe(TEE_C);
    const line = f?.site?.line ?? 0;
    expect(v16.lines[line - 1]).toContain("tee_client_invoke_func(");
    const fnStart = v16.lines.slice(0, line).findLastIndex((l) => /^\S.*\(/.test(l));
    expect(v16.lines[fnStart]).toMatch(/rproc_tee_release_fw\(/);
  });

  it("every scenario of the matrix agrees on results, TA commands, API returns and findings", async () => {
    const tee = interpretedTeeDriver(v16.loaded);
    const disagreements: string[] = [];
    for (const s of SCENARIOS) {
      const hand = await runScenario(design("v16"), s, fixtures);
      const c = await runScenario(design("v16"), s, fixtures, { tee });
      if (s.config?.REMOTEPROC_TEE === false) {
        // A kernel without the TEE driver runs the header's stubs, not this driver (test/scenarios/config.test.ts);
        // this design read no stubs, so both sides say so rather than run either driver.
        expect([hand.unknown, c.unknown]).toEqual([true, true]);
        continue;
      }
      const d = disagreement(s.id, hand, c);
      if (d !== null) disagreements.push(d);
    }
    expect(disagreements).toEqual([]);
  });
});

describe.skipIf(!has)(
  "v13, v14 and v15 without a tree: the member their remoteproc.h hunk adds to struct rproc",
  () => {
    // The TEE driver is lowered from the series as `review` lowers it (lowerSeriesC): the members the series'
    // include/linux/remoteproc.h hunks add inside struct rproc are declared in the environment's struct rproc,
    // their bytes the C's own (no hand-model code reads rproc_tee_itf).
    it.each(["v13", "v14", "v15"])(
      "%s: every scenario agrees with the hand model's column, but where the C oopses on a poisoned list entry",
      async (id) => {
        const series = await loadInput(join(SHARED, "lkml", id));
        const unit = lowerSeriesC(series, await cParser()).driver;
        if (unit === null || !unit.ok) throw new Error(`${id}: ${unit === null ? "no driver" : unit.why}`);
        const tee = interpretedTeeDriver(unit.loaded);
        const fixtures = await loadFixtures();
        const disagreements: string[] = [];
        for (const s of SCENARIOS) {
          const hand = await runScenario(design(id), s, fixtures, {});
          const c = await runScenario(design(id), s, fixtures, { tee });
          if (s.config?.REMOTEPROC_TEE === false) continue;
          if (s.id === "tee-unbind-while-running") {
            // rproc_tee_remove() frees the entries and the later unregister list_del()s one again: the C writes
            // through LIST_POISON2 (the kernel oopses: the cell stops, unknown, at the posted line), where the
            // hand model, which keeps the freed entry, reports the use after free and goes on.
            expect(c.unknown).toBe(true);
            expect(c.unknownBecause?.[0]?.what).toMatch(
              /^bad-pointer: write to unmapped address 0xdead000000000108 \(in __list_unlink\)$/,
            );
            expect(c.unknownBecause?.[0]?.at?.file).toBe(TEE_C);
            expect(findings(hand).some((f) => f.startsWith("use-after-free |"))).toBe(true);
            continue;
          }
          const d = disagreement(s.id, hand, c);
          if (d !== null) disagreements.push(d);
        }
        expect(disagreements).toEqual([]);
      },
    );
  },
);

describe.skipIf(!has)(
  "a posted remoteproc_tee.c loaded without its series' header members stops honestly",
  () => {
    it("v13 keeps its entry in rproc->rproc_tee_itf, a member its patch adds to the tree's remoteproc.h: unknown at that line", async () => {
      const v13 = await posted("v13");
      expect(v13.loaded.problems).toEqual([]);
      const c = await runScenario(design("v13"), "boot", await loadFixtures(), {
        tee: interpretedTeeDriver(v13.loaded),
      });
      expect(c.unknown).toBe(true);
      expect(c.ok).toBe(false);
      const why = c.unknownBecause?.[0];
      expect(why?.what).toBe("struct rproc has no member rproc_tee_itf");
      expect(why?.at?.file).toBe(TEE_C);
      expect(v13.lines[(why?.at?.line ?? 0) - 1]).toContain("rproc->rproc_tee_itf");
      // Nothing the C did not reach is reported: no TA command ran, no teardown verdicts.
      expect(c.tee).toEqual([]);
      expect(c.findings).toEqual([]);
    });
  },
);
