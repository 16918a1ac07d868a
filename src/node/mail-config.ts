/**
 * Configuration of the mailing-list bot on Node, from the environment (beside the GitHub bot's, see
 * ./config.ts). The mail bot is on when RPROC_MAIL_SECRET is set. Replies are written to the outbox table
 * and to <RPROC_MAIL_OUTBOX_DIR>/<id>.eml; they are sent only when SMTP_URL is set (dry run otherwise).
 */
import { z } from "zod";
import { UsageError } from "../errors.ts";
import {
  DEFAULT_ASSEMBLY_TIMEOUT_MS,
  DEFAULT_FEED_BASE_URL,
  type MailConfig,
  parseCommandsFrom,
} from "../mail/config.ts";
import { DEFAULT_FROM } from "../report/index.ts";
import type { Env } from "./config.ts";

export interface MailServiceConfig {
  mail: MailConfig;
  /** smtp:// or smtps:// URL (credentials in it); null: dry run. */
  smtpUrl: string | null;
  outboxDir: string;
  pollMs: number;
}

export const DEFAULT_OUTBOX_DIR = "./data/outbox";

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "expected a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const list = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((x) => x.trim())
      .filter((x) => x !== ""),
  )
  .pipe(
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
  RPROC_MAIL_ASSEMBLY_TIMEOUT_MS: int(0, 7 * 86_400_000).default(DEFAULT_ASSEMBLY_TIMEOUT_MS),
  RPROC_MAIL_FEED_URL: z.url({ error: "expected an http(s) URL" }).default(DEFAULT_FEED_BASE_URL),
  RPROC_MAIL_FEED_LISTS: list,
  RPROC_MAIL_POLL_MS: int(1000, 86_400_000).default(5 * 60_000),
  RPROC_MAIL_OUTBOX_DIR: z.string().min(1).default(DEFAULT_OUTBOX_DIR),
  RPROC_MAIL_COMMANDS_FROM: z.string().optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, "expected smtp://user:password@host:port or smtps://…")
    .optional(),
});

const empty = (env: Env): Env =>
  Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));

/** The mail bot's configuration, or null when RPROC_MAIL_SECRET is not set; one UsageError for every bad variable. */
export function loadMailConfig(env: Env): MailServiceConfig | null {
  const e = empty(env);
  if (e.RPROC_MAIL_SECRET === undefined) return null;
  const parsed = MailEnv.safeParse(e);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${String(i.path[0] ?? "environment")}: ${i.message}`);
    throw new UsageError(`invalid mail configuration: ${problems.join("; ")}`, { subject: "serve" });
  }
  const c = parsed.data;
  return {
    mail: {
      secret: c.RPROC_MAIL_SECRET,
      from: c.RPROC_MAIL_FROM,
      listAddress: c.RPROC_MAIL_LIST ?? null,
      assemblyTimeoutMs: c.RPROC_MAIL_ASSEMBLY_TIMEOUT_MS,
      commandsFrom: parseCommandsFrom(c.RPROC_MAIL_COMMANDS_FROM),
      feed:
        c.RPROC_MAIL_FEED_LISTS.length > 0
          ? { baseUrl: c.RPROC_MAIL_FEED_URL, lists: c.RPROC_MAIL_FEED_LISTS }
          : null,
    },
    smtpUrl: c.SMTP_URL ?? null,
    outboxDir: c.RPROC_MAIL_OUTBOX_DIR,
    pollMs: c.RPROC_MAIL_POLL_MS,
  };
}
