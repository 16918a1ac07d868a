/**
 * The queue under faults: a job that kills its worker (poison), requests that never answer, GitHub applying
 * a POST but answering 5xx. Each test reproduces a defect of issue 20.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createApp, queueProblem } from "../../src/bot/app.ts";
import { DEFAULT_BOT_CONFIG } from "../../src/bot/config.ts";
import { noGitHubApp } from "../../src/bot/github.ts";
import { createLogger } from "../../src/bot/log.ts";
import { signMail } from "../../src/mail/hmac.ts";
import { loadMailConfig } from "../../src/node/mail-config.ts";
import { createMailService } from "../../src/node/mail-service.ts";
import { SqliteStore } from "../../src/node/sqlite-store.ts";
import { type Spawned, spawnNode } from "../helpers/spawn.ts";
import { MAIL_SECRET, MBOX, realEngine } from "../mail/helpers.ts";
import { type FakeGitHub, startFakeGitHub } from "./fake-github.ts";
import {
  APP_ID,
  commit,
  deliver,
  eventually,
  harness,
  jobCounts,
  PKCS8_KEY,
  PUBLIC_KEY,
  SECRET,
  serviceStarted,
  testEngine,
} from "./helpers.ts";

const SERVE = fileURLToPath(new URL("./crash-serve.ts", import.meta.url));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function spawnServe(env: Record<string, string>): Spawned {
  const run = spawnNode(["--import", "tsx", SERVE], { env });
  cleanups.push(() => {
    if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
  });
  return run;
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
      // Long enough for the good job's attempt (its deadline is 80 % of the lease).
      RPROC_JOB_LEASE_MS: "1500",
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

/** A signed-enough pull_request "opened" delivery for pull request `number` of o/r. */
function opened(number: number, headSha: string) {
  return {
    action: "opened",
    number,
    installation: { id: 1 },
    repository: { name: "r", owner: { login: "o" }, full_name: "o/r" },
    pull_request: { number, head: { sha: headSha } },
  };
}

function addPulls(fake: FakeGitHub, n: number): string[] {
  const heads: string[] = [];
  for (let number = 1; number <= n; number++) {
    const head = String(number).repeat(40).slice(0, 40);
    heads.push(head);
    fake.addPull({
      owner: "o",
      repo: "r",
      number,
      title: `pull ${number}`,
      body: "",
      baseSha: "a".repeat(40),
      commits: [commit(head, `patch ${number}`)],
    });
  }
  return heads;
}

async function health(url: string): Promise<{ code: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}/healthz`);
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
}

const commentsOf = (fake: FakeGitHub, number: number) =>
  fake.comments.filter((c) => c.issue === `o/r#${number}`);
const runsOf = (fake: FakeGitHub, head: string) => fake.checkRuns.filter((r) => r.head_sha === head);

describe("requests that never answer", () => {
  it("hold one worker until the job's deadline while later GitHub and mail jobs complete", {
    timeout: 90_000,
  }, async () => {
    const h = await harness(testEngine());
    cleanups.push(() => h.close());
    const heads = addPulls(h.fake, 3);
    // Every comment on pull request 1 is held, never answered.
    const held = h.fake.hold("POST", /\/issues\/1\/comments$/);
    const mailConfig = loadMailConfig({
      RPROC_MAIL_SECRET: MAIL_SECRET,
      RPROC_MAIL_OUTBOX_DIR: join(h.dir, "outbox"),
    });
    if (!mailConfig) throw new Error("mail configuration expected");
    const mail = createMailService({
      config: mailConfig,
      dbPath: h.dbPath,
      engine: await realEngine(),
      log: createLogger({ write: (l) => h.logs.push(l) }),
    });
    cleanups.push(() => mail.close());
    const s = await h.start(
      {
        RPROC_WORKERS: "2",
        RPROC_JOB_LEASE_MS: "12000",
        RPROC_JOB_TIMEOUT_MS: "6000",
        // Longer than the deadline: here the deadline is what frees the worker.
        RPROC_REQUEST_TIMEOUT_MS: "60000",
        RPROC_JOB_MAX_ATTEMPTS: "2",
      },
      mail.extend,
    );
    expect((await deliver(s.url, "pull_request", opened(1, heads[0] as string))).status).toBe(202);
    await held.reached;
    for (const n of [2, 3]) {
      expect((await deliver(s.url, "pull_request", opened(n, heads[n - 1] as string))).status).toBe(202);
    }
    const posted = await fetch(`${s.url}/mail`, {
      method: "POST",
      body: MBOX,
      headers: { "x-rproc-signature": await signMail(MAIL_SECRET, MBOX) },
    });
    expect(posted.status).toBe(202);
    const fake = h.fake;
    await eventually(
      "the later jobs done while pull request 1 is held",
      async () => (await jobCounts(s.url)).done === 3,
      { diagnose: () => h.logs.slice(-20).join("\n") },
    );
    expect(fake.held()).toBeGreaterThanOrEqual(1);
    for (const n of [2, 3]) {
      expect(commentsOf(fake, n)).toHaveLength(1);
      expect(runsOf(fake, heads[n - 1] as string)).toHaveLength(1);
    }
    // The mail job's reply (a dry run: written to the outbox directory).
    expect(readdirSync(join(h.dir, "outbox")).filter((f) => f.endsWith(".eml"))).toHaveLength(1);
    // One worker is held, the other is free: nothing waits, the service is healthy.
    expect(await health(s.url)).toMatchObject({ code: 200, body: { status: "ok" } });

    // The held job is handed back at each deadline and fails after its last attempt, naming why.
    await eventually("the held job failed", async () => (await jobCounts(s.url)).failed === 1, {
      ms: 40_000,
    });
    expect(commentsOf(fake, 1)).toHaveLength(0);
    await h.stop();
    const db = new Database(h.dbPath, { readonly: true });
    const row = db
      .prepare<[], { attempts: number; last_error: string }>(
        "SELECT attempts, last_error FROM jobs WHERE kind = 'review' AND payload LIKE '%\"number\":1,%'",
      )
      .get();
    db.close();
    expect(row).toMatchObject({ attempts: 2 });
    expect(row?.last_error).toBe("attempt 2 of 2 ran past the job's deadline of 6000 ms");
  });

  it("make /healthz answer 503 overdue while the only worker is held, until the deadline frees it", {
    timeout: 60_000,
  }, async () => {
    const h = await harness(testEngine());
    cleanups.push(() => h.close());
    const heads = addPulls(h.fake, 2);
    const held = h.fake.hold("POST", /\/issues\/1\/comments$/);
    const s = await h.start({
      RPROC_WORKERS: "1",
      RPROC_JOB_LEASE_MS: "8000",
      RPROC_JOB_TIMEOUT_MS: "3000",
      RPROC_REQUEST_TIMEOUT_MS: "60000",
      RPROC_HEALTH_OVERDUE_MS: "300",
      RPROC_JOB_MAX_ATTEMPTS: "2",
    });
    expect(await health(s.url)).toMatchObject({ code: 200, body: { status: "ok" } });
    await deliver(s.url, "pull_request", opened(1, heads[0] as string));
    await held.reached;
    const second = await deliver(s.url, "pull_request", opened(2, heads[1] as string));
    let seen: { code: number; body: Record<string, unknown> } | null = null;
    await eventually("/healthz to say overdue", async () => {
      seen = await health(s.url);
      return seen.code === 503;
    });
    expect(seen).toMatchObject({
      code: 503,
      body: { status: "overdue", job: second.body.job, jobs: { pending: 1, running: 1 } },
    });
    const reason = String((seen as unknown as { body: { reason: string } }).body.reason);
    expect(reason).toMatch(
      new RegExp(
        `^job ${second.body.job} \\(review\\) has waited \\d+\\.\\d s for a worker \\(more than 0\\.3 s\\)`,
      ),
    );
    // At the deadline the worker hands pull request 1 back and takes pull request 2, which waited longer.
    const fake = h.fake;
    await eventually("pull request 2 reviewed", () => runsOf(fake, heads[1] as string).length === 1);
    expect(commentsOf(fake, 2)).toHaveLength(1);
    await eventually("/healthz ok again", async () => (await health(s.url)).code === 200);
    expect(
      h.logs.some((l) => l.includes('"event":"job.retry"') && l.includes("ran past the job's deadline")),
    ).toBe(true);
  });

  it("time out (RPROC_REQUEST_TIMEOUT_MS) and are retried by the client, the job going on", {
    timeout: 60_000,
  }, async () => {
    const h = await harness(testEngine());
    cleanups.push(() => h.close());
    const [head] = addPulls(h.fake, 1);
    // The first read of the pull request never answers; the client's retry does.
    const held = h.fake.hold("GET", /\/pulls\/1$/, { times: 1 });
    const s = await h.start({ RPROC_REQUEST_TIMEOUT_MS: "500" });
    await deliver(s.url, "pull_request", opened(1, head as string));
    await held.reached;
    await eventually("the job done", async () => (await jobCounts(s.url)).done === 1);
    const fake = h.fake;
    expect(fake.count("GET", /\/pulls\/1$/, 200)).toBe(1);
    expect(commentsOf(fake, 1)).toHaveLength(1);
    expect(runsOf(fake, head as string)).toHaveLength(1);
    // One attempt: the timeout was retried inside the request, not by the queue.
    expect(h.logs.some((l) => l.includes('"event":"job.start"') && l.includes('"attempt":2'))).toBe(false);
  });
});

describe("/healthz", () => {
  const config = { ...DEFAULT_BOT_CONFIG, webhookSecret: null, leaseMs: 10_000, jobTimeoutMs: 8_000 };

  it("answers 503 stuck for a job running past its deadline or its lease, naming it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-health-"));
    const store = new SqliteStore(join(dir, "bot.sqlite"));
    cleanups.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const t0 = 1_000_000;
    let t = t0;
    const app = createApp({
      store,
      queue: store,
      config: { ...config, healthOverdueMs: 60_000 },
      github: noGitHubApp("none"),
      engine: testEngine(),
      log: createLogger({ write: () => {} }),
      now: () => t,
    });
    const get = async () => {
      const res = await app.request("/healthz");
      return { code: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    for (const n of [1, 2]) {
      await store.accept(
        { id: `d${n}`, event: "pull_request", action: "opened", repo: "o/r", receivedAt: t0 },
        reviewJob(n, String(n).repeat(40)),
      );
      expect(await store.claim(t0, config.leaseMs)).toMatchObject({ id: n });
    }
    t = t0 + 8_500;
    // Past the deadline, but its worker may still be handing it back.
    expect(await get()).toMatchObject({ code: 200, body: { status: "ok" } });
    t = t0 + 9_500;
    expect(await get()).toEqual({
      code: 503,
      body: {
        status: "stuck",
        job: 1,
        reason:
          "job 1 (review) has been running for 9.5 s, past its deadline of 8.0 s: its worker died or hangs (it is taken again when its lease ends)",
        jobs: { pending: 0, running: 2, done: 0, failed: 0 },
      },
    });
    t = t0 + 12_000;
    expect((await get()).body).toMatchObject({
      status: "stuck",
      reason:
        "job 1 (review) has been running for 12.0 s and its lease ended 2.0 s ago: no worker has taken it again",
    });
    // A new worker takes job 1 again, alone: job 2 waits for it.
    expect(await store.claim(t, config.leaseMs)).toMatchObject({ id: 1, attempts: 2 });
    expect(await store.claim(t, config.leaseMs)).toBeNull();
    expect((await get()).body).toMatchObject({
      status: "stuck",
      job: 2,
      reason:
        "job 2 (review) has been running for 12.0 s and its lease ended 2.0 s ago: its worker died; it runs alone, after the job running now, so that it can take no other job down with it",
    });
  });

  it("answers 503 overdue for a job ready longer than RPROC_HEALTH_OVERDUE_MS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-health-"));
    const store = new SqliteStore(join(dir, "bot.sqlite"));
    cleanups.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const t0 = 2_000_000;
    await store.accept(
      { id: "d", event: "pull_request", action: "opened", repo: "o/r", receivedAt: t0 },
      reviewJob(1, "e".repeat(40)),
    );
    const h0 = await store.health(t0 + 5_000);
    expect(h0).toEqual({
      oldestRunning: null,
      oldestReady: { id: 1, kind: "review", readySince: t0 },
      leased: 0,
    });
    expect(queueProblem(h0, { ...config, healthOverdueMs: 5_000 }, t0 + 5_000)).toBeNull();
    expect(queueProblem(h0, { ...config, healthOverdueMs: 5_000 }, t0 + 5_001)).toEqual({
      status: "overdue",
      job: 1,
      reason:
        "job 1 (review) has waited 5.0 s for a worker (more than 5.0 s): the workers are all busy or stuck",
    });
  });
});

describe("lanes and suspects", () => {
  it("lets a new review of a pull request supersede its reviews still waiting, never one that runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-supersede-"));
    const store = new SqliteStore(join(dir, "bot.sqlite"));
    cleanups.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const add = (id: string, number: number, at: number) =>
      store.accept(
        { id, event: "pull_request", action: "synchronize", repo: "o/r", receivedAt: at },
        { ...reviewJob(number, id.repeat(40).slice(0, 40)), key: `review:${id}`, lane: `pr:o/r#${number}` },
      );
    await add("a", 1, 1_000);
    const running = await store.claim(1_010, 60_000);
    expect(running?.id).toBe(1);
    // A burst of pushes while job 1 runs: each waits behind it, and only the newest is still to do.
    for (const [i, id] of ["b", "c", "d"].entries()) await add(id, 1, 1_020 + i);
    await add("e", 2, 1_030);
    expect(await store.counts()).toMatchObject({ pending: 2, running: 1, done: 2 });
    if (!running) throw new Error("claimed");
    await store.complete(running, 1_040);
    const next = await store.claim(1_050, 60_000);
    expect(next?.payload).toMatchObject({ headSha: "d".repeat(40) });
  });

  it("runs the jobs of one pull request one at a time, and a job whose worker died alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rproc-lanes-"));
    const store = new SqliteStore(join(dir, "bot.sqlite"));
    cleanups.push(() => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const t = 1_000;
    const add = (id: string, number: number, head: string, at: number) =>
      store.accept(
        { id, event: "pull_request", action: "opened", repo: "o/r", receivedAt: at },
        { ...reviewJob(number, head), key: `review:${id}`, lane: `pr:o/r#${number}` },
      );
    await add("a", 1, "a".repeat(40), t);
    const first = await store.claim(t + 10, 1_000);
    expect(first?.id).toBe(1);
    await add("b", 1, "b".repeat(40), t + 1);
    await add("c", 2, "c".repeat(40), t + 2);
    // Job 2 is of the same pull request as the running job 1: job 3 goes first.
    expect((await store.claim(t + 10, 1_000))?.id).toBe(3);
    expect(await store.claim(t + 10, 1_000)).toBeNull();
    if (!first) throw new Error("claimed");
    await store.complete(first, t + 20);
    const second = await store.claim(t + 20, 1_000);
    expect(second?.id).toBe(2);
    // Jobs 2 and 3 lose their worker; when their leases end, each runs alone.
    const later = t + 5_000;
    await add("d", 3, "d".repeat(40), later);
    const suspect = await store.claim(later, 1_000);
    expect(suspect?.id).toBe(3);
    expect(await store.claim(later, 1_000)).toBeNull();
    if (!suspect) throw new Error("claimed");
    await store.complete(suspect, later + 1);
    expect((await store.claim(later + 1, 1_000))?.id).toBe(2);
    expect(await store.claim(later + 1, 1_000)).toBeNull();
  });
});
