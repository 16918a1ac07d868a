/**
 * mboxrd unquoting (unquoteFromLines) finds its lines by their "F": it must drop exactly the ">" that a
 * straightforward reading drops (one per line that is ">From ", ">>From ", …), on any bytes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { unquoteFromLines } from "../../src/series/mbox.ts";

/** The reading by lines: a line of one or more ">" then "From " loses its first ">". */
function byLines(msg: Uint8Array): Uint8Array {
  const text = String.fromCharCode(...msg);
  const out = text
    .split("\n")
    .map((line) => (/^>+From /.test(line) ? line.slice(1) : line))
    .join("\n");
  return Uint8Array.from(out, (c) => c.charCodeAt(0));
}

const bytesOf = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("unquoteFromLines", () => {
  it("drops one > of each quoted From line, and only those", () => {
    const piece = fc.constantFrom(">", ">>", "From ", "From", "F", "rom ", "\n", "x", " ", "->From ", "\r\n");
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const msg = bytesOf(parts.join(""));
        expect([...unquoteFromLines(msg)]).toEqual([...byLines(msg)]);
      }),
      { numRuns: 2000 },
    );
  });

  it("returns the message itself when nothing is quoted", () => {
    const msg = bytesOf("From x\n> From y\nFrom z\n-> From\n");
    expect(unquoteFromLines(msg)).toBe(msg);
    expect(String.fromCharCode(...unquoteFromLines(bytesOf(">From a\n>>From b\nx>From c\n")))).toBe(
      "From a\n>From b\nx>From c\n",
    );
  });
});
