/**
 * Delivering the bot's mails on Node: each one is written to <outboxDir>/<outbox id>.eml, and sent by SMTP
 * (nodemailer, the message as rendered, envelope from the From address) only when an SMTP URL is
 * configured. Without one it is a dry run: the mail stays pending in the outbox table.
 *
 * Delivery is at-least-once with the same Message-ID (src/mail/jobs.ts, deliverAll): a failure that leaves
 * the mail in doubt (no answer to the end of DATA: a broken connection, a timeout) is told apart from one
 * that certainly delivered nothing (MailNotDelivered: the server answered with a failure, or the connection
 * was never made).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { DEFAULT_REQUEST_TIMEOUT_MS } from "../bot/timeout.ts";
import { addressOf } from "../mail/config.ts";
import { MailNotDelivered, type MailTransport } from "../mail/jobs.ts";
import type { StoredMail } from "../mail/store.ts";

export interface NodeTransportOptions {
  from: string;
  outboxDir: string;
  smtpUrl: string | null;
  /** Time limit of connecting, of the greeting and of every wait for the server's answer (default 30 s). */
  timeoutMs?: number;
}

/** Failures to connect: nothing was sent. */
const NO_CONNECTION = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH/;

/** True when the SMTP failure `e` certainly delivered nothing. */
export function certainlyNotDelivered(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const { responseCode, code } = e as { responseCode?: unknown; code?: unknown };
  // The server answered with a failure (to MAIL, RCPT or the end of DATA): it did not take the mail.
  if (typeof responseCode === "number" && responseCode >= 400) return true;
  const cause = (e as { cause?: unknown }).cause;
  const text = `${String(code ?? "")} ${e.message} ${cause instanceof Error ? cause.message : ""}`;
  return NO_CONNECTION.test(text);
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
    live: smtp !== null,
    async deliver(mail: StoredMail): Promise<boolean> {
      mkdirSync(options.outboxDir, { recursive: true });
      writeFileSync(join(options.outboxDir, `${mail.id}.eml`), mail.eml);
      if (smtp === null) return false;
      try {
        await smtp.sendMail({ envelope: { from: addressOf(options.from), to: mail.to }, raw: mail.eml });
      } catch (e) {
        if (certainlyNotDelivered(e)) {
          throw new MailNotDelivered(`SMTP: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        throw e;
      }
      return true;
    },
    close: () => smtp?.close(),
  };
}
