/**
 * The two SHA-256 implementations behind patch-ids (node:crypto's, registered by src/node/hash.ts, and the
 * portable @noble/hashes one Workers use) give the same digest for any text, lone surrogates included, and
 * the same patch-id for every patch of the real archive slice.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { nodeSha256Hex } from "../../src/node/hash.ts";
import { readMail } from "../../src/series/mail.ts";
import { splitMbox } from "../../src/series/mbox.ts";
import { patchId, portableSha256Hex, useSha256 } from "../../src/series/patchid.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

afterEach(() => useSha256(nodeSha256Hex));

describe("SHA-256 of text", () => {
  it("node:crypto and @noble/hashes agree on any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (s) => {
        expect(nodeSha256Hex(s)).toBe(portableSha256Hex(s));
      }),
      { numRuns: 500 },
    );
    for (const s of ["", "\ud800", "a\udc00b", "\u00e9\u{1f600}", "x".repeat(100_000)])
      expect(nodeSha256Hex(s)).toBe(portableSha256Hex(s));
    expect(portableSha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});

const SLICE = join(SHARED, "archive", "linux-remoteproc-2021-2022.mbox.gz");

describe.skipIf(!sharedAvailable(SLICE))(
  "patch-ids of the real archive slice (skipped when ../shared is absent)",
  () => {
    it("are the same with either implementation", async () => {
      const mails = splitMbox(new Uint8Array(gunzipSync(readFileSync(SLICE))));
      const diffs = [];
      for (const m of mails) {
        const r = await readMail(m);
        if (r.what.kind === "patch") diffs.push(r.what.diff);
      }
      expect(diffs.length).toBe(2402);
      useSha256(nodeSha256Hex);
      const native = diffs.map(patchId);
      useSha256(portableSha256Hex);
      const portable = diffs.map(patchId);
      expect(native.filter((id, i) => id !== portable[i])).toEqual([]);
    }, 120_000);
  },
);
