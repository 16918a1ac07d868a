/**
 * The bot's HTTP app (Hono, runs on Node and Workers). The webhook only verifies, records and enqueues, so
 * that GitHub gets its answer well within its 10 s: the review runs later from the queue (./worker.ts).
 */
import { Webhooks } from "@octokit/webhooks";
import { Hono } from "hono";
import { z } from "zod";
import type { ReviewReport } from "../review/report.ts";
import { BodyTooLarge, readBody } from "./body.ts";
import { parseCommand } from "./commands.ts";
import type { BotConfig } from "./config.ts";
import type { ReviewEngine } from "./engine.ts";
import type { GitHubClientFactory } from "./github.ts";
import type { CommandPayload, ReviewPayload } from "./jobs.ts";
import type { Logger } from "./log.ts";
import { reportRoutes } from "./reports.ts";
import type { JobInput, JobKind, Queue, QueueHealth, Store } from "./store.ts";
import { type JobHandler, processNext } from "./worker.ts";

export interface AppDeps {
  store: Store;
  queue: Queue;
  config: BotConfig;
  github: GitHubClientFactory;
  engine: ReviewEngine;
  log: Logger;
  now?: () => number;
  /** Called after a job was enqueued (the Node server wakes its worker). */
  onEnqueued?: () => void;
  /** Further routes (the mailing-list bot's POST /mail, src/mail/routes.ts); `enqueued` wakes the worker. */
  routes?: (app: Hono, enqueued: () => void) => void;
  /** Handlers of further job kinds (src/mail/jobs.ts). */
  handlers?: Partial<Record<JobKind, JobHandler>>;
  /** Renders a kept report as its page for GET /reports/<id> (src/bot/reports.ts); absent: no such route. */
  reportHtml?: (r: ReviewReport) => string | Promise<string>;
}

/** GitHub caps webhook payloads at 25 MB. */
const MAX_BODY = 25 * 1024 * 1024;
const REVIEW_ACTIONS = new Set(["opened", "synchronize", "reopened", "edited"]);

const Repository = z.object({ name: z.string(), owner: z.object({ login: z.string() }) });
const Installation = z.object({ id: z.number().int() });
const PullRequestEvent = z.object({
  action: z.string(),
  installation: Installation.optional(),
  repository: Repository,
  pull_request: z.object({ number: z.number().int(), head: z.object({ sha: z.string() }) }),
});
const IssueCommentEvent = z.object({
  action: z.string(),
  installation: Installation.optional(),
  repository: Repository,
  issue: z.object({ number: z.number().int(), pull_request: z.unknown().optional() }),
  comment: z.object({
    id: z.number().int(),
    body: z.string().nullable(),
    author_association: z.string(),
    user: z.object({ login: z.string(), type: z.string() }).nullable(),
  }),
});
const AnyEvent = z.object({
  action: z.string().optional(),
  repository: z.object({ full_name: z.string() }).optional(),
});

type Decision = { job: JobInput } | { ignored: string };

/** The jobs of one pull request run one at a time (src/bot/store.ts, JobInput.lane). */
export function pullLane(owner: string, repo: string, number: number): string {
  return `pr:${owner}/${repo}#${number}`;
}

export interface HealthProblem {
  status: "stuck" | "overdue";
  reason: string;
  job: number;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * What is wrong with the queue, if anything. Stuck: a job still running halfway between its deadline and
 * the end of its lease, or past its lease (a live worker hands a job back at its deadline, so its worker died
 * or hangs). Overdue: a ready job has waited longer than healthOverdueMs for a worker.
 */
export function queueProblem(
  h: QueueHealth,
  config: Pick<BotConfig, "leaseMs" | "jobTimeoutMs" | "healthOverdueMs">,
  now: number,
): HealthProblem | null {
  const r = h.oldestRunning;
  if (r !== null) {
    const running = now - r.startedAt;
    const what = `job ${r.id} (${r.kind}) has been running for ${seconds(running)}`;
    if (now >= r.leaseUntil) {
      return {
        status: "stuck",
        job: r.id,
        reason: `${what} and its lease ended ${seconds(now - r.leaseUntil)} ago: ${
          h.leased > 0
            ? "its worker died; it runs alone, after the job running now, so that it can take no other job down with it"
            : "no worker has taken it again"
        }`,
      };
    }
    if (running > config.jobTimeoutMs + (config.leaseMs - config.jobTimeoutMs) / 2) {
      return {
        status: "stuck",
        job: r.id,
        reason: `${what}, past its deadline of ${seconds(config.jobTimeoutMs)}: its worker died or hangs (it is taken again when its lease ends)`,
      };
    }
  }
  const w = h.oldestReady;
  if (w !== null && now - w.readySince > config.healthOverdueMs) {
    return {
      status: "overdue",
      job: w.id,
      reason: `job ${w.id} (${w.kind}) has waited ${seconds(now - w.readySince)} for a worker (more than ${seconds(config.healthOverdueMs)}): the workers are all busy or stuck`,
    };
  }
  return null;
}

function decide(event: string, delivery: string, body: unknown, config: BotConfig): Decision {
  if (event === "pull_request") {
    const e = PullRequestEvent.parse(body);
    if (!REVIEW_ACTIONS.has(e.action))
      return { ignored: `pull_request ${e.action} does not change the series` };
    if (!e.installation) return { ignored: "the delivery names no installation of the app" };
    const owner = e.repository.owner.login;
    const repo = e.repository.name;
    const number = e.pull_request.number;
    const headSha = e.pull_request.head.sha;
    const payload: ReviewPayload = {
      installationId: e.installation.id,
      owner,
      repo,
      number,
      headSha,
      trigger: e.action,
    };
    // One review per delivery (a repeated delivery is stopped before): an edit of the title may change the
    // version, and a force-push back to an earlier head must bring the sticky comment back to that head.
    const key = `review:${owner}/${repo}#${number}@${headSha}:${delivery}`;
    return { job: { kind: "review", key, payload, lane: pullLane(owner, repo, number) } };
  }
  if (event === "issue_comment") {
    const e = IssueCommentEvent.parse(body);
    if (e.action !== "created") return { ignored: `issue_comment ${e.action} is not a command` };
    if (e.issue.pull_request === undefined || e.issue.pull_request === null) {
      return { ignored: "the comment is on an issue, not a pull request" };
    }
    if (e.comment.user?.type === "Bot") return { ignored: "the comment is from a bot" };
    const text = e.comment.body ?? "";
    if (parseCommand(text) === null) return { ignored: "the comment has no /rproc-review command" };
    if (!config.allowedAssociations.includes(e.comment.author_association.toUpperCase())) {
      return { ignored: `author association ${e.comment.author_association} may not give commands` };
    }
    if (!e.installation) return { ignored: "the delivery names no installation of the app" };
    const payload: CommandPayload = {
      installationId: e.installation.id,
      owner: e.repository.owner.login,
      repo: e.repository.name,
      number: e.issue.number,
      commentId: e.comment.id,
      body: text,
      author: e.comment.user?.login ?? "",
    };
    return {
      job: {
        kind: "command",
        key: `command:${payload.owner}/${payload.repo}:${e.comment.id}`,
        payload,
        lane: pullLane(payload.owner, payload.repo, payload.number),
      },
    };
  }
  return { ignored: event === "ping" ? "pong" : `event ${event} is not handled` };
}

export function createApp(deps: AppDeps): Hono {
  const now = deps.now ?? Date.now;
  const secret = deps.config.webhookSecret;
  const webhooks = secret === null ? null : new Webhooks({ secret });
  const app = new Hono();

  // 503 with the reason when a job is stuck or the queue is overdue, so that a monitor sees it.
  app.get("/healthz", async (c) => {
    const t = now();
    const [jobs, health] = await Promise.all([deps.queue.counts(), deps.queue.health(t)]);
    const problem = queueProblem(health, deps.config, t);
    return problem === null ? c.json({ status: "ok", jobs }) : c.json({ ...problem, jobs }, 503);
  });

  app.post("/webhooks/github", async (c) => {
    if (webhooks === null) {
      return c.json(
        {
          error:
            "the GitHub bot is not configured on this server (set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET)",
        },
        404,
      );
    }
    const delivery = c.req.header("x-github-delivery");
    const event = c.req.header("x-github-event");
    const signature = c.req.header("x-hub-signature-256");
    // The signature is checked over the raw body, read within the limit, before anything is parsed or written.
    const raw = new TextDecoder().decode(await readBody(c.req.raw, MAX_BODY));
    if (!signature) {
      deps.log.warn("webhook.rejected", { delivery, githubEvent: event, reason: "missing signature" });
      return c.json({ error: "missing X-Hub-Signature-256" }, 401);
    }
    const valid = await webhooks.verify(raw, signature).catch(() => false);
    if (!valid) {
      deps.log.warn("webhook.rejected", { delivery, githubEvent: event, reason: "bad signature" });
      return c.json({ error: "bad signature" }, 401);
    }
    if (!delivery || !event) {
      return c.json({ error: "missing X-GitHub-Delivery or X-GitHub-Event header" }, 400);
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return c.json({ error: "the payload is not JSON" }, 400);
    }
    let decision: Decision;
    try {
      decision = decide(event, delivery, body, deps.config);
    } catch (e) {
      const why =
        e instanceof z.ZodError
          ? e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
          : String(e);
      deps.log.warn("webhook.malformed", { delivery, githubEvent: event, why });
      return c.json({ error: `malformed ${event} payload: ${why}` }, 400);
    }
    const any = AnyEvent.safeParse(body);
    const action = any.success ? (any.data.action ?? null) : null;
    const repo = any.success ? (any.data.repository?.full_name ?? null) : null;
    const job = "job" in decision ? decision.job : null;
    const result = await deps.queue.accept({ id: delivery, event, action, repo, receivedAt: now() }, job);
    const fields = { delivery, githubEvent: event, action, repo, job: result.jobId };
    if (result.status === "duplicate") {
      deps.log.info("webhook.duplicate", fields);
      return c.json({ status: "duplicate", job: result.jobId }, 200);
    }
    if (!job) {
      const reason = "ignored" in decision ? decision.ignored : "";
      deps.log.info("webhook.ignored", { ...fields, reason });
      return c.json({ status: "ignored", reason }, 202);
    }
    deps.log.info("webhook.queued", { ...fields, enqueued: result.enqueued });
    if (result.enqueued) deps.onEnqueued?.();
    return c.json({ status: "queued", job: result.jobId, enqueued: result.enqueued }, 202);
  });

  if (deps.reportHtml) reportRoutes(app, deps.store, deps.reportHtml);
  deps.routes?.(app, () => deps.onEnqueued?.());
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((e, c) => {
    if (e instanceof BodyTooLarge) {
      deps.log.warn("http.too-large", { path: c.req.path, limit: e.limit });
      // No "connection: close": closing right after the answer, while the client is still sending,
      // resets the connection and the client loses the 413; readBody drops the rest for a while and
      // then cancels the body, which closes the connection.
      return c.json({ error: e.message }, 413);
    }
    deps.log.error("http.error", { path: c.req.path, error: e });
    return c.json({ error: "internal error" }, 500);
  });
  return app;
}

export interface Bot {
  app: Hono;
  /** Handles the next ready job of the queue; false when there was none. */
  processNext(signal?: AbortSignal): Promise<boolean>;
}

/** The app and its worker over the same dependencies. */
export function createBot(deps: AppDeps): Bot {
  const now = deps.now ?? Date.now;
  return {
    app: createApp(deps),
    processNext: (signal) => processNext({ ...deps, now, ...(signal ? { signal } : {}) }),
  };
}
