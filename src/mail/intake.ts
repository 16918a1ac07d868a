/**
 * Taking mail in, one message at a time (from `POST /mail` or the list poller): patches and cover letters
 * join the assembly of their series, replies carrying a `#rproc-review` command become command jobs.
 * A series is assembled once its parts 1..N are all present (and its cover letter, when N > 1), or by the
 * sweep after the assembly timeout, then marked incomplete. Every step is in the store, so a restart loses
 * nothing: a message seen twice changes nothing, a series assembled once is queued once.
 */
import PostalMime, { type Email } from "postal-mime";
import type { Logger } from "../bot/log.ts";
import type { Json, Queue } from "../bot/store.ts";
import { InputError } from "../errors.ts";
import { repairCharset } from "../series/charset.ts";
import { DEFAULT_MAIL_LIMITS, peekMessageId, precheckMail } from "../series/mail.ts";
import { isBlank, splitMbox } from "../series/mbox.ts";
import { parseSubject, type SubjectInfo } from "../series/subject.ts";
import { parseMailCommand } from "./commands.ts";
import { addressOf, type MailConfig, mayCommand } from "./config.ts";
import type { MailSeriesState, MailStore } from "./store.ts";

export interface MailContext {
  store: MailStore;
  queue: Queue;
  config: MailConfig;
  log: Logger;
  now: () => number;
  /**
   * The MIME parse of one message (charset already repaired); default postal-mime's, here. A platform with
   * threads parses large messages off its event loop (src/node/mail-threads.ts).
   */
  parseMail?: (raw: Uint8Array) => Promise<Email>;
}

export interface CommandPayload {
  messageId: string;
  seriesKey: string;
  subject: string;
  references: string[];
  from: { name: string; email: string };
  body: string;
}

export type IntakeResult =
  | {
      messageId: string;
      outcome: "part";
      seriesKey: string;
      index: number;
      total: number;
      job: number | null;
    }
  | { messageId: string; outcome: "command"; seriesKey: string; job: number | null }
  | { messageId: string; outcome: "duplicate" }
  | { messageId: string; outcome: "ignored"; reason: string };

export interface IntakeOptions {
  list?: string | null;
  /** Facts the mapper derived on Node (MapResult JSON), for the series of these messages. */
  facts?: Json;
}

/** A command is read from at most this much of a mail body. */
const MAX_COMMAND_BODY = 20_000;

const ids = (value: string | undefined): string[] =>
  [...(value ?? "").matchAll(/<([^<>\s]+)>/g)].map((m) => m[1] as string);

function versionLabel(info: SubjectInfo): string {
  return info.version.label + (info.version.resend ? "-resend" : "");
}

/** All of 1..N, and the cover letter when the series has more than one patch. */
export function isComplete(state: MailSeriesState): boolean {
  for (let i = 1; i <= state.total; i++) if (!state.present.includes(i)) return false;
  return state.total === 1 || state.present.includes(0);
}

/** Queues the review of a series: once when assembled, once more when its facts arrive after it waited for them. */
function enqueueReview(ctx: MailContext, state: MailSeriesState, suffix: "" | ":facts") {
  return ctx.queue.accept(
    {
      id: `mail:series:${state.key}${suffix}`,
      event: "mail",
      action: "series",
      repo: state.list,
      receivedAt: ctx.now(),
    },
    { kind: "mail-review", key: `mail-review:${state.key}${suffix}`, payload: { seriesKey: state.key } },
  );
}

/** Queues the review of an assembled series (at most once per series). */
async function queueReview(
  ctx: MailContext,
  state: MailSeriesState,
  incomplete: boolean,
): Promise<number | null> {
  // Marked first, so that the job finds the series as it will stay; queued second (at most once: the
  // delivery id is the series'). A crash in between leaves an assembled series without a job, which the
  // sweep queues.
  const assembled = await ctx.store.finishAssembly(state.key, "assembled", incomplete, ctx.now());
  const result = await enqueueReview(ctx, state, "");
  if (result.jobId !== null) await ctx.store.setSeriesJob(state.key, result.jobId);
  if (assembled) {
    ctx.log.info("mail.series.assembled", {
      series: state.key,
      label: state.label,
      present: state.present,
      total: state.total,
      incomplete,
      job: result.jobId,
    });
  }
  return result.enqueued ? result.jobId : null;
}

/** The series a patch belongs to: its thread's, when a message it answers is part of the same version. */
async function seriesKeyOf(
  ctx: MailContext,
  messageId: string,
  info: SubjectInfo,
  inReplyTo: string | null,
  references: string[],
): Promise<string> {
  if (info.index === 0) return messageId;
  const label = versionLabel(info);
  const total = info.total ?? 1;
  for (const id of [...(inReplyTo ? [inReplyTo] : []), ...[...references].reverse()]) {
    const known = await ctx.store.message(id);
    if (known?.seriesKey && known.versionLabel === label && known.total === total) return known.seriesKey;
  }
  // Not seen yet: with git send-email's threading, parts of a series answer its cover letter (or patch 1).
  if (inReplyTo && total > 1 && !(await ctx.store.message(inReplyTo))) return inReplyTo;
  return messageId;
}

async function threadSeries(
  ctx: MailContext,
  inReplyTo: string | null,
  references: string[],
): Promise<string | null> {
  for (const id of [...references].reverse().concat(inReplyTo ? [inReplyTo] : [])) {
    const known = await ctx.store.message(id);
    if (known?.seriesKey) return known.seriesKey;
  }
  return null;
}

/** The MIME parse of one message (after the charset repair every reader of mail makes). */
export function parseMailHere(raw: Uint8Array): Promise<Email> {
  return PostalMime.parse(repairCharset(raw));
}

async function readEmail(ctx: MailContext, raw: Uint8Array, name: string): Promise<Email> {
  try {
    return await (ctx.parseMail ?? parseMailHere)(raw);
  } catch (e) {
    throw new InputError(`not a readable mail: ${e instanceof Error ? e.message : String(e)}`, {
      subject: name,
    });
  }
}

/** Takes in one message. */
export async function intakeMessage(
  ctx: MailContext,
  raw: Uint8Array,
  name: string,
  options: IntakeOptions = {},
): Promise<IntakeResult> {
  // Cheap checks before the MIME parse: a message seen before (unless it brings facts), and the bounds on
  // its raw bytes (lines, changed lines, MIME parts), so a duplicate or a 25 MB mail costs one pass, not a parse.
  const peeked = peekMessageId(raw);
  if (peeked !== "" && options.facts === undefined && (await ctx.store.message(peeked)) !== null)
    return { messageId: peeked, outcome: "duplicate" };
  const refused = precheckMail(raw, DEFAULT_MAIL_LIMITS);
  if (refused !== null) return { messageId: peeked || name, outcome: "ignored", reason: refused };
  const email = await readEmail(ctx, raw, name);
  const messageId = ids(email.messageId)[0] ?? "";
  if (messageId === "") return { messageId: name, outcome: "ignored", reason: "no Message-ID header" };
  const subject = (email.subject ?? "").replace(/\s+/g, " ").trim();
  const inReplyTo = ids(email.inReplyTo)[0] ?? null;
  const references = ids(email.references);
  const sender = (email.from?.address ?? "").toLowerCase();
  if (sender !== "" && sender === addressOf(ctx.config.from)) {
    return { messageId, outcome: "ignored", reason: "the bot's own mail" };
  }
  const info = parseSubject(subject);
  const now = ctx.now();

  if (info.isReply || !info.isPatch) {
    const command = parseMailCommand((email.text ?? "").slice(0, MAX_COMMAND_BODY));
    if (command === null) return { messageId, outcome: "ignored", reason: "neither a patch nor a command" };
    if (!mayCommand(ctx.config, sender)) {
      return { messageId, outcome: "ignored", reason: `${sender || "the sender"} may not give commands` };
    }
    const seriesKey = await threadSeries(ctx, inReplyTo, references);
    if (seriesKey === null) {
      return {
        messageId,
        outcome: "ignored",
        reason: "a command outside the thread of a series the bot knows",
      };
    }
    if (!(await ctx.store.addMessage(messageId, subject, raw, now)))
      return { messageId, outcome: "duplicate" };
    const payload: CommandPayload = {
      messageId,
      seriesKey,
      subject,
      references: [...references.filter((r) => r !== inReplyTo), ...(inReplyTo ? [inReplyTo] : [])],
      from: { name: email.from?.name ?? "", email: sender },
      body: (email.text ?? "").slice(0, MAX_COMMAND_BODY),
    };
    const result = await ctx.queue.accept(
      {
        id: `mail:${messageId}`,
        event: "mail",
        action: "command",
        repo: options.list ?? null,
        receivedAt: now,
      },
      { kind: "mail-command", key: `mail-command:${messageId}`, payload: { ...payload } },
    );
    ctx.log.info("mail.command", { message: messageId, series: seriesKey, job: result.jobId });
    return { messageId, outcome: "command", seriesKey, job: result.enqueued ? result.jobId : null };
  }

  const seriesKey = await seriesKeyOf(ctx, messageId, info, inReplyTo, references);
  const index = info.index ?? 1;
  const total = info.total ?? 1;
  const stored = await ctx.store.addPart(
    {
      messageId,
      seriesKey,
      index,
      total,
      versionLabel: versionLabel(info),
      title: info.title,
      subject,
      raw,
      list: options.list ?? null,
    },
    now,
  );
  const { added } = stored;
  let { state } = stored;
  // Parts that arrived before this one and answered it (deep threading, out of order) waited under its
  // message-id: they join its series.
  const orphans = seriesKey === messageId ? null : await ctx.store.series(messageId);
  if (orphans?.status === "assembling" && orphans.label === state.label && orphans.total === state.total) {
    state = await ctx.store.mergeSeries(messageId, seriesKey);
    ctx.log.info("mail.series.merged", { from: messageId, into: seriesKey, present: state.present });
  }
  if (options.facts !== undefined) {
    await ctx.store.setFacts(seriesKey, options.facts);
    if (state.awaitingFacts && (await ctx.store.setAwaitingFacts(seriesKey, false))) {
      const result = await enqueueReview(ctx, state, ":facts");
      ctx.log.info("mail.series.facts", { series: seriesKey, job: result.jobId });
      return {
        messageId,
        outcome: "part",
        seriesKey,
        index,
        total,
        job: result.enqueued ? result.jobId : null,
      };
    }
  }
  if (!added) return { messageId, outcome: "duplicate" };
  ctx.log.info("mail.part", { message: messageId, series: seriesKey, index, total, present: state.present });
  const job =
    state.status === "assembling" && isComplete(state) ? await queueReview(ctx, state, false) : null;
  return { messageId, outcome: "part", seriesKey, index, total, job };
}

/** Takes in every message of an mbox (or one raw message). */
export async function intakeMbox(
  ctx: MailContext,
  bytes: Uint8Array,
  origin: string,
  options: IntakeOptions = {},
): Promise<IntakeResult[]> {
  const parts = isBlank(bytes) ? [] : splitMbox(bytes);
  if (parts.length === 0) throw new InputError("no message in the body", { subject: origin });
  const results: IntakeResult[] = [];
  for (const [i, part] of parts.entries()) {
    results.push(await intakeMessage(ctx, part, parts.length === 1 ? origin : `${origin}#${i + 1}`, options));
  }
  return results;
}

/**
 * Ends the wait of series older than the assembly timeout: those with patches are queued as incomplete,
 * a cover letter alone is abandoned. Also queues an assembled series whose job a crash prevented. Returns
 * the jobs queued.
 */
export async function sweepAssembly(ctx: MailContext): Promise<number[]> {
  const jobs: number[] = [];
  for (const key of await ctx.store.assembledWithoutJob()) {
    const state = await ctx.store.series(key);
    if (!state) continue;
    const result = await enqueueReview(ctx, state, "");
    if (result.jobId !== null) await ctx.store.setSeriesJob(key, result.jobId);
    if (result.enqueued && result.jobId !== null) jobs.push(result.jobId);
    ctx.log.warn("mail.series.requeued", { series: key, job: result.jobId });
  }
  for (const key of await ctx.store.waitingSince(ctx.now() - ctx.config.assemblyTimeoutMs)) {
    const state = await ctx.store.series(key);
    if (state?.status !== "assembling") continue;
    if (!state.present.some((i) => i > 0)) {
      if (await ctx.store.finishAssembly(key, "abandoned", true, ctx.now())) {
        ctx.log.warn("mail.series.abandoned", { series: key, reason: "no patch arrived before the timeout" });
      }
      continue;
    }
    const job = await queueReview(ctx, state, !isComplete(state));
    if (job !== null) jobs.push(job);
  }
  return jobs;
}
