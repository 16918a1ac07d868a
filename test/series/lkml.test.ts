import { describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { loadInput, loadInputs } from "../../src/node/inputs.ts";
import { chainVersions, newFileContent } from "../../src/series/index.ts";
import { hasLkml, SHARED_LKML } from "./helpers.ts";

if (!hasLkml)
  console.warn(`test/series/lkml.test.ts: ${SHARED_LKML} is absent; the real-mail tests are skipped`);

const dirs = ["v13", "v14", "v15", "v16", "v16-resend"];
const path = (v: string): string => `${SHARED_LKML}${v}`;

describe.skipIf(!hasLkml)("the real mails of the remoteproc TEE series (../shared/lkml)", () => {
  it.each([
    ["v13", "v13", false, 7, "42f7652d3eb5", "20241104133515.256497-1"],
    ["v14", "v14", false, 8, "adc218676eef", "20241126091042.918144-1"],
    ["v15", "v15", false, 8, "adc218676eef", "20241128084219.2159197-1"],
    ["v16", "v16", false, 6, "0a0ba9924445", "20250325095833.3059895-1"],
    ["v16-resend", "v16", true, 6, "0ff41df1cb26", "20250603100808.1074812-1"],
  ])("%s parses: version, patch count, base, cover", async (dir, version, resend, count, base, cover) => {
    const s = await loadInput(path(dir));
    expect(s.version.label).toBe(version);
    expect(s.version.resend).toBe(resend);
    expect(s.id).toBe(dir);
    expect(s.patches.map((p) => p.index)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(s.missing).toEqual([]);
    expect(s.base?.startsWith(base)).toBe(true);
    expect(s.cover?.messageId).toBe(`${cover}-arnaud.pouliquen@foss.st.com`);
    expect(s.title).toBe("Introduction of a remoteproc tee to load signed firmware");
    expect(s.author.email).toBe("arnaud.pouliquen@foss.st.com");
    expect(s.warnings).toEqual([]);
  });

  it("v14 takes its base from base-commit, not from the Tested-on text", async () => {
    const s = await loadInput(path("v14"));
    expect(s.testedOn).toContain("42f7652d3eb5");
    expect(s.base?.startsWith("adc218676eef")).toBe(true);
  });

  it("reads the changelog blocks of cover letters and patches", async () => {
    const v16 = await loadInput(path("v16"));
    expect(v16.cover?.changelog.length).toBe(3);
    expect(v16.cover?.changelog.every((n) => n.refersTo === "v15" && n.relation === "since")).toBe(true);
    const p2 = v16.patches[1];
    expect(p2?.changelog.length).toBe(8);
    expect(p2?.changelog.every((n) => n.refersTo === null)).toBe(true);
    const v15 = await loadInput(path("v15"));
    expect(v15.cover?.changelog.map((n) => n.refersTo)).toEqual(["v14", "v13", "v13"]);
    expect(v15.patches[3]?.changelog.map((n) => n.refersTo)).toEqual(["v14"]);
  });

  it("gives the mapper full hunks and the added files in full", async () => {
    const v16 = await loadInput(path("v16"));
    const core = v16.patches[0]?.files.find((f) => f.path === "drivers/remoteproc/remoteproc_core.c");
    expect(core?.hunks[0]).toMatchObject({ oldStart: 230, newStart: 230, oldLines: 6, newLines: 52 });
    expect(core?.hunks[0]?.section).toMatch(/^void \*rproc_da_to_va\(/);
    const tee = v16.patches[1]?.files.find((f) => f.path === "drivers/remoteproc/remoteproc_tee.c");
    expect(tee?.status).toBe("added");
    expect(tee?.additions).toBe(619);
    expect(newFileContent(tee ?? (undefined as never))?.split("\n")).toHaveLength(620);
    expect(v16.patches[0]?.trailers.map((t) => t.key)).toEqual(["Signed-off-by"]);
  });

  it("chains v13 -> v14 -> v15 -> v16 -> v16 RESEND, the resend being the same code as v16", async () => {
    const shuffled = ["v16-resend", "v14", "v16", "v13", "v15"].map(path);
    const chain = chainVersions(await loadInputs(shuffled));
    expect(chain.entries.map((e) => [e.id, e.follows, e.sameCodeAs])).toEqual([
      ["v13", null, null],
      ["v14", "v13", null],
      ["v15", "v14", null],
      ["v16", "v15", null],
      ["v16-resend", "v16", "v16"],
    ]);
    expect(chain.warnings).toEqual([]);
  });

  it("links v13 -> v16 by author, subject and files when the lore links are taken away", async () => {
    const all = await loadInputs(dirs.slice(0, 4).map(path));
    for (const s of all) s.mentions = [];
    const chain = chainVersions(all);
    expect(chain.entries.map((e) => [e.id, e.follows, e.linkedBy])).toEqual([
      ["v13", null, null],
      ["v14", "v13", "similarity"],
      ["v15", "v14", "similarity"],
      ["v16", "v15", "similarity"],
    ]);
  });

  it("rproc-review series --json prints the chain of the five postings", async () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await main(["node", "rproc-review", "series", ...dirs.map(path), "--json"])).toBe(0);
      const doc = JSON.parse(out.mock.calls.map((c) => String(c[0])).join(""));
      expect(doc.series).toMatchObject({
        version: "v16",
        resend: true,
        base: "0ff41df1cb268fc69e703a08a57ee14ae967d0ca",
      });
      expect(doc.patches.map((p: { files: string[] }) => p.files.length)).toEqual([2, 4, 3, 1, 1, 1]);
      expect(
        doc.chain.map((e: { id: string; version: string; sameCodeAs: string | null }) => [
          e.id,
          e.version,
          e.sameCodeAs,
        ]),
      ).toEqual([
        ["v13", "v13", null],
        ["v14", "v14", null],
        ["v15", "v15", null],
        ["v16", "v16", null],
        ["v16-resend", "v16", "v16"],
      ]);
    } finally {
      out.mockRestore();
    }
  });
});
