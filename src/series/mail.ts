/**
 * The one reader of patch mails: `series` (ingest.ts), the archive index (src/index) and the mail intake's
 * cheap checks read a mail through here, so they agree on what a mail is (a cover letter, a patch, a reply,
 * a mail without a diff) and on what it says.
 *
 * Order of work, cheapest first: a look at the raw header block (Message-ID for duplicate checks, before
 * anything is decoded); bounds on the raw bytes (lines, changed lines, MIME parts), so that a mail too large
 * to be a patch is refused in one pass over its bytes; then the decode (a fast path for single-part plain
 * text, else postal-mime with its depth and header limits); then the diff, read by its hunks' counts. A mail
 * too small for the line bounds that the fast path takes is decoded without the precheck, which could only
 * refuse it for MIME parts it does not have.
 */
import PostalMime, { type Email } from "postal-mime";
import { isUserError } from "../errors.ts";
import { parsePerson, splitPatchBody } from "./body.ts";
import { repairCharset } from "./charset.ts";
import { DIFF_START, type ParsedDiff, parseFileChanges } from "./diff.ts";
import { type FastMail, fastParse } from "./fastmail.ts";
import { parseSubject, type SubjectInfo } from "./subject.ts";
import type { Person } from "./types.ts";

/** Bounds on one mail, checked on its raw bytes before it is decoded. */
export interface MailLimits {
  /** Added plus deleted lines of one patch. Default 20 000. */
  maxChangedLinesPerPatch: number;
  /** Lines of one mail. Default 100 000 (the largest of 21,439 linux-remoteproc mails has 7,168). */
  maxLinesPerMail: number;
  /** MIME parts of one mail (boundary lines). Default 200. */
  maxMimeParts: number;
}

export const DEFAULT_MAIL_LIMITS: MailLimits = {
  maxChangedLinesPerPatch: 20_000,
  maxLinesPerMail: 100_000,
  maxMimeParts: 200,
};

/** postal-mime's own bounds: nesting depth, header bytes, inline message/rfc822 depth. */
const POSTAL_MIME_OPTIONS = { maxNestingDepth: 16, maxHeadersSize: 512 * 1024, maxRfc822NestingDepth: 2 };
/** Header bytes looked at by peekHeaders. */
const MAX_PEEK = 512 * 1024;

const LF = 0x0a;
const latin1 = new TextDecoder("latin1");

/** End of the header block (index of the blank line's first byte), or -1. */
function headerEnd(bytes: Uint8Array, max: number): number {
  if (bytes[0] === LF) return 0;
  if (bytes[0] === 0x0d && bytes[1] === LF) return 0;
  const stop = Math.min(bytes.length, max);
  for (let i = bytes.indexOf(LF); i >= 0 && i + 1 < stop; i = bytes.indexOf(LF, i + 1)) {
    if (bytes[i + 1] === LF) return i + 1;
    if (bytes[i + 1] === 0x0d && bytes[i + 2] === LF) return i + 1;
  }
  return -1;
}

/**
 * The raw header fields of a mail (first occurrence of each, names in lower case, folded lines joined,
 * nothing decoded), read from at most 512 KiB; for labels and duplicate checks before any parse.
 */
export function peekHeaders(bytes: Uint8Array): Map<string, string> {
  const end = headerEnd(bytes, MAX_PEEK);
  const head = latin1.decode(bytes.subarray(0, end < 0 ? Math.min(bytes.length, MAX_PEEK) : end));
  const fields = new Map<string, string>();
  for (const m of head.replace(/\r?\n[ \t]+/g, " ").matchAll(/^([!-9;-~]+)[ \t]*:[ \t]*(.*)$/gm)) {
    const name = (m[1] as string).toLowerCase();
    if (!fields.has(name)) fields.set(name, (m[2] as string).trim());
  }
  return fields;
}

const ids = (value: string | undefined): string[] =>
  [...(value ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);

/** The Message-ID of a raw mail, without angle brackets; "" when it has none. */
export function peekMessageId(bytes: Uint8Array): string {
  const raw = peekHeaders(bytes).get("message-id") ?? "";
  return ids(raw)[0] ?? raw.trim();
}

/**
 * Why a mail is refused before it is decoded, or null: one pass over its bytes counts its lines, the lines
 * that can only be changed lines of a diff (after the first hunk header), and its MIME boundary lines.
 */
export function precheckMail(bytes: Uint8Array, limits: MailLimits = DEFAULT_MAIL_LIMITS): string | null {
  // A mail of n bytes has at most n lines; a changed line is a "+" or "-" and, but for the last line, a line
  // feed, so it has at most (n + 1) / 2 of them; a single-part mail has no boundary lines. One too small to
  // exceed a bound needs no pass over its bytes (most list mail is a few KiB, patches a few dozen).
  if (withinLineBounds(bytes, limits) && !isMultipart(bytes)) return null;
  return countedRefusal(bytes, limits);
}

/** Whether a mail is too small to exceed maxLinesPerMail or maxChangedLinesPerPatch (see precheckMail). */
const withinLineBounds = (bytes: Uint8Array, limits: MailLimits): boolean =>
  bytes.length + 1 <= limits.maxLinesPerMail && bytes.length + 1 <= 2 * limits.maxChangedLinesPerPatch;

const MULTIPART = Uint8Array.from("multipart", (c) => c.charCodeAt(0));

/** Whether "multipart/" (any case) occurs in bytes[0, end): its "/" bytes are visited, not every byte. */
function mentionsMultipart(bytes: Uint8Array, end: number): boolean {
  for (let i = bytes.indexOf(0x2f, MULTIPART.length); i >= 0 && i < end; i = bytes.indexOf(0x2f, i + 1)) {
    let k = 0;
    while (k < MULTIPART.length && ((bytes[i - MULTIPART.length + k] as number) | 0x20) === MULTIPART[k]) k++;
    if (k === MULTIPART.length) return true;
  }
  return false;
}

/** Whether the mail's own Content-Type is multipart (the header block only). */
function isMultipart(bytes: Uint8Array): boolean {
  const end = headerEnd(bytes, MAX_PEEK);
  const stop = end < 0 ? Math.min(bytes.length, MAX_PEEK) : end;
  // Most headers do not say "multipart/" at all: no need to decode them for the exact test.
  if (!mentionsMultipart(bytes, stop)) return false;
  const head = latin1.decode(bytes.subarray(0, stop));
  return /^content-type:[ \t]*(?:\r?\n[ \t]+)?multipart\//im.test(head);
}

/** precheckMail's pass over every line (exported for the test that holds its shortcut to it). */
export function countedRefusal(bytes: Uint8Array, limits: MailLimits): string | null {
  const boundaries = isMultipart(bytes) ? boundariesOf(bytes) : [];
  let lines = 0;
  let changed = 0;
  let parts = 0;
  let inDiff = false;
  for (let at = 0; at < bytes.length; ) {
    const nl = bytes.indexOf(LF, at);
    const end = nl < 0 ? bytes.length : nl;
    lines++;
    const c = bytes[at];
    if (c === 0x40 && bytes[at + 1] === 0x40 && bytes[at + 2] === 0x20) inDiff = true;
    else if (inDiff && (c === 0x2b || c === 0x2d) && !isFileOrSignatureLine(bytes, at, end)) changed++;
    if (
      c === 0x2d &&
      bytes[at + 1] === 0x2d &&
      boundaries.length > 0 &&
      isBoundary(bytes, at + 2, boundaries)
    )
      parts++;
    at = end + 1;
  }
  if (changed > limits.maxChangedLinesPerPatch)
    return `patch too large: ${changed} changed lines (limit ${limits.maxChangedLinesPerPatch})`;
  if (lines > limits.maxLinesPerMail)
    return `mail too large: ${lines} lines (limit ${limits.maxLinesPerMail})`;
  if (parts > limits.maxMimeParts) return `too many MIME parts: ${parts} (limit ${limits.maxMimeParts})`;
  return null;
}

/** "--- x", "+++ x" (file headers) and "--", "-- " (a signature) are not changed lines. */
function isFileOrSignatureLine(bytes: Uint8Array, at: number, end: number): boolean {
  const c = bytes[at];
  if (bytes[at + 1] !== c) return false;
  if (
    end - at === 2 ||
    (bytes[at + 2] === 0x20 && end - at === 3) ||
    (end - at === 3 && bytes[at + 2] === 0x0d)
  )
    return c === 0x2d;
  return bytes[at + 2] === c && bytes[at + 3] === 0x20;
}

/** The distinct MIME boundaries a mail declares (at most 64), as bytes. */
function boundariesOf(bytes: Uint8Array): Uint8Array[] {
  const text = latin1.decode(bytes);
  const found = new Set<string>();
  for (const m of text.matchAll(/\bboundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))/gi)) {
    found.add((m[1] ?? m[2]) as string);
    if (found.size >= 64) break;
  }
  return [...found].map((b) => Uint8Array.from(b, (ch) => ch.charCodeAt(0) & 0xff));
}

function isBoundary(bytes: Uint8Array, at: number, boundaries: readonly Uint8Array[]): boolean {
  return boundaries.some((b) => {
    for (let i = 0; i < b.length; i++) if (bytes[at + i] !== b[i]) return false;
    return true;
  });
}

/** What the readers use of a decoded mail. */
export interface DecodedMail {
  /** Decoded, runs of white space as one space. */
  subject: string;
  /** Without angle brackets; "" when the mail has none. */
  messageId: string;
  inReplyTo: string | null;
  references: string[];
  from: Person | null;
  /** ISO 8601, or null when the mail has no parseable date. */
  date: string | null;
  /** The plain text (line breaks as "\n"), with patches sent as text attachments appended. */
  text: string;
  /** HTML without plain text. */
  htmlOnly: boolean;
  /** Whether it has a From, Subject, Date or Message-ID header at all. */
  isMail: boolean;
}

/** A mail postal-mime cannot read (the reason is its message). */
export class UnreadableMail extends Error {}

const decoder = new TextDecoder();
const isPatchAttachment = (mimeType: string, filename: string | null | undefined): boolean =>
  /^text\/(?:x-)?(?:patch|diff|x-diff)$/.test(mimeType) || /\.(?:patch|diff)$/.test(filename ?? "");

function isoDate(value: string | undefined): string | null {
  return value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : null;
}

function fromPostalMime(email: Email): DecodedMail {
  const from =
    email.from?.address !== undefined
      ? { name: email.from.name, email: email.from.address.toLowerCase() }
      : parsePerson(email.headers.find((h) => h.key === "from")?.value ?? "");
  let text = email.text ?? "";
  for (const a of email.attachments) {
    if (!isPatchAttachment(a.mimeType, a.filename)) continue;
    text += `\n${typeof a.content === "string" ? a.content : decoder.decode(a.content)}`;
  }
  return {
    subject: (email.subject ?? "").replace(/\s+/g, " ").trim(),
    messageId: ids(email.messageId)[0] ?? (email.messageId ?? "").trim(),
    inReplyTo: ids(email.inReplyTo)[0] ?? null,
    references: ids(email.references),
    from: from && (from.email !== "" || from.name !== "") ? from : null,
    date: isoDate(email.date),
    text: text.replace(/\r\n?/g, "\n"),
    htmlOnly: (email.text ?? "").trim() === "" && Boolean(email.html),
    isMail: email.headers.some((h) => ["from", "subject", "date", "message-id"].includes(h.key)),
  };
}

function fromFastMail(quick: FastMail): DecodedMail {
  return {
    subject: quick.subject.replace(/\s+/g, " ").trim(),
    messageId: ids(quick.messageId)[0] ?? quick.messageId.trim(),
    inReplyTo: ids(quick.inReplyTo)[0] ?? null,
    references: ids(quick.references),
    from: quick.from ? { name: quick.from.name, email: quick.from.address.toLowerCase() } : null,
    date: quick.isoDate,
    text: quick.text.includes("\r") ? quick.text.replace(/\r\n?/g, "\n") : quick.text,
    htmlOnly: false,
    isMail: quick.isMail,
  };
}

/**
 * Decodes a mail: single-part plain text through the fast path (fastmail.ts) when `fast`, anything else
 * through postal-mime after the charset repair. Throws UnreadableMail when postal-mime cannot read it.
 */
export async function decodeMail(bytes: Uint8Array, fast = true): Promise<DecodedMail> {
  const quick = fast ? fastParse(bytes) : null;
  if (quick !== null) return fromFastMail(quick);
  try {
    return fromPostalMime(await PostalMime.parse(repairCharset(bytes), POSTAL_MIME_OPTIONS));
  } catch (e) {
    throw new UnreadableMail(e instanceof Error ? e.message : String(e));
  }
}

/** What a mail is, for every reader. */
export type MailKind =
  /** Over a bound of MailLimits, refused before decoding. */
  | { kind: "too-large"; reason: string }
  | { kind: "unreadable"; reason: string }
  | { kind: "reply" }
  | { kind: "html-only" }
  | { kind: "cover" }
  /** No diff in the text; `counted` when the subject numbers it i/N (a patch that lost its diff). */
  | { kind: "no-diff"; counted: boolean }
  /** A diff that does not parse (the reason names the file and hunk). */
  | { kind: "bad-diff"; reason: string }
  | {
      kind: "patch";
      /** The patch's author: an in-body "From:" line, else the sender. */
      author: Person | null;
      body: ReturnType<typeof splitPatchBody>;
      diff: ParsedDiff;
      changed: number;
    };

export interface ReadMail {
  /** Null for "too-large" and "unreadable". */
  mail: DecodedMail | null;
  info: SubjectInfo;
  what: MailKind;
}

const IN_BODY_FROM = /^From:[ \t]*(.+)\n+/;

/**
 * Reads one mail and says what it is. A reply ("Re: …") is a reply whatever it carries; a 0/N mail is a cover
 * letter even with a range-diff; any other mail with a diff is a patch, with or without "[PATCH]"; a diff is
 * read from after the in-body "From:" line, by its hunks' counts, so a signature or a footer after it is not
 * part of it.
 */
export async function readMail(
  bytes: Uint8Array,
  limits: MailLimits = DEFAULT_MAIL_LIMITS,
  fast = true,
): Promise<ReadMail> {
  // A mail too small to exceed the line bounds can only exceed the MIME parts bound, and only if multipart:
  // one the fast path takes is not (a single text/plain part, no line break but "\n" in its header), so
  // precheckMail would pass it; its decode is done first. Any other mail is prechecked before it is decoded.
  const quick = fast && withinLineBounds(bytes, limits) ? fastParse(bytes) : null;
  let mail: DecodedMail;
  if (quick !== null) mail = fromFastMail(quick);
  else {
    const refused = precheckMail(bytes, limits);
    if (refused !== null) {
      return { mail: null, info: parseSubject(""), what: { kind: "too-large", reason: refused } };
    }
    try {
      mail = await decodeMail(bytes, fast);
    } catch (e) {
      const reason = `not a readable mail: ${e instanceof Error ? e.message : String(e)}`;
      return { mail: null, info: parseSubject(""), what: { kind: "unreadable", reason } };
    }
  }
  const info = parseSubject(mail.subject);
  const done = (what: MailKind): ReadMail => ({ mail, info, what });
  if (info.isReply) return done({ kind: "reply" });
  if (mail.htmlOnly && mail.text.trim() === "") return done({ kind: "html-only" });
  if (info.index === 0) return done({ kind: "cover" });
  const diffAt = mail.text.search(DIFF_START);
  if (diffAt < 0) return done({ kind: "no-diff", counted: info.index !== null });
  const inBody = IN_BODY_FROM.exec(mail.text);
  const author = (inBody && parsePerson(inBody[1] as string)) ?? mail.from;
  // The in-body From lines hold no diff start, and the diff starts at a line start after them: the search
  // done on the whole text gives its place in the rest.
  const cut = inBody ? inBody[0].length : 0;
  const rest = cut === 0 ? mail.text : mail.text.slice(cut);
  const body = diffAt >= cut ? splitPatchBody(rest, diffAt - cut) : splitPatchBody(rest);
  let diff: ParsedDiff;
  try {
    diff = parseFileChanges(body.diff);
  } catch (e) {
    if (isUserError(e)) return done({ kind: "bad-diff", reason: e.message });
    throw e;
  }
  const changed = diff.files.reduce((n, f) => n + f.additions + f.deletions, 0);
  if (changed > limits.maxChangedLinesPerPatch) {
    return done({
      kind: "too-large",
      reason: `patch too large: ${changed} changed lines (limit ${limits.maxChangedLinesPerPatch})`,
    });
  }
  return done({ kind: "patch", author, body, diff, changed });
}
