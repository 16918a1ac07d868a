/**
 * Configuration of `rproc-review serve`, from the environment (and a .env file, loaded by the command).
 * Everything is validated at start; an error names each bad variable and what it should be. Secret values
 * are never part of an error message. The service runs the GitHub bot, the mailing-list bot
 * (./mail-config.ts), or both: each is on when its variables are set, and at least one must be.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { z } from "zod";
import { type BotConfig, DEFAULT_BOT_CONFIG } from "../bot/config.ts";
import { optionalText, problemsOf, wholeNumber } from "../bot/env.ts";
import { toPkcs8Pem } from "../bot/keys.ts";
import type { LogLevel } from "../bot/log.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../bot/timeout.ts";
import { UsageError } from "../errors.ts";
import { type MailServiceConfig, parseMailConfig } from "./mail-config.ts";
import { DEFAULT_DB_PATH } from "./sqlite-store.ts";

interface ServiceSettings {
  /** `webhookSecret` is null without a GitHub App: POST /webhooks/github then answers 404. */
  bot: BotConfig;
  apiUrl: string;
  /** The mailing-list bot, when RPROC_MAIL_SECRET is set. */
  mail: MailServiceConfig | null;
  dbPath: string;
  host: string;
  port: number;
  /** How often an idle worker looks at the queue (it is also woken by each new job). */
  pollMs: number;
  /** Jobs run at once (each worker takes the next ready job when it is free). */
  workers: number;
  /** Worker threads the reviews run in, off the event loop that acknowledges webhooks and mail (0: in it). */
  reviewThreads: number;
  /** Time limit of one outbound request (GitHub, list feed and archive, each SMTP step). */
  requestTimeoutMs: number;
  /** How long a shutdown waits for the running job before interrupting it. */
  shutdownGraceMs: number;
  maxAttempts: number;
  githubRetries: number;
  githubRetryUnitMs: number;
  logLevel: LogLevel;
}

/** The GitHub App, or none (a mail-only service). */
type GitHubAppSettings =
  | {
      appId: number;
      /** PEM as given (PKCS#1 or PKCS#8). */
      privateKey: string;
    }
  | { appId: null; privateKey: null };

export type ServiceConfig = ServiceSettings & GitHubAppSettings;

const ASSOCIATIONS = [
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIME_CONTRIBUTOR",
  "FIRST_TIMER",
  "MANNEQUIN",
  "NONE",
] as const;

/** The GitHub App's variables: all of them, or none for a mail-only service. */
const GitHubEnv = z.object({
  GITHUB_APP_ID: z
    .string({ error: "required: the GitHub App's numeric id (App settings, About)" })
    .regex(/^\d+$/, "expected the App's numeric id")
    .transform(Number),
  GITHUB_WEBHOOK_SECRET: z
    .string({ error: "required: the webhook secret set in the App settings" })
    .min(8, "too short: use at least 8 characters (GitHub recommends a long random string)"),
});

const GITHUB_VARIABLES = [
  "GITHUB_APP_ID",
  "GITHUB_APP_PRIVATE_KEY",
  "GITHUB_APP_PRIVATE_KEY_PATH",
  "GITHUB_WEBHOOK_SECRET",
] as const;

const NOTHING_TO_SERVE =
  "nothing to serve: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_PATH) and GITHUB_WEBHOOK_SECRET for the GitHub bot, or RPROC_MAIL_SECRET for the mailing-list bot, or both";

/** Jobs run at once by default: reviews are mostly CPU, the rest waits on GitHub or SMTP. */
export const DEFAULT_WORKERS = 4;

const EnvSchema = z.object({
  GITHUB_API_URL: z.url({ error: "expected an http(s) URL" }).default("https://api.github.com"),
  RPROC_DB_PATH: z.string().min(1).default(DEFAULT_DB_PATH),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: wholeNumber(0, 65535).default(3000),
  RPROC_ALLOWED_ASSOCIATIONS: z
    .string()
    .default(DEFAULT_BOT_CONFIG.allowedAssociations.join(","))
    .transform((s) =>
      s
        .split(",")
        .map((a) => a.trim().toUpperCase())
        .filter((a) => a !== ""),
    )
    .pipe(
      z.array(z.enum(ASSOCIATIONS, { error: `expected a comma list of ${ASSOCIATIONS.join(", ")}` })).min(1),
    ),
  RPROC_CHECK_NAME: z.string().min(1).max(100).default(DEFAULT_BOT_CONFIG.checkName),
  RPROC_PUBLIC_URL: z
    .url({ protocol: /^https?$/, error: "expected the service's http(s) URL, as seen from outside" })
    .transform((u) => u.replace(/\/+$/, ""))
    .optional(),
  RPROC_JOB_LEASE_MS: wholeNumber(100, 86_400_000).default(DEFAULT_BOT_CONFIG.leaseMs),
  RPROC_JOB_TIMEOUT_MS: wholeNumber(50, 86_400_000).optional(),
  RPROC_HEALTH_OVERDUE_MS: wholeNumber(0, 86_400_000).default(DEFAULT_BOT_CONFIG.healthOverdueMs),
  RPROC_WORKERS: wholeNumber(1, 64).default(DEFAULT_WORKERS),
  RPROC_REVIEW_THREADS: wholeNumber(0, 64).optional(),
  RPROC_REQUEST_TIMEOUT_MS: wholeNumber(100, 600_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
  RPROC_JOB_RETRY_BASE_MS: wholeNumber(0, 86_400_000).default(DEFAULT_BOT_CONFIG.retryBaseMs),
  RPROC_JOB_RETRY_MAX_MS: wholeNumber(0, 86_400_000).default(DEFAULT_BOT_CONFIG.retryMaxMs),
  RPROC_JOB_MAX_ATTEMPTS: wholeNumber(1, 100).default(5),
  RPROC_WORKER_POLL_MS: wholeNumber(10, 3_600_000).default(1000),
  RPROC_SHUTDOWN_GRACE_MS: wholeNumber(0, 600_000).default(10_000),
  RPROC_GITHUB_RETRIES: wholeNumber(0, 10).default(3),
  RPROC_GITHUB_RETRY_UNIT_MS: wholeNumber(0, 60_000).default(1000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = Record<string, string | undefined>;

/**
 * The job deadline: as configured, else four fifths of the lease; it must end before the lease does, so
 * that a job is handed back before another worker may take it.
 */
function jobTimeout(leaseMs: number, configured: number | undefined, problems: string[]): number {
  if (configured === undefined) return Math.floor((leaseMs * 4) / 5);
  if (configured >= leaseMs) {
    problems.push(
      `RPROC_JOB_TIMEOUT_MS: must be less than RPROC_JOB_LEASE_MS (${leaseMs}), so that a job is handed back before its lease ends`,
    );
  }
  return configured;
}

/** True when any of the GitHub App's variables is set: then all of them must be. */
function gitHubWanted(env: Env): boolean {
  return GITHUB_VARIABLES.some((name) => optionalText.parse(env[name]) !== undefined);
}

/** The GitHub App's id, key and webhook secret, or null after pushing to `problems` what is wrong. */
function gitHubApp(
  env: Env,
  readFile: (path: string) => string,
  problems: string[],
): { appId: number; privateKey: string; webhookSecret: string } | null {
  const parsed = GitHubEnv.safeParse(env);
  if (!parsed.success) problems.push(...problemsOf(parsed.error, "environment"));
  let privateKey: string | null = null;
  const inline = optionalText.parse(env.GITHUB_APP_PRIVATE_KEY);
  const path = optionalText.parse(env.GITHUB_APP_PRIVATE_KEY_PATH);
  if (inline !== undefined && path !== undefined) {
    problems.push("GITHUB_APP_PRIVATE_KEY, GITHUB_APP_PRIVATE_KEY_PATH: set only one of them");
  } else if (inline === undefined && path === undefined) {
    problems.push(
      "GITHUB_APP_PRIVATE_KEY: required (the App's private key, PEM), or GITHUB_APP_PRIVATE_KEY_PATH: the .pem file",
    );
  } else {
    const name = inline !== undefined ? "GITHUB_APP_PRIVATE_KEY" : "GITHUB_APP_PRIVATE_KEY_PATH";
    try {
      privateKey = inline ?? readFile(path as string);
      toPkcs8Pem(privateKey);
    } catch (e) {
      privateKey = null;
      const why =
        e instanceof Error && "code" in e
          ? `cannot read ${path}: ${String(e.code)}`
          : "not a PEM private key (PKCS#1 or PKCS#8)";
      problems.push(`${name}: ${why}`);
    }
  }
  if (!parsed.success || privateKey === null) return null;
  return { appId: parsed.data.GITHUB_APP_ID, privateKey, webhookSecret: parsed.data.GITHUB_WEBHOOK_SECRET };
}

/** The service configuration from `env`; throws one UsageError naming every bad variable. */
export function loadConfig(
  env: Env,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): ServiceConfig {
  const parsed = EnvSchema.safeParse(env);
  const problems: string[] = parsed.success ? [] : problemsOf(parsed.error, "environment");
  const wanted = gitHubWanted(env);
  const github = wanted ? gitHubApp(env, readFile, problems) : null;
  const mail = parseMailConfig(env);
  problems.push(...mail.problems);
  if (!wanted && mail.config === null && mail.problems.length === 0) problems.push(NOTHING_TO_SERVE);
  const jobTimeoutMs = parsed.success
    ? jobTimeout(parsed.data.RPROC_JOB_LEASE_MS, parsed.data.RPROC_JOB_TIMEOUT_MS, problems)
    : 0;
  if (!parsed.success || problems.length > 0) {
    throw new UsageError(`invalid configuration: ${problems.join("; ")}`, { subject: "serve" });
  }
  const e = parsed.data;
  return {
    bot: {
      webhookSecret: github?.webhookSecret ?? null,
      allowedAssociations: e.RPROC_ALLOWED_ASSOCIATIONS,
      checkName: e.RPROC_CHECK_NAME,
      leaseMs: e.RPROC_JOB_LEASE_MS,
      jobTimeoutMs,
      healthOverdueMs: e.RPROC_HEALTH_OVERDUE_MS,
      retryBaseMs: e.RPROC_JOB_RETRY_BASE_MS,
      retryMaxMs: e.RPROC_JOB_RETRY_MAX_MS,
      ...(e.RPROC_PUBLIC_URL !== undefined ? { publicUrl: e.RPROC_PUBLIC_URL } : {}),
    },
    ...(github ? { appId: github.appId, privateKey: github.privateKey } : { appId: null, privateKey: null }),
    apiUrl: e.GITHUB_API_URL,
    mail: mail.config,
    dbPath: e.RPROC_DB_PATH,
    host: e.HOST,
    port: e.PORT,
    pollMs: e.RPROC_WORKER_POLL_MS,
    workers: e.RPROC_WORKERS,
    // A review is CPU work: more threads than cores, or than jobs run at once, gain nothing.
    reviewThreads: e.RPROC_REVIEW_THREADS ?? Math.min(e.RPROC_WORKERS, availableParallelism()),
    requestTimeoutMs: e.RPROC_REQUEST_TIMEOUT_MS,
    shutdownGraceMs: e.RPROC_SHUTDOWN_GRACE_MS,
    maxAttempts: e.RPROC_JOB_MAX_ATTEMPTS,
    githubRetries: e.RPROC_GITHUB_RETRIES,
    githubRetryUnitMs: e.RPROC_GITHUB_RETRY_UNIT_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** Values the logs must never show. */
export function configSecrets(config: ServiceConfig): string[] {
  return [
    ...(config.bot.webhookSecret !== null ? [config.bot.webhookSecret] : []),
    ...(config.privateKey !== null ? [config.privateKey, toPkcs8Pem(config.privateKey)] : []),
    ...(config.mail ? [config.mail.mail.secret, ...(config.mail.smtpUrl ? [config.mail.smtpUrl] : [])] : []),
  ];
}
