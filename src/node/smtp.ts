/**
 * Delivering the bot's mails on Node: each one is written to <outboxDir>/<outbox id>.eml, and sent by SMTP
 * (nodemailer, the message as rendered, envelope from the From address) only when an SMTP URL is
 * configured. Without one it is a dry run: the mail stays pending in the outbox table.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../bot/timeout.ts";
import { addressOf } from "../mail/config.ts";
import type { MailTransport } from "../mail/jobs.ts";
import type { StoredMail } from "../mail/store.ts";

export interface NodeTransportOptions {
  from: string;
  outboxDir: string;
  smtpUrl: string | null;
  /** Time limit of connecting, of the greeting and of every wait for the server's answer (default 30 s). */
  timeoutMs?: number;
}

export function createNodeTransport(options: NodeTransportOptions): MailTransport & { close(): void } {
  const t = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  // nodemailer's own defaults wait up to 10 minutes for an answer; the URL's settings win over these.
  const smtp =
    options.smtpUrl === null
      ? null
      : nodemailer.createTransport({
          url: options.smtpUrl,
          connectionTimeout: t,
          greetingTimeout: t,
          socketTimeout: t,
          dnsTimeout: t,
        });
  return {
    async deliver(mail: StoredMail): Promise<boolean> {
      mkdirSync(options.outboxDir, { recursive: true });
      writeFileSync(join(options.outboxDir, `${mail.id}.eml`), mail.eml);
      if (smtp === null) return false;
      await smtp.sendMail({ envelope: { from: addressOf(options.from), to: mail.to }, raw: mail.eml });
      return true;
    },
    close: () => smtp?.close(),
  };
}
