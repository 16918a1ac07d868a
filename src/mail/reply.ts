/**
 * The bot's mails: the review of a series (src/report/email.ts, threaded to its cover letter), the answer
 * to a command (the same renderer, threaded to the command mail and addressed to whoever sent it), and a
 * short plain answer when a command cannot be carried out.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { type ReviewReport, renderEmail, rfc2822Date, type SeriesRef, wrap } from "../report/index.ts";
import type { Person } from "../series/types.ts";
import type { CommandPayload } from "./intake.ts";
import type { OutgoingMail } from "./store.ts";

export interface ReplyOptions {
  from: string;
  listAddress: string | null;
  date: Date;
  /** Where the full report is served (GET /reports/<id>), when the service's public URL is known. */
  reportUrl?: string;
}

const dedupe = (addresses: readonly string[]): string[] => [
  ...new Set(addresses.filter((a) => a !== "").map((a) => a.toLowerCase())),
];

function messageIdOf(eml: string): string {
  const id = /^Message-ID: <([^>]+)>$/m.exec(eml)?.[1];
  if (id === undefined) throw new Error("a rendered mail has no Message-ID");
  return id;
}

/** The subject a reply keeps: without the "Re:" prefixes it already has. */
export function baseSubject(subject: string): string {
  return subject.replace(/^(?:\s*(?:re|aw|sv)\s*:\s*)+/i, "").trim();
}

/** The review of a series, in reply to its cover letter (or first patch). */
export function seriesReply(report: ReviewReport, opts: ReplyOptions): OutgoingMail {
  const eml = renderEmail(report, {
    from: opts.from,
    date: opts.date,
    ...(opts.listAddress ? { cc: [opts.listAddress] } : {}),
    ...(opts.reportUrl ? { reportUrl: opts.reportUrl } : {}),
  });
  return {
    messageId: messageIdOf(eml),
    to: dedupe([report.b.series?.author.email ?? "", opts.listAddress ?? ""]),
    eml,
  };
}

function threading(command: CommandPayload): NonNullable<SeriesRef["replyTo"]> {
  return {
    messageId: command.messageId,
    subject: baseSubject(command.subject),
    references: command.references,
    isCover: true,
  };
}

/** The report a command asked for, in reply to the command mail, addressed to its sender. */
export function commandReply(
  report: ReviewReport,
  command: CommandPayload,
  seriesTitle: string,
  opts: ReplyOptions,
): OutgoingMail {
  const commander: Person = command.from;
  const series: SeriesRef = {
    ...(report.b.series ?? {
      id: report.b.id,
      title: seriesTitle,
      version: report.b.id,
      base: null,
      total: 0,
      origin: report.b.id,
      patches: [],
    }),
    author: commander,
    replyTo: threading(command),
  };
  const answered: ReviewReport = {
    ...report,
    b: { ...report.b, series },
    notes: [`This answers the command of ${commander.name || commander.email}.`, ...report.notes],
  };
  const eml = renderEmail(answered, {
    from: opts.from,
    date: opts.date,
    ...(opts.listAddress ? { cc: [opts.listAddress] } : {}),
  });
  return { messageId: messageIdOf(eml), to: dedupe([commander.email, opts.listAddress ?? ""]), eml };
}

function headerValue(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return s;
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return `=?UTF-8?B?${btoa(bin)}?=`;
}

/** A short plain-text answer to a command (it could not be carried out, or it asked for help). */
export function plainReply(
  command: CommandPayload,
  paragraphs: readonly string[],
  opts: ReplyOptions,
): OutgoingMail {
  const body: string[] = [`Hi ${command.from.name.trim().split(/\s+/)[0] || "there"},`, ""];
  for (const p of paragraphs) {
    for (const line of p.split("\n")) body.push(...(line === "" ? [""] : wrap(line, 72)));
    body.push("");
  }
  body.push("-- ", "rproc-review (a bot; it can be wrong)");
  const domain = /@([^>\s]+)>?\s*$/.exec(opts.from)?.[1] ?? "rproc-review.invalid";
  const digest = bytesToHex(
    sha256(new TextEncoder().encode(`${command.messageId}\n${body.join("\n")}`)),
  ).slice(0, 16);
  const messageId = `rproc-review.${digest}.${opts.date.getTime()}@${domain}`;
  const to = command.from.name
    ? `${headerValue(command.from.name)} <${command.from.email}>`
    : `<${command.from.email}>`;
  const headers = [
    `From: ${opts.from}`,
    `To: ${to}`,
    ...(opts.listAddress ? [`Cc: ${opts.listAddress}`] : []),
    ...wrap(`Subject: ${headerValue(`Re: ${baseSubject(command.subject)}`)}`, 78, "", " "),
    `Date: ${rfc2822Date(opts.date)}`,
    `Message-ID: <${messageId}>`,
    `In-Reply-To: <${command.messageId}>`,
    ...wrap(
      `References: ${[...command.references, command.messageId].map((id) => `<${id}>`).join(" ")}`,
      78,
      "",
      " ",
    ),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: 8bit",
  ];
  return {
    messageId,
    to: dedupe([command.from.email, opts.listAddress ?? ""]),
    eml: `${headers.join("\n")}\n\n${body.join("\n")}\n`,
  };
}
