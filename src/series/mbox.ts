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

/** Offsets of line starts. */
function lineStarts(bytes: Uint8Array): number[] {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a && i + 1 < bytes.length) starts.push(i + 1);
  return starts;
}

function isSeparator(bytes: Uint8Array, at: number): boolean {
  if (!startsWith(bytes, at, FROM)) return false;
  const end = Math.min(bytes.length, at + 120);
  return SEPARATOR.test(latin1(bytes.subarray(at, end)));
}

/** Removes one ">" from lines that read ">From ", ">>From ", … (mboxrd quoting). */
function unquoteFrom(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  let lineStart = true;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (lineStart && b === 0x3e) {
      let j = i;
      while (bytes[j] === 0x3e) j++;
      if (startsWith(bytes, j, FROM)) {
        lineStart = false;
        continue; // drop this ">"
      }
    }
    out.push(b);
    lineStart = b === 0x0a;
  }
  return Uint8Array.from(out);
}

export function splitMbox(bytes: Uint8Array): Uint8Array[] {
  const starts = lineStarts(bytes).filter((at) => isSeparator(bytes, at));
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
    if (!isBlank(body)) messages.push(unquoteFrom(body));
  }
  return messages;
}
