/**
 * The queue under faults: a job that kills its worker (poison), requests that never answer, GitHub applying
 * a POST but answering 5xx. Each test reproduces a defect of issue 20.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/node/sqlite-store.ts";
import { startFakeGitHub } from "./fake-github.ts";
import {
  APP_ID,
  commit,
  eventually,
  jobCounts,
  PKCS8_KEY,
  PUBLIC_KEY,
  SECRET,
  serviceStarted,
} from "./helpers.ts";

const SERVE = fileURLToPath(new URL("./crash-serve.ts", import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function spawnServe(env: Record<string, string>): {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<NodeJS.Signals | number | null>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", SERVE], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString("utf8");
  });
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, stdout: () => out, stderr: () => err, exit };
}

function reviewJob(number: number, headSha: string) {
  const payload = { installationId: 1, owner: "o", repo: "r", number, headSha, trigger: "opened" };
  return { kind: "review", key: `review:o/r#${number}@${headSha}`, payload } as const;
}

describe("poison jobs", () => {
  it("fails a job that kills its worker after its last attempt, and the other jobs are done", {
    timeout: 90_000,
  }, async () => {
    const fake = await startFakeGitHub({ appId: APP_ID, publicKeyPem: PUBLIC_KEY });
    const dir = mkdtempSync(join(tmpdir(), "rproc-poison-"));
    cleanups.push(async () => {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const poison = "c".repeat(40);
    const good = "d".repeat(40);
    fake.addPull({
      owner: "o",
      repo: "r",
      number: 1,
      title: "poison",
      body: "",
      baseSha: "a".repeat(40),
      commits: [commit(poison, "crash me")],
    });
    fake.addPull({
      owner: "o",
      repo: "r",
      number: 2,
      title: "fine",
      body: "",
      baseSha: "a".repeat(40),
      commits: [commit(good, "a fine patch")],
    });
    const dbPath = join(dir, "bot.sqlite");
    const store = new SqliteStore(dbPath, { maxAttempts: 3 });
    const now = Date.now();
    await store.accept(
      { id: "d1", event: "pull_request", action: "opened", repo: "o/r", receivedAt: now },
      reviewJob(1, poison),
    );
    await store.accept(
      { id: "d2", event: "pull_request", action: "opened", repo: "o/r", receivedAt: now + 1 },
      reviewJob(2, good),
    );
    store.close();
    const env = {
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: PKCS8_KEY.replaceAll("\n", "\\n"),
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: fake.url,
      RPROC_DB_PATH: dbPath,
      PORT: "0",
      RPROC_WORKER_POLL_MS: "20",
      RPROC_JOB_LEASE_MS: "300",
      RPROC_JOB_MAX_ATTEMPTS: "3",
    };
    // Restart the service whenever it dies, as a supervisor would; it must stop dying.
    let deaths = 0;
    let settled = false;
    for (let run = 0; run < 8 && !settled; run++) {
      const serve = spawnServe(env);
      const died = serve.exit.then((s) => {
        if (s === "SIGKILL") deaths++;
        return s;
      });
      const started = await Promise.race([serviceStarted(serve.stdout, serve.stderr), died.then(() => null)]);
      if (started === null) continue;
      const outcome = await Promise.race([
        died.then(() => "died" as const),
        eventually(
          "the queue to settle",
          async () => {
            const c = await jobCounts(started.url).catch(() => null);
            return c !== null && c.pending === 0 && c.running === 0;
          },
          { ms: 30_000 },
        ).then(() => "settled" as const),
      ]);
      if (outcome === "settled") {
        settled = true;
        expect(await jobCounts(started.url)).toEqual({ pending: 0, running: 0, done: 1, failed: 1 });
        serve.child.kill("SIGTERM");
        await serve.exit;
      }
    }
    expect(settled).toBe(true);
    // One death per attempt, then never again.
    expect(deaths).toBe(3);
    const db = new Database(dbPath, { readonly: true });
    const rows = db
      .prepare<[], { id: number; status: string; attempts: number; last_error: string | null }>(
        "SELECT id, status, attempts, last_error FROM jobs ORDER BY id",
      )
      .all();
    db.close();
    expect(rows[0]).toMatchObject({ status: "failed", attempts: 3 });
    expect(rows[0]?.last_error).toMatch(/lease expired on attempt 3 of 3/);
    expect(rows[1]).toMatchObject({ status: "done" });
    expect(fake.comments.map((c) => c.issue)).toEqual(["o/r#2"]);
  });
});
