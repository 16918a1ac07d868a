/**
 * Job handlers. A job first plans (reads the pull request, runs the review, decides what to post) and
 * writes the plan to the outbox together with the run; then it delivers each outbox item not sent yet.
 * Handling is idempotent, as at-least-once delivery needs: a retried job re-delivers only what is missing,
 * the sticky comment is found by its hidden marker and edited in place, the check run of the head commit is
 * found by name and updated. A create that failed in a way GitHub may still have applied (5xx, timeout) is
 * followed by a look for what it created before it is tried again (createOnce): exactly one comment and one
 * check run, also when GitHub applies a POST and answers 502.
 */
import { RequestError } from "octokit";
import { z } from "zod";
import { isUserError, type UserError } from "../errors.ts";
import { markdownCode, markdownText } from "../report/escape.ts";
import type { CheckAnnotation } from "../report/github.ts";
import { fetchPullRequest } from "../series/github.ts";
import type { Series } from "../series/types.ts";
import { type BotCommand, HELP_TEXT, parseCommand } from "./commands.ts";
import type { BotConfig } from "./config.ts";
import type { Conclusion, ReviewEngine, VersionRef } from "./engine.ts";
import { DEFAULT_CREATE_RETRIES, type GitHubClientFactory, type Octokit } from "./github.ts";
import type { Logger } from "./log.ts";
import { keepReport, reportUrl } from "./reports.ts";
import type { Job, Json, OutboxInput, OutboxItem, RunRecord, Store } from "./store.ts";

export const STICKY_MARKER = "<!-- rproc-review:sticky -->";
export function replyMarker(commentId: number): string {
  return `<!-- rproc-review:reply:${commentId} -->`;
}

/** GitHub rejects comment bodies and check-run texts over 65 536 characters. */
const MAX_TEXT = 65_000;

const PullRef = {
  installationId: z.number().int(),
  owner: z.string().min(1),
  repo: z.string().min(1),
  number: z.number().int().positive(),
};
export const ReviewPayload = z.object({ ...PullRef, headSha: z.string().min(7), trigger: z.string() });
export type ReviewPayload = z.infer<typeof ReviewPayload>;
export const CommandPayload = z.object({
  ...PullRef,
  commentId: z.number().int(),
  body: z.string(),
  author: z.string(),
});
export type CommandPayload = z.infer<typeof CommandPayload>;

const CommentItem = z.object({
  owner: z.string(),
  repo: z.string(),
  issue: z.number().int(),
  marker: z.string(),
  body: z.string(),
});
const CheckRunItem = z.object({
  owner: z.string(),
  repo: z.string(),
  headSha: z.string(),
  name: z.string(),
  title: z.string(),
  summary: z.string(),
  text: z.string().nullable(),
  conclusion: z.enum(["success", "neutral", "failure"]),
  /** The full report's page (GET /reports/<id>), when the service's public URL is known. */
  detailsUrl: z.string().optional(),
  annotations: z
    .array(
      z.object({
        path: z.string(),
        start_line: z.number().int(),
        end_line: z.number().int(),
        annotation_level: z.enum(["failure", "warning", "notice"]),
        title: z.string(),
        message: z.string(),
      }),
    )
    .optional(),
});
const ReactionItem = z.object({
  owner: z.string(),
  repo: z.string(),
  commentId: z.number().int(),
  content: z.enum(["+1", "confused", "eyes"]),
});

export interface JobContext {
  store: Store;
  github: GitHubClientFactory;
  engine: ReviewEngine;
  config: BotConfig;
  log: Logger;
  now: () => number;
  /** Set when the service shuts down: the handler stops before its next GitHub request. */
  signal?: AbortSignal;
}

interface Plan {
  items: OutboxInput[];
  run: RunRecord | null;
}

type PullTarget = z.infer<z.ZodObject<typeof PullRef>>;

function truncate(text: string): string {
  return text.length <= MAX_TEXT
    ? text
    : `${text.slice(0, MAX_TEXT)}\n\n… (truncated: GitHub limits the size)`;
}

function seriesKey(p: PullTarget): string {
  return `${p.owner}/${p.repo}#${p.number}`;
}

/**
 * True when an error will likely go away by itself (GitHub 5xx, rate limit, network): the job is retried
 * instead of reporting the error on the pull request.
 */
export function isTransient(e: unknown): boolean {
  let c: unknown = e;
  for (let depth = 0; c instanceof Error && depth < 8; depth++) {
    if (c instanceof RequestError) {
      return c.status >= 500 || c.status === 429 || (c.status === 403 && /rate limit/i.test(c.message));
    }
    if (c.name === "AbortError" || c.name === "TimeoutError") return true;
    c = c.cause;
  }
  return false;
}

function comment(p: PullTarget, marker: string, markdown: string): OutboxInput {
  return {
    kind: "comment",
    body: { owner: p.owner, repo: p.repo, issue: p.number, marker, body: truncate(`${marker}\n${markdown}`) },
  };
}

/** A check run's title: at most 200 characters, cut after a comma or a space with "…" when longer. */
export function checkTitle(title: string, max = 200): string {
  if (title.length <= max) return title;
  const head = title.slice(0, max - 1);
  const cut = Math.max(head.lastIndexOf(", "), head.lastIndexOf(" "));
  return `${(cut > max / 2 ? head.slice(0, cut) : head).replace(/[,\s]+$/, "")}…`;
}

function checkRun(
  ctx: JobContext,
  p: PullTarget,
  headSha: string,
  c: {
    title: string;
    summary: string;
    text: string | null;
    conclusion: Conclusion;
    annotations?: CheckAnnotation[];
    detailsUrl?: string | null;
  },
): OutboxInput {
  return {
    kind: "check-run",
    body: {
      owner: p.owner,
      repo: p.repo,
      headSha,
      name: ctx.config.checkName,
      title: checkTitle(c.title),
      summary: truncate(c.summary),
      text: c.text === null ? null : truncate(c.text),
      conclusion: c.conclusion,
      ...(c.detailsUrl ? { detailsUrl: c.detailsUrl } : {}),
      ...(c.annotations && c.annotations.length > 0
        ? { annotations: c.annotations.map((a) => ({ ...a })) as unknown as Json }
        : {}),
    },
  };
}

/** What is posted when the series cannot be reviewed for a reason the author can fix. */
function notReviewed(ctx: JobContext, p: PullTarget, headSha: string, e: UserError): Plan {
  const why = e.oneLine();
  return {
    items: [
      comment(
        p,
        STICKY_MARKER,
        `### rproc-review\n\nThis pull request could not be reviewed: ${markdownText(why)}`,
      ),
      checkRun(ctx, p, headSha, {
        title: "Not reviewed",
        summary: `The series could not be reviewed: ${why}`,
        text: null,
        conclusion: "neutral",
      }),
    ],
    run: null,
  };
}

async function readSeries(octokit: Octokit, p: PullTarget): Promise<Series> {
  return fetchPullRequest({ owner: p.owner, repo: p.repo, number: p.number }, { octokit });
}

function revisionLabel(series: Series, headSha: string, current: Series | null): string {
  return current !== null && current.id === series.id ? `${series.id}@${headSha.slice(0, 7)}` : series.id;
}

async function planReview(
  ctx: JobContext,
  octokit: Octokit,
  p: PullTarget,
  headSha: string,
  scenarios: readonly string[] | null,
): Promise<Plan> {
  let series: Series;
  try {
    series = await readSeries(octokit, p);
  } catch (e) {
    if (isUserError(e) && !isTransient(e)) return notReviewed(ctx, p, headSha, e);
    throw e;
  }
  const key = seriesKey(p);
  const version = await ctx.store.saveVersion({ seriesKey: key, headSha, series }, ctx.now());
  const previous = await ctx.store.previousVersion(key, headSha);
  const builtin = previous ? null : ctx.engine.nearestBuiltinVersion(series);
  const against: VersionRef | null = previous
    ? {
        kind: "series",
        label: revisionLabel(previous.series, previous.headSha, series),
        series: previous.series,
      }
    : builtin
      ? { kind: "builtin", id: builtin }
      : null;
  const againstName = against === null ? null : against.kind === "series" ? against.label : against.id;
  ctx.log.info("review.start", { pr: key, headSha, against: againstName, scenarios });
  let outcome: Awaited<ReturnType<ReviewEngine["reviewPullRequest"]>>;
  try {
    outcome = await ctx.engine.reviewPullRequest(series, against, { scenarios });
  } catch (e) {
    if (isUserError(e)) return notReviewed(ctx, p, headSha, e);
    throw e;
  }
  // The full report is kept with the run and served by this service (GET /reports/<id>).
  const kept = outcome.report ? await keepReport(ctx.store, outcome.report, ctx.now()) : null;
  const fullReport = kept === null ? null : reportUrl(ctx.config.publicUrl, kept);
  const footer = `\n\n<sub>rproc-review · ${markdownText(series.id)} at ${headSha.slice(0, 7)}${againstName ? ` · against ${markdownText(againstName)}` : ""}${fullReport ? ` · [full report](${fullReport})` : ""}</sub>`;
  return {
    items: [
      comment(p, STICKY_MARKER, outcome.markdown + footer),
      checkRun(ctx, p, headSha, {
        title: outcome.checkTitle,
        summary: outcome.checkSummary,
        text: outcome.checkText,
        conclusion: outcome.conclusion,
        detailsUrl: fullReport,
        ...(outcome.annotations ? { annotations: outcome.annotations } : {}),
      }),
    ],
    run: {
      versionId: version.id,
      against: againstName,
      scenarios: scenarios === null ? null : [...scenarios],
      conclusion: outcome.conclusion,
      cells: outcome.cells,
      facts: outcome.facts,
    },
  };
}

async function resolveVersion(ctx: JobContext, p: PullTarget, ref: string): Promise<VersionRef | null> {
  const stored = await ctx.store.findVersion(seriesKey(p), ref);
  if (stored) return { kind: "series", label: ref, series: stored.series };
  return ctx.engine.isBuiltinVersion(ref) ? { kind: "builtin", id: ref } : null;
}

function notUnderstood(line: string, why: string): string {
  return `I did not understand ${markdownCode(line)}: ${why}.\n\n${HELP_TEXT}`;
}

async function headOf(octokit: Octokit, p: PullTarget): Promise<string> {
  const { data } = await octokit.rest.pulls.get({ owner: p.owner, repo: p.repo, pull_number: p.number });
  return data.head.sha;
}

async function planCommand(
  ctx: JobContext,
  octokit: Octokit,
  p: CommandPayload,
  command: BotCommand,
): Promise<Plan> {
  const reply = (markdown: string): Plan => ({
    items: [comment(p, replyMarker(p.commentId), `@${p.author} ${markdown}`)],
    run: null,
  });
  switch (command.kind) {
    case "help":
      return reply(`rproc-review understands:\n\n${HELP_TEXT}`);
    case "invalid":
      return reply(notUnderstood(command.line, command.message));
    case "run": {
      const known = ctx.engine.scenarioIds();
      const unknown = command.scenarios.filter((s) => !known.includes(s));
      if (unknown.length > 0) {
        return reply(
          notUnderstood(
            `/rproc-review run ${command.scenarios.join(" ")}`,
            `unknown scenario ${unknown.map(markdownCode).join(", ")} (known: ${known.join(", ")})`,
          ),
        );
      }
      const headSha = await headOf(octokit, p);
      return planReview(ctx, octokit, p, headSha, command.scenarios.length > 0 ? command.scenarios : null);
    }
    case "diff": {
      const line = `/rproc-review diff ${command.a}${command.b ? ` ${command.b}` : ""}`;
      const a = await resolveVersion(ctx, p, command.a);
      if (!a)
        return reply(
          notUnderstood(
            line,
            `${markdownCode(command.a)} is neither a reviewed revision of this pull request nor a built-in version`,
          ),
        );
      let b: VersionRef | null;
      if (command.b !== null) {
        b = await resolveVersion(ctx, p, command.b);
        if (!b)
          return reply(
            notUnderstood(
              line,
              `${markdownCode(command.b)} is neither a reviewed revision of this pull request nor a built-in version`,
            ),
          );
      } else {
        try {
          const series = await readSeries(octokit, p);
          b = { kind: "series", label: series.id, series };
        } catch (e) {
          if (isUserError(e) && !isTransient(e))
            return reply(`the series under review cannot be read: ${markdownText(e.oneLine())}`);
          throw e;
        }
      }
      try {
        return reply((await ctx.engine.diff(a, b)).markdown);
      } catch (e) {
        if (isUserError(e)) return reply(`the versions cannot be compared: ${markdownText(e.oneLine())}`);
        throw e;
      }
    }
  }
}

function notFound(e: unknown): boolean {
  return e instanceof RequestError && (e.status === 404 || e.status === 410);
}

/** Waits `ms`, or less when `signal` is aborted (then rejects with its reason). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/**
 * Creates something on GitHub once. GitHub may apply a POST and still answer 5xx, or never answer it, and
 * octokit's retry plugin would post again: so the create goes out without the plugin's retries, and after a
 * failure that may have been applied (5xx, timeout, network) `find` looks for what the marker says was
 * created (the sticky comment's marker, the check run's external id or name and head) before it is tried
 * again; what it finds is adopted. A 4xx answer means nothing was created and is thrown as it is.
 */
async function createOnce(
  ctx: JobContext,
  what: string,
  create: (noRetries: { request: { retries: number } }) => Promise<number>,
  find: () => Promise<number | null>,
): Promise<number> {
  const { retries, unitMs } = ctx.github.createRetries ?? DEFAULT_CREATE_RETRIES;
  for (let attempt = 0; ; attempt++) {
    try {
      return await create({ request: { retries: 0 } });
    } catch (e) {
      if (!isTransient(e) || ctx.signal?.aborted) throw e;
      const found = await find();
      if (found !== null) {
        ctx.log.warn("github.adopted", { what, githubId: found, error: e });
        return found;
      }
      if (attempt >= retries) throw e;
      ctx.log.warn("github.create-retry", { what, retry: attempt + 1, error: e });
      await pause((attempt + 1) ** 2 * unitMs, ctx.signal);
    }
  }
}

async function upsertComment(octokit: Octokit, raw: unknown, ctx: JobContext): Promise<number> {
  const c = CommentItem.parse(raw);
  const repo = `${c.owner}/${c.repo}`;
  const base = { owner: c.owner, repo: c.repo };
  const known = await ctx.store.postedComment(repo, c.issue, c.marker);
  if (known !== null) {
    try {
      await octokit.rest.issues.updateComment({ ...base, comment_id: known, body: c.body });
      return known;
    } catch (e) {
      if (!notFound(e)) throw e;
      await ctx.store.savePostedComment(repo, c.issue, c.marker, null, ctx.now());
    }
  }
  const find = async (): Promise<number | null> => {
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      ...base,
      issue_number: c.issue,
      per_page: 100,
    });
    // Only the bot's own comments: a person quoting the marker does not become the sticky comment.
    return comments.find((x) => x.user?.type === "Bot" && x.body?.includes(c.marker))?.id ?? null;
  };
  const found = await find();
  let id: number;
  if (found !== null) {
    await octokit.rest.issues.updateComment({ ...base, comment_id: found, body: c.body });
    id = found;
  } else {
    // What find adopts after a failed create was made with this very body: it needs no edit.
    id = await createOnce(
      ctx,
      `comment ${c.marker} on ${repo}#${c.issue}`,
      async (noRetries) =>
        (
          await octokit.rest.issues.createComment({
            ...base,
            issue_number: c.issue,
            body: c.body,
            ...noRetries,
          })
        ).data.id,
      find,
    );
  }
  await ctx.store.savePostedComment(repo, c.issue, c.marker, id, ctx.now());
  return id;
}

/** The check run's external id: the outbox item that creates it, so a create that failed finds its own run. */
export function checkRunExternalId(itemId: number): string {
  return `rproc-review:outbox:${itemId}`;
}

async function upsertCheckRun(
  octokit: Octokit,
  raw: unknown,
  ctx: JobContext,
  externalId: string,
): Promise<number> {
  const r = CheckRunItem.parse(raw);
  const repo = `${r.owner}/${r.repo}`;
  const base = { owner: r.owner, repo: r.repo };
  const fields = {
    name: r.name,
    status: "completed" as const,
    conclusion: r.conclusion,
    ...(r.detailsUrl !== undefined ? { details_url: r.detailsUrl } : {}),
    completed_at: new Date(ctx.now()).toISOString(),
    output: {
      title: r.title,
      summary: r.summary,
      ...(r.text === null ? {} : { text: r.text }),
      ...(r.annotations ? { annotations: r.annotations } : {}),
    },
  };
  const update = async (id: number): Promise<number> => {
    await octokit.rest.checks.update({ ...base, check_run_id: id, ...fields });
    await ctx.store.saveCheckRun(repo, r.headSha, r.name, id, ctx.now());
    return id;
  };
  const known = await ctx.store.checkRun(repo, r.headSha, r.name);
  if (known !== null) {
    try {
      return await update(known);
    } catch (e) {
      if (!notFound(e)) throw e;
    }
  }
  const find = async (): Promise<number | null> => {
    const { data } = await octokit.rest.checks.listForRef({
      ...base,
      ref: r.headSha,
      check_name: r.name,
      per_page: 100,
    });
    const ours = data.check_runs.filter((x) => x.name === r.name && x.head_sha === r.headSha);
    return (ours.find((x) => x.external_id === externalId) ?? ours[0])?.id ?? null;
  };
  const found = await find();
  if (found !== null) return update(found);
  const id = await createOnce(
    ctx,
    `check run ${r.name} on ${repo}@${r.headSha}`,
    async (noRetries) =>
      (
        await octokit.rest.checks.create({
          ...base,
          head_sha: r.headSha,
          external_id: externalId,
          ...fields,
          ...noRetries,
        })
      ).data.id,
    find,
  );
  await ctx.store.saveCheckRun(repo, r.headSha, r.name, id, ctx.now());
  return id;
}

async function react(octokit: Octokit, r: z.infer<typeof ReactionItem>): Promise<number> {
  const { data } = await octokit.rest.reactions.createForIssueComment({
    owner: r.owner,
    repo: r.repo,
    comment_id: r.commentId,
    content: r.content,
  });
  return data.id;
}

async function deliver(octokit: Octokit, item: OutboxItem, ctx: JobContext): Promise<number> {
  switch (item.kind) {
    case "comment":
      return upsertComment(octokit, item.body, ctx);
    case "check-run":
      return upsertCheckRun(octokit, item.body, ctx, checkRunExternalId(item.id));
  }
}

/** Runs one job to completion; throws when it should be retried. */
export async function handleJob(job: Job, ctx: JobContext): Promise<void> {
  const log = ctx.log.child({ job: job.id, kind: job.kind, attempt: job.attempts });
  const jobCtx = { ...ctx, log };
  const payload =
    job.kind === "review" ? ReviewPayload.parse(job.payload) : CommandPayload.parse(job.payload);
  const octokit = await ctx.github.forInstallation(payload.installationId, ctx.signal);
  let items = await ctx.store.outbox(job.id);
  if (items.length === 0) {
    let plan: Plan;
    if ("headSha" in payload) {
      plan = await planReview(jobCtx, octokit, payload, payload.headSha, null);
    } else {
      const command = parseCommand(payload.body);
      if (command === null) return;
      // The acknowledgement goes first; GitHub answers 200 for a reaction that exists, so a retry is harmless.
      const content = command.kind === "invalid" ? "confused" : "+1";
      await react(octokit, {
        owner: payload.owner,
        repo: payload.repo,
        commentId: payload.commentId,
        content,
      });
      plan = await planCommand(jobCtx, octokit, payload, command);
    }
    await ctx.store.writeOutbox(job.id, plan.items, plan.run, ctx.now());
    items = await ctx.store.outbox(job.id);
  }
  for (const item of items) {
    if (item.status === "sent") continue;
    ctx.signal?.throwIfAborted();
    const githubId = await deliver(octokit, item, jobCtx);
    await ctx.store.markSent(item.id, githubId, ctx.now());
    log.info("github.delivered", { item: item.kind, githubId });
  }
}
