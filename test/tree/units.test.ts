import { describe, expect, it } from "vitest";
import { parseFileChanges } from "../../src/series/index.ts";
import {
  applyHunks,
  checkPath,
  includesOf,
  loadOrder,
  renderDiff,
  type TreeFile,
  type TreeReport,
} from "../../src/tree/index.ts";
import { makeFixture } from "./fixture.ts";

function hunksOf(diff: string) {
  const [f] = parseFileChanges(diff).files;
  if (f === undefined) throw new Error("no file");
  return f.hunks;
}

const DIFF = `diff --git a/f.c b/f.c
--- a/f.c
+++ b/f.c
@@ -2,3 +2,3 @@ int f(void)
 b
-c
+C
 d
@@ -8,2 +8,3 @@
 h
 i
+j
`;

describe("applyHunks (the strict applier used without git)", () => {
  const text = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";

  it("applies at the stated lines", () => {
    expect(applyHunks(text, hunksOf(DIFF), "f.c")).toEqual({
      ok: true,
      text: "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\n",
    });
  });

  it("finds a hunk that moved, and carries the offset to the next one", () => {
    const moved = `x\ny\n${text}`;
    expect(applyHunks(moved, hunksOf(DIFF), "f.c")).toEqual({
      ok: true,
      text: "x\ny\na\nb\nC\nd\ne\nf\ng\nh\ni\nj\n",
    });
  });

  it("never fuzzes: a context line that differs fails, naming the hunk", () => {
    const r = applyHunks(text.replace("d\n", "D\n"), hunksOf(DIFF), "f.c");
    expect(r).toEqual({ ok: false, reason: "hunk #1 of f.c (@@ -2,3 +2,3 @@ int f(void)) does not match" });
  });

  it("keeps 'No newline at end of file' both ways", () => {
    const add = `diff --git a/n.c b/n.c
new file mode 100644
--- /dev/null
+++ b/n.c
@@ -0,0 +1,2 @@
+one
+two
\\ No newline at end of file
`;
    expect(applyHunks("", hunksOf(add), "n.c")).toEqual({ ok: true, text: "one\ntwo" });
    const fix = `diff --git a/n.c b/n.c
--- a/n.c
+++ b/n.c
@@ -1,2 +1,2 @@
 one
-two
\\ No newline at end of file
+two
`;
    expect(applyHunks("one\ntwo", hunksOf(fix), "n.c")).toEqual({ ok: true, text: "one\ntwo\n" });
  });
});

describe("renderDiff", () => {
  it("writes back what parses to the same file changes (the fixture series, every patch)", async () => {
    const fx = await makeFixture();
    try {
      for (const p of fx.series.patches) expect(parseFileChanges(renderDiff(p.files)).files).toEqual(p.files);
    } finally {
      fx.cleanup();
    }
  });
});

describe("includesOf", () => {
  it('maps <linux/x.h> to include/ and "x.h" beside the file, conditional ones too', () => {
    const text = `#include <linux/remoteproc.h>\n#ifdef CONFIG_X\n#  include "remoteproc_internal.h"\n#endif\n#include "../y/z.h"\n`;
    expect(includesOf("drivers/remoteproc/a.c", text)).toEqual([
      "include/linux/remoteproc.h",
      "drivers/remoteproc/remoteproc_internal.h",
      "drivers/y/z.h",
    ]);
  });
});

describe("checkPath", () => {
  it("accepts a plain relative path and refuses escapes", () => {
    expect(checkPath("drivers/remoteproc/a.c", "p")).toBe("drivers/remoteproc/a.c");
    for (const bad of ["/etc/passwd", "../a", "a/../../b", ".git/config", "a/.GIT/x", "a//b", "a\\b", "a\nb"])
      expect(() => checkPath(bad, "p")).toThrow(/refusing the path/);
  });
});

describe("loadOrder", () => {
  const file = (path: string, text: string, role: TreeFile["role"] = "header"): TreeFile => ({
    path,
    role,
    text,
    provenance: { kind: "base" },
  });
  const report = (files: TreeFile[]): TreeReport => ({
    series: "t",
    title: "t",
    seriesBase: null,
    base: { kind: "none", reason: "test" },
    policy: "leave-out",
    missingPatches: [],
    patches: [],
    files,
    summary: { applied: 0, failed: 0, nothingToApply: 0, total: 0 },
  });

  it("puts the headers in the order the sources include them, each after the headers it includes", () => {
    const order = loadOrder(
      report([
        file("drivers/x/a_internal.h", "struct a { struct pub p; };\n"),
        file("drivers/x/b.h", "#include <linux/pub.h>\n"),
        file("drivers/x/unused.h", "#include <linux/late.h>\n"),
        file("include/linux/late.h", ""),
        file("include/linux/pub.h", "struct pub { int x; };\n"),
        file("drivers/x/a.c", '#include <linux/pub.h>\n#include "a_internal.h"\n', "source"),
        file("drivers/x/b.c", '#include "b.h"\n#include "a_internal.h"\n', "source"),
      ]),
    ).map((f) => f.path);
    expect(order).toEqual([
      "include/linux/pub.h",
      "drivers/x/a_internal.h",
      "drivers/x/b.h",
      // Included by no source: after those that are, its own includes first.
      "include/linux/late.h",
      "drivers/x/unused.h",
      "drivers/x/a.c",
      "drivers/x/b.c",
    ]);
  });
});
