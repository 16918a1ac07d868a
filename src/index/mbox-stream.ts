/**
 * Splits an mbox that arrives in chunks into its messages, one at a time, without holding more than the
 * message being read plus one chunk. Same rules as src/series/mbox.ts (splitMbox): "From " separator lines
 * with a date, mboxrd ">From " unquoting, and a stream that does not start with a separator is one message.
 */

import { unquoteFromLines } from "../series/mbox.ts";

const LF = 0x0a;
const SEPARATOR = /^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} /;

/** Counters a caller can read while or after splitting (memory bound, throughput). */
export interface SplitStats {
  /** Bytes read from the stream. */
  bytes: number;
  messages: number;
  /** Largest number of bytes held at once (pending message + last chunk). */
  maxBuffered: number;
}

function isSeparatorLine(buf: Uint8Array, at: number, end: number): boolean {
  if (buf[at] !== 0x46 || buf[at + 1] !== 0x72 || buf[at + 2] !== 0x6f || buf[at + 3] !== 0x6d) return false;
  if (buf[at + 4] !== 0x20) return false;
  const stop = Math.min(end, at + 120);
  let s = "";
  for (let i = at; i < stop; i++) s += String.fromCharCode(buf[i] as number);
  return SEPARATOR.test(s);
}

function isBlankRange(buf: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const b = buf[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return false;
  }
  return true;
}

export { unquoteFromLines };

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Yields each message of an mbox stream (bytes after its separator line, unquoted). A stream whose first
 * non-blank line is not a separator is one message (a plain .eml).
 */
export async function* splitMboxStream(
  chunks: AsyncIterable<Uint8Array>,
  stats: SplitStats = { bytes: 0, messages: 0, maxBuffered: 0 },
): AsyncGenerator<Uint8Array> {
  let buf: Uint8Array = new Uint8Array(0);
  /** Start of the current message in buf; -1 before the first separator. */
  let msgStart = -1;
  /** Next line start to examine. */
  let pos = 0;
  let mode: "unknown" | "mbox" | "single" = "unknown";
  const emit = (to: number): Uint8Array | null => {
    if (msgStart < 0 || isBlankRange(buf, msgStart, to)) return null;
    stats.messages++;
    return unquoteFromLines(buf.slice(msgStart, to));
  };
  for await (const chunk of chunks) {
    stats.bytes += chunk.length;
    buf = concat(buf, chunk);
    if (buf.length > stats.maxBuffered) stats.maxBuffered = buf.length;
    if (mode === "single") continue;
    while (mode === "unknown") {
      const nl = buf.indexOf(LF, pos);
      if (nl < 0) break;
      if (!isBlankRange(buf, pos, nl)) mode = isSeparatorLine(buf, pos, nl) ? "mbox" : "single";
      if (mode === "mbox") msgStart = nl + 1;
      if (mode !== "single") pos = nl + 1;
    }
    if (mode === "single") continue;
    // Only a line that starts with "F" can be a separator: visit those (an "F" after a line feed, or at pos,
    // which is always a line start), not every line.
    while (mode === "mbox") {
      let at = pos < buf.length && buf[pos] === 0x46 ? pos : -1;
      for (let f = buf.indexOf(0x46, pos + 1); at < 0 && f >= 0; f = buf.indexOf(0x46, f + 1))
        if (buf[f - 1] === LF) at = f;
      if (at < 0) {
        // No candidate left: the next line to examine starts after the last line feed.
        pos = Math.max(pos, buf.lastIndexOf(LF) + 1);
        break;
      }
      const nl = buf.indexOf(LF, at);
      if (nl < 0) {
        pos = at; // its line is not complete yet
        break;
      }
      if (isSeparatorLine(buf, at, nl)) {
        const msg = emit(at);
        if (msg !== null) yield msg;
        msgStart = nl + 1;
      }
      pos = nl + 1;
    }
    // Drop what no later message needs: everything before the current message (or the current line).
    const keep = msgStart >= 0 ? Math.min(msgStart, pos) : pos;
    if (keep > 0) {
      buf = buf.slice(keep);
      pos -= keep;
      if (msgStart >= 0) msgStart -= keep;
    }
  }
  if (mode === "single") {
    if (!isBlankRange(buf, 0, buf.length)) {
      stats.messages++;
      yield buf;
    }
    return;
  }
  const last = emit(buf.length);
  if (last !== null) yield last;
}
