import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { chainVersions, parseMbox, parseMessages } from "../../src/series/index.ts";
import { bytes, mail, mbox, patchBody } from "./helpers.ts";

async function inputError(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

const cover = mail({
  subject: "[PATCH 0/2] acme: widget readiness",
  body: "Two small things.\n",
  messageId: "c@x",
});
const p1 = mail({
  subject: "[PATCH 1/2] acme: mark ready",
  body: patchBody(),
  messageId: "p1@x",
  inReplyTo: "c@x",
});
const p2 = mail({
  subject: "[PATCH 2/2] acme: mark ready twice",
  body: patchBody("", ["\tw->ready = true;", "\tw->ready2 = true;"]),
  messageId: "p2@x",
  inReplyTo: "c@x",
});

describe("bad or odd input", () => {
  it("refuses an empty file, naming it", async () => {
    const e = await inputError(parseMbox(bytes(""), "empty.mbox"));
    expect(e.oneLine()).toBe("empty.mbox: empty file");
    const inDir = await inputError(
      parseMessages([
        { name: "a.eml", bytes: bytes(p1) },
        { name: "b.eml", bytes: bytes("\n\n") },
      ]),
    );
    expect(inDir.subject).toBe("b.eml");
  });

  it("reports a missing patch i/N and never invents it", async () => {
    const [s] = await parseMbox(mbox(cover, p2), "gap.mbox");
    expect(s?.patches.map((p) => p.index)).toEqual([2]);
    expect(s?.missing).toEqual([1]);
    expect(s?.warnings).toContainEqual(
      expect.objectContaining({ code: "missing-patch", message: expect.stringContaining("1/2") }),
    );
  });

  it("skips non-patch mails and replies with a warning naming them", async () => {
    const chat = mail({ subject: "Lunch on Friday?", body: "Anyone?\n", messageId: "lunch@x" });
    const reply = mail({
      subject: "Re: [PATCH 1/2] acme: mark ready",
      body: `> +\tw->ready = true;\nLooks fine.\n`,
      messageId: "r@x",
    });
    const [s] = await parseMbox(mbox(chat, cover, p1, reply, p2), "thread.mbox");
    expect(s?.patches).toHaveLength(2);
    const skipped = s?.warnings.filter((w) => w.code === "not-a-patch").map((w) => w.mail);
    expect(skipped).toEqual(["thread.mbox#1 <lunch@x>", "thread.mbox#4 <r@x>"]);
  });

  it("refuses an input without any patch", async () => {
    const chat = mail({ subject: "Lunch on Friday?", body: "Anyone?\n", messageId: "lunch@x" });
    const e = await inputError(parseMbox(bytes(chat), "chat.eml"));
    expect(e.oneLine()).toMatch(/^chat\.eml: no patch found \(chat\.eml <lunch@x>: no diff/);
  });

  it("refuses an HTML-only patch mail, naming it", async () => {
    const html = mail({
      subject: "[PATCH 1/1] acme: mark ready",
      body: "<html><body><p>diff --git a/x b/x</p></body></html>\n",
      contentType: "text/html; charset=UTF-8",
      messageId: "html@x",
    });
    const e = await inputError(parseMbox(bytes(html), "html.eml"));
    expect(e.oneLine()).toBe("html.eml <html@x>: HTML-only mail: a patch must be sent as plain text");
  });

  it("keeps a binary diff as a binary file with a warning", async () => {
    const body = `Add the logo.

Signed-off-by: Ann Author <ann@example.com>
---
 logo.png | Bin 0 -> 120 bytes
 1 file changed

diff --git a/logo.png b/logo.png
new file mode 100644
index 0000000..3333333
Binary files /dev/null and b/logo.png differ
diff --git a/README b/README
index 1111111..2222222 100644
--- a/README
+++ b/README
@@ -1 +1,2 @@
 Widget
+Now with a logo.
-- 
2.47.0
`;
    const [s] = await parseMbox(
      bytes(mail({ subject: "[PATCH] add logo", body, messageId: "bin@x" })),
      "bin.eml",
    );
    expect(s?.patches[0]?.files.map((f) => [f.path, f.status, f.hunks.length])).toEqual([
      ["logo.png", "binary", 0],
      ["README", "modified", 1],
    ]);
    expect(s?.warnings).toContainEqual(
      expect.objectContaining({
        code: "binary-diff",
        mail: "bin.eml <bin@x>",
        message: expect.stringContaining("logo.png"),
      }),
    );
  });

  it("refuses a diff that does not parse, naming the mail", async () => {
    const broken = patchBody().replace("@@ -10,3 +10,4 @@", "@@ -10,9 +10,10 @@");
    const e = await inputError(
      parseMbox(bytes(mail({ subject: "[PATCH] broken", body: broken, messageId: "bad@x" })), "bad.eml"),
    );
    expect(e.oneLine()).toMatch(/^bad\.eml <bad@x>: diff does not parse: hunk "@@ -10,9 \+10,10 @@/);
    const short = patchBody().replace("@@ -10,3 +10,4 @@", "@@ -10,2 +10,3 @@");
    const e2 = await inputError(
      parseMbox(bytes(mail({ subject: "[PATCH] short", body: short, messageId: "s@x" })), "s.eml"),
    );
    expect(e2.oneLine()).toMatch(
      /^s\.eml <s@x>: diff does not parse: drivers\/acme\/widget\.c has 1 line\(s\) outside its hunks/,
    );
  });

  it("accepts a last context line whose space a mailer dropped, and tags after the diff", async () => {
    const body = `${patchBody().replace(" \treturn 0;\n }\n-- ", " \treturn 0;\n\n\nbase-commit: 0123456789abcdef\n-- ")}`;
    const [s] = await parseMbox(bytes(mail({ subject: "[PATCH] tail", body, messageId: "t@x" })), "t.eml");
    const lines = s?.patches[0]?.files[0]?.hunks[0]?.lines ?? [];
    expect(lines[lines.length - 1]).toEqual({ kind: "context", text: "", oldLine: 12, newLine: 13 });
    expect(s?.base).toBe("0123456789abcdef");
  });

  it("refuses a patch mail that announces i/N but carries no diff", async () => {
    const e = await inputError(
      parseMbox(bytes(mail({ subject: "[PATCH 1/2] x", body: "oops\n", messageId: "n@x" })), "n.eml"),
    );
    expect(e.oneLine()).toBe("n.eml <n@x>: patch 1/2 has no diff");
  });

  it("refuses a 100k-line patch and a too large input without crashing", async () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `\tw->reg[${i}] = 0;`);
    const huge = mail({ subject: "[PATCH] huge", body: patchBody("", lines), messageId: "huge@x" });
    const e = await inputError(parseMbox(bytes(huge), "huge.eml"));
    expect(e.oneLine()).toBe("huge.eml <huge@x>: patch too large: 100000 changed lines (limit 20000)");
    const e2 = await inputError(parseMbox(bytes(p1), "p1.eml", { maxInputBytes: 100 }));
    expect(e2.oneLine()).toMatch(/^p1\.eml: input too large: \d+ bytes \(limit 100\)$/);
  });

  it("decodes headers and bodies in odd charsets", async () => {
    const body = patchBody().replace(
      "Mark the widget ready once probed.",
      "Mark the widget ready, gr\xfc\xdfe.",
    );
    const latin1 = new Uint8Array([...body].map((c) => c.charCodeAt(0)));
    const head = [
      "From: =?iso-8859-15?q?Ren=E9_R=E4ber?= <rene@example.com>",
      "Subject: [PATCH] =?ISO-8859-1?Q?acme=3A_widget_=ABready=BB?=",
      "Message-ID: <cs@x>",
      "Content-Type: text/plain; charset=x-unknown-latin",
      "Content-Transfer-Encoding: 8bit",
      "",
      "",
    ].join("\n");
    const raw = new Uint8Array([...bytes(head), ...latin1]);
    const [s] = await parseMbox(raw, "cs.eml");
    expect(s?.author.name).toBe("René Räber");
    expect(s?.title).toBe("acme: widget \u00abready\u00bb");
    expect(s?.patches[0]?.files[0]?.additions).toBe(1);
  });

  it.each(["unknown-8bit", "x-unknown", "us-ascii", "x-no-such-charset"])(
    "reads UTF-8 bytes labelled %s as UTF-8",
    async (charset) => {
      const body = patchBody().replace("Mark the widget ready once probed.", "Grüße from Zoë.");
      const text = mail({
        subject: "[PATCH] acme: x",
        body,
        messageId: "u@x",
        contentType: `text/plain;\n\tcharset="${charset}"`,
      });
      const [s] = await parseMbox(bytes(text), "u.eml");
      expect(s?.patches[0]?.message).toContain("Grüße from Zoë.");
    },
  );

  it("numbers unnumbered [PATCH] mails in input order", async () => {
    const a = mail({ subject: "[PATCH] acme: one", body: patchBody(), messageId: "a@x" });
    const b = mail({
      subject: "[PATCH] acme: two",
      body: patchBody("", ["\tw->two = 2;"]),
      messageId: "b@x",
    });
    const [s] = await parseMbox(mbox(a, b), "n.mbox");
    expect(s?.patches.map((p) => [p.index, p.total, p.title])).toEqual([
      [1, 2, "acme: one"],
      [2, 2, "acme: two"],
    ]);
  });

  it("refuses bytes that are no mail, and a cover letter alone", async () => {
    const noise = Uint8Array.from({ length: 2000 }, (_, i) => (i * 7919) % 251);
    const e = await inputError(parseMbox(noise, "noise.bin"));
    expect(e.oneLine()).toMatch(/^noise\.bin: no patch found \(noise\.bin: not a mail/);
    const e2 = await inputError(parseMbox(bytes(cover), "cover.eml"));
    expect(e2.oneLine()).toBe(
      "cover.eml: no patch found (cover.eml <c@x>: a cover letter without its patches)",
    );
  });

  it("links a version sent in reply to the previous cover letter, and orders v5 < v5.1 < v6", async () => {
    const v5 = await parseMbox(
      mbox(
        cover.replace("[PATCH 0/2]", "[PATCH v5 0/2]"),
        p1.replace("[PATCH 1/2]", "[PATCH v5 1/2]"),
        p2.replace("[PATCH 2/2]", "[PATCH v5 2/2]"),
      ),
      "v5",
    );
    const v51 = mail({
      subject: "[PATCH v5.1 2/2] other words entirely",
      body: patchBody("", ["\tw->x = 1;"]),
      messageId: "v51@x",
      from: "Bo <bo@example.com>",
      inReplyTo: "p2@x",
    });
    const v6cover = mail({
      subject: "[PATCH v6 0/1] unrelated title",
      body: "Again.\n",
      messageId: "c6@x",
      from: "Cy <cy@example.com>",
      inReplyTo: "c@x",
    });
    const v6 = mail({
      subject: "[PATCH v6 1/1] x",
      body: patchBody("", ["\tw->y = 1;"]),
      messageId: "p6@x",
      from: "Cy <cy@example.com>",
      inReplyTo: "c6@x",
    });
    const [s6] = await parseMbox(mbox(v6cover, v6), "v6");
    const [s51] = await parseMbox(bytes(v51), "v5.1");
    const chain = chainVersions([s6, s51, v5[0]].map((s) => s ?? (undefined as never)));
    expect(chain.entries.map((e) => [e.id, e.follows, e.linkedBy])).toEqual([
      ["v5", null, null],
      ["v5.1", "v5", "reference"],
      ["v6", "v5", "reference"],
    ]);
  });
});
