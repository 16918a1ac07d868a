/**
 * Splits an mbox (mboxo/mboxrd, git format-patch --stdout, public-inbox) into its messages, byte for
 * byte, so that each message keeps its own charset. A file without a "From " separator line is one
 * message (a plain .eml).
 */

const FROM = [0x46, 0x72, 0x6f, 0x6d, 0x20]; // "From "
const SEPARATOR = /^From \S+ +[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} /;
const latin1 = (bytes: Uint8Array): string => String.fromCharCode(...bytes);

function startsWith(bytes: Uint8Array, at: number, prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/** True when the bytes are only spaces, tabs and line breaks (an empty file). */
export function isBlank(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d);
}

function isSeparator(bytes: Uint8Array, at: number): boolean {
  if (!startsWith(bytes, at, FROM)) return false;
  const end = Math.min(bytes.length, at + 120);
  return SEPARATOR.test(latin1(bytes.subarray(at, end)));
}

/**
 * Removes one ">" from lines that read ">From ", ">>From ", … (mboxrd quoting); returns `msg` itself when
 * there are none. Only the "F" bytes are visited one by one (far fewer than the ">" of quoted replies and of
 * C's "->"), so a large message costs one indexOf pass: an "F" that starts "From " after a run of ">" that
 * starts a line marks such a line.
 */
export function unquoteFromLines(msg: Uint8Array): Uint8Array {
  const drop: number[] = [];
  for (let f = msg.indexOf(0x46, 1); f >= 0; f = msg.indexOf(0x46, f + 1)) {
    if (msg[f - 1] !== 0x3e || !startsWith(msg, f, FROM)) continue;
    let i = f - 1;
    while (i > 0 && msg[i - 1] === 0x3e) i--;
    if (i === 0 || msg[i - 1] === 0x0a) drop.push(i);
  }
  if (drop.length === 0) return msg;
  const out = new Uint8Array(msg.length - drop.length);
  let from = 0;
  let n = 0;
  for (const at of drop) {
    out.set(msg.subarray(from, at), n);
    n += at - from;
    from = at + 1; // drop this ">"
  }
  out.set(msg.subarray(from), n);
  return out;
}

/** Offsets of the separator lines ("From <addr> <date>") of an mbox: one indexOf per line. */
function separators(bytes: Uint8Array): number[] {
  const starts: number[] = [];
  for (let at = 0; at < bytes.length; ) {
    if (bytes[at] === 0x46 && isSeparator(bytes, at)) starts.push(at);
    const nl = bytes.indexOf(0x0a, at);
    if (nl < 0) break;
    at = nl + 1;
  }
  return starts;
}

export function splitMbox(bytes: Uint8Array): Uint8Array[] {
  const starts = separators(bytes);
  if (starts.length === 0 || !isBlank(bytes.subarray(0, starts[0] as number))) {
    // Not an mbox (or text before the first separator): one message.
    return bytes.length === 0 ? [] : [bytes];
  }
  const messages: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const from = starts[k] as number;
    const to = k + 1 < starts.length ? (starts[k + 1] as number) : bytes.length;
    const lineEnd = bytes.indexOf(0x0a, from);
    const body = bytes.subarray(lineEnd < 0 || lineEnd >= to ? to : lineEnd + 1, to);
    if (!isBlank(body)) messages.push(unquoteFromLines(body));
  }
  return messages;
}
