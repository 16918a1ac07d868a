/**
 * The bot as a Node service: the Hono app on @hono/node-server, the SQLite store, and RPROC_WORKERS worker
 * loops that drain the queue (woken by each new job, else polling); each attempt has a deadline
 * (src/bot/worker.ts), so a stuck job holds one worker for that long at most and the others go on. Closing
 * stops taking jobs, waits a grace period for the running ones, then interrupts them (they go back to the
 * queue) and closes the server and database.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { type AppDeps, createBot } from "../bot/app.ts";
import type { ReviewEngine } from "../bot/engine.ts";
import { createGitHubApp, type GitHubClientFactory, noGitHubApp } from "../bot/github.ts";
import { createLogger, type Logger } from "../bot/log.ts";
import { UsageError } from "../errors.ts";
import { renderHtml } from "../report/html.ts";
import { configSecrets, type ServiceConfig } from "./config.ts";
import { loadMermaidScript } from "./html.ts";
import { SqliteStore } from "./sqlite-store.ts";

export interface ServiceOptions {
  config: ServiceConfig;
  engine: ReviewEngine;
  /** Where the JSON log lines go; default stdout. */
  writeLog?: (line: string) => void;
  /** Default: the GitHub App of the configuration (none in a mail-only service). */
  github?: GitHubClientFactory;
  /** Further routes and job handlers (the mailing-list bot, src/node/mail-service.ts). */
  extend?: Pick<AppDeps, "routes" | "handlers">;
}

export interface RunningService {
  /** http://host:port */
  url: string;
  port: number;
  log: Logger;
  close(): Promise<void>;
}

function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done: () => void = () => {};
  const promise = new Promise<void>((resolve) => {
    done = resolve;
    timer = setTimeout(resolve, ms);
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      done();
    },
  };
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config } = options;
  const log = createLogger({
    write: options.writeLog ?? ((line) => process.stdout.write(`${line}\n`)),
    secrets: configSecrets(config),
    level: config.logLevel,
  });
  const store = new SqliteStore(config.dbPath, { maxAttempts: config.maxAttempts });
  const github =
    options.github ??
    (config.appId === null
      ? noGitHubApp("no GitHub App is configured (GITHUB_APP_ID and the rest are unset)")
      : createGitHubApp({
          appId: config.appId,
          privateKey: config.privateKey,
          baseUrl: config.apiUrl,
          log,
          retries: config.githubRetries,
          retryAfterBaseMs: config.githubRetryUnitMs,
          requestTimeoutMs: config.requestTimeoutMs,
        }));

  const abort = new AbortController();
  let stopping = false;
  const idle = new Set<() => void>();
  let woken = 0;
  /** Wakes the idle workers (a job was queued, or the service stops). */
  const wake = (): void => {
    woken++;
    for (const cancel of [...idle]) cancel();
  };
  let mermaid: Promise<string> | null = null;
  const mermaidScript = () => {
    mermaid ??= loadMermaidScript().catch(() => "");
    return mermaid;
  };
  const bot = createBot({
    store,
    queue: store,
    config: config.bot,
    github,
    engine: options.engine,
    log,
    onEnqueued: wake,
    // GET /reports/<id>: the page inlines mermaid's bundle when it is installed (a devDependency), else the
    // diagrams show as their Mermaid source.
    reportHtml: async (r) => renderHtml(r, { mermaidScript: await mermaidScript() }),
    ...options.extend,
  });

  const loop = async (worker: number): Promise<void> => {
    while (!stopping) {
      const seen = woken;
      let handled = false;
      try {
        handled = await bot.processNext(abort.signal);
      } catch (e) {
        log.error("worker.error", { worker, error: e });
      }
      // Sleep only when the queue had nothing and no job came meanwhile.
      if (handled || stopping || woken !== seen) continue;
      const pause = delay(config.pollMs);
      idle.add(pause.cancel);
      await pause.promise;
      idle.delete(pause.cancel);
    }
  };
  const workers = Promise.all(Array.from({ length: config.workers }, (_, i) => loop(i + 1)));

  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch: bot.app.fetch, port: config.port, hostname: config.host, autoCleanupIncoming: false },
      () => resolve(s),
    );
    s.once("error", (e: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`cannot listen on ${config.host}:${config.port}: ${e.code ?? e.message}`, {
          subject: "serve",
        }),
      ),
    );
  }).catch(async (e: unknown) => {
    stopping = true;
    wake();
    await workers;
    store.close();
    throw e;
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  log.info("service.start", {
    url,
    db: store.path,
    githubApi: config.appId === null ? null : config.apiUrl,
    appId: config.appId,
    mail: config.mail !== null,
    workers: config.workers,
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      wake();
      const grace = delay(config.shutdownGraceMs);
      await Promise.race([workers, grace.promise]);
      grace.cancel();
      abort.abort(new Error("the service is shutting down"));
      await workers;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      store.close();
      log.info("service.stop", { url });
    })();
    return closing;
  };
  return { url, port, log, close };
}
