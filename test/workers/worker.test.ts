import {
  applyD1Migrations,
  createExecutionContext,
  createMessageBatch,
  env,
  SELF,
  waitOnExecutionContext,
} from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { signMail } from "../../src/mail/hmac.ts";
import worker, { type Env } from "../../src/workers/index.ts";

const COVER = "fixture-v2-0@example.org";

function bindings(extra: Record<string, unknown> = {}): Env {
  return { ...(env as unknown as Env), ...extra };
}

/** Queue messages the Worker sent; these tests run the consumer themselves (the last test uses the real queue). */
const woken: unknown[] = [];
const recordingQueue = { send: async (body: unknown) => void woken.push(body) };

async function post(
  body: string,
  headers: Record<string, string> = {},
  e: Env = bindings({ JOBS: recordingQueue }),
): Promise<Response> {
  const bytes = new TextEncoder().encode(body);
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request("https://bot.example/mail", {
      method: "POST",
      body: bytes,
      headers: { "x-rproc-signature": await signMail(env.MAIL_SECRET, bytes), ...headers },
    }),
    e,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

async function runQueue(): Promise<void> {
  const batch = createMessageBatch("rproc-review-jobs", [
    { id: "m1", timestamp: new Date(), attempts: 1, body: { wake: 1 } },
  ]);
  await worker.queue(batch, bindings());
}

async function mails(): Promise<Array<{ status: string; eml: string }>> {
  const rows = await env.DB.prepare("SELECT status, body FROM outbox WHERE kind = 'mail' ORDER BY id").all<{
    status: string;
    body: string;
  }>();
  return rows.results.map((r) => ({ status: r.status, eml: (JSON.parse(r.body) as { eml: string }).eml }));
}

beforeAll(async () => {
  await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
});

describe("the Worker", () => {
  it("has the shared schema in D1", async () => {
    const tables = await env.DB.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    ).all<{
      name: string;
    }>();
    const names = tables.results.map((t) => t.name);
    for (const t of ["jobs", "deliveries", "outbox", "mail_messages", "mail_series", "mail_feed_seen"]) {
      expect(names).toContain(t);
    }
  });

  it("refuses an unsigned POST /mail", async () => {
    const res = await post(env.TEST_MBOX, { "x-rproc-signature": "sha256=00" });
    expect(res.status).toBe(401);
  });

  it("takes a series with its facts, queues the review and writes one threaded reply to the outbox", async () => {
    const body = JSON.stringify({ mbox: env.TEST_MBOX, facts: JSON.parse(env.TEST_JOB_FACTS) });
    const res = await post(body, { "content-type": "application/json" });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { jobs: number[] };
    expect(answer.jobs).toHaveLength(1);
    expect(woken).toHaveLength(1);
    const jobs = await env.DB.prepare("SELECT kind, status FROM jobs").all<{
      kind: string;
      status: string;
    }>();
    expect(jobs.results).toEqual([{ kind: "mail-review", status: "pending" }]);
    await runQueue();
    const out = await mails();
    expect(out).toHaveLength(1);
    const eml = (out[0] as { eml: string }).eml;
    expect(eml).toMatch(/^Subject: Re: \[PATCH v2 0\/3\] remoteproc: fixture TEE loader$/m);
    expect(eml).toMatch(new RegExp(`^In-Reply-To: <${COVER}>$`, "m"));
    expect(eml).toMatch(/^Verdict: (PASS|WARN|FAIL): /m);
    // The posted TEE driver ran from the C that came with the job, as the CLI runs it.
    expect(eml).toMatch(/remoteproc_tee\.c from C/);
    expect(eml).not.toMatch(/did not come with the job/);
    // Workers sends no mail: the reply waits in the outbox.
    expect(out[0]?.status).toBe("pending");
  });

  it("reviews a series whose facts came without its C, naming what it could not run", async () => {
    const other = env.TEST_MBOX.replaceAll("fixture-v2-", "noc-v2-");
    const body = JSON.stringify({ mbox: other, facts: JSON.parse(env.TEST_FACTS) });
    expect((await post(body, { "content-type": "application/json" })).status).toBe(202);
    await runQueue();
    const reply = (await mails()).find((m) => /^In-Reply-To: <noc-v2-0@example.org>$/m.test(m.eml));
    expect(reply?.eml.replace(/\s+/g, " ")).toMatch(
      /Verdict: \w+: mainline -> v2: cannot review 17 of 17 scenarios: the C of drivers\/remoteproc\/remoteproc_tee\.c is not here to run/,
    );
    expect(reply?.eml).toMatch(/the lowered C did not come with the job/);
    expect(reply?.eml).not.toMatch(/remoteproc_tee\.c from C/);
  });

  it("answers a command mail in the thread", async () => {
    const command = [
      "From: Mathieu Reviewer <mathieu@example.org>",
      "Subject: Re: [PATCH v2 0/3] remoteproc: fixture TEE loader",
      "Message-ID: <cmd-worker@example.org>",
      `In-Reply-To: <${COVER}>`,
      `References: <${COVER}>`,
      "",
      "#rproc-review run boot",
      "",
    ].join("\n");
    const res = await post(command);
    expect(((await res.json()) as { jobs: number[] }).jobs).toHaveLength(1);
    await runQueue();
    const answer = (await mails()).find((m) => /^In-Reply-To: <cmd-worker@example.org>$/m.test(m.eml));
    expect(answer?.eml).toMatch(/^To: Mathieu Reviewer <mathieu@example.org>$/m);
  });

  it("waits for the facts of a series that came without them, then reviews it", async () => {
    const other = env.TEST_MBOX.replaceAll("fixture-v2-", "nofacts-v2-");
    const res = await post(other);
    expect(((await res.json()) as { jobs: number[] }).jobs).toHaveLength(1);
    const before = (await mails()).length;
    await runQueue();
    expect(await mails()).toHaveLength(before);
    const series = await env.DB.prepare("SELECT status, awaiting_facts FROM mail_series WHERE key = ?")
      .bind("nofacts-v2-0@example.org")
      .first<{ status: string; awaiting_facts: number }>();
    expect(series).toEqual({ status: "assembled", awaiting_facts: 1 });
    // A Node process posts the same mails with the facts it derived: the review runs now, once.
    const body = JSON.stringify({ mbox: other, facts: JSON.parse(env.TEST_FACTS) });
    const again = (await (await post(body, { "content-type": "application/json" })).json()) as {
      jobs: number[];
    };
    expect(again.jobs).toHaveLength(1);
    await runQueue();
    const replies = (await mails()).filter((m) => /^In-Reply-To: <nofacts-v2-0@example.org>$/m.test(m.eml));
    expect(replies).toHaveLength(1);
    const twice = (await (await post(body, { "content-type": "application/json" })).json()) as {
      jobs: number[];
    };
    expect(twice.jobs).toEqual([]);
  });

  it("reviews an incomplete series from the cron trigger once its timeout has passed", async () => {
    const parts = env.TEST_MBOX.replaceAll("fixture-v2-", "partial-v2-").split(/^(?=From 0{40} )/m);
    const facts = JSON.parse(env.TEST_FACTS) as unknown;
    const e = bindings({ JOBS: recordingQueue, MAIL_ASSEMBLY_TIMEOUT_MS: "0" });
    const body = JSON.stringify({ mbox: parts.slice(0, 3).join(""), facts });
    const res = await post(body, { "content-type": "application/json" }, e);
    expect(((await res.json()) as { jobs: number[] }).jobs).toEqual([]);
    await worker.scheduled({}, e);
    const reply = (await mails()).find((m) => /^In-Reply-To: <partial-v2-0@example.org>$/m.test(m.eml));
    expect(reply?.eml.replace(/\n(?!\n)/g, " ")).toMatch(/Incomplete series: patch 3\/3 had not arrived/);
  });

  it("serves the GitHub webhook of the same app, answering 404 with what to set when no App is configured", async () => {
    const res = await worker.fetch(
      new Request("https://bot.example/webhooks/github", {
        method: "POST",
        body: "{}",
        headers: { "x-github-event": "ping", "x-github-delivery": "d1", "x-hub-signature-256": "sha256=00" },
      }),
      bindings(),
      createExecutionContext(),
    );
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/GITHUB_APP_ID/);
    const health = await worker.fetch(
      new Request("https://bot.example/healthz"),
      bindings(),
      createExecutionContext(),
    );
    expect(health.status).toBe(200);
  });

  it("answers 503 naming the variable when its configuration is incomplete", async () => {
    const res = await worker.fetch(
      new Request("https://bot.example/healthz"),
      bindings({ MAIL_SECRET: undefined, GITHUB_APP_ID: "7" }),
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/MAIL_SECRET: required/);
  });

  it("accepts a PKCS#8 GitHub App key", async () => {
    const github = {
      GITHUB_APP_ID: "1",
      GITHUB_WEBHOOK_SECRET: "whsec-0123456789",
      GITHUB_APP_PRIVATE_KEY: env.TEST_PKCS8_KEY,
    };
    const res = await worker.fetch(
      new Request("https://bot.example/healthz"),
      bindings(github),
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
  });

  it("refuses a PKCS#1 GitHub App key with the command that converts it", async () => {
    const res = await worker.fetch(
      new Request("https://bot.example/healthz"),
      bindings({
        GITHUB_APP_ID: "1",
        GITHUB_WEBHOOK_SECRET: "whsec-0123456789",
        GITHUB_APP_PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
      }),
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    const { error } = (await res.json()) as { error: string };
    expect(error).toMatch(/PKCS#1/);
    expect(error).toContain("openssl pkcs8 -topk8 -nocrypt -in key.pem -out key-pkcs8.pem");
  });
});

describe("the Worker's queue", () => {
  it("wakes its consumer: POST /mail ends in an outbox row without calling the consumer", async () => {
    const mbox = env.TEST_MBOX.replaceAll("fixture-v2-", "queued-v2-");
    const facts = JSON.parse(env.TEST_FACTS) as unknown;
    const body = new TextEncoder().encode(JSON.stringify({ mbox, facts }));
    const res = await SELF.fetch("https://bot.example/mail", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "x-rproc-signature": await signMail(env.MAIL_SECRET, body),
      },
    });
    expect(res.status).toBe(202);
    await vi.waitFor(
      async () => {
        const found = (await mails()).some((m) => /^In-Reply-To: <queued-v2-0@example.org>$/m.test(m.eml));
        expect(found).toBe(true);
      },
      { timeout: 60_000, interval: 250 },
    );
  });
});
