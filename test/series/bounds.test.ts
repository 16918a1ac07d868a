/**
 * Counts that come from input are bounded before any work proportional to them (issue 20, defect 1): a
 * subject announcing 100,000,000 patches costs what "[PATCH 1/2]" costs, in ingest, in a pull request, in
 * one posted mail and in the archive index, and its warning summarises the gap instead of naming every
 * missing patch.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArchiveMail, indexArchive, parseMail } from "../../src/index/index.ts";
import {
  describeMissing,
  fetchPullRequest,
  missingRanges,
  parseMbox,
  parseMessages,
  parseSubject,
  seriesMissing,
} from "../../src/series/index.ts";
import { bytes, mail, patchBody } from "./helpers.ts";

const HUGE = 100_000_000;

const huge = (index: number, messageId = `h${index}@x`) =>
  mail({ subject: `[PATCH ${index}/${HUGE}] x`, body: patchBody(), messageId });

async function* mails(...texts: string[]): AsyncGenerator<ArchiveMail> {
  let i = 0;
  for (const t of texts) yield { bytes: bytes(t), origin: `archive#${++i}` };
}

describe("a subject with a huge i/N", () => {
  it("ingest keeps the announced total, lists at most 100 missing and summarises the gap", async () => {
    const [s] = await parseMbox(bytes(huge(1)), "huge.eml");
    expect(s?.total).toBe(HUGE);
    expect(s?.patches.map((p) => p.index)).toEqual([1]);
    expect(s?.missing).toHaveLength(100);
    expect(s?.missing.slice(0, 3)).toEqual([2, 3, 4]);
    expect(s && seriesMissing(s)).toEqual([{ from: 2, to: HUGE }]);
    const warning = s?.warnings.find((w) => w.code === "missing-patch");
    expect(warning?.message).toBe(`patches 2..${HUGE} of ${HUGE} missing from huge.eml`);
    expect(JSON.stringify(s).length).toBeLessThan(20_000);
  });

  it("the same with the patch last, in the middle, and inside a format-patch subject", async () => {
    const [last] = await parseMbox(bytes(huge(HUGE)), "last.eml");
    expect(last && seriesMissing(last)).toEqual([{ from: 1, to: HUGE - 1 }]);
    const two = `${huge(5, "a@x")}\n`;
    const [mid] = await parseMessages([
      { name: "a.eml", bytes: bytes(two) },
      { name: "b.eml", bytes: bytes(huge(70_000_000, "b@x")) },
    ]);
    expect(mid && seriesMissing(mid)).toEqual([
      { from: 1, to: 4 },
      { from: 6, to: 69_999_999 },
      { from: 70_000_001, to: HUGE },
    ]);
    expect(mid?.warnings.find((w) => w.code === "missing-patch")?.message).toBe(
      `patches 1..4, 6..69999999, 70000001..${HUGE} of ${HUGE} missing from a.eml`,
    );
    const formatPatch = `From 0123456789abcdef0123456789abcdef01234567 Mon Sep 17 00:00:00 2001\nFrom: Ann Author <ann@example.com>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nSubject: [PATCH 1/${HUGE}] acme: mark ready\n\n${patchBody()}`;
    const [fp] = await parseMbox(bytes(formatPatch), "0001-acme.patch");
    expect(fp?.total).toBe(HUGE);
    expect(fp?.missing.length).toBeLessThanOrEqual(100);
  });

  it("one posted mail, read as the mail bot reads its parts, is bounded the same way", async () => {
    const [s] = await parseMessages([{ name: "<h1@x>", bytes: bytes(huge(1)) }], "list:<h1@x>");
    expect(s?.missing.length).toBe(100);
    expect(s?.warnings.map((w) => w.message)).toContain(
      `patches 2..${HUGE} of ${HUGE} missing from list:<h1@x>`,
    );
  });

  it("a counter of more than 9 digits is not a counter", () => {
    expect(parseSubject("[PATCH 1/99999999999999999999] x")).toMatchObject({ index: null, total: null });
    expect(parseSubject(`[PATCH 3/${HUGE}] x`)).toMatchObject({ index: 3, total: HUGE });
  });

  it("the archive index folds such mails without enumerating the gap", async () => {
    expect((await parseMail(bytes(huge(1)), "a#1")).kind).toBe("patch");
    const r = await indexArchive(mails(huge(1, "i1@x"), huge(HUGE, "i2@x")), {
      modelled: ["drivers/acme/widget.c"],
    });
    expect(r.counts.patches).toBe(2);
    expect(r.touching).toHaveLength(1);
    expect(r.touching[0]?.versions[0]?.total).toBe(HUGE);
  });

  it("the index compares an author's series on one file with a bounded window, not pairwise", async () => {
    const one = (i: number, subject: string) =>
      `From: Ann <ann@example.com>\nSubject: ${subject}\nMessage-ID: <w-${i}@x>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nChange ${i}.\n---\ndiff --git a/f.c b/f.c\n--- a/f.c\n+++ b/f.c\n@@ -1 +1 @@\n-a\n+b${i}\n`;
    const texts = Array.from({ length: 3000 }, (_, i) => one(i, `[PATCH] w${i}a w${i}b w${i}c`));
    // A v2 twenty series after its v1, with the same title: still one chain.
    texts.splice(100, 0, one(5000, "[PATCH] acme: widget readiness"));
    texts.splice(121, 0, one(5001, "[PATCH v2] acme: widget readiness"));
    const r = await indexArchive(mails(...texts), { modelled: ["f.c"] });
    expect(r.series).toBe(3002);
    expect(r.chains).toBe(3001);
    const chain = r.touching.find((c) => c.versions.length > 1);
    expect(chain?.versions.map((v) => [v.id, v.linkedBy])).toEqual([
      ["v1", null],
      ["v2", "similarity"],
    ]);
  }, 60_000);

  it("ranges and their text, with many gaps", () => {
    const present = Array.from({ length: 30 }, (_, i) => 2 * i + 2);
    const ranges = missingRanges(HUGE, present);
    expect(ranges).toHaveLength(31);
    expect(describeMissing(ranges, HUGE)).toBe(
      `patches 1, 3, 5, 7, 9, 11, 13, 15, 17, 19 and ${HUGE - 30 - 10} more of ${HUGE}`,
    );
    expect(describeMissing(missingRanges(5, [1, 3, 5]), 5)).toBe("patches 2/5, 4/5");
    expect(describeMissing(missingRanges(2, [2]), 2)).toBe("patch 1/2");
    expect(describeMissing(missingRanges(2, [1, 2]), 2)).toBe("");
  });
});

describe("a pull request whose commit is titled with a huge i/N", () => {
  let server: Server;
  let baseUrl = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const json = (body: unknown) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === "/repos/acme/widget/pulls/9")
        return json({
          number: 9,
          title: "acme: one commit",
          body: "",
          user: { login: "ann" },
          head: { sha: "c1", ref: "topic" },
          base: { sha: "fedcba9876543210fedcba9876543210fedcba98" },
        });
      if (url.pathname === "/repos/acme/widget/pulls/9/commits") return json([{ sha: "c1", parents: [] }]);
      if (url.pathname === "/repos/acme/widget/commits/c1") {
        res.writeHead(200, { "content-type": "text/x-patch" });
        return res.end(
          `From c1 Mon Sep 17 00:00:00 2001\nFrom: Ann Author <ann@example.com>\nDate: Mon, 2 Nov 2026 10:00:00 +0000\nSubject: [PATCH] [PATCH 1/${HUGE}] acme: mark ready\n\n${patchBody()}`,
        );
      }
      res.writeHead(404, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  it("numbers the commit itself and carries no warning about the subject's total", async () => {
    const s = await fetchPullRequest("pr:acme/widget#9", { baseUrl });
    expect(s.patches.map((p) => [p.index, p.total])).toEqual([[1, 1]]);
    expect(s.total).toBe(1);
    expect(s.missing).toEqual([]);
    expect(s.warnings).toEqual([]);
  });
});
