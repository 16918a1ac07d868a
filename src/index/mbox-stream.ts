/**
 * Splits an mbox that arrives in chunks into its messages, one at a time, without holding more than the
 * message being read plus one chunk. Same rules as src/series/mbox.ts (splitMbox): "From " separator lines
 * with a date, mboxrd ">From " unquoting, and a stream that does not start with a separator is one message.
 * Each chunk is scanned once where it lies: a message inside one chunk is copied out of it once, and only
 * the piece of a message (and the incomplete line) that reaches past a chunk's end is kept over to the next.
 */

import { unquoteFromLines } from "../series/mbox.ts";

const LF = 0x0a;
const F = 0x46;
const SEPARATOR = /^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} /;
const EMPTY = new Uint8Array(0);

/** Counters a caller can read while or after splitting (memory bound, throughput). */
export interface SplitStats {
  /** Bytes read from the stream. */
  bytes: number;
  messages: number;
  /** Largest number of bytes held at once (pending message + last chunk). */
  maxBuffered: number;
}

function isSeparatorLine(buf: Uint8Array, at: number, end: number): boolean {
  if (buf[at] !== F || buf[at + 1] !== 0x72 || buf[at + 2] !== 0x6f || buf[at + 3] !== 0x6d) return false;
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
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The bytes of `parts` followed by `last`, in one new array. */
function joined(parts: readonly Uint8Array[], size: number, last: Uint8Array): Uint8Array {
  const out = new Uint8Array(size + last.length);
  let n = 0;
  for (const p of parts) {
    out.set(p, n);
    n += p.length;
  }
  out.set(last, n);
  return out;
}

/**
 * Yields each message of an mbox stream (bytes after its separator line, unquoted; each its own copy, never
 * a view of a chunk). A stream whose first non-blank line is not a separator is one message (a plain .eml).
 */
export async function* splitMboxStream(
  chunks: AsyncIterable<Uint8Array>,
  stats: SplitStats = { bytes: 0, messages: 0, maxBuffered: 0 },
): AsyncGenerator<Uint8Array> {
  let mode: "unknown" | "mbox" | "single" = "unknown";
  /**
   * Bytes kept from earlier chunks (copies): in "mbox" mode the current message's, up to `line`; in the
   * other modes every byte read so far (a plain mail is the whole stream).
   */
  let parts: Uint8Array[] = [];
  let partsSize = 0;
  /** The incomplete last line of the earlier chunks (not examined yet; in "mbox" mode after `parts`). */
  let line: Uint8Array = EMPTY;
  /**
   * Whether the current message may hold a quoted ">From " line: an "F" after a ">" was seen in it (every
   * "F" of a chunk is visited for the separators anyway). Without one, unquoteFromLines would change nothing.
   */
  let quoted = false;
  const keep = (bytes: Uint8Array): void => {
    if (bytes.length === 0) return;
    parts.push(bytes);
    partsSize += bytes.length;
  };
  /** The message `parts` + `last` (unquoted if it may need it), or null when it is blank. */
  const message = (last: Uint8Array, unquote = quoted): Uint8Array | null => {
    const whole = parts.length === 0 ? last.slice() : joined(parts, partsSize, last);
    parts = [];
    partsSize = 0;
    quoted = false;
    if (isBlankRange(whole, 0, whole.length)) return null;
    stats.messages++;
    return unquote ? unquoteFromLines(whole) : whole;
  };
  /** Notes a ">" before an "F" in bytes (a line that began in an earlier chunk, completed). */
  const scanQuoted = (bytes: Uint8Array): void => {
    for (let f = bytes.indexOf(F, 1); f >= 0 && !quoted; f = bytes.indexOf(F, f + 1))
      if (bytes[f - 1] === 0x3e) quoted = true;
  };
  /** In "unknown" mode: the mode a complete line [at, nl) of buf decides, or "unknown" for a blank one. */
  const decide = (buf: Uint8Array, at: number, nl: number): typeof mode =>
    isBlankRange(buf, at, nl) ? "unknown" : isSeparatorLine(buf, at, nl) ? "mbox" : "single";
  for await (const chunk of chunks) {
    stats.bytes += chunk.length;
    const held = partsSize + line.length + chunk.length;
    if (held > stats.maxBuffered) stats.maxBuffered = held;
    if (mode === "single") {
      keep(chunk.slice());
      continue;
    }
    /** Line start to scan from in chunk; start of the current message's bytes in chunk (mbox mode). */
    let pos = 0;
    let msgStart = 0;
    if (line.length > 0) {
      // The line that began in an earlier chunk: complete it (it is short), then judge it whole.
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        line = concat(line, chunk);
        continue;
      }
      const full = concat(line, chunk.subarray(0, nl + 1));
      line = EMPTY;
      pos = nl + 1;
      if (mode === "unknown") {
        mode = decide(full, 0, full.length - 1);
        if (mode === "mbox") {
          parts = [];
          partsSize = 0;
          msgStart = pos;
        } else keep(full.subarray(0, full.length - pos));
        if (mode === "single") {
          keep(chunk.slice());
          continue;
        }
      } else if (isSeparatorLine(full, 0, full.length - 1)) {
        const msg = message(EMPTY);
        if (msg !== null) yield msg;
        msgStart = pos;
      } else {
        scanQuoted(full);
        keep(full.subarray(0, full.length - pos));
        msgStart = 0;
      }
    }
    while (mode === "unknown") {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) break;
      mode = decide(chunk, pos, nl);
      if (mode === "mbox") {
        parts = [];
        partsSize = 0;
        msgStart = nl + 1;
      }
      if (mode !== "single") pos = nl + 1;
    }
    if (mode === "single") {
      keep(chunk.slice());
      continue;
    }
    if (mode === "unknown") {
      // Only blank lines so far (kept: a plain mail is the whole stream), and perhaps an incomplete line.
      keep(chunk.slice(0, pos));
      line = chunk.slice(pos);
      continue;
    }
    // Only a line that starts with "F" can be a separator: visit those (an "F" after a line feed, or at pos,
    // which is always a line start), not every line; an "F" after a ">" marks the message as quoted.
    for (let f = chunk.indexOf(F, pos); f >= 0; f = chunk.indexOf(F, f + 1)) {
      if (f !== pos && chunk[f - 1] !== LF) {
        if (chunk[f - 1] === 0x3e) quoted = true;
        continue;
      }
      const nl = chunk.indexOf(LF, f);
      if (nl < 0) break; // its line is not complete yet (carried over, and scanned whole then)
      if (isSeparatorLine(chunk, f, nl)) {
        const msg = message(chunk.subarray(msgStart, f));
        if (msg !== null) yield msg;
        msgStart = nl + 1;
      }
      pos = nl + 1;
    }
    // What the next chunk needs: the current message's bytes up to the last line start, and that line.
    const lineStart = Math.max(pos, chunk.lastIndexOf(LF) + 1);
    keep(chunk.slice(msgStart, lineStart));
    line = chunk.slice(lineStart);
  }
  if (mode === "mbox") {
    // The last line may not have been visited whole: unquote unconditionally.
    const last = message(line, true);
    if (last !== null) yield last;
    return;
  }
  // A plain mail (or a stream of blank lines and at most one line without a line feed): splitMbox's rule,
  // one message unless that line is a separator.
  if (mode === "unknown" && isSeparatorLine(line, 0, line.length)) return;
  keep(line);
  const all = message(EMPTY, false);
  if (all !== null) yield all;
}
