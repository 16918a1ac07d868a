import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_LKML, derivePatchFiles, PATCH_IDS, REPO } from "../../scripts/regen-patches.ts";
import { main } from "../../src/cli/main.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { FACT_PATHS, getFact } from "../../src/semantics/facts.ts";
import { type MapResult, mapSeries } from "../../src/semantics/map/index.ts";
import { builtinVersion } from "../../src/semantics/versions.ts";
import type { Series } from "../../src/series/index.ts";
import { sharedAvailable } from "../helpers/shared.ts";

const has = sharedAvailable(join(DEFAULT_LKML, "v16"));
if (!has) console.warn(`test/map/lkml: ${DEFAULT_LKML} is absent; the real-series mapping tests are skipped`);

describe.skipIf(!has)("mapping the real series (../shared/lkml)", () => {
  const series = new Map<string, Series>();
  const mapped = new Map<string, MapResult>();
  beforeAll(async () => {
    const parser = await cParser();
    for (const id of PATCH_IDS) {
      const s = await loadInput(join(DEFAULT_LKML, id));
      series.set(id, s);
      mapped.set(id, mapSeries(s, parser));
    }
  });

  // v16's tee.presenceChecks differed once (parse_fw inheriting load_fw's check); resolved in the mapper, which
  // now reads a public TEE function by its own body and private helpers, as the model does.
  it.each(PATCH_IDS)("%s: derived facts equal the hand-read oracle", (id) => {
    const oracle = builtinVersion(id)?.facts;
    const r = mapped.get(id);
    expect(oracle).toBeDefined();
    if (oracle === undefined || r === undefined) return;
    for (const path of FACT_PATHS) {
      expect(getFact(r.facts, path), path).toEqual(getFact(oracle, path));
      expect(r.status[path], path).not.toBe("unknown");
    }
  });

  it.each(PATCH_IDS)("%s: every fact the series sets has evidence", (id) => {
    const r = mapped.get(id);
    const bare = FACT_PATHS.filter((p) => r?.status[p] !== "baseline" && (r?.evidence[p] ?? []).length === 0);
    expect(bare).toEqual([]);
  });

  it("v16-resend maps to v16's facts, with the same statuses", () => {
    expect(mapped.get("v16-resend")?.facts).toEqual(mapped.get("v16")?.facts);
    expect(mapped.get("v16-resend")?.status).toEqual(mapped.get("v16")?.status);
  });

  it("cites the patch, function and post-patch line of each fact", () => {
    const v13 = mapped.get("v13");
    // v13/3 moves the table cleanup into rproc_release_fw(); v13/4 makes it call the op first.
    expect(v13?.evidence["core.releaseFwCalls"]).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ patch: 4, function: "rproc_start", line: 1384 }),
        expect.objectContaining({ patch: 3, function: "rproc_fw_boot", line: 1495 }),
        expect.objectContaining({ patch: 4, function: "rproc_release_fw", line: 1261 }),
      ]),
    );
    expect(mapped.get("v14")?.evidence["core.elfDefaultsUnless"]).toEqual([
      expect.objectContaining({
        patch: 4,
        subject: "remoteproc: Rename load() operation to load_segments() in rproc_ops struct",
        file: "drivers/remoteproc/remoteproc_core.c",
        function: "rproc_alloc_ops",
        line: 2488,
      }),
    ]);
    expect(mapped.get("v16")?.status["core.loadFwOp"]).toBe("baseline");
  });

  it.each(PATCH_IDS)("%s: the C parse of remoteproc_tee.c finds every TEE function it cites", (id) => {
    const cited = new Set(mapped.get(id)?.evidence["tee.invokeErrorResult"]?.map((e) => e.function));
    for (const fn of ["rproc_tee_load_fw", "rproc_tee_parse_fw", "rproc_tee_start", "rproc_tee_stop"])
      expect(cited.has(fn), fn).toBe(true);
  });

  it("lists other drivers and build files as out of scope", () => {
    const files = mapped.get("v14")?.outOfScope.map((o) => o.file) ?? [];
    expect(files).toContain("drivers/remoteproc/Kconfig");
    expect(files).toContain("drivers/remoteproc/imx_rproc.c");
    expect(files).not.toContain("drivers/remoteproc/stm32_rproc.c");
  });

  it("reads only the diff: another id, version, subject prefix and message-ids change nothing", async () => {
    const s = structuredClone(series.get("v16") as Series);
    s.id = "x1";
    s.version = { ...s.version, label: "v1", major: 1 };
    s.base = null;
    for (const p of s.patches) {
      p.messageId = `other-${p.index}@example.org`;
      p.subject = p.title;
    }
    if (s.cover) s.cover.messageId = "other-0@example.org";
    const again = mapSeries(s, await cParser());
    expect(again.facts).toEqual(mapped.get("v16")?.facts);
    expect(again.evidence).toEqual(mapped.get("v16")?.evidence);
  });

  // The error branch after rproc_load_fw() is read only when it is what the model runs there (the firmware
  // released or not, a log, the error returned or a goto): v15's recovery path edited in memory.
  it.each([
    ["return 0;", "unknown"],
    ["return ret; /* checked */", "set"],
  ])("v15 with `if (ret) %s` after rproc_load_fw(): core.loadFwCalls is %s", async (stmt, status) => {
    const s = structuredClone(series.get("v15") as Series);
    const lines = s.patches.flatMap((p) =>
      p.files.flatMap((f) => f.hunks.flatMap((h) => h.lines.map((l, i) => ({ l, next: h.lines[i + 1] })))),
    );
    const at = lines.filter(({ l }) => l.kind === "add" && /^\tret = rproc_load_fw\(/.test(l.text));
    expect(at).toHaveLength(1);
    const ret = lines[lines.indexOf(at[0] as (typeof lines)[number]) + 2]?.l;
    expect(ret?.text).toBe("\t\treturn ret;");
    if (ret) ret.text = `\t\t${stmt}`;
    const r = mapSeries(s, await cParser());
    expect(r.status["core.loadFwCalls"]).toBe(status);
  });

  // The rename of ops->load explains the lines it renames, not another use of the new name.
  it("v14 with its load_segments wrapper changed beyond the rename: the line stays unmodelled", async () => {
    const s = structuredClone(series.get("v14") as Series);
    // Each patch's copy of the line (one renames it, a later one shows it as context).
    const wrapper = s.patches
      .flatMap((p) => p.files.filter((f) => f.newPath === "drivers/remoteproc/remoteproc_internal.h"))
      .flatMap((f) => f.hunks.flatMap((h) => h.lines))
      .filter((l) => l.kind !== "del" && /return rproc->ops->load_segments\(rproc, fw\);/.test(l.text));
    expect(wrapper.length).toBeGreaterThan(0);
    for (const l of wrapper) l.text = l.text.replace("(rproc, fw);", "(rproc, fw) ?: -EIO;");
    const r = mapSeries(s, await cParser());
    expect(r.status["core.loadSegmentsOp"]).toBe("set");
    expect(r.unmodelledInBase).toContainEqual(
      expect.objectContaining({
        function: "rproc_load_segments",
        summary: "+ return rproc->ops->load_segments(rproc, fw) ?: -EIO;",
      }),
    );
    expect(mapped.get("v14")?.unmodelledInBase.filter((u) => u.function === "rproc_load_segments")).toEqual(
      [],
    );
  });

  // rproc_alloc_ops' early return reads as "ELF defaults unless one of these ops is set" only from a plain
  // disjunction of ops members; a conjunction or a negation is not that (it was read as one, silently).
  it.each([
    "\tif (rproc->ops->load_segments && rproc->ops->load_fw)",
    "\tif (!rproc->ops->load_segments || rproc->ops->load_fw)",
    "\tif (rproc->ops->load_segments || !rproc->ops->load_fw)",
  ])("v15 with rproc_alloc_ops' condition %s: core.elfDefaultsUnless unknown", async (cond) => {
    const s = structuredClone(series.get("v15") as Series);
    const lines = s.patches
      .flatMap((p) => p.files.filter((f) => f.newPath === "drivers/remoteproc/remoteproc_core.c"))
      .flatMap((f) => f.hunks.flatMap((h) => h.lines))
      .filter(
        (l) => l.kind !== "del" && l.text === "\tif (rproc->ops->load_segments || rproc->ops->load_fw)",
      );
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) l.text = cond;
    const r = mapSeries(s, await cParser());
    expect(r.status["core.elfDefaultsUnless"]).toBe("unknown");
    expect(mapped.get("v15")?.facts.core.elfDefaultsUnless).toEqual(["load_segments", "load_fw"]);
  });

  // v16 moves stop's blocks into stm32_rproc_release(): a line edited in the move is a change of the helper.
  it("v16 with a line of the extracted stm32_rproc_release() edited: that line stays unmodelled", async () => {
    const s = structuredClone(series.get("v16") as Series);
    const lines = s.patches
      .flatMap((p) => p.files.filter((f) => f.newPath === "drivers/remoteproc/stm32_rproc.c"))
      .flatMap((f) => f.hunks.flatMap((h) => h.lines))
      .filter((l) => l.kind !== "del" && l.text === "\t\t\t\t\t M4_STATE_OFF);");
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) l.text = "\t\t\t\t\t M4_STATE_CRUN);";
    const r = mapSeries(s, await cParser());
    const release = (m: MapResult | undefined) =>
      (m?.unmodelledInBase ?? []).filter((u) => u.function === "stm32_rproc_release").map((u) => u.summary);
    expect(release(r)).toEqual(["+ M4_STATE_CRUN);"]);
    expect(release(mapped.get("v16"))).toEqual([]);
  });

  it.each(PATCH_IDS)("%s: re-deriving reproduces its patches/ files", async (id) => {
    const files = await derivePatchFiles(join(DEFAULT_LKML, id));
    expect(files.manifest).toBe(readFileSync(join(REPO, "patches", id, "manifest.json"), "utf8"));
    expect(files.facts).toBe(readFileSync(join(REPO, "patches", id, "facts.json"), "utf8"));
  });

  it.each([
    ["v15", "v14"],
    ["v16", "v15"],
    ["v16-resend", "v16"],
  ])("review %s compares with %s by default", async (id, against) => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["node", "rproc-review", "review", join(DEFAULT_LKML, id), "--json"])).toBe(0);
      const json = JSON.parse(out.mock.calls.map((c) => String(c[0])).join("")) as {
        against: string;
        differences: unknown[];
      };
      expect(json.against).toBe(against);
      // the RESEND is v16's code: nothing differs
      if (id === "v16-resend") expect(json.differences).toEqual([]);
    } finally {
      out.mockRestore();
    }
  });
});
