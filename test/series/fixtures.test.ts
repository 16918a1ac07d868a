import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadInput } from "../../src/node/inputs.ts";
import {
  chainVersions,
  newFileContent,
  parseMbox,
  parseSubject,
  type Series,
} from "../../src/series/index.ts";
import { fixture } from "./helpers.ts";

const load = (name: string): Promise<Series> => loadInput(fixture(name));

describe("subjects", () => {
  it.each([
    ["[PATCH v16 2/6] x", "v16", false, false, 2, 6, []],
    ["[RESEND PATCH v16 0/6] x", "v16", true, false, 0, 6, []],
    ["[PATCH RESEND v3] x", "v3", true, false, null, null, []],
    ["[RFC PATCH v2 1/3] x", "v2", false, true, 1, 3, []],
    ["[PATCH v5.1 3/7] x", "v5.1", false, false, 3, 7, []],
    ["[PATCH 0/3] x", "v1", false, false, 0, 3, []],
    ["[PATCH net-next v2 1/2] x", "v2", false, false, 1, 2, ["net-next"]],
    ["[PATCHv4 2/2] x", "v4", false, false, 2, 2, []],
  ])("%s", (subject, label, resend, rfc, index, total, tags) => {
    const info = parseSubject(subject);
    expect(info.isPatch).toBe(true);
    expect(info.version).toMatchObject({ label, resend, rfc, tags });
    expect([info.index, info.total]).toEqual([index, total]);
    expect(info.title).toBe("x");
  });

  it("keeps minor versions and recognises replies and non-patches", () => {
    expect(parseSubject("[PATCH v5.1 3/7] x").version).toMatchObject({ major: 5, minor: 1 });
    const reply = parseSubject("Re: [PATCH v16 2/6]   remoteproc:  Add TEE support");
    expect(reply.isReply).toBe(true);
    expect(reply.title).toBe("remoteproc: Add TEE support");
    expect(parseSubject("Meeting notes").isPatch).toBe(false);
  });
});

describe("foo v1: a directory of git format-patch files", () => {
  it("reads cover letter, version, base, change-id, Tested-on and the ordered patches", async () => {
    const s = await load("foo-v1");
    expect(s.id).toBe("v1");
    expect(s.version.label).toBe("v1");
    expect(s.title).toBe("foo: secure loading of coprocessor images");
    expect(s.base).toBe("17d2ae75466aed00596126f0ba3475665fb9090a");
    expect(s.changeId).toBe("20261002-foo-secure-8d2e41");
    expect(s.testedOn).toBe('commit 17d2ae75466a ("foo: initial import")');
    expect(s.cover?.messageId).toBe("20261002090000.4242-1-juergen.weiss@example.com");
    expect(s.author).toEqual({ name: "Jürgen Weiß", email: "juergen.weiss@example.com" });
    expect(s.patches.map((p) => [p.index, p.total, p.title])).toEqual([
      [1, 3, "foo: core: add foo_addr_to_ptr helper"],
      [2, 3, "foo: add secure loading service client"],
      [3, 3, "dt-bindings: foo: document the secure variant"],
    ]);
    expect(s.patches[1]?.inReplyTo).toBe(s.cover?.messageId);
    expect(s.missing).toEqual([]);
    expect(s.warnings).toEqual([]);
  });

  it("does not split a format-patch file at a body line starting with From", async () => {
    const s = await load("foo-v1");
    expect(s.patches[0]?.message).toContain("\nFrom the callers' point of view nothing else changes.");
  });

  it("gives hunks with section, line kinds and old/new line numbers", async () => {
    const s = await load("foo-v1");
    const core = s.patches[0]?.files.find((f) => f.path === "drivers/foo/foo_core.c");
    expect(core).toMatchObject({ status: "modified", oldPath: core?.newPath, additions: 19, deletions: 0 });
    const hunk = core?.hunks[0];
    expect(hunk).toMatchObject({
      oldStart: 17,
      newStart: 17,
      oldLines: 6,
      newLines: 25,
      section: "struct foo_region *foo_find_region(struct foo_dev *fd, u64 addr)",
    });
    expect(hunk?.lines[0]).toEqual({ kind: "context", text: "\treturn NULL;", oldLine: 17, newLine: 17 });
    const firstAdd = hunk?.lines.find((l) => l.kind === "add");
    expect(firstAdd).toEqual({ kind: "add", text: "/**", oldLine: null, newLine: 20 });
    const last = hunk?.lines[hunk.lines.length - 1];
    expect(last).toMatchObject({ kind: "context", text: "\tint ret;", oldLine: 22, newLine: 41 });
  });

  it("reconstructs the full content of a file the series adds", async () => {
    const s = await load("foo-v1");
    const file = s.patches[1]?.files.find((f) => f.path === "drivers/foo/foo_secure.c");
    expect(file?.status).toBe("added");
    expect(file?.oldPath).toBeNull();
    const text = newFileContent(file ?? (undefined as never));
    expect(text?.split("\n")).toHaveLength(37);
    expect(text?.startsWith("// SPDX-License-Identifier: MIT\n")).toBe(true);
    expect(text).toContain(
      "int foo_sec_stop(struct foo_dev *fd)\n{\n\treturn foo_sec_call(fd, FOO_SEC_STOP);\n}\n",
    );
    expect(newFileContent(s.patches[0]?.files[0] ?? (undefined as never))).toBeNull();
  });

  it("reads trailers", async () => {
    const s = await load("foo-v1");
    expect(s.patches[0]?.trailers).toEqual([
      {
        key: "Signed-off-by",
        value: "Jürgen Weiß <juergen.weiss@example.com>",
        person: { name: "Jürgen Weiß", email: "juergen.weiss@example.com" },
      },
    ]);
  });
});

describe("foo v2: one mboxrd file with latin-1, quoted-printable and base64 mails", () => {
  it("decodes every mail and keeps the series whole", async () => {
    const s = await load("foo-v2.mbox");
    expect(s.version.label).toBe("v2");
    expect(s.patches).toHaveLength(3);
    expect(s.cover?.author.name).toBe("Jürgen Weiß");
    expect(s.cover?.body).toContain("Grüße,\nJürgen");
    // patch 2 is quoted-printable, patch 3 base64
    const secure = s.patches[1]?.files.find((f) => f.path === "drivers/foo/foo_secure.c");
    expect(secure?.hunks[0]?.lines.map((l) => l.text)).toContain("\tif (!fd->sec)");
    expect(s.patches[2]?.files.map((f) => [f.path, f.additions])).toEqual([
      ["Documentation/bindings/foo.yaml", 5],
    ]);
  });

  it("removes the mboxrd quoting of From lines", async () => {
    const s = await load("foo-v2.mbox");
    expect(s.patches[0]?.message).toContain("\nFrom the callers' point of view");
    expect(s.patches[0]?.message).not.toContain(">From");
  });

  it("extracts changelog notes from the cover letter and after the --- line", async () => {
    const s = await load("foo-v2.mbox");
    expect(s.cover?.changelog.map((n) => [n.relation, n.refersTo, n.text])).toEqual([
      ["in", "v2", "check that the secure service is bound before loading"],
      ["in", "v2", "add a release command, so the service can free the coprocessor memory after a stop"],
    ]);
    expect(s.patches[1]?.changelog).toEqual([
      {
        text: "check that the secure service is bound before loading",
        heading: "Changes in v2:",
        refersTo: "v2",
        relation: "in",
        source: "patch",
        patchIndex: 2,
      },
      expect.objectContaining({ text: "add foo_sec_release()" }),
    ]);
    expect(s.patches[2]?.changelog.map((n) => [n.relation, n.refersTo, n.text])).toEqual([
      ["since", "v1", "no change"],
    ]);
  });

  it("reads Reviewed-by with a non-ASCII name, Fixes, Link and Acked-by", async () => {
    const s = await load("foo-v2.mbox");
    const keys = (i: number) => s.patches[i]?.trailers.map((t) => t.key);
    expect(s.patches[0]?.trailers[0]).toEqual({
      key: "Reviewed-by",
      value: "Zoë Ångström <zoe@example.net>",
      person: { name: "Zoë Ångström", email: "zoe@example.net" },
    });
    expect(keys(1)).toEqual(["Fixes", "Link", "Signed-off-by"]);
    expect(s.patches[1]?.trailers[1]?.person).toBeNull();
    expect(keys(2)).toEqual(["Acked-by", "Signed-off-by"]);
  });
});

describe("version chains on the fixtures", () => {
  it("orders v1, v2, v2 RESEND and links by change-id and by identical code", async () => {
    const resend = await load("foo-v2-resend");
    const v1 = await load("foo-v1");
    const v2 = await load("foo-v2.mbox");
    expect(resend.version).toMatchObject({ label: "v2", resend: true });
    expect(resend.changeId).toBeNull();
    const chain = chainVersions([resend, v2, v1]);
    expect(chain.entries.map((e) => [e.id, e.follows, e.linkedBy, e.sameCodeAs])).toEqual([
      ["v1", null, null, null],
      ["v2", "v1", "change-id", null],
      ["v2-resend", "v2", "same-code", "v2"],
    ]);
    expect(chain.entries.map((e) => e.input)).toEqual([2, 1, 0]);
    expect(chain.warnings).toEqual([]);
  });

  it("hashes code, not index lines or hunk positions", async () => {
    const [v1, v2, resend] = await Promise.all([load("foo-v1"), load("foo-v2.mbox"), load("foo-v2-resend")]);
    expect(resend.patches.map((p) => p.patchId)).toEqual(v2.patches.map((p) => p.patchId));
    expect(resend.patches[0]?.files[0]?.hunks[0]?.oldStart).not.toBe(
      v2.patches[0]?.files[0]?.hunks[0]?.oldStart,
    );
    expect(v1.patches[0]?.patchId).toBe(v2.patches[0]?.patchId); // same code, other trailers
    expect(v1.patches[1]?.patchId).not.toBe(v2.patches[1]?.patchId); // code changed in v2
  });

  it("links by author and subject similarity when the cover title changed", async () => {
    const [v3, v4] = await Promise.all([load("bar-v3.mbox"), load("bar-v4.mbox")]);
    expect(v3.title).not.toBe(v4.title);
    const chain = chainVersions([v4, v3]);
    expect(chain.entries.map((e) => [e.id, e.follows, e.linkedBy])).toEqual([
      ["v3", null, null],
      ["v4", "v3", "similarity"],
    ]);
  });

  it("does not link unrelated series and says so", async () => {
    const [foo, bar] = await Promise.all([load("foo-v1"), load("bar-v3.mbox")]);
    const chain = chainVersions([foo, bar]);
    expect(chain.entries.every((e) => e.follows === null)).toBe(true);
    expect(chain.warnings).toEqual([expect.stringMatching(/v3 .*follows none of the other inputs/)]);
  });

  it("keeps ids unique when two inputs carry the same version", async () => {
    const v2 = await load("foo-v2.mbox");
    const chain = chainVersions([v2, v2]);
    expect(chain.entries.map((e) => [e.id, e.sameCodeAs])).toEqual([
      ["v2", null],
      ["v2-2", "v2"],
    ]);
  });
});

describe("several series in one input", () => {
  it("separates them and warns; loadInput refuses with a list", async () => {
    const both = new Uint8Array([
      ...readFileSync(fixture("bar-v3.mbox")),
      ...new TextEncoder().encode("\n"),
      ...readFileSync(fixture("foo-v2.mbox")),
    ]);
    const series = await parseMbox(both, "both.mbox");
    expect(series.map((s) => [s.id, s.patches.length])).toEqual([
      ["v3", 2],
      ["v2", 3],
    ]);
    expect(series[0]?.warnings.map((w) => w.code)).toContain("mixed-series");
  });
});
