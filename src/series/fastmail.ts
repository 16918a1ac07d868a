/**
 * A fast path for the commonest list mail, a single text/plain part, 7bit, 8bit, quoted-printable or base64, in
 * UTF-8, ASCII, Latin-1 or another charset of the Encoding Standard that postal-mime decodes with the runtime's
 * TextDecoder as labelled (windows-125x, ISO 8859, GBK, ISO-2022-JP…), with plain ASCII headers: read the few
 * headers the index needs and decode the body directly, as postal-mime would, without its Blob round trips
 * (encoded words in UTF-8 or Latin-1, format=flowed and a quoted display name included). Anything else (MIME
 * parts, a charset the runtime lacks, 8-bit headers, escapes in a quoted or grouped From, a body whose
 * Content-Disposition makes it an attachment) returns null and goes through postal-mime. src/series/mail.ts is
 * the one caller; a test on the real archive slice checks that both roads read the same.
 */

export interface FastMail {
  subject: string;
  messageId: string;
  inReplyTo: string;
  references: string;
  from: { name: string; address: string } | null;
  /** The Date header as ISO 8601 when parseable, else as written. */
  date: string;
  /** The Date header as ISO 8601, or null when it has none or it does not parse. */
  isoDate: string | null;
  text: string;
  /** Whether the mail has a From, Subject, Date or Message-ID header. */
  isMail: boolean;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const DECODERS: Record<string, TextDecoder> = {
  "utf-8": new TextDecoder("utf-8"),
  utf8: new TextDecoder("utf-8"),
  "us-ascii": new TextDecoder("utf-8"),
  "iso-8859-1": new TextDecoder("iso-8859-1"),
  latin1: new TextDecoder("iso-8859-1"),
};
/**
 * Body charsets beyond DECODERS, by label as postal-mime's getDecoder takes them: labels of the Encoding
 * Standard, each decoded by `new TextDecoder(label)` there too. Made on first use; a runtime without one
 * (a Workers build without the legacy encodings) leaves the mail to postal-mime.
 */
const BODY_CHARSETS = new Set([
  ...["windows-1250", "windows-1251", "windows-1252", "windows-1253", "windows-1254", "windows-1257"],
  ...["iso-8859-2", "iso-8859-5", "iso-8859-7", "iso-8859-15", "koi8-r", "koi8-u"],
  ...["gbk", "gb2312", "gb18030", "big5", "shift_jis", "euc-jp", "iso-2022-jp", "euc-kr"],
]);
const bodyDecoders = new Map<string, TextDecoder | null>();

function bodyDecoder(label: string): TextDecoder | null {
  const known = DECODERS[label];
  if (known !== undefined) return known;
  if (!BODY_CHARSETS.has(label)) return null;
  let d = bodyDecoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      d = null;
    }
    bodyDecoders.set(label, d);
  }
  return d;
}

const BASE64_VALUE = new Int16Array(128).fill(-1);
for (const [i, c] of [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"].entries())
  BASE64_VALUE[c.charCodeAt(0)] = i;

/**
 * A base64 body to bytes as postal-mime's Base64Decoder reads it: every byte that is not a base64 letter or
 * "=" dropped; each run of "=" ends a unit, and each unit is decoded alone (a trailing group of one letter
 * carries no byte, of two or three letters one or two bytes).
 */
function decodeBase64Body(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((src.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let have = 0;
  const endUnit = (): void => {
    // A unit's last group: 2 letters give 1 byte, 3 give 2; 1 gives none.
    if (have === 2) out[n++] = (acc >> 4) & 0xff;
    else if (have === 3) {
      out[n++] = (acc >> 10) & 0xff;
      out[n++] = (acc >> 2) & 0xff;
    }
    acc = 0;
    have = 0;
  };
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b === 0x3d) {
      endUnit();
      continue;
    }
    const v = b < 128 ? (BASE64_VALUE[b] as number) : -1;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    if (++have === 4) {
      out[n++] = (acc >> 16) & 0xff;
      out[n++] = (acc >> 8) & 0xff;
      out[n++] = acc & 0xff;
      acc = 0;
      have = 0;
    }
  }
  endUnit();
  return out.subarray(0, n);
}

const WANTED = new Set([
  "subject",
  "message-id",
  "in-reply-to",
  "references",
  "from",
  "date",
  "content-type",
  "content-disposition",
]);
/** The lengths of the wanted names and of content-transfer-encoding: a name of another length is not read. */
const WANTED_LENGTHS = new Set([...WANTED, "content-transfer-encoding"].map((n) => n.length));
const SIMPLE_FROM = /^([^"<>,;:=()\\]*?)\s*<([^<>\s"]+@[^<>\s"]+)>$|^([^<>\s"@,]+@[^<>\s",]+)$/;

/** A quoted display name without escapes: `"Peng Fan (OSS)" <peng.fan@example.com>`. */
const QUOTED_FROM = /^"([^"\\]*)"\s*<([^<>\s"]+@[^<>\s"]+)>$/;

/**
 * format=flowed text (RFC 3676) as postal-mime reads it: one leading space of each line is stuffing; a line
 * ending in a space goes on in the next (without that space when delsp=yes), except the signature line "-- ".
 */
function unflow(text: string, delSp: boolean): string {
  const out: string[] = [];
  let current = "";
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.startsWith(" ")) line = line.slice(1);
    if (i > 0) {
      if (current.endsWith(" ") && current !== "-- ") {
        if (delSp) current = current.slice(0, -1);
      } else {
        out.push(current, "\n");
        current = "";
      }
    }
    current += line;
  }
  out.push(current);
  return out.join("");
}

const NON_ASCII = /[\u0080-\uffff]/;
/** A carriage return neither before a line feed nor the last of the header block (CRLF mail ends it "\\n\\r"). */
const LONE_CR = /\r(?!\n|$)/;

const ENCODED_WORD = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Quoted-printable to bytes: "=XX" escapes and "=" soft line breaks. */
function decodeQuotedPrintable(src: Uint8Array): Uint8Array {
  const out = new Uint8Array(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    if (b !== 0x3d) {
      out[n++] = b;
      continue;
    }
    const h = hexValue(src[i + 1] ?? 0);
    const l = hexValue(src[i + 2] ?? 0);
    if (h >= 0 && l >= 0) {
      out[n++] = h * 16 + l;
      i += 2;
    } else if (src[i + 1] === 0x0a) i += 1;
    else if (src[i + 1] === 0x0d && src[i + 2] === 0x0a) i += 2;
    else out[n++] = b;
  }
  return out.subarray(0, n);
}

/** RFC 2047 encoded words (Q and B) in a header value; null for a charset without a decoder. */
function decodeWords(value: string): string | null {
  if (!value.includes("=?")) return value;
  let failed = false;
  const joined = value.replace(/(\?=)\s+(?==\?)/g, "$1");
  const decoded = joined.replace(ENCODED_WORD, (_, cs: string, enc: string, text: string) => {
    const decoder = DECODERS[cs.toLowerCase()];
    if (decoder === undefined) {
      failed = true;
      return "";
    }
    let bytes: Uint8Array;
    if (enc === "B" || enc === "b") {
      try {
        bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
      } catch {
        failed = true;
        return "";
      }
    } else {
      bytes = decodeQuotedPrintable(new TextEncoder().encode(text.replace(/_/g, " ")));
    }
    return decoder.decode(bytes);
  });
  return failed ? null : decoded;
}

function headerEnd(bytes: Uint8Array): number {
  for (let i = bytes.indexOf(0x0a); i >= 0 && i + 1 < bytes.length; i = bytes.indexOf(0x0a, i + 1)) {
    if (bytes[i + 1] === 0x0a) return i + 1;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === 0x0a) return i + 2;
  }
  return -1;
}

export function fastParse(bytes: Uint8Array): FastMail | null {
  const end = headerEnd(bytes);
  if (end < 0) return null;
  let head: string;
  try {
    head = strictUtf8.decode(bytes.subarray(0, end));
  } catch {
    return null; // 8-bit headers that are not UTF-8
  }
  // A carriage return that does not end a line breaks it for some readers (a multiline "^" matches after
  // it): postal-mime decides. (mail.ts relies on this: a mail taken here is not multipart by any reading.)
  if (head.includes("\r") && LONE_CR.test(head)) return null;
  const fields = new Map<string, string>();
  let name = "";
  let qp = false;
  let b64 = false;
  // Line by line without splitting the block: most of a list mail's header lines (Received, DKIM, ARC, X-…)
  // are not wanted, and a name with no white space at its ends is compared without trim or allocation.
  for (let at = 0; at < head.length; ) {
    const start = at;
    const nl = head.indexOf("\n", at);
    let end = nl < 0 ? head.length : nl;
    at = end + 1;
    if (end > start && head.charCodeAt(end - 1) === 0x0d) end--;
    if (end === start) continue;
    const first = head.charCodeAt(start);
    if (first === 0x20 || first === 0x09) {
      if (name !== "" && fields.has(name))
        fields.set(name, `${fields.get(name)} ${head.slice(start, end).trim()}`);
      continue;
    }
    const colon = head.indexOf(":", start);
    if (colon <= start || colon >= end) return null;
    const last = head.charCodeAt(colon - 1);
    if (first > 0x20 && first < 0x7f && last > 0x20 && last < 0x7f) {
      // No white space at either end: the name is head[start, colon) as written.
      if (!WANTED_LENGTHS.has(colon - start)) {
        name = "";
        continue;
      }
      name = head.slice(start, colon).toLowerCase();
    } else name = head.slice(start, colon).trim().toLowerCase();
    if (name === "content-transfer-encoding") {
      const cte = head
        .slice(colon + 1, end)
        .trim()
        .toLowerCase();
      if (cte !== "7bit" && cte !== "8bit" && cte !== "quoted-printable" && cte !== "base64") return null;
      qp = cte === "quoted-printable";
      b64 = cte === "base64";
      name = "";
      continue;
    }
    if (!WANTED.has(name)) continue;
    if (fields.has(name)) return null; // repeated header: let postal-mime decide which one counts
    fields.set(name, head.slice(colon + 1, end).trim());
  }
  const ct = fields.get("content-type");
  let charset = "us-ascii";
  let flowed = false;
  let delSp = false;
  if (ct !== undefined) {
    const parts = ct
      .toLowerCase()
      .split(";")
      .map((p) => p.trim());
    if (parts[0] !== "text/plain") return null;
    for (const p of parts.slice(1)) {
      if (p === "") continue;
      const m = /^(charset|format|delsp)="?([^"]*)"?$/.exec(p);
      if (m === null) return null;
      const value = m[2] as string;
      if (m[1] === "charset") {
        if (bodyDecoder(value) === null) return null;
        charset = value;
      } else if (m[1] === "format") {
        if (value !== "flowed" && value !== "fixed") return null;
        flowed = value === "flowed";
      } else {
        if (value !== "yes" && value !== "no") return null;
        delSp = value === "yes";
      }
    }
  }
  // postal-mime reads a body whose disposition is "attachment" as an attachment, not as the text.
  const disposition = fields.get("content-disposition");
  if (disposition !== undefined && /^\s*attachment\b/i.test(disposition)) return null;
  const subject = decodeWords(fields.get("subject") ?? "");
  const rawFrom = fields.get("from");
  const fromValue = rawFrom === undefined ? undefined : decodeWords(rawFrom);
  if (subject === null || fromValue === null) return null;
  let from: FastMail["from"] = null;
  if (fromValue !== undefined) {
    const quoted = rawFrom?.includes("=?") ? null : QUOTED_FROM.exec(fromValue);
    const m = quoted ?? SIMPLE_FROM.exec(fromValue);
    if (m === null) return null;
    const address = (m[3] ?? m[2]) as string;
    const name = m[3] !== undefined ? "" : (m[1] ?? "").trim();
    // As postal-mime: a display name that repeats the address is no name.
    from = { name: name === address ? "" : name, address };
  }
  const raw = bytes.subarray(end + 1);
  const body = qp ? decodeQuotedPrintable(raw) : b64 ? decodeBase64Body(raw) : raw;
  const decoded = (bodyDecoder(charset) as TextDecoder).decode(body);
  // 8-bit bytes under an ASCII label (us-ascii decodes as UTF-8 here, so any byte >= 0x80 gives a character
  // >= U+0080, a sequence's or U+FFFD): the charset repair and postal-mime decide.
  if (charset === "us-ascii" && NON_ASCII.test(decoded)) return null;
  const dateValue = fields.get("date") ?? "";
  const parsed = Date.parse(dateValue);
  const isoDate = Number.isNaN(parsed) ? null : new Date(parsed).toISOString();
  return {
    subject,
    messageId: fields.get("message-id") ?? "",
    inReplyTo: fields.get("in-reply-to") ?? "",
    references: fields.get("references") ?? "",
    from,
    date: isoDate ?? dateValue,
    isoDate,
    text: flowed ? unflow(decoded, delSp) : decoded,
    isMail: ["from", "subject", "date", "message-id"].some((h) => fields.has(h)),
  };
}
