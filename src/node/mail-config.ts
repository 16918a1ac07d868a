/**
 * Configuration of the mailing-list bot on Node, from the environment (beside the GitHub bot's, see
 * ./config.ts). The mail bot is on when RPROC_MAIL_SECRET is set. Replies are written to the outbox table
 * and to <RPROC_MAIL_OUTBOX_DIR>/<id>.eml; they are sent only when SMTP_URL is set (dry run otherwise).
 */
import { z } from "zod";
import { commaList, problemsOf, wholeNumber } from "../bot/env.ts";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../bot/timeout.ts";
import { UsageError } from "../errors.ts";
import {
  DEFAULT_ASSEMBLY_TIMEOUT_MS,
  DEFAULT_FEED_BASE_URL,
  type MailConfig,
  mailConfigOf,
} from "../mail/config.ts";
import { DEFAULT_FROM } from "../report/index.ts";
import type { Env } from "./config.ts";

export interface MailServiceConfig {
  mail: MailConfig;
  /** smtp:// or smtps:// URL (credentials in it); null: dry run. */
  smtpUrl: string | null;
  outboxDir: string;
  pollMs: number;
  /** Time limit of each list feed or archive request and of each SMTP step (RPROC_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** The service's public URL (RPROC_PUBLIC_URL): replies link their full report under it. */
  publicUrl?: string;
}

export const DEFAULT_OUTBOX_DIR = "./data/outbox";

const list = commaList.pipe(
  z.array(
    z.string().regex(/^[A-Za-z0-9._-]+$/, "expected list names as lore spells them (linux-remoteproc)"),
  ),
);

const MailEnv = z.object({
  RPROC_MAIL_SECRET: z.string().min(16, "too short: use at least 16 random characters"),
  RPROC_MAIL_FROM: z
    .string()
    .regex(/^[^<>]*<[^<>\s]+@[^<>\s]+>$|^[^<>\s]+@[^<>\s]+$/, 'expected "Name <address>" or an address')
    .default(DEFAULT_FROM),
  RPROC_MAIL_LIST: z.email({ error: "expected the list's address" }).optional(),
  RPROC_MAIL_ASSEMBLY_TIMEOUT_MS: wholeNumber(0, 7 * 86_400_000).default(DEFAULT_ASSEMBLY_TIMEOUT_MS),
  RPROC_MAIL_FEED_URL: z.url({ error: "expected an http(s) URL" }).default(DEFAULT_FEED_BASE_URL),
  RPROC_MAIL_FEED_LISTS: list,
  RPROC_MAIL_POLL_MS: wholeNumber(1000, 86_400_000).default(5 * 60_000),
  RPROC_MAIL_OUTBOX_DIR: z.string().min(1).default(DEFAULT_OUTBOX_DIR),
  RPROC_MAIL_COMMANDS_FROM: z.string().optional(),
  RPROC_REQUEST_TIMEOUT_MS: wholeNumber(100, 600_000).default(DEFAULT_REQUEST_TIMEOUT_MS),
  RPROC_PUBLIC_URL: z.url({ protocol: /^https?$/, error: "expected the service's http(s) URL" }).optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, "expected smtp://user:password@host:port or smtps://…")
    .optional(),
});

const empty = (env: Env): Env =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));

/**
 * The mail bot's configuration (null when RPROC_MAIL_SECRET is not set) and what is wrong with it, one
 * "VARIABLE: why" per bad variable; config is null when there are problems.
 */
export function parseMailConfig(env: Env): { config: MailServiceConfig | null; problems: string[] } {
  const e = empty(env);
  if (e.RPROC_MAIL_SECRET === undefined) return { config: null, problems: [] };
  const parsed = MailEnv.safeParse(e);
  if (!parsed.success) return { config: null, problems: problemsOf(parsed.error, "environment") };
  const c = parsed.data;
  return {
    config: {
      mail: mailConfigOf({
        secret: c.RPROC_MAIL_SECRET,
        from: c.RPROC_MAIL_FROM,
        list: c.RPROC_MAIL_LIST,
        assemblyTimeoutMs: c.RPROC_MAIL_ASSEMBLY_TIMEOUT_MS,
        commandsFrom: c.RPROC_MAIL_COMMANDS_FROM,
        feedUrl: c.RPROC_MAIL_FEED_URL,
        feedLists: c.RPROC_MAIL_FEED_LISTS,
      }),
      smtpUrl: c.SMTP_URL ?? null,
      outboxDir: c.RPROC_MAIL_OUTBOX_DIR,
      pollMs: c.RPROC_MAIL_POLL_MS,
      requestTimeoutMs: c.RPROC_REQUEST_TIMEOUT_MS,
      ...(c.RPROC_PUBLIC_URL !== undefined ? { publicUrl: c.RPROC_PUBLIC_URL.replace(/\/+$/, "") } : {}),
    },
    problems: [],
  };
}

/** The mail bot's configuration, or null when RPROC_MAIL_SECRET is not set; one UsageError for every bad variable. */
export function loadMailConfig(env: Env): MailServiceConfig | null {
  const { config, problems } = parseMailConfig(env);
  if (problems.length > 0) {
    throw new UsageError(`invalid mail configuration: ${problems.join("; ")}`, { subject: "serve" });
  }
  return config;
}
