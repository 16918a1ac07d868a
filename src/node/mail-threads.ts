/**
 * Large mails are parsed off the service's event loop: a MIME parse takes about 0.15 s a megabyte (0.9 s for
 * a 6.7 MB patch, within the bounds intake accepts), and `POST /mail` may bring several in one mbox, while the
 * same loop acknowledges webhooks. Below LARGE_MAIL_BYTES the parse stays here (a thread hop costs more).
 */
import type { Email } from "postal-mime";
import { parseMailHere } from "../mail/intake.ts";
import { createThreadPool, isWorkerFor, serveThread } from "./threads.ts";

export const LARGE_MAIL_BYTES = 256 * 1024;

type Parse = { parse: (raw: Uint8Array) => Promise<Email> };

export interface MailParser {
  parse(raw: Uint8Array): Promise<Email>;
  close(): Promise<void>;
  /** Threads started so far. */
  readonly started: number;
}

export function createMailParser(options: { callTimeoutMs: number; threshold?: number }): MailParser {
  const threshold = options.threshold ?? LARGE_MAIL_BYTES;
  const pool = createThreadPool<Parse>({
    entry: import.meta.url,
    threads: 1,
    callTimeoutMs: options.callTimeoutMs,
    what: "the mail parse",
  });
  return {
    parse: (raw) => (raw.length < threshold ? parseMailHere(raw) : pool.call("parse", raw)),
    close: () => pool.close(),
    get started() {
      return pool.started;
    },
  };
}

if (isWorkerFor(import.meta.url)) serveThread(() => ({ parse: parseMailHere }));
