/**
 * The streaming mbox splitter visits only the lines that start with "F": on any mbox (blank lines or none, a
 * separator line, anything, a final line feed) and any chunk sizes it must split exactly as splitMbox splits
 * the whole file.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitMboxStream } from "../../src/index/index.ts";
import { splitMbox } from "../../src/series/index.ts";

const encoder = new TextEncoder();

async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length] as number;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe("splitMboxStream", () => {
  it("splits any mbox as splitMbox does, whatever the chunks", async () => {
    const piece = fc.constantFrom(
      "From a@b Mon Jan  1 00:00:00 2024\n",
      "From a@b Mon Jan 12 ",
      "From x\n",
      ">From a@b Mon Jan  1 00:00:00 2024\n",
      ">>From x\n",
      ">",
      "From ",
      "F",
      "\n",
      "\r\n",
      " ",
      "body text\n",
      "Fx\n",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("", "\n", " \n\r\n"),
        fc.array(piece, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 5 }),
        async (blank, parts, sizes) => {
          // Ends with a line feed: a last separator line without one is read differently (splitMbox takes it
          // as a separator, the stream as text), as before the stream visited only "F" lines.
          const bytes = encoder.encode(`${blank}From a@b Mon Jan  1 00:00:00 2024\n${parts.join("")}\n`);
          const got: Uint8Array[] = [];
          for await (const m of splitMboxStream(chunked(bytes, sizes))) got.push(m);
          expect(got).toEqual(splitMbox(bytes));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("takes a stream that does not start with a separator as one mail, as splitMbox does", async () => {
    const piece = fc.constantFrom(
      "From x\n",
      "Subject: a\n",
      "F",
      "\n",
      "\r\n",
      " ",
      "body\n",
      ">From a@b\n",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("", "\n", " \n\r\n", "\n\n\n\n"),
        fc.constantFrom("Subject: a\n", "From x\n", "text without a line feed"),
        fc.array(piece, { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 4 }),
        async (blank, first, parts, sizes) => {
          const bytes = encoder.encode(`${blank}${first}${parts.join("")}`);
          const got: Uint8Array[] = [];
          for await (const m of splitMboxStream(chunked(bytes, sizes))) got.push(m);
          expect(got).toEqual(splitMbox(bytes));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
