import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InputError } from "../../src/errors.ts";
import { loadInput } from "../../src/node/inputs.ts";
import { parseMbox, parseSubject, seriesKey } from "../../src/series/index.ts";
import { bytes, fixture, mail, mbox, patchBody } from "./helpers.ts";

describe("robustness", () => {
  it("never throws anything but InputError on mail-like garbage", async () => {
    const good = mail({ subject: "[PATCH 1/2] acme: x", body: patchBody(), messageId: "g@x" });
    const fragments = fc.constantFrom(
      good,
      "From mboxrd@z Thu Jan  1 00:00:00 1970\n",
      "Subject: [PATCH v2 3/2] y\n",
      "Content-Transfer-Encoding: base64\n",
      "Content-Type: multipart/mixed; boundary=zz\n",
      "--zz\n",
      "\n",
      "diff --git a/f b/f\n",
      "@@ -1,2 +1,9 @@ f\n",
      "+x\n",
      "-y\n",
      " z\n",
      "\\ No newline at end of file\n",
      "-- \n2.40.0\n",
      "=?utf-8?B?w7w=?=\n",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fragments, fc.string()), { maxLength: 30 }), async (parts) => {
        const result = await parseMbox(bytes(parts.join("")), "fuzz.mbox").then(
          (series) => series,
          (e: unknown) => e,
        );
        if (result instanceof Error) expect(result).toBeInstanceOf(InputError);
        else expect(Array.isArray(result)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("parses any subject without throwing", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const info = parseSubject(s);
        expect(info.version.major).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it("gives each patch its in-body author and the series its sender", async () => {
    const body = `From: Dee Veloper <dee@example.org>\n\n${patchBody()}`;
    const [s] = await parseMbox(
      mbox(
        mail({
          subject: "[PATCH] acme: forwarded",
          body,
          messageId: "f@x",
          from: "Sam Sender <sam@example.com>",
        }),
      ),
      "fwd.mbox",
    );
    expect(s?.patches[0]?.author).toEqual({ name: "Dee Veloper", email: "dee@example.org" });
    expect(s?.author).toEqual({ name: "Sam Sender", email: "sam@example.com" });
    expect(s?.patches[0]?.message.startsWith("Mark the widget ready")).toBe(true);
  });

  it("is plain JSON, and gets a storage key per posting", async () => {
    const v2 = await loadInput(fixture("foo-v2.mbox"));
    const resend = await loadInput(fixture("foo-v2-resend"));
    expect(JSON.parse(JSON.stringify(v2))).toEqual(v2);
    expect(seriesKey(v2)).toMatch(/^v2-[0-9a-f]{16}$/);
    expect(seriesKey(resend)).toMatch(/^v2-resend-[0-9a-f]{16}$/);
    expect(seriesKey(v2)).toBe(seriesKey(await loadInput(fixture("foo-v2.mbox"))));
  });
});

describe("a hunk that parse-diff cannot read", () => {
  it("is an InputError naming the diff, not a TypeError (a marker line right after the hunk header)", async () => {
    const good = mail({ subject: "[PATCH 1/2] acme: x", body: patchBody(), messageId: "g@x" });
    const text = `${good}@@ -1,2 +1,9 @@ f\n\\ No newline at end of file\n`;
    const err = await parseMbox(bytes(text), "fuzz.mbox").then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InputError);
    expect(String((err as Error).message)).toMatch(/does not parse/);
  });
});
