import { describe, expect, it } from "vitest";
import { prVersion } from "../../src/series/github.ts";
import { parseMbox } from "../../src/series/index.ts";
import { bytes, mail, patchBody } from "./helpers.ts";

async function notesOf(notes: string) {
  const [s] = await parseMbox(
    bytes(mail({ subject: "[PATCH v3] acme: x", body: patchBody(notes) })),
    "n.eml",
  );
  return s?.patches[0]?.changelog.map((n) => [n.relation, n.refersTo, n.text]);
}

describe("changelog headings", () => {
  it.each([
    [
      "Changes in v3:\n- a\n- b\n",
      [
        ["in", "v3", "a"],
        ["in", "v3", "b"],
      ],
    ],
    ["v3:\n  - a\n", [["in", "v3", "a"]]],
    ["Changes since v2:\n* a, continued\n  on two lines\n", [["since", "v2", "a, continued on two lines"]]],
    [
      "v2 -> v3:\n- a\n\nv1 -> v2:\n- b\n",
      [
        ["since", "v2", "a"],
        ["since", "v1", "b"],
      ],
    ],
    [
      "Changes v1..v2:\n1. a\n2) b\n",
      [
        ["since", "v1", "a"],
        ["since", "v1", "b"],
      ],
    ],
    ["Updates vs previous revision:\n- a\n", [["since", null, "a"]]],
    [
      "Main updates from version V2[1]:\nOne paragraph\nof text.\n\n[1] https://example.org\n",
      [["since", "v2", "One paragraph of text."]],
    ],
    // The forms of the later postings of the series: a bracketed version, "Version N updates", "VN updates".
    [
      "Updates vs version [18]:\n- use a mutex\n- fix headers\n\nUpdates vs version [17]:\nFix warning:\nEXPORT_SYMBOL() without its include\n",
      [
        ["since", "v18", "use a mutex"],
        ["since", "v18", "fix headers"],
        ["since", "v17", "Fix warning: EXPORT_SYMBOL() without its include"],
      ],
    ],
    [
      "Version 21 updates:\n- add uuid_to_str()\n\nVersion 20 updates:\n- rework probe\n  as children\n",
      [
        ["in", "v21", "add uuid_to_str()"],
        ["in", "v20", "rework probe as children"],
      ],
    ],
    ["V21 updates:\n- revert to the v19 layout\n", [["in", "v21", "revert to the v19 layout"]]],
    // An underlined heading opens a section: its paragraphs and bullets, across blank lines.
    [
      "Main updates from version V19[3]:\n--------------------------------\nThe devicetree is now\nstructured as follows.\n\nAs a consequence, this version:\n\n- Introduces a new driver.\n\n  Instead of complicating the old one.\n\n- Updates the bindings.\n\nArnaud Pouliquen (6):\n  remoteproc: x\n",
      [
        ["since", "v19", "The devicetree is now structured as follows."],
        ["since", "v19", "As a consequence, this version:"],
        ["since", "v19", "Introduces a new driver."],
        ["since", "v19", "Instead of complicating the old one."],
        ["since", "v19", "Updates the bindings."],
      ],
    ],
    ["Just a remark, no heading.\n- not a note\n", []],
    ["2:\n- not a note either\n", []],
  ])("%j", async (notes, expected) => {
    expect(await notesOf(notes)).toEqual(expected);
  });

  it("reads a changelog written in the commit message, above the --- line, up to the trailers", async () => {
    const body = patchBody("v2 -> v3:\n- below the line\n").replace(
      "Mark the widget ready once probed.\n\n",
      "Mark the widget ready once probed.\n\nChanges in v3:\n- above the line\n- on two\n  lines\n",
    );
    const [s] = await parseMbox(bytes(mail({ subject: "[PATCH v3] acme: x", body })), "n.eml");
    expect(s?.patches[0]?.changelog.map((n) => [n.relation, n.refersTo, n.text])).toEqual([
      ["since", "v2", "below the line"],
      ["in", "v3", "above the line"],
      ["in", "v3", "on two lines"],
    ]);
    expect(s?.patches[0]?.trailers.map((t) => t.key)).toEqual(["Signed-off-by"]);
  });

  it("keeps a cover letter that carries an interdiff a cover letter", async () => {
    const cover = mail({
      subject: "[PATCH v2 0/1] acme: x",
      body: "Interdiff against v1:\ndiff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n",
      messageId: "c@x",
    });
    const patch = mail({
      subject: "[PATCH v2 1/1] acme: x",
      body: patchBody(),
      messageId: "p@x",
      inReplyTo: "c@x",
    });
    const [s] = await parseMbox(
      bytes(`From x Mon Sep 17 00:00:00 2001\n${cover}\nFrom y Mon Sep 17 00:00:00 2001\n${patch}`),
      "i.mbox",
    );
    expect(s?.cover?.messageId).toBe("c@x");
    expect(s?.patches.map((p) => p.messageId)).toEqual(["p@x"]);
  });
});

describe("a pull request's version", () => {
  it("comes from the title, then the body, then the head branch's name, else v1", () => {
    expect(prVersion("[PATCH v16 0/6] remoteproc: tee", "", "topic-v3").label).toBe("v16");
    expect(prVersion("remoteproc: tee", "This is v5 of the series.", "topic-v3").label).toBe("v5");
    expect(prVersion("remoteproc: tee", "", "sent/rproc-tee-v17").label).toBe("v17");
    expect(prVersion("remoteproc: tee", "", "rproc/v4.1").label).toBe("v4.1");
    expect(prVersion("remoteproc: tee", "", "devel").label).toBe("v1");
    expect(prVersion("remoteproc: tee", "", "fix-dev42").label).toBe("v1");
  });
});
