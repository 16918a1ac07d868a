import { afterAll, describe, expect, it } from "vitest";
import { parseMailHere } from "../../src/mail/intake.ts";
import { createMailParser, LARGE_MAIL_BYTES } from "../../src/node/mail-threads.ts";

function mail(lines: number): Uint8Array {
  const body = Array.from({ length: lines }, (_, i) => `+\tline ${i}: caf\u00e9 au lait`).join("\n");
  return new TextEncoder().encode(
    [
      "From: Ann Example <ann@example.org>",
      "Message-ID: <big.1@example.org>",
      "Subject: [PATCH v3 1/1] remoteproc: a large patch",
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: 8bit",
      "",
      "A patch.",
      "---",
      "diff --git a/x.c b/x.c",
      "--- a/x.c",
      "+++ b/x.c",
      `@@ -0,0 +1,${lines} @@`,
      body,
      "",
    ].join("\n"),
  );
}

const parser = createMailParser({ callTimeoutMs: 60_000 });
afterAll(() => parser.close());

describe("mail parsed off the event loop", () => {
  it("parses a small mail here and a large one in a thread, with the same result", {
    timeout: 60_000,
  }, async () => {
    const small = mail(10);
    expect(small.length).toBeLessThan(LARGE_MAIL_BYTES);
    expect(await parser.parse(small)).toEqual(await parseMailHere(small));
    expect(parser.started).toBe(0);

    const large = mail(20_000);
    expect(large.length).toBeGreaterThan(LARGE_MAIL_BYTES);
    const there = await parser.parse(large);
    expect(parser.started).toBe(1);
    expect(there).toEqual(await parseMailHere(large));
    expect(there.messageId).toBe("<big.1@example.org>");
    expect(there.text).toContain("line 19999: caf\u00e9 au lait");
  });

  it("stops a parse past its time limit, and says so", { timeout: 60_000 }, async () => {
    const slow = createMailParser({ callTimeoutMs: 1, threshold: 0 });
    try {
      await expect(slow.parse(mail(50_000))).rejects.toThrow(
        /the mail parse ran past its time limit of 1 ms and was stopped/,
      );
    } finally {
      await slow.close();
    }
  });
});
