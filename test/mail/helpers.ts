import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Bot, createBot } from "../../src/bot/app.ts";
import { DEFAULT_BOT_CONFIG } from "../../src/bot/config.ts";
import { createLogger } from "../../src/bot/log.ts";
import { createReviewEngine, type ReportingEngine } from "../../src/bot/review-engine.ts";
import { signMail } from "../../src/mail/hmac.ts";
import { cParser } from "../../src/node/c-parser.ts";
import { loadMailConfig } from "../../src/node/mail-config.ts";
import { createMailService, type MailService } from "../../src/node/mail-service.ts";
import type { SqliteStore } from "../../src/node/sqlite-store.ts";
import { renderHtml } from "../../src/report/html.ts";

export const MAIL_SECRET = "mail-secret-0123456789abcdef";
export const FROM = "rproc-review <bot@rproc.example>";
export const LIST = "linux-remoteproc@vger.example";

/** The mapper's fixture series: cover letter and three patches, threaded to the cover. */
export const MBOX = readFileSync(fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url)));
export const MAILS = MBOX.toString("utf8")
  .split(/^(?=From 0{40} )/m)
  .filter((m) => m.trim() !== "");

let engine: ReportingEngine | null = null;
export async function realEngine(): Promise<ReportingEngine> {
  engine ??= createReviewEngine({ parser: await cParser() });
  return engine;
}

export interface MailHarness {
  dir: string;
  dbPath: string;
  outboxDir: string;
  logs: string[];
  mail: MailService;
  bot: Bot;
  now: { value: number };
  /** POSTs a signed body to /mail. */
  post(body: string | Uint8Array, headers?: Record<string, string>): Promise<Response>;
  /** Runs the worker until the queue has nothing ready. */
  drain(): Promise<number>;
  /** Closes and opens again on the same files (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function mailHarness(env: Record<string, string> = {}, dir?: string): Promise<MailHarness> {
  const root = dir ?? mkdtempSync(join(tmpdir(), "rproc-mail-"));
  const dbPath = join(root, "bot.sqlite");
  const outboxDir = join(root, "outbox");
  const logs: string[] = [];
  const now = { value: Date.UTC(2026, 0, 5, 10, 0, 0) };
  const config = loadMailConfig({
    RPROC_MAIL_SECRET: MAIL_SECRET,
    RPROC_MAIL_FROM: FROM,
    RPROC_MAIL_LIST: LIST,
    RPROC_MAIL_OUTBOX_DIR: outboxDir,
    RPROC_MAIL_ASSEMBLY_TIMEOUT_MS: String(10 * 60_000),
    ...env,
  });
  if (!config) throw new Error("mail configuration expected");
  const log = createLogger({ write: (line) => logs.push(line), level: "debug" });
  const reviewEngine = await realEngine();
  const open = () => {
    const mail = createMailService({ config, dbPath, engine: reviewEngine, log, now: () => now.value });
    const queue = mail.context.queue as SqliteStore;
    const bot = createBot({
      store: queue,
      queue,
      config: { ...DEFAULT_BOT_CONFIG, webhookSecret: "unused-github-secret", retryBaseMs: 0 },
      github: {
        forInstallation: () => Promise.reject(new Error("no GitHub in the mail tests")),
      },
      engine: reviewEngine,
      log,
      now: () => now.value,
      reportHtml: (r) => renderHtml(r, { mermaidScript: "" }),
      ...mail.extend,
    });
    return { mail, bot };
  };
  let current = open();
  const h: MailHarness = {
    dir: root,
    dbPath,
    outboxDir,
    logs,
    now,
    get mail() {
      return current.mail;
    },
    get bot() {
      return current.bot;
    },
    async post(body, headers = {}) {
      const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
      return current.bot.app.request("/mail", {
        method: "POST",
        body: new Uint8Array(bytes),
        headers: { "x-rproc-signature": await signMail(MAIL_SECRET, bytes), ...headers },
      });
    },
    async drain() {
      let n = 0;
      while (await current.bot.processNext()) n++;
      return n;
    },
    async restart() {
      await current.mail.close();
      current = open();
    },
    async close() {
      await current.mail.close();
      if (!dir) rmSync(root, { recursive: true, force: true });
    },
  };
  return h;
}

/** Header value of a mail (unfolded). */
export function headerOf(eml: string, name: string): string | null {
  const head = eml.split("\n\n", 1)[0] ?? "";
  const unfolded = head.replace(/\n[ \t]+/g, " ");
  const m = new RegExp(`^${name}: (.*)$`, "mi").exec(unfolded);
  return m?.[1] ?? null;
}

export function bodyOf(eml: string): string {
  return eml.slice(eml.indexOf("\n\n") + 2);
}

/**
 * How a local SMTP sink ends a message's DATA: "ok" answers 250; "die" takes the message and closes the
 * connection before its 250 (a server that crashed, or a network that broke); "hold" takes it and never
 * answers; "refuse" answers 451 (nothing delivered).
 */
export type SinkEnding = "ok" | "die" | "hold" | "refuse";

export interface SinkMail {
  from: string;
  to: string[];
  data: string;
  ending: SinkEnding;
  /** When its DATA was read (ms). */
  at: number;
}

/**
 * A minimal SMTP server on 127.0.0.1 that records what it was given; the n-th DATA (from 0) ends as
 * `endings[n]` or `endings(n)` (default "ok"). `received` holds every message whose DATA it read, whatever
 * its ending but "refuse".
 */
export function smtpSink(endings: SinkEnding[] | ((n: number) => SinkEnding) = []): {
  server: TcpServer;
  received: SinkMail[];
} {
  const received: SinkMail[] = [];
  let n = 0;
  const server = createTcpServer((socket) => {
    let buffer = "";
    let inData = false;
    let current = { from: "", to: [] as string[] };
    socket.on("error", () => {});
    socket.write("220 sink.example ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          const data = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          const ending = (typeof endings === "function" ? endings(n) : endings[n]) ?? "ok";
          n++;
          if (ending !== "refuse") received.push({ ...current, data, ending, at: Date.now() });
          current = { from: "", to: [] };
          if (ending === "ok") socket.write("250 queued\r\n");
          else if (ending === "refuse") socket.write("451 4.3.0 try again later\r\n");
          else if (ending === "die") socket.destroy();
          if (ending === "hold" || ending === "die") return;
          continue;
        }
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250 sink.example\r\n");
        else if (verb === "MAIL") {
          current.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          socket.write("250 ok\r\n");
        } else if (verb === "RCPT") {
          current.to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          socket.write("250 ok\r\n");
        } else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
  });
  return { server, received };
}
