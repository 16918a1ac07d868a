/**
 * `series` is linear in the number of mails (issue 20, defect 11): 10,000 tiny mails (2.4 MB) as one series,
 * as numberless "[PATCH]" mails, and as 10,000 series of as many authors. The assertions are on the result;
 * the time is measured by bench/ingest-scale.bench.ts, never here (the test's timeout only stops a quadratic
 * step, which took 85 s, from running on).
 */
import { describe, expect, it } from "vitest";
import { tinyMails } from "../../src/index/index.ts";
import { parseMbox, seriesMissing } from "../../src/series/index.ts";

const N = 10_000;

describe("10,000 tiny mails", () => {
  it("one series [PATCH i/10000]: every patch, in order, nothing missing, one copy of a duplicate", async () => {
    const mbox = tinyMails(N, { numbered: true, duplicate: 77 });
    expect(mbox.length).toBeGreaterThan(2_000_000);
    const [s, ...rest] = await parseMbox(mbox, "tiny.mbox");
    expect(rest).toEqual([]);
    expect(s?.total).toBe(N);
    expect(s?.patches).toHaveLength(N);
    expect(s?.patches.every((p, i) => p.index === i + 1)).toBe(true);
    expect(s && seriesMissing(s)).toEqual([]);
    expect(s?.warnings.map((w) => w.code)).toEqual(["duplicate-patch", "no-cover-letter"]);
  }, 60_000);

  it("numberless [PATCH] mails are numbered in input order", async () => {
    const [s] = await parseMbox(tinyMails(N, { numbered: false }), "plain.mbox");
    expect(s?.patches).toHaveLength(N);
    expect(s?.patches[N - 1]?.index).toBe(N);
    expect(s?.patches[N - 1]?.title).toBe(`f: change ${N}`);
  }, 60_000);

  it("10,000 series of 10,000 authors: each warned of the others in a bounded message", async () => {
    const series = await parseMbox(tinyMails(N, { numbered: false, authors: true }), "many.mbox");
    expect(series).toHaveLength(N);
    const mixed = series[0]?.warnings.find((w) => w.code === "mixed-series");
    expect(mixed?.message).toMatch(/^many\.mbox holds 10000 series: .* and 9990 more$/);
    expect(mixed?.message.length).toBeLessThan(1000);
    expect(JSON.stringify(series).length).toBeLessThan(100_000_000);
  }, 60_000);
});
