/**
 * One reader of patch mails (src/series/mail.ts) for `series` and the index (issue 20, defect 10): where a
 * diff ends (read by its hunks' counts, so what follows it is never parsed as part of it), how a body whose
 * Content-Disposition is "attachment" is read, and that both readers decide alike. Inputs written here.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { parseMail } from "../../src/index/index.ts";
import { diffExtent, parseFileChanges } from "../../src/series/diff.ts";
import { fastParse } from "../../src/series/fastmail.ts";
import { parseMbox } from "../../src/series/index.ts";
import { decodeMail, readMail } from "../../src/series/mail.ts";
import { runCli } from "../helpers/cli.ts";
import { bytes, mail, mbox, patchBody } from "./helpers.ts";

const HUNK = `diff --git a/drivers/acme/widget.c b/drivers/acme/widget.c
index 1111111..2222222 100644
--- a/drivers/acme/widget.c
+++ b/drivers/acme/widget.c
@@ -10,3 +10,4 @@ static int widget_probe(struct widget *w)
 	w->id = id;
+	w->ready = true;
 	return 0;
 }
`;

/** Footers seen after the last hunk of real list mail (written here, not copied). */
const FOOTERS: Record<string, string> = {
  "git signature": "-- \n2.47.0\n",
  "signature, then a company footer after a bare --":
    "-- \n2.17.1\n\n--\nAcme Oy, Somestreet 1, Helsinki. Business ID: 0000000-0.\n",
  "b4: --- then tags, then a signature with a name":
    "\n---\nbase-commit: 0123456789abcdef0123456789abcdef01234567\nchange-id: 20260101-widget-ready-0123456789ab\n\nBest regards,\n-- \nAnn Author <ann@example.com>\n\n",
  "b4 tags without a signature":
    "\n---\nbase-commit: 0123456789abcdef0123456789abcdef01234567\nchange-id: 20260101-widget-ready-0123456789ab\n\n\n",
  "a signature of two spaces":
    "\n---\nbase-commit: 0123456789abcdef0123456789abcdef01234567\n\nBest regards,\n--  \nAnn Author <ann@example.com>\n",
  "scissors and a reply":
    "--->8---\n\nBut if you prefer, I can wait.\n\nBest regards\nAnn\n\n-- \nAcme | https://acme.example/ |\n",
  "a list footer without a marker": "\nAcme Ltd. This message may contain confidential information.\n",
};

describe("where a diff ends", () => {
  for (const [what, footer] of Object.entries(FOOTERS)) {
    it(`reads the hunks and drops the footer: ${what}`, () => {
      expect(diffExtent(HUNK + footer)).toBe(HUNK);
      const parsed = parseFileChanges(HUNK + footer);
      expect(parsed.files.map((f) => [f.path, f.additions, f.deletions])).toEqual([
        ["drivers/acme/widget.c", 1, 0],
      ]);
    });
  }

  it("the same mails give one patch to series and to the index", async () => {
    for (const [what, footer] of Object.entries(FOOTERS)) {
      const text = mail({
        subject: "[PATCH] acme: mark ready",
        body: `Mark it ready.\n\nSigned-off-by: Ann Author <ann@example.com>\n---\n${HUNK}${footer}`,
        messageId: "f@x",
      });
      const [s] = await parseMbox(bytes(text), what);
      expect(s?.patches[0]?.files.map((f) => f.additions)).toEqual([1]);
      expect((await parseMail(bytes(text), what)).kind).toBe("patch");
    }
  });

  it("a hunk that announces more lines than it has is refused, naming the line that ends it", () => {
    const short = HUNK.replace("@@ -10,3 +10,4 @@", "@@ -10,3 +10,5 @@");
    expect(() => parseFileChanges(`${short}-- \n2.47.0\n`)).toThrow(InputError);
    expect(() => parseFileChanges(`${short}-- \n2.47.0\n`)).toThrow(
      /announces 3 old and 5 new lines but has 3 and 4 \(line 10, "-- ", is not one of its lines\)/,
    );
    const nbsp = HUNK.replace(" \treturn 0;", "\u00a0\treturn 0;");
    expect(() => parseFileChanges(nbsp)).toThrow(/"\\u00a0\\treturn 0;", is not one of its lines/);
  });

  it("a hunk that announces fewer lines than follow is refused, not cut short", () => {
    const long = HUNK.replace("@@ -10,3 +10,4 @@", "@@ -10,2 +10,3 @@");
    expect(() => parseFileChanges(`${long}+\tw->more = 1;\n-- \n2.47.0\n`)).toThrow(
      /drivers\/acme\/widget\.c has 2 line\(s\) outside its hunks/,
    );
    expect(() => parseFileChanges(`${HUNK}-- \n2.47.0\n@@ -1,2 +1,9 @@ f\n+x\n`)).toThrow(
      /a hunk of drivers\/acme\/widget\.c follows text that is not part of a hunk/,
    );
  });

  it("a second file after text between files is still read; hunk-like lines there are refused", () => {
    const second = HUNK.replaceAll("widget.c", "gadget.c");
    expect(parseFileChanges(`${HUNK}\n${second}-- \n2.47.0\n`).files.map((f) => f.path)).toEqual([
      "drivers/acme/widget.c",
      "drivers/acme/gadget.c",
    ]);
    expect(() => parseFileChanges(`${HUNK}+\tstray();\n${second}`)).toThrow(/outside its hunks/);
  });

  it("work is bounded by the lines present, not by the counts a header announces", () => {
    const huge = HUNK.replace("@@ -10,3 +10,4 @@", "@@ -10,999999999 +10,999999999 @@");
    expect(() => parseFileChanges(huge)).toThrow(/announces 999999999 old and 999999999 new lines/);
  });
});

describe("Content-Disposition of a single-part mail", () => {
  const text = (disposition: string) =>
    mail({
      subject: "[PATCH] acme: mark ready",
      body: patchBody(),
      messageId: "d@x",
      extraHeaders: [`Content-Disposition: ${disposition}`],
    });

  it("inline (or a value postal-mime reads as inline): the body is the text, on both roads", async () => {
    for (const d of ["inline", "INLINE", 'inline; filename="0001-acme.patch"', "bogus"]) {
      const raw = bytes(text(d));
      expect(await decodeMail(raw, true)).toEqual(await decodeMail(raw, false));
      expect((await parseMail(raw, d)).kind).toBe("patch");
      expect((await parseMbox(raw, d))[0]?.patches).toHaveLength(1);
    }
  });

  it("attachment: a patch only when named *.patch/*.diff or typed text/x-patch, the same for series and the index", async () => {
    const plain = bytes(text("attachment"));
    expect(await decodeMail(plain, true)).toEqual(await decodeMail(plain, false));
    expect((await readMail(plain)).what.kind).toBe("no-diff");
    expect((await parseMail(plain, "a")).kind).toBe("other");
    await expect(parseMbox(plain, "a.eml")).rejects.toThrow(/no patch found .*no diff in/);
    const named = bytes(text('attachment; filename="0001-acme-mark-ready.patch"'));
    expect(await decodeMail(named, true)).toEqual(await decodeMail(named, false));
    expect((await parseMail(named, "n")).kind).toBe("patch");
    expect((await parseMbox(named, "n.eml"))[0]?.patches).toHaveLength(1);
  });
});

describe("the fast path reads what postal-mime reads", () => {
  const flowed = (params: string, body: string, from = "Ann Author <ann@example.com>") =>
    bytes(
      `From: ${from}\nSubject: [PATCH] x\nMessage-ID: <fl@x>\nContent-Type: text/plain; charset=utf-8; ${params}\n\n${body}`,
    );
  const BODY =
    "A paragraph that goes \non and on \nuntil here.\n\n  stuffed line\n-- \nsig line \nnext\n>quoted \nmore\n";

  it("format=flowed, with and without delsp, quoted and stuffed lines, the signature line", async () => {
    for (const params of [
      "format=flowed",
      'format="flowed"; delsp=yes',
      "format=fixed",
      "delsp=no; format=flowed",
    ]) {
      const raw = flowed(params, BODY);
      const fast = await decodeMail(raw, true);
      expect(fast).toEqual(await decodeMail(raw, false));
    }
    expect((await decodeMail(flowed("format=flowed", BODY), true)).text).toContain(
      "A paragraph that goes on and on until here.\n\n stuffed line\n-- \nsig line next\n",
    );
  });

  it("a quoted display name, one that repeats the address, one with an escape (left to postal-mime)", async () => {
    for (const from of [
      '"Peng Fan (OSS)" <peng.fan@example.com>',
      '"ann@example.com" <ann@example.com>',
      '"  Ann  Author " <ann@example.com>',
      "ann@example.com <ann@example.com>",
      '"Ann \\"the\\" Author" <ann@example.com>',
    ]) {
      const raw = flowed("format=fixed", "hi\n", from);
      expect(await decodeMail(raw, true)).toEqual(await decodeMail(raw, false));
    }
  });
});

describe("the fast path's base64 and charsets read what postal-mime reads", () => {
  const single = (headers: string, body: string | Uint8Array) => {
    const head = bytes(
      `From: Ann Author <ann@example.com>\nSubject: [PATCH] x\nMessage-ID: <b64@x>\n${headers}\n\n`,
    );
    const tail = typeof body === "string" ? bytes(body) : body;
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  };
  const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

  it("base64 bodies: wrapped, padded on every line, with stray characters and truncated groups", async () => {
    const text = "Ünïcödé patch note \u2014 with a diff:\n+int x = 1;\n";
    const whole = b64(text);
    const bodies = [
      `${whole.replace(/(.{76})/g, "$1\n")}\n`,
      // each line padded on its own, as some mailers write it: a unit per line
      `${b64("first line\n")}\n${b64("second, longer line\n")}\n${b64("x")}\n`,
      // stray characters, CRLF, a truncated last group (one letter, then two), "=" runs mid-body
      `${whole.slice(0, 10)}*\r\n${whole.slice(10, 21)}!!\r\n${whole.slice(21)}Q\r\n`,
      `${whole.slice(0, 22)}==${whole.slice(22)}AB\n`,
      "",
      "====\n",
    ];
    for (const body of bodies) {
      const raw = single("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64", body);
      expect(fastParse(raw)).not.toBeNull();
      expect(await decodeMail(raw, true)).toEqual(await decodeMail(raw, false));
    }
    const plain = single(
      "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64",
      `${whole}\n`,
    );
    expect((await decodeMail(plain, true)).text).toBe(text);
  });

  it("legacy charsets as labelled, 8bit and base64; one the fast path does not know is postal-mime's", async () => {
    const cases: [string, Uint8Array][] = [
      ["windows-1251", Uint8Array.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x0a])],
      ["windows-1252", Uint8Array.from([0x93, 0x71, 0x75, 0x6f, 0x74, 0x65, 0x94, 0x20, 0x80, 0x0a])],
      ["gbk", Uint8Array.from([0xc4, 0xe3, 0xba, 0xc3, 0x0a])],
      ["iso-2022-jp", Uint8Array.from([0x1b, 0x24, 0x42, 0x24, 0x33, 0x1b, 0x28, 0x42, 0x0a])],
      ["macintosh", Uint8Array.from([0x8a, 0x0a])],
    ];
    for (const [charset, body] of cases) {
      const eight = single(
        `Content-Type: text/plain; charset="${charset}"\nContent-Transfer-Encoding: 8bit`,
        body,
      );
      expect(fastParse(eight) === null).toBe(charset === "macintosh");
      expect(await decodeMail(eight, true)).toEqual(await decodeMail(eight, false));
      const based = single(
        `Content-Type: text/plain; charset=${charset}\nContent-Transfer-Encoding: base64`,
        `${Buffer.from(body).toString("base64")}\n`,
      );
      expect(fastParse(based) === null).toBe(charset === "macintosh");
      expect(await decodeMail(based, true)).toEqual(await decodeMail(based, false));
    }
    expect(
      fastParse(single("Content-Type: text/plain; charset=windows-1251", cases[0]?.[1] ?? ""))?.text,
    ).toBe("Привет\n");
    expect(fastParse(single("Content-Type: text/plain; charset=macintosh", "x\n"))).toBeNull();
  });

  it("header names as written or spaced, folded, repeated, in any case: as postal-mime reads them", async () => {
    const heads = [
      "Subject : spaced name\nFrom: a@b.example",
      "subject: lower\nFROM: A <a@b.example>\nMESSAGE-ID: <u@x>",
      "Subject: folded\r\n  over two lines\r\nFrom: a@b.example\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000",
      "Received: from x\n by y\nSubject: after a folded unwanted header\nFrom: a@b.example",
      "Content-transfer-encoding : 7bit\n  folded\nSubject: cte spaced\nFrom: a@b.example",
      'Mime-Version: 1.0\nFrom : "A B" <a@b.example>\nSubject: quoted name',
      "X-A-Very-Long-Header-Name-Of-Twenty-Five: x\nSubject: a name of a wanted length\nFrom: a@b.example",
      "Subject: twice\nsubject: again\nFrom: a@b.example",
      "Subject: no colon below\nFrom a@b.example",
      "Subject: empty name below\n: value",
    ];
    for (const h of heads) {
      const raw = bytes(`${h}\n\nbody\n`);
      expect(await decodeMail(raw, true)).toEqual(await decodeMail(raw, false));
    }
    // The last three are left to postal-mime; the others take the fast path.
    expect(heads.map((h) => fastParse(bytes(`${h}\n\nbody\n`)) === null)).toEqual([
      ...Array(7).fill(false),
      true,
      true,
      true,
    ]);
  });
});

describe("the same decision for series and the index", () => {
  it("a patch without [PATCH], a cover letter carrying a diff, an [RFC/PATCH] subject", async () => {
    const noPrefix = mail({ subject: "acme: mark ready", body: patchBody(), messageId: "np@x" });
    expect((await parseMail(bytes(noPrefix), "np")).kind).toBe("patch");
    expect((await parseMbox(bytes(noPrefix), "np.eml"))[0]?.patches).toHaveLength(1);
    const cover = mail({
      subject: "[PATCH 0/2] acme: readiness",
      body: `Two patches.\n\nRange-diff:\n${HUNK}`,
      messageId: "c@x",
    });
    expect((await parseMail(bytes(cover), "c")).kind).toBe("cover");
    await expect(parseMbox(bytes(cover), "c.eml")).rejects.toThrow(/a cover letter without its patches/);
    const rfc = mail({ subject: "[RFC/PATCH] acme: mark ready", body: patchBody(), messageId: "r@x" });
    const [s] = await parseMbox(bytes(rfc), "r.eml");
    expect(s?.version.rfc).toBe(true);
    expect((await parseMail(bytes(rfc), "r")).kind).toBe("patch");
  });
});

describe("rproc-review index lists the mails it cannot read", () => {
  it("in --json and in its text, each with the reason, from a gzipped mbox", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-unreadable-"));
    try {
      const good = mail({ subject: "[PATCH 1/2] acme: mark ready", body: patchBody(), messageId: "g@x" });
      const bad = mail({
        subject: "[PATCH 2/2] acme: mark ready again",
        body: patchBody().replace("@@ -10,3 +10,4 @@", "@@ -10,3 +10,6 @@"),
        messageId: "b@x",
      });
      const file = join(dir, "list.mbox.gz");
      writeFileSync(file, gzipSync(mbox(good, bad)));
      const json = await runCli(["index", file, "--json"]);
      expect(json.code).toBe(0);
      const r = JSON.parse(json.out) as {
        counts: { patches: number; unreadable: number };
        unreadable: { origin: string; messageId: string; subject: string; reason: string }[];
      };
      expect(r.counts).toMatchObject({ patches: 1, unreadable: 1 });
      expect(r.unreadable).toEqual([
        {
          origin: "list.mbox.gz#2",
          messageId: "b@x",
          subject: "[PATCH 2/2] acme: mark ready again",
          reason: expect.stringMatching(
            /^diff does not parse: hunk "@@ -10,3 \+10,6 @@ .*" of drivers\/acme\/widget\.c announces 3 old and 6 new lines but has 3 and 4/,
          ),
        },
      ]);
      const text = await runCli(["index", file]);
      expect(text.out).toContain("  unreadable: list.mbox.gz#2 <b@x>: diff does not parse: hunk");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
