import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhooks } from "@octokit/webhooks";
import type { ReviewEngine, VersionRef } from "../../src/bot/engine.ts";
import { loadConfig } from "../../src/node/config.ts";
import { type RunningService, type ServiceOptions, startService } from "../../src/node/server.ts";
import type { Series } from "../../src/series/types.ts";
import { type FakeCommit, type FakeGitHub, startFakeGitHub } from "./fake-github.ts";

export const SECRET = "webhook-secret-7f3a9c1e5b";
export const APP_ID = 4242;

const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
export const PUBLIC_KEY = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
export const PKCS1_KEY = keys.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
export const PKCS8_KEY = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

/** One commit as `git format-patch` prints it, adding `file` with `lines`. */
export function formatPatch(sha: string, subject: string, file: string, lines: string[]): string {
  return [
    `From ${sha} Mon Sep 17 00:00:00 2001`,
    "From: Ada Author <ada@example.com>",
    "Date: Fri, 2 Jan 2026 03:04:05 +0000",
    `Subject: [PATCH] ${subject}`,
    "",
    `${subject}: the body.`,
    "",
    "Signed-off-by: Ada Author <ada@example.com>",
    "---",
    ` ${file} | ${lines.length} +`,
    " 1 file changed, 1 insertion(+)",
    ` create mode 100644 ${file}`,
    "",
    `diff --git a/${file} b/${file}`,
    "new file mode 100644",
    "index 0000000..1111111",
    "--- /dev/null",
    `+++ b/${file}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map((l) => `+${l}`),
    "-- ",
    "2.43.0",
    "",
  ].join("\n");
}

export function commit(sha: string, subject: string): FakeCommit {
  return { sha, patch: formatPatch(sha, subject, `drivers/${subject.replace(/\W+/g, "_")}.c`, ["int x;"]) };
}

function refName(v: VersionRef): string {
  return v.kind === "series" ? v.label : v.id;
}

/** A small engine for the HTTP tests: it reports what it was given, so tests can see what the bot passed. */
export function testEngine(): ReviewEngine & { reviews: Array<{ series: Series; against: string | null }> } {
  const reviews: Array<{ series: Series; against: string | null }> = [];
  return {
    reviews,
    scenarioIds: () => ["boot", "recovery"],
    isBuiltinVersion: (id) => id === "mainline",
    nearestBuiltinVersion: () => "mainline",
    async reviewPullRequest(series, against, { scenarios }) {
      reviews.push({ series, against: against && refName(against) });
      const titles = series.patches.map((p) => p.title).join(", ");
      return {
        markdown: `### review of ${series.id}\n\npatches: ${titles}\nagainst: ${against ? refName(against) : "nothing"}\nscenarios: ${scenarios?.join(" ") ?? "all"}`,
        checkTitle: `${series.id}: ${series.patches.length} patches`,
        checkSummary: `against ${against ? refName(against) : "nothing"}`,
        checkText: null,
        conclusion: "neutral",
        cells: [],
        facts: null,
      };
    },
    async diff(a, b) {
      return { markdown: `diff from ${refName(a)} to ${refName(b)}` };
    },
  };
}

export interface Harness {
  fake: FakeGitHub;
  dir: string;
  dbPath: string;
  logs: string[];
  service: RunningService | null;
  /** Starts the service; `extend` adds routes and job kinds (the mailing-list bot). */
  start(overrides?: Record<string, string>, extend?: ServiceOptions["extend"]): Promise<RunningService>;
  stop(): Promise<void>;
  close(): Promise<void>;
}

export async function harness(engine: ReviewEngine, key: string = PKCS1_KEY): Promise<Harness> {
  const fake = await startFakeGitHub({ appId: APP_ID, publicKeyPem: PUBLIC_KEY });
  const dir = mkdtempSync(join(tmpdir(), "rproc-bot-"));
  const dbPath = join(dir, "bot.sqlite");
  const logs: string[] = [];
  const h: Harness = {
    fake,
    dir,
    dbPath,
    logs,
    service: null,
    async start(overrides = {}, extend = undefined) {
      const config = loadConfig({
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_APP_PRIVATE_KEY: key.replaceAll("\n", "\\n"),
        GITHUB_WEBHOOK_SECRET: SECRET,
        GITHUB_API_URL: fake.url,
        RPROC_DB_PATH: dbPath,
        PORT: "0",
        RPROC_WORKER_POLL_MS: "20",
        RPROC_JOB_RETRY_BASE_MS: "50",
        RPROC_GITHUB_RETRY_UNIT_MS: "20",
        RPROC_SHUTDOWN_GRACE_MS: "50",
        LOG_LEVEL: "debug",
        ...overrides,
      });
      h.service = await startService({
        config,
        engine,
        writeLog: (line) => logs.push(line),
        ...(extend ? { extend } : {}),
      });
      return h.service;
    },
    async stop() {
      await h.service?.close();
      h.service = null;
    },
    async close() {
      await h.stop();
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

const signer = new Webhooks({ secret: SECRET });

export interface Delivered {
  status: number;
  body: { status?: string; error?: string; job?: number | null; reason?: string };
}

/** Posts a delivery as GitHub does; `signature` overrides the correct one (null: no header). */
export async function deliver(
  url: string,
  event: string,
  payload: unknown,
  options: { id?: string; signature?: string | null; rawBody?: string } = {},
): Promise<Delivered> {
  const body = options.rawBody ?? JSON.stringify(payload);
  const signature = options.signature === undefined ? await signer.sign(body) : options.signature;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": options.id ?? randomUUID(),
    "user-agent": "GitHub-Hookshot/test",
  };
  if (signature !== null) headers["x-hub-signature-256"] = signature;
  const res = await fetch(`${url}/webhooks/github`, { method: "POST", headers, body });
  return { status: res.status, body: (await res.json()) as Delivered["body"] };
}

/**
 * Polls `check` until it returns true or the deadline passes; then fails with `what` and, when given, what
 * `diagnose` says (e.g. the service's log lines).
 */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  options: { ms?: number; diagnose?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.ms ?? 20_000);
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for: ${what}${options.diagnose ? `\n${options.diagnose()}` : ""}`);
}

/** Waits for a spawned `serve` to log service.start (in `stdout`) and returns that line's fields. */
export async function serviceStarted(
  stdout: () => string,
  stderr: () => string,
): Promise<{ url: string } & Record<string, unknown>> {
  await eventually("the service to start", () => stdout().includes('"event":"service.start"'), {
    ms: 60_000,
    diagnose: stderr,
  });
  return JSON.parse(
    stdout()
      .split("\n")
      .find((l) => l.includes("service.start")) ?? "{}",
  ) as { url: string } & Record<string, unknown>;
}

export async function jobCounts(url: string): Promise<Record<string, number>> {
  const res = await fetch(`${url}/healthz`);
  return ((await res.json()) as { jobs: Record<string, number> }).jobs;
}
