/**
 * The mailing-list bot's job kinds, run by the bot's worker (src/bot/worker.ts) like the GitHub ones:
 * "mail-review" reviews an assembled series and replies to its cover letter, "mail-command" answers a
 * `#rproc-review` command in its thread. A job first writes its mails to the outbox, then hands each one
 * not sent yet to the transport; a retried job re-sends only what is missing.
 */
import { z } from "zod";
import type { VersionRef } from "../bot/engine.ts";
import { keepReport, reportUrl } from "../bot/reports.ts";
import type { ReportingEngine } from "../bot/review-engine.ts";
import type { Job, Store } from "../bot/store.ts";
import type { JobHandler } from "../bot/worker.ts";
import { precedingInChain } from "../compare/against.ts";
import { InputError, isUserError } from "../errors.ts";
import type { ReviewReport } from "../report/index.ts";
import { parseMessages } from "../series/ingest.ts";
import { describeMissing, seriesMissing } from "../series/missing.ts";
import type { Series } from "../series/types.ts";
import { MAIL_HELP_TEXT, parseMailCommand } from "./commands.ts";
import type { MailContext } from "./intake.ts";
import { commandReply, plainReply, type ReplyOptions, seriesReply } from "./reply.ts";
import type { MailSeriesState, OutgoingMail, StoredMail } from "./store.ts";

/** The series has no facts and the platform cannot derive them (Workers): its review waits for them. */
export class MissingFactsError extends InputError {}

export type MailEngine = Pick<
  ReportingEngine,
  "report" | "scenarioIds" | "isBuiltinVersion" | "nearestBuiltinVersion"
>;

/**
 * Hands a mail to whatever sends it; false when it was not sent (dry run). It rejects with MailNotDelivered
 * when the mail certainly did not go (the server refused it, or there was no connection); any other failure
 * leaves the mail in doubt.
 */
export interface MailTransport {
  /** True when `deliver` hands mails to a server (SMTP): each attempt is then recorded before it begins. */
  readonly live?: boolean;
  deliver(mail: StoredMail): Promise<boolean>;
}

/** The mail was certainly not delivered: the server answered with a failure, or no connection was made. */
export class MailNotDelivered extends Error {
  override readonly name = "MailNotDelivered";
}

/** Where delivered mails can be looked for: the list's archive (public-inbox), by Message-ID. */
export interface MailArchive {
  /** True: the archive has it; false: it has not; null: it could not tell (no answer, an error). */
  has(messageId: string): Promise<boolean | null>;
}

export interface MailJobContext extends MailContext {
  /** The engine for a series (on Workers it maps with the facts that came with the series). */
  engineFor(state: MailSeriesState): MailEngine;
  transport: MailTransport;
  /** Asked about a mail in doubt before it is sent again; none: it is sent again. */
  archive?: MailArchive;
  /** The attempt's signal (its deadline, a shutdown): no new mail is handed over once it is aborted. */
  signal?: AbortSignal;
  /** Where full reports are kept (the bot's store), served at GET /reports/<id>. */
  reports?: Pick<Store, "saveReport">;
  /** The service's public URL: the reply links its full report there. */
  publicUrl?: string;
}

const ReviewPayload = z.object({ seriesKey: z.string().min(1) });
const CommandPayload = z.object({
  messageId: z.string().min(1),
  seriesKey: z.string().min(1),
  subject: z.string(),
  references: z.array(z.string()),
  from: z.object({ name: z.string(), email: z.string() }),
  body: z.string(),
});

/** The series of an assembly, as ingest reads its parts (the one with the most patches, if several). */
async function seriesOf(ctx: MailContext, state: MailSeriesState): Promise<Series> {
  const parts = await ctx.store.seriesParts(state.key);
  const found = await parseMessages(
    parts.map((p) => ({ name: `<${p.messageId}>`, bytes: p.raw })),
    `${state.list ?? "mail"}:<${state.key}>`,
  );
  const best = [...found].sort((a, b) => b.patches.length - a.patches.length)[0];
  if (!best) throw new Error(`series ${state.key} has no parts`);
  return best;
}

function defaultAgainst(engine: MailEngine, series: Series): VersionRef {
  return { kind: "builtin", id: engine.nearestBuiltinVersion(series) ?? "mainline" };
}

/** Versions a series may follow, by label: the one before it, and for a RESEND the version it resends. */
function predecessorLabels(series: Series): string[] {
  const v = series.version;
  const labels = v.resend ? [v.label] : [];
  if (v.major > 1) labels.push(`v${v.major - 1}`, `v${v.major - 1}-resend`);
  return labels;
}

/**
 * The version a series follows among the series this bot assembled before (its history), when the chain
 * links them (b4 change-id, thread references, same code, same author and title: src/compare/against.ts);
 * else the built-in version it follows, else mainline. The report says which and why.
 */
async function againstFor(
  ctx: MailJobContext,
  engine: MailEngine,
  key: string,
  series: Series,
): Promise<VersionRef> {
  const known: Series[] = [];
  for (const label of predecessorLabels(series)) {
    const state = await ctx.store.seriesByLabel(label);
    if (state === null || state.key === key) continue;
    try {
      known.push(await seriesOf(ctx, state));
    } catch (e) {
      if (!isUserError(e)) throw e;
    }
  }
  const before = precedingInChain(series, known);
  if (before !== null) return { kind: "series", label: before.series.id, series: before.series };
  return defaultAgainst(engine, series);
}

function incompleteNote(state: MailSeriesState, series: Series, timeoutMs: number): string {
  // Summarised as ranges: a subject's total is the sender's word and can be huge.
  const missing = describeMissing(seriesMissing(series), series.total);
  const cover = state.present.includes(0) || state.total === 1 ? [] : ["the cover letter"];
  const what = [...cover, ...(missing === "" ? [] : [missing])].join(", ");
  return `Incomplete series: ${what || "some parts"} had not arrived ${Math.round(timeoutMs / 60_000)} minutes after the first part; this review covers the parts that had.`;
}

/**
 * Sends the job's mails not sent yet. The guarantee is at-least-once with the same Message-ID: a mail's
 * Message-ID and bytes are fixed when it is written to the outbox, before any SMTP transaction, and the
 * beginning of each transaction is recorded (in doubt) before it starts. A mail in doubt (the process died
 * or the connection broke between DATA and the server's answer) is reconciled before it is sent again: when
 * the list archive has its Message-ID it is marked sent; otherwise it is sent again, byte for byte the same
 * message with the same Message-ID, so that readers and archives that deduplicate by Message-ID show it
 * once; each such resend is logged (mail.in-doubt) and counted in the outbox row (send_attempts).
 */
async function deliverAll(
  ctx: MailJobContext,
  job: Job,
  mails: () => Promise<OutgoingMail[]>,
): Promise<void> {
  let stored = await ctx.store.mails(job.id);
  if (stored.length === 0) {
    await ctx.store.writeMails(job.id, await mails());
    stored = await ctx.store.mails(job.id);
  }
  for (const mail of stored) {
    if (mail.status === "sent") continue;
    ctx.signal?.throwIfAborted();
    const fields = { job: job.id, outbox: mail.id, messageId: mail.messageId, to: mail.to };
    if (mail.inDoubtSince !== null) {
      const archived = ctx.archive ? await ctx.archive.has(mail.messageId).catch(() => null) : null;
      if (archived === true) {
        await ctx.store.markMailSent(mail.id, ctx.now());
        ctx.log.info("mail.reconciled", { ...fields, how: "found in the list archive" });
        continue;
      }
      ctx.log.warn("mail.in-doubt", {
        ...fields,
        attempts: mail.sendAttempts,
        since: new Date(mail.inDoubtSince).toISOString(),
        archive:
          ctx.archive === undefined
            ? "no list archive is followed"
            : archived === false
              ? "not in the list archive"
              : "the list archive did not answer",
        action: "sending it again with the same Message-ID",
      });
    }
    const live = ctx.transport.live === true;
    if (live) await ctx.store.markMailSending(mail.id, ctx.now());
    let sent: boolean;
    try {
      sent = await ctx.transport.deliver(mail);
    } catch (e) {
      if (live && e instanceof MailNotDelivered) await ctx.store.markMailNotSent(mail.id);
      throw e;
    }
    if (sent) await ctx.store.markMailSent(mail.id, ctx.now());
    else if (live) await ctx.store.markMailNotSent(mail.id);
    ctx.log.info(sent ? "mail.sent" : "mail.dry-run", fields);
  }
}

function replyOptions(ctx: MailContext): ReplyOptions {
  return { from: ctx.config.from, listAddress: ctx.config.listAddress, date: new Date(ctx.now()) };
}

async function reviewSeries(ctx: MailJobContext, job: Job): Promise<void> {
  const { seriesKey } = ReviewPayload.parse(job.payload);
  const state = await ctx.store.series(seriesKey);
  if (!state) throw new Error(`job ${job.id}: no series ${seriesKey}`);
  await deliverAll(ctx, job, async () => {
    let report: ReviewReport;
    try {
      const series = await seriesOf(ctx, state);
      const engine = ctx.engineFor(state);
      report = await engine.report(
        await againstFor(ctx, engine, seriesKey, series),
        { kind: "series", label: series.id, series },
        null,
      );
      if (state.incomplete) report.notes.unshift(incompleteNote(state, series, ctx.config.assemblyTimeoutMs));
    } catch (e) {
      if (!isUserError(e)) throw e;
      // Nothing the list should read: the series cannot be reviewed here (malformed, or no facts on Workers).
      const waiting = e instanceof MissingFactsError;
      if (waiting) await ctx.store.setAwaitingFacts(seriesKey, true);
      ctx.log.warn(waiting ? "mail.review.awaiting-facts" : "mail.review.skipped", {
        series: seriesKey,
        reason: e.oneLine(),
      });
      return [];
    }
    // The full report is kept and served (GET /reports/<id>); the reply links it when the URL is known.
    const kept = ctx.reports ? await keepReport(ctx.reports, report, ctx.now()) : null;
    const url = kept === null ? null : reportUrl(ctx.publicUrl, kept);
    return [seriesReply(report, { ...replyOptions(ctx), ...(url ? { reportUrl: url } : {}) })];
  });
}

async function resolveVersion(
  ctx: MailJobContext,
  engine: MailEngine,
  ref: string,
  current: { state: MailSeriesState; series: Series },
): Promise<VersionRef | null> {
  if (ref === current.series.id || ref === current.state.label) {
    return { kind: "series", label: current.series.id, series: current.series };
  }
  if (engine.isBuiltinVersion(ref)) return { kind: "builtin", id: ref };
  const other = await ctx.store.seriesByLabel(ref);
  if (!other) return null;
  const series = await seriesOf(ctx, other);
  return { kind: "series", label: `${ref} (list)`, series };
}

async function answerCommand(ctx: MailJobContext, job: Job): Promise<void> {
  const command = CommandPayload.parse(job.payload);
  const state = await ctx.store.series(command.seriesKey);
  if (!state) throw new Error(`job ${job.id}: no series ${command.seriesKey}`);
  const opts = replyOptions(ctx);
  const plain = (...paragraphs: string[]): OutgoingMail[] => [plainReply(command, paragraphs, opts)];
  await deliverAll(ctx, job, async () => {
    const parsed = parseMailCommand(command.body);
    if (parsed === null) return [];
    if (parsed.kind === "help") return plain("rproc-review understands:", MAIL_HELP_TEXT);
    if (parsed.kind === "invalid") {
      return plain(
        `I did not understand "${parsed.line}": ${parsed.message.replaceAll("`", '"')}.`,
        MAIL_HELP_TEXT,
      );
    }
    try {
      const series = await seriesOf(ctx, state);
      const engine = ctx.engineFor(state);
      const current = { state, series };
      const self: VersionRef = { kind: "series", label: series.id, series };
      if (parsed.kind === "run") {
        const known = engine.scenarioIds();
        const unknown = parsed.scenarios.filter((s) => !known.includes(s));
        if (unknown.length > 0) {
          return plain(`Unknown scenario ${unknown.join(", ")}. Known scenarios: ${known.join(", ")}.`);
        }
        const scenarios = parsed.scenarios.length > 0 ? parsed.scenarios : null;
        const report = await engine.report(defaultAgainst(engine, series), self, scenarios);
        return [commandReply(report, command, series.title, opts)];
      }
      const a = await resolveVersion(ctx, engine, parsed.a, current);
      const b = parsed.b === null ? self : await resolveVersion(ctx, engine, parsed.b, current);
      const unknown = [a === null ? parsed.a : null, b === null ? parsed.b : null].filter((x) => x !== null);
      if (a === null || b === null) {
        return plain(
          `I cannot compare: ${unknown.join(" and ")} is neither a built-in version nor a version seen on the list.`,
          MAIL_HELP_TEXT,
        );
      }
      return [commandReply(await engine.report(a, b, null), command, series.title, opts)];
    } catch (e) {
      if (!isUserError(e)) throw e;
      return plain(`The command could not be carried out: ${e.oneLine()}`);
    }
  });
}

/** The handlers to give the bot's worker (AppDeps.handlers). */
export function mailHandlers(ctx: MailJobContext): { "mail-review": JobHandler; "mail-command": JobHandler } {
  // Each attempt brings its own signal (its deadline, the shutdown).
  const withSignal = (w: { signal?: AbortSignal }): MailJobContext =>
    w.signal ? { ...ctx, signal: w.signal } : ctx;
  return {
    "mail-review": (job, w) => reviewSeries(withSignal(w), job),
    "mail-command": (job, w) => answerCommand(withSignal(w), job),
  };
}
