/**
 * parseFileChanges reads the usual git file section without parse-diff's pass over its hunk lines
 * (fastSection in src/series/diff.ts); every other section goes through parse-diff. Both roads must give the
 * same files, or fail with the same message: on every mail of the real archive slice, and on any section
 * made of headers, hunk headers (right, wrong or empty counts) and lines of every kind.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitPatchBody } from "../../src/series/body.ts";
import { DIFF_START, parseFileChanges } from "../../src/series/diff.ts";
import { decodeMail } from "../../src/series/mail.ts";
import { splitMbox } from "../../src/series/mbox.ts";
import { SHARED, sharedAvailable } from "../helpers/shared.ts";

/** The files both roads read, or the message both fail with. */
function road(diff: string, fast: boolean): string {
  try {
    return JSON.stringify(parseFileChanges(diff, fast));
  } catch (e) {
    return `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

const header = fc.constantFrom(
  "diff --git a/x.c b/x.c\nindex 1111111..2222222 100644\n--- a/x.c\n+++ b/x.c",
  "diff --git a/x.c b/x.c\n--- a/x.c\n+++ b/x.c",
  "diff --git a/n.c b/n.c\nnew file mode 100644\nindex 0000000..2222222\n--- /dev/null\n+++ b/n.c",
  "diff --git a/d.c b/d.c\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/d.c\n+++ /dev/null",
  "diff --git a/o.c b/r.c\nsimilarity index 90%\nrename from o.c\nrename to r.c\n--- a/o.c\n+++ b/r.c",
  "diff --git a/m.sh b/m.sh\nold mode 100644\nnew mode 100755\n--- a/m.sh\n+++ b/m.sh",
  "diff --git a/b.bin b/b.bin\nindex 1111111..2222222 100644\nBinary files a/b.bin and b/b.bin differ",
  "diff --git a/q.c b/q.c\n--- a/q.c\t2024-01-01 00:00:00.000000000 +0000\n+++ b/q.c\t2024-01-01 00:00:00.000000000 +0000",
  "diff --git a/x.c b/x.c",
  "diff --git a/x.c b/x.c\nindex 1111111..2222222 100755\n--- a/x.c\n+++ b/x.c",
  'diff --git "a/sp ace.c" "b/sp ace.c"\n--- "a/sp ace.c"\n+++ "b/sp ace.c"',
  "diff --git a/sp ace.c b/sp ace.c\n--- a/sp ace.c\n+++ b/sp ace.c",
  "diff --git a/x.c b/x.c\n--- b/x.c\n+++ a/x.c",
  "diff --git a/c.c b/k.c\nsimilarity index 80%\ncopy from c.c\ncopy to k.c\n--- a/c.c\n+++ b/k.c",
  "diff --git a/o.c b/r.c\ndissimilarity index 60%\nrename from o.c\nrename to r.c\n--- a/o.c\n+++ b/r.c",
  "diff --git a/x.c b/x.c\n--- a/x.c\n+++ /dev/null",
  "diff --git a/x.c b/x.c\nGIT binary patch\nliteral 3\nKcmZ?d0ssI200RI3",
  "diff --git a/x.c b/x.c\nunknown header line\n--- a/x.c\n+++ b/x.c",
  "diff --git a/x.c b/x.c\n---\ta/x.c\n+++\tb/x.c",
  "diff --git i/x.c w/x.c\n--- i/x.c\n+++ w/x.c",
);
const line = fc.constantFrom(
  " context",
  "",
  " ",
  "+added",
  "+",
  "-gone",
  "-",
  "\\ No newline at end of file",
  "\\ Kein Zeilenumbruch am Dateiende.",
  "\\",
  "@@ -1 +1 @@",
  "@@\t-1 +1 @@",
  "--- a/x.c",
  "+++ b/x.c",
  "-- ",
  "diff --git a/y.c b/y.c",
  "text",
);
const counts = fc.constantFrom(
  "-1,2 +1,3",
  "-1 +1",
  "-0,0 +1,2",
  "-3,2 +3,0",
  "-0,0 +0,0",
  "-5,1 +5,1",
  "-1,3 +1,3",
);
const hunk = fc
  .tuple(counts, fc.constantFrom("", " f(void)"), fc.array(line, { maxLength: 6 }))
  .map(([c, f, ls]) => [`@@ ${c} @@${f}`, ...ls].join("\n"));
const section = fc.tuple(header, fc.array(hunk, { maxLength: 3 })).map(([h, hs]) => [h, ...hs].join("\n"));

describe("parseFileChanges, fast and through parse-diff", () => {
  it("agree on any git sections", () => {
    fc.assert(
      fc.property(
        fc.array(section, { minLength: 1, maxLength: 3 }),
        fc.constantFrom("", "\n", "\n-- \n2.47.0\n"),
        (ss, tail) => {
          const diff = ss.join("\n") + tail;
          expect(road(diff, true)).toBe(road(diff, false));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("agree on the well-formed sections of the usual shape (the ones the fast road takes)", () => {
    const body = fc.array(fc.constantFrom(" a", "+b", "-c"), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(header, fc.array(body, { minLength: 1, maxLength: 3 }), fc.boolean(), (h, bodies, eol) => {
        const hunks = bodies.map((b, k) => {
          const old = b.filter((l) => l[0] !== "+").length;
          const neu = b.filter((l) => l[0] !== "-").length;
          return [`@@ -${k * 10 + 1},${old} +${k * 10 + 1},${neu} @@`, ...b].join("\n");
        });
        const diff = `${[h, ...hunks].join("\n")}\n${eol ? "\\ No newline at end of file\n" : ""}`;
        const fast = road(diff, true);
        expect(fast).toBe(road(diff, false));
        if (!h.includes("Binary")) expect(fast.startsWith("error")).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

const SLICE = join(SHARED, "archive", "linux-remoteproc-2021-2022.mbox.gz");
const IN_BODY_FROM = /^From:[ \t]*(.+)\n+/;

describe.skipIf(!sharedAvailable(SLICE))(
  "on the real archive slice (skipped when ../shared is absent)",
  () => {
    it("agree on the diff of every mail that has one", async () => {
      const mails = splitMbox(new Uint8Array(gunzipSync(readFileSync(SLICE))));
      const differ: number[] = [];
      let diffs = 0;
      for (const [i, m] of mails.entries()) {
        let text: string;
        try {
          text = (await decodeMail(m)).text;
        } catch {
          continue;
        }
        if (!DIFF_START.test(text)) continue;
        const inBody = IN_BODY_FROM.exec(text);
        const { diff } = splitPatchBody(inBody ? text.slice(inBody[0].length) : text);
        diffs++;
        if (road(diff, true) !== road(diff, false)) differ.push(i + 1);
      }
      expect(differ).toEqual([]);
      expect(diffs).toBeGreaterThan(2400);
    }, 120_000);
  },
);
