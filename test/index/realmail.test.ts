/**
 * The one mail reader on real list mail: ../shared/archive/linux-remoteproc-2021-2022.mbox.gz, 6,103 mails
 * (issue 20 defect 10, issue 19 item 3). The fast path decodes every mail it takes as postal-mime does; the
 * index and `series` make the same decision on every mail (patch, cover letter, no diff, unreadable); and the
 * mails that stay unreadable are pinned here, each with why. Python baseline comparisons are in
 * bench/realmail.bench.ts, not here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { indexArchive, parseMail } from "../../src/index/index.ts";
import { openArchive } from "../../src/node/archive.ts";
import { fastParse } from "../../src/series/fastmail.ts";
import { parseMessages, splitMbox } from "../../src/series/index.ts";
import { decodeMail } from "../../src/series/mail.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

const SLICE = join(SHARED, "archive", "linux-remoteproc-2021-2022.mbox.gz");
const have = sharedAvailable(SLICE);

describe.skipIf(!have)("the real archive slice (skipped when ../shared is absent)", () => {
  let mails: Uint8Array[] = [];
  beforeAll(() => {
    mails = splitMbox(new Uint8Array(gunzipSync(readFileSync(SLICE))));
  });

  it("holds 6,103 mails", () => {
    expect(mails).toHaveLength(6103);
  });

  it("the fast path decodes each mail it takes exactly as postal-mime does", async () => {
    const taken = mails.filter((m) => fastParse(m) !== null);
    const fast = taken.length;
    const differ: number[] = [];
    for (const [i, m] of taken.entries()) {
      if (JSON.stringify(await decodeMail(m, true)) !== JSON.stringify(await decodeMail(m, false)))
        differ.push(i);
    }
    expect(differ).toEqual([]);
    // Most real mails take it (6,033 of 6,103 when this was written): the comparison covers them.
    expect(fast).toBeGreaterThan(6000);
  }, 120_000);

  it("the index and series decide alike on every mail", async () => {
    const disagree: string[] = [];
    const tally = { patch: 0, cover: 0, other: 0, unreadable: 0 };
    for (const [i, m] of mails.entries()) {
      const name = `slice#${i + 1}`;
      const index = await parseMail(m, name);
      tally[index.kind]++;
      const series = await parseMessages([{ name, bytes: m }]).then(
        (s) => (s[0]?.patches.length === 1 ? "patch" : "?"),
        (e: unknown) => {
          const msg = e instanceof Error ? e.message : String(e);
          if (!msg.startsWith("no patch found")) return "unreadable";
          return msg.includes("a cover letter without its patches") ? "cover" : "other";
        },
      );
      if (series !== index.kind) disagree.push(`${name}: index ${index.kind}, series ${series}`);
    }
    expect(disagree).toEqual([]);
    expect(tally).toEqual({ patch: 2402, cover: 338, other: 3361, unreadable: 2 });
  }, 180_000);

  it("lists the mails that stay unreadable, each with why (the index's --json carries the same list)", async () => {
    const archive = await openArchive(SLICE);
    const r = await indexArchive(archive.mails);
    expect(r.counts.mails).toBe(6103);
    expect(r.counts.unreadable).toBe(r.unreadable.length);
    expect(r.unreadable.map((u) => [u.origin, u.messageId])).toEqual([
      // A hand-edited hunk: it announces 15 new lines and carries 14 (git apply refuses it too).
      ["linux-remoteproc-2021-2022.mbox.gz#1455", "20210709124631.28312-1-tinghan.shen@mediatek.com"],
      // A question with a diff pasted through a mailer that turned leading spaces into no-break spaces.
      ["linux-remoteproc-2021-2022.mbox.gz#2596", "ea64436c-3d9b-9ac1-d4e8-38f15142a764@quicinc.com"],
    ]);
    expect(r.unreadable[0]?.reason).toMatch(
      /mtk,scp\.txt announces 13 old and 15 new lines but has 13 and 14 \(line \d+, "-- ", is not one of its lines\)$/,
    );
    expect(r.unreadable[1]?.reason).toMatch(
      /remoteproc_core\.c announces 6 old and 7 new lines but has 1 and 1 \(line \d+, "\\u00a0\/\* Unique indices/,
    );
  }, 120_000);
});
