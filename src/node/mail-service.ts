/**
 * The mailing-list bot inside the Node service (`rproc-review serve` with RPROC_MAIL_SECRET): `POST /mail`
 * and the mail job kinds join the service's app and worker (ServiceOptions.extend), beside the GitHub bot or
 * alone; timers sweep series past their assembly timeout and poll the configured lists.
 */
import type { AppDeps } from "../bot/app.ts";
import { createLogger, type Logger } from "../bot/log.ts";
import type { MailContext } from "../mail/intake.ts";
import { sweepAssembly } from "../mail/intake.ts";
import { type MailEngine, mailHandlers } from "../mail/jobs.ts";
import { type Fetch, listArchive, pollList } from "../mail/poller.ts";
import { jobsOf, mailRoutes } from "../mail/routes.ts";
import type { MailServiceConfig } from "./mail-config.ts";
import { SqliteMailStore } from "./mail-store.ts";
import { createMailParser } from "./mail-threads.ts";
import { createNodeTransport } from "./smtp.ts";
import { SqliteStore } from "./sqlite-store.ts";

export interface MailServiceOptions {
  config: MailServiceConfig;
  /** The service's database file (RPROC_DB_PATH), shared with the GitHub bot when it runs. */
  dbPath: string;
  engine: MailEngine;
  log?: Logger;
  now?: () => number;
  fetch?: Fetch;
}

export interface MailService {
  /** To pass to startService. */
  extend: Required<Pick<AppDeps, "routes" | "handlers">>;
  context: MailContext;
  /** Sweeps timed-out series, and polls the lists (when `poll` is false: only when the poll interval has passed). */
  tick(poll?: boolean): Promise<void>;
  /** Starts the timers. */
  start(): void;
  close(): Promise<void>;
}

export function createMailService(options: MailServiceOptions): MailService {
  const { config } = options;
  const log = (
    options.log ??
    createLogger({
      write: (line) => process.stdout.write(`${line}\n`),
      secrets: [config.mail.secret, ...(config.smtpUrl ? [config.smtpUrl] : [])],
    })
  ).child({ component: "mail" });
  // Opening the bot's store applies the shared migrations; it is also the queue the mail jobs go to.
  const queue = new SqliteStore(options.dbPath);
  const store = new SqliteMailStore(options.dbPath);
  const transport = createNodeTransport({
    from: config.mail.from,
    outboxDir: config.outboxDir,
    smtpUrl: config.smtpUrl,
    timeoutMs: config.requestTimeoutMs,
  });
  const parser = createMailParser({ callTimeoutMs: config.requestTimeoutMs });
  const context: MailContext = {
    store,
    queue,
    config: config.mail,
    log,
    now: options.now ?? Date.now,
    parseMail: parser.parse,
  };
  let wake: () => void = () => {};
  const routes = mailRoutes(context);

  let lastPoll = Number.NEGATIVE_INFINITY;
  const tick = async (poll = true): Promise<void> => {
    const queued = await sweepAssembly(context);
    const feed = config.mail.feed;
    if (feed && (poll || Date.now() - lastPoll >= config.pollMs)) {
      lastPoll = Date.now();
      for (const list of feed.lists) {
        const r = await pollList(context, feed.baseUrl, list, options.fetch, config.requestTimeoutMs);
        queued.push(...jobsOf(r.results));
      }
    }
    if (queued.length > 0) wake();
  };

  const timers: ReturnType<typeof setInterval>[] = [];
  let running: Promise<void> = Promise.resolve();
  const guarded = () => {
    running = running
      .then(() => tick(false))
      .catch((e: unknown) => log.error("mail.tick.failed", { error: e }));
  };
  return {
    extend: {
      routes: (app, enqueued) => {
        wake = enqueued;
        routes(app, enqueued);
      },
      handlers: mailHandlers({
        ...context,
        transport,
        engineFor: () => options.engine,
        // Full reports are kept in the bot's store and served at GET /reports/<id>.
        reports: queue,
        ...(config.publicUrl !== undefined ? { publicUrl: config.publicUrl } : {}),
        // A mail in doubt is looked for in the followed lists' archive before it is sent again.
        ...(config.mail.feed
          ? {
              archive: listArchive(
                config.mail.feed.baseUrl,
                config.mail.feed.lists,
                options.fetch,
                config.requestTimeoutMs,
              ),
            }
          : {}),
      }),
    },
    context,
    tick,
    start() {
      // The sweep runs at least four times per timeout; the poll at its own interval.
      const sweepMs = Math.max(1000, Math.min(60_000, Math.floor(config.mail.assemblyTimeoutMs / 4)));
      timers.push(setInterval(guarded, Math.min(sweepMs, config.pollMs)));
      guarded();
    },
    async close() {
      for (const t of timers) clearInterval(t);
      await running;
      transport.close();
      await parser.close();
      store.close();
      queue.close();
    },
  };
}
