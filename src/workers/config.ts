/**
 * The Worker's configuration, from its bindings (wrangler.toml [vars], `wrangler secret put`), validated at
 * the first request: an error names each bad variable. The GitHub App is optional here; when configured its
 * key must be PKCS#8, the only format WebCrypto (and so the JWT signer in workerd) imports.
 */
import { z } from "zod";
import { type BotConfig, DEFAULT_BOT_CONFIG } from "../bot/config.ts";
import { commaList, optionalText, problemsOf, wholeNumber } from "../bot/env.ts";
import { UsageError } from "../errors.ts";
import {
  DEFAULT_ASSEMBLY_TIMEOUT_MS,
  DEFAULT_FEED_BASE_URL,
  type MailConfig,
  mailConfigOf,
} from "../mail/config.ts";
import { DEFAULT_FROM } from "../report/index.ts";

export const PKCS8_HINT =
  "convert it with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem, then: npx wrangler secret put GITHUB_APP_PRIVATE_KEY < key-pkcs8.pem";

export interface WorkerConfig {
  mail: MailConfig;
  /** webhookSecret is null without a GitHub App: /webhooks/github then answers 404 saying what to set. */
  bot: BotConfig;
  github: { appId: number; privateKey: string; apiUrl: string } | null;
  maxAttempts: number;
}

const VarsSchema = z.object({
  MAIL_SECRET: z
    .string({ error: "required: the shared secret of POST /mail (npx wrangler secret put MAIL_SECRET)" })
    .min(16, "too short: use at least 16 random characters"),
  MAIL_FROM: z.string().min(3).default(DEFAULT_FROM),
  MAIL_LIST: optionalText.pipe(z.email({ error: "expected the list's address" }).optional()),
  MAIL_ASSEMBLY_TIMEOUT_MS: wholeNumber(0, 7 * 86_400_000).default(DEFAULT_ASSEMBLY_TIMEOUT_MS),
  MAIL_FEED_URL: z.url({ error: "expected an http(s) URL" }).default(DEFAULT_FEED_BASE_URL),
  MAIL_FEED_LISTS: commaList,
  MAIL_COMMANDS_FROM: z.string().optional(),
  GITHUB_APP_ID: optionalText.pipe(z.string().regex(/^\d+$/, "expected the App's numeric id").optional()),
  GITHUB_APP_PRIVATE_KEY: optionalText,
  GITHUB_WEBHOOK_SECRET: optionalText,
  GITHUB_API_URL: z.url().default("https://api.github.com"),
  JOB_MAX_ATTEMPTS: wholeNumber(1, 100).default(5),
  PUBLIC_URL: optionalText.pipe(
    z.url({ protocol: /^https?$/, error: "expected the Worker's http(s) URL" }).optional(),
  ),
});

/** Refuses a PKCS#1 key ("BEGIN RSA PRIVATE KEY") with the command that converts it. */
export function requirePkcs8(pem: string): string {
  const text = pem.replaceAll("\\n", "\n");
  if (text.includes("-----BEGIN RSA PRIVATE KEY-----")) {
    throw new UsageError(
      `GITHUB_APP_PRIVATE_KEY is a PKCS#1 key; on Workers it must be PKCS#8: ${PKCS8_HINT}`,
      {
        subject: "worker configuration",
      },
    );
  }
  if (!text.includes("-----BEGIN PRIVATE KEY-----")) {
    throw new UsageError(`GITHUB_APP_PRIVATE_KEY is not a PEM private key (PKCS#8 expected: ${PKCS8_HINT})`, {
      subject: "worker configuration",
    });
  }
  return text;
}

export function loadWorkerConfig(vars: Record<string, unknown>): WorkerConfig {
  const strings = Object.fromEntries(Object.entries(vars).filter(([, v]) => typeof v === "string"));
  const parsed = VarsSchema.safeParse(strings);
  if (!parsed.success) {
    const problems = problemsOf(parsed.error, "vars");
    throw new UsageError(`invalid configuration: ${problems.join("; ")}`, {
      subject: "worker configuration",
    });
  }
  const v = parsed.data;
  const githubVars = [v.GITHUB_APP_ID, v.GITHUB_APP_PRIVATE_KEY, v.GITHUB_WEBHOOK_SECRET];
  if (githubVars.some((x) => x !== undefined) && githubVars.some((x) => x === undefined)) {
    throw new UsageError(
      "invalid configuration: GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET go together: set all three or none",
      { subject: "worker configuration" },
    );
  }
  const github =
    v.GITHUB_APP_ID !== undefined && v.GITHUB_APP_PRIVATE_KEY !== undefined
      ? {
          appId: Number(v.GITHUB_APP_ID),
          privateKey: requirePkcs8(v.GITHUB_APP_PRIVATE_KEY),
          apiUrl: v.GITHUB_API_URL,
        }
      : null;
  return {
    mail: mailConfigOf({
      secret: v.MAIL_SECRET,
      from: v.MAIL_FROM,
      list: v.MAIL_LIST,
      assemblyTimeoutMs: v.MAIL_ASSEMBLY_TIMEOUT_MS,
      commandsFrom: v.MAIL_COMMANDS_FROM,
      feedUrl: v.MAIL_FEED_URL,
      feedLists: v.MAIL_FEED_LISTS,
    }),
    bot: {
      ...DEFAULT_BOT_CONFIG,
      // As on Node: without a GitHub App the webhook route says the GitHub bot is not configured.
      webhookSecret: github === null ? null : (v.GITHUB_WEBHOOK_SECRET ?? null),
      ...(v.PUBLIC_URL !== undefined ? { publicUrl: v.PUBLIC_URL.replace(/\/+$/, "") } : {}),
    },
    github,
    maxAttempts: v.JOB_MAX_ATTEMPTS,
  };
}
