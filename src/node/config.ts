/**
 * Configuration of `rproc-review serve`, from the environment (and a .env file, loaded by the command).
 * Everything is validated at start; an error names each bad variable and what it should be. Secret values
 * are never part of an error message.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { type BotConfig, DEFAULT_BOT_CONFIG } from "../bot/config.ts";
import { toPkcs8Pem } from "../bot/keys.ts";
import type { LogLevel } from "../bot/log.ts";
import { UsageError } from "../errors.ts";
import { DEFAULT_DB_PATH } from "./sqlite-store.ts";

export interface ServiceConfig {
  bot: BotConfig;
  appId: number;
  /** PEM as given (PKCS#1 or PKCS#8). */
  privateKey: string;
  apiUrl: string;
  dbPath: string;
  host: string;
  port: number;
  /** How often an idle worker looks at the queue (it is also woken by each new job). */
  pollMs: number;
  /** How long a shutdown waits for the running job before interrupting it. */
  shutdownGraceMs: number;
  maxAttempts: number;
  githubRetries: number;
  githubRetryUnitMs: number;
  logLevel: LogLevel;
}

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

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const EnvSchema = z.object({
  GITHUB_APP_ID: z
    .string({ error: "required: the GitHub App's numeric id (App settings, About)" })
    .regex(/^\d+$/, "expected the App's numeric id")
    .transform(Number),
  GITHUB_APP_PRIVATE_KEY: optionalText,
  GITHUB_APP_PRIVATE_KEY_PATH: optionalText,
  GITHUB_WEBHOOK_SECRET: z
    .string({ error: "required: the webhook secret set in the App settings" })
    .min(8, "too short: use at least 8 characters (GitHub recommends a long random string)"),
  GITHUB_API_URL: z.url({ error: "expected an http(s) URL" }).default("https://api.github.com"),
  RPROC_DB_PATH: z.string().min(1).default(DEFAULT_DB_PATH),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(0, 65535).default(3000),
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
  RPROC_JOB_LEASE_MS: int(100, 86_400_000).default(DEFAULT_BOT_CONFIG.leaseMs),
  RPROC_JOB_RETRY_BASE_MS: int(0, 86_400_000).default(DEFAULT_BOT_CONFIG.retryBaseMs),
  RPROC_JOB_RETRY_MAX_MS: int(0, 86_400_000).default(DEFAULT_BOT_CONFIG.retryMaxMs),
  RPROC_JOB_MAX_ATTEMPTS: int(1, 100).default(5),
  RPROC_WORKER_POLL_MS: int(10, 3_600_000).default(1000),
  RPROC_SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  RPROC_GITHUB_RETRIES: int(0, 10).default(3),
  RPROC_GITHUB_RETRY_UNIT_MS: int(0, 60_000).default(1000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type Env = Record<string, string | undefined>;

/** The service configuration from `env`; throws one UsageError naming every bad variable. */
export function loadConfig(
  env: Env,
  readFile: (path: string) => string = (p) => readFileSync(p, "utf8"),
): ServiceConfig {
  const parsed = EnvSchema.safeParse(env);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")}: ${i.message}`);
  let privateKey: string | null = null;
  const inline = parsed.success
    ? parsed.data.GITHUB_APP_PRIVATE_KEY
    : optionalText.parse(env.GITHUB_APP_PRIVATE_KEY);
  const path = parsed.success
    ? parsed.data.GITHUB_APP_PRIVATE_KEY_PATH
    : optionalText.parse(env.GITHUB_APP_PRIVATE_KEY_PATH);
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
      const why =
        e instanceof Error && "code" in e
          ? `cannot read ${path}: ${String(e.code)}`
          : "not a PEM private key (PKCS#1 or PKCS#8)";
      problems.push(`${name}: ${why}`);
    }
  }
  if (!parsed.success || privateKey === null || problems.length > 0) {
    throw new UsageError(`invalid configuration: ${problems.join("; ")}`, { subject: "serve" });
  }
  const e = parsed.data;
  return {
    bot: {
      webhookSecret: e.GITHUB_WEBHOOK_SECRET,
      allowedAssociations: e.RPROC_ALLOWED_ASSOCIATIONS,
      checkName: e.RPROC_CHECK_NAME,
      leaseMs: e.RPROC_JOB_LEASE_MS,
      retryBaseMs: e.RPROC_JOB_RETRY_BASE_MS,
      retryMaxMs: e.RPROC_JOB_RETRY_MAX_MS,
    },
    appId: e.GITHUB_APP_ID,
    privateKey,
    apiUrl: e.GITHUB_API_URL,
    dbPath: e.RPROC_DB_PATH,
    host: e.HOST,
    port: e.PORT,
    pollMs: e.RPROC_WORKER_POLL_MS,
    shutdownGraceMs: e.RPROC_SHUTDOWN_GRACE_MS,
    maxAttempts: e.RPROC_JOB_MAX_ATTEMPTS,
    githubRetries: e.RPROC_GITHUB_RETRIES,
    githubRetryUnitMs: e.RPROC_GITHUB_RETRY_UNIT_MS,
    logLevel: e.LOG_LEVEL,
  };
}

/** Values the logs must never show. */
export function configSecrets(config: ServiceConfig): string[] {
  return [config.bot.webhookSecret, config.privateKey, toPkcs8Pem(config.privateKey)];
}
