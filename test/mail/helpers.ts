import { mkdtempSync, readFileSync, rmSync } from "node:fs";
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
