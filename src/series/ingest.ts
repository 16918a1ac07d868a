import { InputError } from "../errors.ts";
import { linkedMessageIds, parseChangelog, parseTags, parseTrailers, splitPatchBody } from "./body.ts";
import { DEFAULT_MAIL_LIMITS, type DecodedMail, peekMessageId, readMail } from "./mail.ts";
import { isBlank, splitMbox } from "./mbox.ts";
import { describeMissing, listMissing, missingRanges } from "./missing.ts";
import { patchId } from "./patchid.ts";
import { pathsOutsideTree } from "./paths.ts";
import { parseSubject, type SubjectInfo } from "./subject.ts";
import type {
  CoverLetter,
  IngestLimits,
  IngestWarning,
  MailHeaders,
  Patch,
  Person,
  Series,
} from "./types.ts";

export const DEFAULT_LIMITS: IngestLimits = {
  ...DEFAULT_MAIL_LIMITS,
  maxInputBytes: 50 * 1024 * 1024,
};

/** Warnings of one kind listed one by one before the rest are counted in one more. */
const MAX_LISTED_WARNINGS = 20;

export interface RawMessage {
  /** How to name the mail in messages: a file name, "file#2". */
  name: string;
  bytes: Uint8Array;
}

/** One mail, classified. */
type Mail =
  | { kind: "cover"; info: SubjectInfo; cover: CoverLetter; text: string; sender: Person }
  | { kind: "patch"; info: SubjectInfo; patch: Patch; text: string; sender: Person };

function mailLabel(name: string, messageId: string): string {
  return messageId === "" ? name : `${name} <${messageId}>`;
}

function headersOf(mail: DecodedMail, name: string): MailHeaders {
  return {
    messageId: mail.messageId,
    subject: mail.subject,
    inReplyTo: mail.inReplyTo,
    references: mail.references,
    author: mail.from ?? { name: "", email: "" },
    date: mail.date,
    origin: name,
  };
}

/** Reads one mail through the shared reader (mail.ts) and applies ingest's rules to what it is. */
async function readOne(
  raw: RawMessage,
  limits: IngestLimits,
  warn: (w: IngestWarning) => void,
  fast: boolean,
): Promise<Mail | null> {
  const read = await readMail(raw.bytes, limits, fast);
  const { mail, info, what } = read;
  if (what.kind === "too-large")
    throw new InputError(what.reason, { subject: mailLabel(raw.name, peekMessageId(raw.bytes)) });
  if (mail === null || what.kind === "unreadable")
    throw new InputError(what.kind === "unreadable" ? what.reason : "not a readable mail", {
      subject: raw.name,
    });
  const headers = headersOf(mail, raw.name);
  const label = mailLabel(raw.name, headers.messageId);
  const text = mail.text;
  const skip = (code: IngestWarning["code"], why: string): null => {
    warn({ code, message: `${label}: ${why}; skipped`, mail: label });
    return null;
  };
  switch (what.kind) {
    case "reply":
      return skip("not-a-patch", `a reply ("${headers.subject}"), not a patch`);
    case "html-only":
      if (info.isPatch)
        throw new InputError("HTML-only mail: a patch must be sent as plain text", { subject: label });
      return skip("html-only", "HTML-only mail");
    case "cover": {
      // A cover letter, even when it carries a range-diff or interdiff.
      const body = text.trimEnd();
      const cover: CoverLetter = {
        ...headers,
        title: info.title,
        body,
        changelog: parseChangelog(body, "cover", null),
      };
      return { kind: "cover", info, cover, text, sender: headers.author };
    }
    case "no-diff":
      if (what.counted)
        throw new InputError(`patch ${info.index}/${info.total} has no diff`, { subject: label });
      if (!mail.isMail)
        return skip("not-a-patch", "not a mail (no From, Subject, Date or Message-ID header)");
      return skip("not-a-patch", `no diff in "${headers.subject || "(no subject)"}"`);
    case "bad-diff":
      throw new InputError(what.reason, { subject: label });
    case "patch":
      break;
  }
  const { body, diff: parsed } = what;
  for (const path of parsed.binary) {
    warn({
      code: "binary-diff",
      message: `${label}: binary change to ${path} kept without hunks`,
      mail: label,
    });
  }
  const index = info.index ?? 1;
  for (const o of pathsOutsideTree([{ index, files: parsed.files }])) {
    warn({
      code: "outside-tree",
      message: `${label}: the diff names ${JSON.stringify(o.path)}, outside the source tree (${o.why}); no file of the tree is read for it`,
      mail: label,
    });
  }
  const patch: Patch = {
    ...headers,
    author: what.author ?? headers.author,
    index,
    total: info.total ?? 1,
    title: info.title,
    message: body.message.replace(/^\n+/, ""),
    trailers: parseTrailers(body.message),
    // Below the --- line, as kernel practice has it; some authors write it in the commit message instead.
    changelog: [
      ...parseChangelog(body.notes, "patch", index),
      ...parseChangelog(body.message, "patch", index),
    ],
    files: parsed.files,
    patchId: patchId(parsed),
  };
  return { kind: "patch", info, patch, text, sender: headers.author };
}

function seriesId(info: SubjectInfo): string {
  return info.version.label + (info.version.resend ? "-resend" : "");
}

function groupKey(mail: Mail, author: string): string {
  const v = mail.info.version;
  return [v.label, v.resend, v.rfc, v.tags.join(","), mail.info.total ?? "?", author].join("|");
}

/** Builds one Series from the mails of one group. */
function assemble(mails: Mail[], origin: string, inputWarnings: IngestWarning[]): Series {
  const warnings: IngestWarning[] = [];
  const cover = mails.find((m) => m.kind === "cover")?.cover ?? null;
  const found = mails.flatMap((m) => (m.kind === "patch" ? [m.patch] : []));
  if (found.length > 1 && found.every((p) => parseSubject(p.subject).index === null)) {
    // "[PATCH]" mails without counters (format-patch -N): number them in input order.
    found.forEach((p, i) => {
      p.index = i + 1;
      p.total = found.length;
    });
  }
  const patches: Patch[] = [];
  const kept = new Map<number, Patch>();
  for (const p of [...found].sort((a, b) => a.index - b.index)) {
    const dup = kept.get(p.index);
    if (dup) {
      const mail = mailLabel(p.origin, p.messageId);
      warnings.push({
        code: "duplicate-patch",
        message: `${mail}: second copy of patch ${p.index}/${p.total} ignored (kept ${mailLabel(dup.origin, dup.messageId)})`,
        mail,
      });
    } else {
      kept.set(p.index, p);
      patches.push(p);
    }
  }
  const first = mails[0] as Mail;
  const total = first.info.total ?? patches.reduce((n, p) => Math.max(n, p.total), 1);
  // The total comes from a subject: the gaps are computed from the patches present, never by counting
  // up to it, and summarised ("patches 2..100000000 of 100000000").
  const gaps = missingRanges(
    total,
    patches.map((p) => p.index),
  );
  if (gaps.length > 0) {
    warnings.push({
      code: "missing-patch",
      message: `${describeMissing(gaps, total)} missing from ${origin}`,
      mail: null,
    });
  }
  const beyond = patches.filter((q) => q.index > total);
  for (const p of beyond.slice(0, MAX_LISTED_WARNINGS)) {
    const mail = mailLabel(p.origin, p.messageId);
    warnings.push({
      code: "total-mismatch",
      message: `${mail}: patch ${p.index} beyond the announced ${total}`,
      mail,
    });
  }
  if (beyond.length > MAX_LISTED_WARNINGS) {
    warnings.push({
      code: "total-mismatch",
      message: `${beyond.length - MAX_LISTED_WARNINGS} more patches beyond the announced ${total} in ${origin}`,
      mail: null,
    });
  }
  if (!cover && total > 1)
    warnings.push({ code: "no-cover-letter", message: `no cover letter in ${origin}`, mail: null });
  const texts = [
    ...(cover ? [cover.body] : []),
    ...mails.filter((m) => m.kind === "patch").map((m) => m.text),
  ];
  const tagsOf = texts.map(parseTags);
  const pick = <K extends "base" | "changeId" | "testedOn">(k: K): string | null =>
    tagsOf.find((t) => t[k] !== null)?.[k] ?? null;
  const own = new Set([...(cover ? [cover.messageId] : []), ...patches.map((p) => p.messageId)]);
  const mentions = new Set<string>();
  for (const h of [...(cover ? [cover] : []), ...patches]) {
    for (const id of [...(h.inReplyTo ? [h.inReplyTo] : []), ...h.references]) mentions.add(id);
  }
  // Links in the cover letter and in the notes after "---" point at earlier postings.
  const notes = mails.flatMap((m) => (m.kind === "patch" ? [splitPatchBody(m.text).notes] : []));
  for (const t of [cover?.body ?? "", ...notes]) for (const id of linkedMessageIds(t)) mentions.add(id);
  const lead = cover ?? patches[0];
  return {
    id: seriesId(first.info),
    title: cover?.title ?? patches[0]?.title ?? "",
    version: first.info.version,
    base: pick("base"),
    testedOn: pick("testedOn"),
    changeId: pick("changeId"),
    prerequisites: [...new Set(tagsOf.flatMap((t) => t.prerequisites))],
    cover,
    patches,
    total,
    missing: listMissing(gaps),
    author: (mails.find((m) => m.kind === "cover") ?? mails[0])?.sender ?? { name: "", email: "" },
    date: lead?.date ?? null,
    origin,
    mentions: [...mentions].filter((id) => !own.has(id)),
    warnings: [...inputWarnings, ...warnings],
  };
}

/**
 * Parses a set of mails (one mail per entry) into the series they hold. Mails that are not patches are
 * skipped with a warning; several series in one input come back as several Series (each warned).
 */
export async function parseMessages(
  messages: readonly RawMessage[],
  origin = messages[0]?.name ?? "input",
  limits: Partial<IngestLimits> = {},
): Promise<Series[]> {
  const lim: IngestLimits = { ...DEFAULT_LIMITS, ...limits };
  const size = messages.reduce((n, m) => n + m.bytes.length, 0);
  if (size > lim.maxInputBytes) {
    throw new InputError(`input too large: ${size} bytes (limit ${lim.maxInputBytes})`, { subject: origin });
  }
  const empty = messages.find((m) => isBlank(m.bytes));
  if (empty) throw new InputError("empty file", { subject: empty.name });
  const warnings: IngestWarning[] = [];
  const mails: Mail[] = [];
  for (const raw of messages) {
    const mail = await readOne(raw, lim, (w) => warnings.push(w), true);
    if (mail) mails.push(mail);
  }
  if (!mails.some((m) => m.kind === "patch")) {
    const covers = mails.flatMap((m) =>
      m.kind === "cover"
        ? [`${mailLabel(m.cover.origin, m.cover.messageId)}: a cover letter without its patches`]
        : [],
    );
    const why = [...warnings.map((w) => w.message), ...covers].join("; ");
    throw new InputError(`no patch found${why ? ` (${why})` : ""}`, { subject: origin });
  }
  const groups = new Map<string, Mail[]>();
  for (const mail of mails) {
    const key = groupKey(mail, mail.sender.email);
    const group = groups.get(key);
    if (group) group.push(mail);
    else groups.set(key, [mail]);
  }
  // Warnings about the input (skipped mails, covers without patches) go with every series it holds; with
  // several series, each carries at most MAX_LISTED_WARNINGS of them and a count of the rest, so that many
  // series times many skipped mails is not a product.
  const orphanCovers: IngestWarning[] = [];
  for (const g of groups.values()) {
    if (g.some((m) => m.kind === "patch")) continue;
    const c = g[0] as Mail & { kind: "cover" };
    const mail = mailLabel(c.cover.origin, c.cover.messageId);
    orphanCovers.push({
      code: "not-a-patch",
      message: `${mail}: cover letter without patches; skipped`,
      mail,
    });
  }
  const withPatches = [...groups.values()].filter((g) => g.some((m) => m.kind === "patch"));
  const about = [...warnings, ...orphanCovers];
  const shared =
    withPatches.length === 1 || about.length <= MAX_LISTED_WARNINGS
      ? about
      : [
          ...about.slice(0, MAX_LISTED_WARNINGS),
          {
            code: "not-a-patch" as const,
            message: `${about.length - MAX_LISTED_WARNINGS} more warnings about the mails of ${origin}`,
            mail: null,
          },
        ];
  const series = withPatches.map((g) => assemble(g, origin, []));
  for (const s of series) s.warnings = [...shared, ...s.warnings];
  if (series.length > 1) {
    const shown = series.slice(0, 10).map((s) => `${s.id} "${s.title}" (${s.patches.length} patches)`);
    const list = shown.join(", ") + (series.length > 10 ? ` and ${series.length - 10} more` : "");
    const mixed: IngestWarning = {
      code: "mixed-series",
      message: `${origin} holds ${series.length} series: ${list}`,
      mail: null,
    };
    for (const s of series) s.warnings.push(mixed);
  }
  return series;
}

/** Parses an mbox file (or a single .eml) into the series it holds. */
export async function parseMbox(
  bytes: Uint8Array,
  origin: string,
  limits: Partial<IngestLimits> = {},
): Promise<Series[]> {
  if (isBlank(bytes)) {
    throw new InputError("empty file", { subject: origin });
  }
  const parts = splitMbox(bytes);
  const messages = parts.map((b, i) => ({
    name: parts.length === 1 ? origin : `${origin}#${i + 1}`,
    bytes: b,
  }));
  return parseMessages(messages, origin, limits);
}
