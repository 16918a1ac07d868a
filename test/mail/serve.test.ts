import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { signMail } from "../../src/mail/hmac.ts";
import { APP_ID, eventually, PKCS1_KEY, SECRET, serviceStarted } from "../bot/helpers.ts";
import { MAIL_SECRET, MBOX, type SinkMail, smtpSink } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/rproc-review.js", import.meta.url));
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

interface Served {
  cwd: string;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function serve(env: Record<string, string>, dir?: string): Served {
  const cwd = dir ?? mkdtempSync(join(tmpdir(), "rproc-mail-serve-"));
  const child = spawn(process.execPath, [BIN, "serve"], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: cwd, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    if (dir === undefined) rmSync(cwd, { recursive: true, force: true });
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString("utf8");
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString("utf8");
  });
  const exit = new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { cwd, out: () => out, err: () => err, exit, kill: (signal) => child.kill(signal) };
}

/** Posts the fixture series to /mail and waits for the reply in ./data/outbox. */
async function postSeriesAndAwaitReply(s: Served, url: string): Promise<void> {
  const res = await fetch(`${url}/mail`, {
    method: "POST",
    body: MBOX,
    headers: { "x-rproc-signature": await signMail(MAIL_SECRET, MBOX) },
  });
  expect(res.status).toBe(202);
  const eml = join(s.cwd, "data", "outbox", "1.eml");
  await eventually("the reply", () => existsSync(eml), { ms: 60_000, diagnose: () => s.out() + s.err() });
  expect(readFileSync(eml, "utf8")).toMatch(/^In-Reply-To: <fixture-v2-0@example.org>$/m);
}

describe("rproc-review serve with RPROC_MAIL_SECRET", () => {
  it("takes mail on POST /mail and writes the reply to ./data/outbox", { timeout: 120_000 }, async () => {
    const s = serve({
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_APP_PRIVATE_KEY: PKCS1_KEY,
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: "http://127.0.0.1:9",
      PORT: "0",
      RPROC_MAIL_SECRET: MAIL_SECRET,
      RPROC_MAIL_LIST: "linux-remoteproc@vger.example",
    });
    const url = (await serviceStarted(s.out, s.err)).url;
    await postSeriesAndAwaitReply(s, url);
    s.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    expect(s.out()).toContain('"event":"mail.dry-run"');
    expect(s.out()).not.toContain(MAIL_SECRET);
  });
});

describe("rproc-review serve without a GitHub App (mail only)", () => {
  it("serves /healthz and POST /mail on 127.0.0.1, and answers 404 to GitHub webhooks", {
    timeout: 120_000,
  }, async () => {
    const s = serve({
      PORT: "0",
      RPROC_MAIL_SECRET: MAIL_SECRET,
      RPROC_MAIL_LIST: "linux-remoteproc@vger.example",
    });
    const start = await serviceStarted(s.out, s.err);
    const url = start.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(start).toMatchObject({ appId: null, githubApi: null, mail: true });

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });

    const payload = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
    const hook = await fetch(`${url}/webhooks/github`, {
      method: "POST",
      body: payload,
      headers: {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "d-1",
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(payload).digest("hex")}`,
      },
    });
    expect(hook.status).toBe(404);
    expect(((await hook.json()) as { error: string }).error).toMatch(
      /GitHub bot is not configured.*GITHUB_APP_ID/,
    );

    await postSeriesAndAwaitReply(s, url);
    const jobs = (await (await fetch(`${url}/healthz`)).json()) as { jobs: Record<string, number> };
    expect(jobs.jobs).toMatchObject({ failed: 0 });
    s.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    expect(s.out()).not.toContain(MAIL_SECRET);
    expect(s.out()).not.toContain('"event":"http.error"');
  });

  it("refuses to start with neither bot configured, saying what to set", { timeout: 60_000 }, async () => {
    const s = serve({ PORT: "0" });
    expect(await s.exit).toBe(2);
    expect(s.err()).toMatch(
      /^rproc-review: serve: invalid configuration: nothing to serve: set GITHUB_APP_ID/,
    );
    expect(s.err()).toContain("RPROC_MAIL_SECRET");
  });

  it("refuses a partly set GitHub App beside the mail bot, naming what is missing", {
    timeout: 60_000,
  }, async () => {
    const s = serve({ PORT: "0", RPROC_MAIL_SECRET: MAIL_SECRET, GITHUB_APP_ID: String(APP_ID) });
    expect(await s.exit).toBe(2);
    expect(s.err()).toMatch(/^rproc-review: serve: invalid configuration: /);
    expect(s.err()).toContain("GITHUB_WEBHOOK_SECRET: required");
    expect(s.err()).toContain("GITHUB_APP_PRIVATE_KEY: required");
    expect(s.err()).not.toContain(MAIL_SECRET);
  });
});

describe("kill -9 between SMTP DATA and the server's 250", () => {
  it("sends the mail again after the restart with the same Message-ID, and logs that it was in doubt", {
    timeout: 180_000,
  }, async () => {
    const sink = smtpSink(["hold"]);
    const port = await new Promise<number>((resolve) =>
      sink.server.listen(0, "127.0.0.1", () => resolve((sink.server.address() as AddressInfo).port)),
    );
    cleanup.push(() => sink.server.close());
    const cwd = mkdtempSync(join(tmpdir(), "rproc-mail-kill-"));
    cleanup.push(() => rmSync(cwd, { recursive: true, force: true }));
    const env = {
      PORT: "0",
      RPROC_MAIL_SECRET: MAIL_SECRET,
      RPROC_MAIL_LIST: "linux-remoteproc@vger.example",
      SMTP_URL: `smtp://127.0.0.1:${port}`,
      // Long enough for a review with the real engine; the restarted service takes the job when it ends.
      RPROC_JOB_LEASE_MS: "30000",
    };
    const first = serve(env, cwd);
    const url = (await serviceStarted(first.out, first.err)).url;
    const res = await fetch(`${url}/mail`, {
      method: "POST",
      body: MBOX,
      headers: { "x-rproc-signature": await signMail(MAIL_SECRET, MBOX) },
    });
    expect(res.status).toBe(202);
    // The sink has the whole message and has not answered: the process dies there.
    await eventually("the message at the sink", () => sink.received.length === 1, {
      ms: 60_000,
      diagnose: () => first.out() + first.err(),
    });
    first.kill("SIGKILL");
    await first.exit;

    const second = serve(env, cwd);
    await serviceStarted(second.out, second.err);
    await eventually("the message sent again", () => sink.received.length === 2, {
      ms: 60_000,
      diagnose: () => second.out() + second.err(),
    });
    const [a, b] = sink.received as [SinkMail, SinkMail];
    expect(b.data).toBe(a.data);
    expect(b.ending).toBe("ok");
    await eventually("the mail marked sent", () => second.out().includes('"event":"mail.sent"'));
    const doubt = second
      .out()
      .split("\n")
      .find((l) => l.includes('"event":"mail.in-doubt"'));
    expect(doubt && JSON.parse(doubt)).toMatchObject({
      attempts: 1,
      action: "sending it again with the same Message-ID",
    });
    second.kill("SIGTERM");
    expect(await second.exit).toBe(0);
  });
});
