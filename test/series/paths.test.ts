/**
 * Paths outside the source tree in a diff (issue 20, defect 8, the paths part): "../../outside.c",
 * "/etc/shadow" and their kin are warned about in the ingested series, naming the path, and listed by the
 * map; a path of the tree is not. Inputs written here.
 */
import { describe, expect, it } from "vitest";
import { cParser } from "../../src/node/c-parser.ts";
import { mapSeries } from "../../src/semantics/map/index.ts";
import { mapJson, mapText } from "../../src/semantics/map/report.ts";
import { outsideTree, parseMbox } from "../../src/series/index.ts";
import { bytes, mail } from "./helpers.ts";

function gitPatch(path: string): string {
  return `Touch a file.\n\nSigned-off-by: Ann Author <ann@example.com>\n---\ndiff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n@@ -1,2 +1,3 @@\n int a;\n+int b;\n int c;\n-- \n2.47.0\n`;
}

const plainPatch = (path: string) =>
  `Touch a file.\n---\n--- ${path}\n+++ ${path}\n@@ -1,2 +1,3 @@\n root:x:0:0\n+evil::0:0\n daemon:x:1:1\n`;

async function ingest(body: string, name = "p.eml") {
  const [s] = await parseMbox(bytes(mail({ subject: "[PATCH] x: touch", body, messageId: "o@x" })), name);
  if (!s) throw new Error("no series");
  return s;
}

describe("paths outside the source tree", () => {
  it("tells what is outside and what is not", () => {
    expect(outsideTree("/etc/shadow")).toBe("an absolute path");
    expect(outsideTree("C:\\Windows\\x.c")).toBe("an absolute path");
    expect(outsideTree("../../outside.c")).toBe('a path that climbs out of the tree with ".."');
    expect(outsideTree("drivers/remoteproc/../../../etc/passwd")).toMatch(/climbs out/);
    expect(outsideTree("drivers/x\u001b[2J.c")).toBe("a path with control characters");
    expect(outsideTree("drivers/remoteproc/remoteproc_core.c")).toBeNull();
    expect(outsideTree("drivers/remoteproc/..foo/x.c")).toBeNull();
  });

  it("a git diff of ../../outside.c is kept and warned about, naming the path", async () => {
    const s = await ingest(gitPatch("../../outside.c"));
    expect(s.patches[0]?.files.map((f) => f.path)).toEqual(["../../outside.c"]);
    expect(s.warnings.filter((w) => w.code === "outside-tree").map((w) => w.message)).toEqual([
      'p.eml <o@x>: the diff names "../../outside.c", outside the source tree (a path that climbs out of the tree with ".."); no file of the tree is read for it',
    ]);
  });

  it("a plain diff of /etc/shadow is warned about", async () => {
    const s = await ingest(plainPatch("/etc/shadow"));
    expect(s.patches[0]?.files.map((f) => f.path)).toEqual(["/etc/shadow"]);
    expect(s.warnings.map((w) => w.code)).toContain("outside-tree");
    expect(s.warnings.find((w) => w.code === "outside-tree")?.message).toContain('"/etc/shadow"');
  });

  it("a path with a terminal escape is named with the escape written out", async () => {
    const s = await ingest(gitPatch("drivers/x\u001b[2J.c"));
    const w = s.warnings.find((x) => x.code === "outside-tree");
    expect(w?.message).toContain('"drivers/x\\u001b[2J.c"');
    expect(w?.message).not.toContain("\u001b");
  });

  it("a path of the tree gets no such warning", async () => {
    const s = await ingest(gitPatch("drivers/remoteproc/remoteproc_core.c"));
    expect(s.warnings.map((w) => w.code)).not.toContain("outside-tree");
  });

  it("the map lists them in its text and its JSON (and says nothing when there are none)", async () => {
    const parser = await cParser();
    const bad = await ingest(gitPatch("../../outside.c"));
    const result = mapSeries(bad, parser);
    expect(mapText(bad, result)).toContain(
      'outside the source tree: 1 path(s); no file of the tree is read for them\n  "../../outside.c" (patch 1): a path that climbs out of the tree with ".."',
    );
    expect(mapJson(bad, result).outsideTree).toEqual([
      { patch: 1, path: "../../outside.c", why: 'a path that climbs out of the tree with ".."' },
    ]);
    const good = await ingest(gitPatch("drivers/remoteproc/remoteproc_core.c"));
    const fine = mapSeries(good, parser);
    expect(mapText(good, fine)).not.toContain("outside the source tree");
    expect("outsideTree" in mapJson(good, fine)).toBe(false);
  }, 60_000);
});
