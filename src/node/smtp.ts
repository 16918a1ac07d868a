/**
 * Delivering the bot's mails on Node: each one is written to <outboxDir>/<outbox id>.eml, and sent by SMTP
 * (nodemailer, the message as rendered, envelope from the From address) only when an SMTP URL is
 * configured. Without one it is a dry run: the mail stays pending in the outbox table.
 *
 * Delivery is at-least-once with the same Message-ID (src/mail/jobs.ts, deliverAll): a failure after the
 * DATA command with no answer from the server (a broken connection, a timeout) leaves the mail in doubt; one
 * before DATA, or a failure answer from the server, certainly delivered nothing (MailNotDelivered).
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

/**
 * True when the SMTP failure `e` certainly delivered nothing: the DATA command was never sent (`dataSent`
 * false), or the server answered with a failure (to MAIL, RCPT or the end of DATA) and so did not take it.
 */
export function certainlyNotDelivered(e: unknown, dataSent: boolean): boolean {
  if (!dataSent) return true;
  const responseCode = e instanceof Error ? (e as { responseCode?: unknown }).responseCode : undefined;
  return typeof responseCode === "number" && responseCode >= 400;
}

/** A nodemailer logger that logs nothing and tells when the DATA command went to the server. */
function phaseLogger(): {
  logger: Record<string, (entry?: unknown, message?: unknown) => void>;
  dataSent: () => boolean;
} {
  let sent = false;
  const watch = (entry?: unknown, message?: unknown) => {
    if ((entry as { tnx?: unknown } | undefined)?.tnx === "client" && message === "DATA") sent = true;
  };
  return {
    logger: { trace: watch, debug: watch, info: watch, warn: watch, error: watch, fatal: watch },
    dataSent: () => sent,
  };
}

export function createNodeTransport(options: NodeTransportOptions): MailTransport & { close(): void } {
  const t = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const smtpUrl = options.smtpUrl;
  return {
    live: smtpUrl !== null,
    async deliver(mail: StoredMail): Promise<boolean> {
      mkdirSync(options.outboxDir, { recursive: true });
      writeFileSync(join(options.outboxDir, `${mail.id}.eml`), mail.eml);
      if (smtpUrl === null) return false;
      // One transport per mail, so that its log tells whether this mail's DATA was sent. nodemailer's own
      // defaults wait up to 10 minutes for an answer; the URL's settings win over these.
      const phase = phaseLogger();
      const smtp = nodemailer.createTransport({
        url: smtpUrl,
        connectionTimeout: t,
        greetingTimeout: t,
        socketTimeout: t,
        dnsTimeout: t,
        logger: phase.logger,
        transactionLog: true,
      });
      try {
        await smtp.sendMail({ envelope: { from: addressOf(options.from), to: mail.to }, raw: mail.eml });
      } catch (e) {
        if (certainlyNotDelivered(e, phase.dataSent())) {
          throw new MailNotDelivered(`SMTP: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
        throw e;
      } finally {
        smtp.close();
      }
      return true;
    },
    close: () => {},
  };
}
