/**
 * GitHub clients of the bot: a GitHub App (JWT from a PKCS#1 or PKCS#8 key) that hands out installation
 * clients. The `Octokit` of the octokit package already bundles the retry (5xx) and throttling (429,
 * secondary and primary rate limits, honouring Retry-After) plugins; both are configured here.
 */
import { App, Octokit } from "octokit";
import { UsageError } from "../errors.ts";
import { toPkcs8Pem } from "./keys.ts";
import type { Logger } from "./log.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS, timedFetch } from "./timeout.ts";

export type { Octokit } from "octokit";

/** How a request that creates something is retried (octokit's retry plugin does not retry those). */
export interface CreateRetries {
  /** Further tries after the first. */
  retries: number;
  /** The n-th retry waits n² × unitMs, as the retry plugin does. */
  unitMs: number;
}

export const DEFAULT_CREATE_RETRIES: CreateRetries = { retries: 3, unitMs: 1000 };

export interface GitHubClientFactory {
  /** A client authenticated as the installation; its requests are aborted when `signal` is. */
  forInstallation(installationId: number, signal?: AbortSignal): Promise<Octokit>;
  /** Default: DEFAULT_CREATE_RETRIES. */
  createRetries?: CreateRetries;
}

/** The factory of a service without a GitHub App: every client is refused with `why`. */
export function noGitHubApp(why: string): GitHubClientFactory {
  return { forInstallation: () => Promise.reject(new UsageError(why)) };
}

export interface GitHubAppOptions {
  appId: number;
  /** PEM, PKCS#1 or PKCS#8. */
  privateKey: string;
  /** REST API root; default https://api.github.com. */
  baseUrl?: string;
  log: Logger;
  /** Retries of a request answered 5xx (default 3) and of a rate-limited one (default 3). */
  retries?: number;
  /** Unit of the retry delays in ms (the plugins' retryAfterBaseValue, default 1000 = seconds). */
  retryAfterBaseMs?: number;
  /** How long one request may take, its answer included (default 30 s); then it fails as a 5xx would. */
  requestTimeoutMs?: number;
}

export function createGitHubApp(options: GitHubAppOptions): GitHubClientFactory {
  const log = options.log.child({ component: "github" });
  const retries = options.retries ?? 3;
  const retryAfterBaseValue = options.retryAfterBaseMs ?? 1000;
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const onLimit =
    (kind: string) =>
    (retryAfter: number, request: { method: string; url: string }, _octokit: unknown, retryCount: number) => {
      const retry = retryCount < retries;
      log.warn("github.rate-limited", { kind, retryAfter, method: request.method, url: request.url, retry });
      return retry;
    };
  const octokitLog = {
    debug: () => {},
    info: () => {},
    warn: (message: string) => log.warn("github.octokit", { message }),
    error: (message: string) => log.error("github.octokit", { message }),
  };
  /**
   * The throttling plugin paces writes as GitHub asks (one a second, a comment or other notification every
   * 3 s) per `id` across the process: one id per installation, since GitHub limits each installation's
   * token on its own, so that a busy installation does not slow the others.
   */
  const throttle = (id: string) => ({
    id,
    retryAfterBaseValue,
    onRateLimit: onLimit("primary"),
    onSecondaryRateLimit: onLimit("secondary"),
  });
  const ClientOctokit = Octokit.defaults({
    ...(options.baseUrl ? { baseUrl: options.baseUrl.replace(/\/+$/, "") } : {}),
    userAgent: "rproc-review-bot",
    log: octokitLog,
    // Every request has a time limit: one that never answers fails (and is retried) instead of holding the
    // job. This is also the client the App fetches installation tokens with.
    request: { fetch: timedFetch(timeoutMs) },
    retry: { retries, retryAfterBaseValue },
    throttle: throttle("app"),
  });
  const app = new App({
    appId: options.appId,
    privateKey: toPkcs8Pem(options.privateKey),
    Octokit: ClientOctokit,
    log: octokitLog,
  });
  return {
    async forInstallation(installationId, signal) {
      signal?.throwIfAborted();
      // The App's auth caches installation tokens until shortly before they expire.
      const auth = (await app.octokit.auth({ type: "installation", installationId })) as { token: string };
      // `request` and `throttle` replace the defaults' whole: given again, with the job's signal and id.
      return new ClientOctokit({
        auth: auth.token,
        request: { fetch: timedFetch(timeoutMs, signal) },
        throttle: throttle(`installation:${installationId}`),
      });
    },
    createRetries: { retries, unitMs: retryAfterBaseValue },
  };
}
