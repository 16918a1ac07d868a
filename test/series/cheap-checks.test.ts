/**
 * Cheap checks before the mail parse (issue 20, defect 9; defect 1 for parts and depth): a mail's lines,
 * changed lines and MIME parts are counted on its raw bytes and a mail over a bound is refused before it is
 * decoded; the mail intake looks for a duplicate Message-ID before it parses anything. The assertions are on
 * the refusal, its reason and on postal-mime not being called, never on time.
 */
import fc from "fast-check";
import PostalMime from "postal-mime";
import { afterEach, describe, expect, it, vi } from "vitest";
import { InputError } from "../../src/errors.ts";
import { parseMail } from "../../src/index/index.ts";
import { intakeMessage } from "../../src/mail/intake.ts";
import { fastParse } from "../../src/series/fastmail.ts";
import { parseMbox } from "../../src/series/index.ts";
import {
  countedRefusal,
  DEFAULT_MAIL_LIMITS,
  peekMessageId,
  precheckMail,
  readMail,
} from "../../src/series/mail.ts";
import { MAILS, type MailHarness, mailHarness } from "../mail/helpers.ts";
import { bytes } from "./helpers.ts";

const LINES = 1_600_000;

/** A 25 MB patch mail of 1.6 M short added lines, in a charset the fast path leaves to postal-mime. */
function hugePatch(): Uint8Array {
  const head = [
    "From: Ann Author <ann@example.com>",
    "Date: Mon, 2 Nov 2026 10:00:00 +0000",
    "Subject: [PATCH] acme: a table",
    "Message-ID: <table@x>",
    // A charset the fast path leaves to postal-mime: only the bounds keep this mail from its parse.
    "Content-Type: text/plain; charset=macintosh",
    "",
    "A table.",
    "",
    "---",
    "diff --git a/t.c b/t.c",
    "--- a/t.c",
    "+++ b/t.c",
    `@@ -0,0 +1,${LINES} @@`,
    "",
  ].join("\n");
  const line = "+\tt[0] = 0x00;\n"; // 15 bytes
  const out = new Uint8Array(head.length + LINES * line.length);
  out.set(bytes(head), 0);
  const one = bytes(line);
  for (let i = 0; i < LINES; i++) out.set(one, head.length + i * one.length);
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a 25 MB mail of 1.6 M short lines", () => {
  const mail = hugePatch();

  it("is refused as too large a patch before it is decoded", async () => {
    expect(mail.length).toBeGreaterThan(24_000_000);
    const parse = vi.spyOn(PostalMime, "parse");
    expect(precheckMail(mail)).toBe(`patch too large: ${LINES} changed lines (limit 20000)`);
    const e = await parseMbox(mail, "table.eml").then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).oneLine()).toBe(
      `table.eml <table@x>: patch too large: ${LINES} changed lines (limit 20000)`,
    );
    const indexed = await parseMail(mail, "archive#1");
    expect(indexed).toMatchObject({
      kind: "unreadable",
      messageId: "table@x",
      reason: `patch too large: ${LINES} changed lines (limit 20000)`,
    });
    expect(parse).not.toHaveBeenCalled();
    // Under the bounds the same charset goes through postal-mime: the spy would have seen it.
    await readMail(
      bytes("From: a@example.com\nSubject: x\nContent-Type: text/plain; charset=macintosh\n\nhi\n"),
    );
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it("without a diff it is refused by its line count, as a mail too large", async () => {
    const text = bytes(
      `From: a@example.com\nSubject: notes\nMessage-ID: <notes@x>\n\n${"a line\n".repeat(LINES)}`,
    );
    expect(precheckMail(text)).toBe(`mail too large: ${LINES + 4} lines (limit 100000)`);
    expect((await readMail(text)).what).toEqual({
      kind: "too-large",
      reason: `mail too large: ${LINES + 4} lines (limit 100000)`,
    });
  });
});

describe("bounds on MIME structure", () => {
  it("more MIME parts than the bound are refused before the parse", async () => {
    let s = "From: a@example.com\nSubject: [PATCH] parts\nMessage-ID: <parts@x>\n";
    s += 'Content-Type: multipart/mixed; boundary="zz"\n\n';
    for (let i = 0; i < 300; i++) s += "--zz\nContent-Type: text/plain\n\nhi\n";
    s += "--zz--\n";
    const parse = vi.spyOn(PostalMime, "parse");
    expect(precheckMail(bytes(s))).toBe("too many MIME parts: 301 (limit 200)");
    expect(await readMail(bytes(s))).toMatchObject({ what: { kind: "too-large" } });
    expect(parse).not.toHaveBeenCalled();
    // A diff's own "--" lines are not parts.
    const diffy = `From: a@example.com\nSubject: x\nMessage-ID: <d@x>\n\n${"-- a\n".repeat(500)}`;
    expect(precheckMail(bytes(diffy))).toBeNull();
  });

  it("MIME nesting deeper than 16 is an unreadable mail, not a crash", async () => {
    let s = "From: a@example.com\nSubject: [PATCH] deep\nMessage-ID: <deep@x>\n";
    s += "Content-Type: multipart/mixed; boundary=b0\n\n";
    for (let d = 1; d < 30; d++) s += `--b${d - 1}\nContent-Type: multipart/mixed; boundary=b${d}\n\n`;
    s += "--b29\nContent-Type: text/plain\n\nhello\n";
    for (let d = 29; d >= 0; d--) s += `--b${d}--\n`;
    expect((await readMail(bytes(s))).what).toEqual({
      kind: "unreadable",
      reason: "not a readable mail: Maximum MIME nesting depth of 16 levels exceeded",
    });
    await expect(parseMbox(bytes(s), "deep.eml")).rejects.toThrow(/nesting depth of 16/);
  });

  it("the default bounds are those documented", () => {
    expect(DEFAULT_MAIL_LIMITS).toEqual({
      maxChangedLinesPerPatch: 20_000,
      maxLinesPerMail: 100_000,
      maxMimeParts: 200,
    });
    expect(peekMessageId(bytes("Subject: x\nMessage-Id:\n <a@b>\n\nbody\n"))).toBe("a@b");
  });
});

describe("the mail intake", () => {
  let h: MailHarness | null = null;
  afterEach(async () => {
    await h?.close();
    h = null;
  });

  it("answers a duplicate from its Message-ID and refuses a 25 MB mail, both before any parse", async () => {
    h = await mailHarness();
    const first = bytes(MAILS[1] as string);
    expect((await intakeMessage(h.mail.context, first, "p1")).outcome).toBe("part");
    const parse = vi.spyOn(PostalMime, "parse");
    expect(await intakeMessage(h.mail.context, first, "p1 again")).toEqual({
      messageId: peekMessageId(first),
      outcome: "duplicate",
    });
    expect(await intakeMessage(h.mail.context, hugePatch(), "table")).toEqual({
      messageId: "table@x",
      outcome: "ignored",
      reason: `patch too large: ${LINES} changed lines (limit 20000)`,
    });
    expect(parse).not.toHaveBeenCalled();
    // The spy sees a parse when there is one: a part not seen before is parsed.
    expect((await intakeMessage(h.mail.context, bytes(MAILS[2] as string), "p2")).outcome).toBe("part");
    expect(parse).toHaveBeenCalled();
  }, 60_000);
});

describe("the size shortcut of the cheap checks", () => {
  it("passes every small mail the fast path takes (readMail decodes those before any precheck)", () => {
    const header = fc.constantFrom(
      "Subject: x",
      "Content-Type: text/plain",
      "Content-Type: multipart/mixed; boundary=b1",
      "content-type:\n multipart/mixed; boundary=b1",
      "Content-Type:\r\n\tmultipart/mixed; boundary=b1",
      "X-Note: a\rContent-Type: multipart/mixed; boundary=b1",
      "CONTENT-TYPE: Multipart/Mixed; boundary=b1",
      "Content-Type : multipart/mixed; boundary=b1",
      "Content-Transfer-Encoding: 8bit",
    );
    const body = fc.constantFrom("--b1", "--b1--", "text", "+x", "@@ -1 +1 @@", "");
    fc.assert(
      fc.property(
        fc.array(header, { minLength: 1, maxLength: 4 }),
        fc.array(body, { maxLength: 8 }),
        fc.constantFrom("\n", "\r\n"),
        (hs, bs, eol) => {
          const mail = bytes(`${hs.join(eol)}${eol}${eol}${bs.join(eol)}${eol}`);
          const limits = { maxChangedLinesPerPatch: 1000, maxLinesPerMail: 1000, maxMimeParts: 0 };
          if (fastParse(mail) !== null) expect(precheckMail(mail, limits)).toBeNull();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("is exact at its bound: a mail of nothing but the shortest changed lines", () => {
    // n bytes hold at most (n + 1) / 2 changed lines; here they come as close to that as a mail can.
    for (const last of ["", "\n"]) {
      for (let k = 0; k <= 70; k++) {
        const mail = bytes(
          `S: x\n\n@@ -0,0 +1,${k} @@\n${"+\n".repeat(k).slice(0, last === "" ? -1 : undefined)}`,
        );
        for (let a = 0; a <= 80; a++) {
          const limits = { maxChangedLinesPerPatch: a, maxLinesPerMail: 1000, maxMimeParts: 0 };
          expect(precheckMail(mail, limits)).toBe(countedRefusal(mail, limits));
        }
      }
    }
  });

  it("refuses exactly what the pass over every line refuses, for any mail and bounds", () => {
    const line = fc.constantFrom(
      "@@ -1,2 +1,3 @@",
      "+added",
      "-gone",
      // The shortest changed lines: the size shortcut's bound (at most (n + 1) / 2 of them) is tight on these.
      "+",
      "-",
      "--- a/x",
      "+++ b/x",
      "-- ",
      " context",
      "--b1",
      "--b1--",
      "text",
      "",
    );
    const head = fc.constantFrom(
      "Subject: x\n",
      'Content-Type: multipart/mixed; boundary="b1"\n',
      "Content-Type:\n multipart/mixed; boundary=b1\n",
      "Content-Type: text/plain\n",
    );
    // Up to twice the bytes of the largest mail drawn: bounds on both sides of the shortcut.
    const bound = fc.integer({ min: 0, max: 200 });
    fc.assert(
      fc.property(head, fc.array(line, { maxLength: 30 }), bound, bound, bound, (h, body, a, b, c) => {
        const mail = bytes(`${h}\n${body.join("\n")}`);
        const limits = { maxChangedLinesPerPatch: a, maxLinesPerMail: b, maxMimeParts: c };
        expect(precheckMail(mail, limits)).toBe(countedRefusal(mail, limits));
      }),
      { numRuns: 3000 },
    );
  });
});
