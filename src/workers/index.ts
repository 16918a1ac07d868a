/**
 * The bot on Cloudflare Workers: the same Hono app as on Node (GitHub webhooks, `POST /mail`), the store on
 * D1, jobs in the D1 jobs table woken through a Queue, and a cron trigger that sweeps series past their
 * assembly timeout, polls the lists and drains the jobs.
 *
 * C parsing does not run here: web-tree-sitter cannot load its grammar in workerd (compiling wasm from
 * bytes is disallowed; test/workers/tree-sitter.test.ts). A series is reviewed with the facts a Node process
 * derived (`rproc-review map --json`), posted with it to `POST /mail` as `{ "mbox": …, "facts": … }`; a
 * series that comes without facts is not reviewed (logged). Replies stay in the outbox table: Workers
 * sends no mail (dry run).
 */
import { createBot } from "../bot/app.ts";
import { type D1Like, D1Store } from "../bot/d1-store.ts";
import type { GitHubClientFactory } from "../bot/github.ts";
import { createGitHubApp, noGitHubApp } from "../bot/github.ts";
import { createLogger, type Logger } from "../bot/log.ts";
import { createReviewEngine } from "../bot/review-engine.ts";
import type { Json } from "../bot/store.ts";
import { InputError, isUserError } from "../errors.ts";
import { decodeSeriesC } from "../interp/env/series.ts";
import { type MailContext, sweepAssembly } from "../mail/intake.ts";
import { type MailEngine, type MailTransport, MissingFactsError, mailHandlers } from "../mail/jobs.ts";
import { pollList } from "../mail/poller.ts";
import { mailRoutes } from "../mail/routes.ts";
import type { MailSeriesState } from "../mail/store.ts";
import { renderHtml } from "../report/html.ts";
import type { Series } from "../series/types.ts";
import { bundledMapping } from "./builtin-facts.ts";
import { loadWorkerConfig, type WorkerConfig } from "./config.ts";
import { factsOf } from "./facts.ts";

export interface JobsQueue {
  send(body: unknown): Promise<void>;
}

export interface Env {
  DB: D1Like;
  JOBS: JobsQueue;
  [name: string]: unknown;
}

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

export interface MessageBatchLike {
  readonly messages: readonly unknown[];
  ackAll(): void;
}

/** Jobs one queue or cron invocation handles at most (a Worker invocation has a limited time). */
const JOBS_PER_INVOCATION = 20;

const NO_PARSER =
  "C parsing runs on Node, not on Workers: post the series to POST /mail as JSON { mbox, facts } with facts from `rproc-review map --json`";

const isObject = (v: Json | null): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function seriesKeyOf(series: Series): string | undefined {
  return series.cover?.messageId ?? series.patches[0]?.messageId;
}

/**
 * An engine that maps a series with the facts that came with it, and runs the C lowered with them (their `c`,
 * `rproc-review map --json`); without it, the cells that need the series' C are unknown naming that.
 */
function factsEngine(state: MailSeriesState): MailEngine {
  const facts = state.facts === null ? null : factsOf(state.facts);
  const c = isObject(state.facts) ? state.facts.c : undefined;
  return createReviewEngine({
    builtinMapping: bundledMapping,
    seriesC: (series) => decodeSeriesC(series, seriesKeyOf(series) === state.key ? c : undefined),
    mapSeries: (series) => {
      if (facts === null || seriesKeyOf(series) !== state.key) {
        throw new MissingFactsError(
          `no facts for ${series.id} <${seriesKeyOf(series) ?? "?"}>: ${NO_PARSER}`,
        );
      }
      return facts;
    },
  });
}

const dryRun = (log: Logger): MailTransport => ({
  async deliver(mail) {
    log.info("mail.outbox", { outbox: mail.id, messageId: mail.messageId, to: mail.to });
    return false;
  },
});

function githubFor(config: WorkerConfig, log: Logger): GitHubClientFactory {
  if (config.github === null) return noGitHubApp("no GitHub App is configured on this Worker");
  return createGitHubApp({ ...config.github, baseUrl: config.github.apiUrl, log });
}

export function createWorker(env: Env, wakes: Array<Promise<void>>) {
  const config = loadWorkerConfig(env);
  const log = createLogger({
    write: (line) => console.log(line),
    secrets: [
      config.mail.secret,
      ...(config.github ? [config.github.privateKey] : []),
      ...(config.bot.webhookSecret ? [config.bot.webhookSecret] : []),
    ],
  });
  const store = new D1Store(env.DB, { maxAttempts: config.maxAttempts });
  const context: MailContext = { store, queue: store, config: config.mail, log, now: Date.now };
  const wake = () => {
    wakes.push(env.JOBS.send({ wake: Date.now() }));
  };
  const bot = createBot({
    store,
    queue: store,
    config: config.bot,
    github: githubFor(config, log),
    engine: createReviewEngine({
      builtinMapping: bundledMapping,
      mapSeries: () => {
        throw new InputError(NO_PARSER);
      },
    }),
    log,
    onEnqueued: wake,
    routes: mailRoutes(context),
    handlers: mailHandlers({
      ...context,
      transport: dryRun(log),
      engineFor: factsEngine,
      reports: store,
      ...(config.bot.publicUrl !== undefined ? { publicUrl: config.bot.publicUrl } : {}),
    }),
    // The Worker has no mermaid bundle to inline: the page shows each diagram as its Mermaid source.
    reportHtml: (r) => renderHtml(r, { mermaidScript: "" }),
  });
  return {
    bot,
    context,
    log,
    async drain(): Promise<number> {
      let n = 0;
      while (n < JOBS_PER_INVOCATION && (await bot.processNext())) n++;
      return n;
    },
  };
}

function configError(e: unknown): Response {
  const message = isUserError(e) ? e.oneLine() : "internal error";
  return Response.json({ error: message }, { status: 503 });
}

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContextLike): Promise<Response> {
    const wakes: Array<Promise<void>> = [];
    let worker: ReturnType<typeof createWorker>;
    try {
      worker = createWorker(env, wakes);
    } catch (e) {
      return configError(e);
    }
    const response = await worker.bot.app.fetch(request);
    ctx.waitUntil(Promise.all(wakes));
    return response;
  },

  /** A message only wakes the worker: the jobs themselves are rows of the D1 jobs table. */
  async queue(batch: MessageBatchLike, env: Env): Promise<void> {
    const worker = createWorker(env, []);
    await worker.drain();
    batch.ackAll();
  },

  async scheduled(_controller: unknown, env: Env): Promise<void> {
    const worker = createWorker(env, []);
    await sweepAssembly(worker.context);
    const feed = worker.context.config.feed;
    for (const list of feed?.lists ?? []) await pollList(worker.context, feed?.baseUrl ?? "", list);
    await worker.drain();
  },
};
