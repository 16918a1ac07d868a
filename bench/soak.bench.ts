/**
 * Soak (issue 20): a spawned `rproc-review serve` (bin/rproc-review.js, the real engine, GitHub and mail
 * bots, 16 workers) on 127.0.0.1 against the tests' fake GitHub, a local SMTP sink and a fake public-inbox
 * archive. 1,000 webhooks (pull requests opened, edited, and redelivered) and 1,000 mails (series of a cover
 * letter and three patches) are sent interleaved, one every 60 ms, while faults are injected: GitHub answers
 * 5xx (some after applying the request), holds requests (some after applying them), the SMTP sink dies
 * before its 250, refuses or never answers, and the service is killed with SIGKILL once, half way, and
 * started again on the same database. Then every pull request must have one sticky comment and one check
 * run, every series one reply (one Message-ID; a copy sent again after a doubt is the same message), no job
 * failed and nothing acknowledged lost; otherwise it throws, naming what is wrong.
 *
 * `soak()` returns its figures as lines; `npm run bench -- soak` (or `npx tsx bench/soak.bench.ts`) runs it alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import { STICKY_MARKER } from "../src/bot/jobs.ts";
import { signMail } from "../src/mail/hmac.ts";
import { type FakeGitHub, startFakeGitHub } from "../test/bot/fake-github.ts";
import { APP_ID, commit, PKCS8_KEY, PUBLIC_KEY, SECRET } from "../test/bot/helpers.ts";
import { MAIL_SECRET, MAILS, type SinkEnding, type SinkMail, smtpSink } from "../test/mail/helpers.ts";

const BIN = fileURLToPath(new URL("../bin/rproc-review.js", import.meta.url));
const OWNER = "soak";
const REPO = "r";
const LIST = "linux-remoteproc";
/** How long a mail takes to appear in the fake archive after the sink took it. */
const ARCHIVE_LAG_MS = 3000;
const SENDERS = 8;
/** Event i is sent no sooner than i × this after the start: the traffic spans the processing. */
const SEND_INTERVAL_MS = 60;
const SETTLE_MS = 20 * 60_000;

export interface SoakOptions {
  /** Webhooks sent (default 1,000): pull requests opened, edited and redelivered. */
  webhooks?: number;
  /** Mails sent (default 1,000), four per series. */
  mails?: number;
}

type Event =
  | { kind: "webhook"; id: string; body: string; pull: number; action: string }
  | { kind: "mail"; bytes: Uint8Array; series: number; messageId: string };

/** xorshift32: the same interleaving on every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const headOf = (pull: number): string => pull.toString(16).padStart(40, "c");
/**
 * The App is installed 40 times (organisations): GitHub's pacing of writes (one a second, a comment every
 * 3 s) applies per installation, so a single installation would measure that pacing, not the service.
 */
const installationOf = (pull: number): number => 1 + (pull % 40);
const coverOf = (series: number): string => `soak-${series}-v2-0@example.org`;

function pullEvent(pull: number, action: string): string {
  return JSON.stringify({
    action,
    number: pull,
    installation: { id: installationOf(pull) },
    repository: { name: REPO, owner: { login: OWNER }, full_name: `${OWNER}/${REPO}` },
    pull_request: { number: pull, head: { sha: headOf(pull) } },
  });
}

/** The events, shuffled the same way each run; pull requests and series numbered from 1. */
function events(webhooks: number, mails: number): { events: Event[]; pulls: number; series: number } {
  const next = random(20);
  const opened = Math.round(webhooks * 0.4);
  const edited = Math.round(webhooks * 0.25);
  const redelivered = webhooks - opened - edited;
  const list: Event[] = [];
  const first: Array<Extract<Event, { kind: "webhook" }>> = [];
  for (let pull = 1; pull <= opened; pull++) {
    const e = {
      kind: "webhook" as const,
      id: randomUUID(),
      body: pullEvent(pull, "opened"),
      pull,
      action: "opened",
    };
    first.push(e);
    list.push(e);
  }
  for (let i = 0; i < edited; i++) {
    const pull = 1 + Math.floor(next() * opened);
    list.push({ kind: "webhook", id: randomUUID(), body: pullEvent(pull, "edited"), pull, action: "edited" });
  }
  // GitHub's "redeliver": the same delivery id and body again.
  for (let i = 0; i < redelivered; i++) {
    const e = first[Math.floor(next() * first.length)] as Extract<Event, { kind: "webhook" }>;
    list.push({ ...e, action: "redelivered" });
  }
  const series = Math.floor(mails / MAILS.length);
  for (let k = 1; k <= series; k++) {
    for (const mail of MAILS) {
      const text = mail.replaceAll("fixture-v2-", `soak-${k}-v2-`);
      const messageId = /^Message-ID: <([^>]+)>/m.exec(text)?.[1] ?? "";
      list.push({ kind: "mail", bytes: new TextEncoder().encode(text), series: k, messageId });
    }
  }
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [list[i], list[j]] = [list[j] as Event, list[i] as Event];
  }
  return { events: list, pulls: opened, series };
}

interface Served {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<NodeJS.Signals | number | null>;
}

/** Counts of the service's log events over all its runs, and its last lines (for a diagnosis). */
class ServiceLog {
  readonly counts = new Map<string, number>();
  readonly tail: string[] = [];
  read(line: string): void {
    if (line.trim() === "") return;
    if (process.env.RPROC_SOAK_LOG) appendFileSync(process.env.RPROC_SOAK_LOG, `${line}\n`);
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    try {
      const event = String((JSON.parse(line) as { event?: unknown }).event);
      this.counts.set(event, (this.counts.get(event) ?? 0) + 1);
    } catch {
      // Not a log line (a stack trace on stderr).
    }
  }
  count(event: string): number {
    return this.counts.get(event) ?? 0;
  }
}

function spawnServe(env: Record<string, string>, cwd: string, log: ServiceLog): Served {
  const child = spawn(process.execPath, [BIN, "serve"], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: cwd, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let resolveUrl: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => {
    resolveUrl = resolve;
  });
  let rest = "";
  child.stdout?.on("data", (d: Buffer) => {
    const lines = (rest + d.toString("utf8")).split("\n");
    rest = lines.pop() ?? "";
    for (const line of lines) {
      log.read(line);
      if (line.includes('"event":"service.start"')) resolveUrl((JSON.parse(line) as { url: string }).url);
    }
  });
  child.stderr?.on("data", (d: Buffer) => {
    for (const line of d.toString("utf8").split("\n")) log.read(line);
  });
  const exit = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  return { child, url, exit };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** GitHub faults for the next stretch of events: 5xx (some after applying), held requests. */
function injectGitHubFaults(fake: FakeGitHub): void {
  const comments = /\/issues\/\d+\/comments$/;
  const checkRuns = /\/check-runs$/;
  fake.fail({ method: "POST", path: comments, times: 1, status: 502 });
  fake.fail({ method: "GET", path: /\/pulls\/\d+$/, times: 1, status: 503 });
  fake.fail({ method: "POST", path: comments, times: 1, status: 502, applied: true });
  fake.fail({ method: "POST", path: checkRuns, times: 1, status: 502, applied: true });
  fake.hold("POST", checkRuns, { times: 1 });
  fake.hold("POST", comments, { times: 1, applied: true });
}

/** The n-th SMTP transaction of the sink: mostly fine, some die before the 250, refuse or never answer. */
function sinkEnding(n: number): SinkEnding {
  if (n % 25 === 3) return "die";
  if (n % 25 === 11) return "refuse";
  if (n % 50 === 17) return "hold";
  return "ok";
}

export async function soak(options: SoakOptions = {}): Promise<string[]> {
  const webhooks = options.webhooks ?? 1000;
  const mails = options.mails ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), "rproc-soak-"));
  const fake = await startFakeGitHub({ appId: APP_ID, publicKeyPem: PUBLIC_KEY });
  let refused = 0;
  const sink = smtpSink((n) => {
    const e = sinkEnding(n);
    if (e === "refuse") refused++;
    return e;
  });
  const smtpPort = await new Promise<number>((resolve) =>
    sink.server.listen(0, "127.0.0.1", () => resolve((sink.server.address() as AddressInfo).port)),
  );
  // The list's archive: a mail is there ARCHIVE_LAG_MS after the sink took it.
  const lore = createServer((req, res) => {
    const path = req.url ?? "";
    if (path === `/${LIST}/new.atom`) {
      res
        .writeHead(200, { "content-type": "application/atom+xml" })
        .end(`<feed xmlns="http://www.w3.org/2005/Atom"></feed>`);
      return;
    }
    const id = new RegExp(`^/${LIST}/([^/]+)/raw$`).exec(path)?.[1];
    const wanted = id === undefined ? null : `Message-ID: <${decodeURIComponent(id)}>`;
    const there =
      wanted !== null &&
      sink.received.some((m) => m.at + ARCHIVE_LAG_MS <= Date.now() && m.data.includes(wanted));
    res.writeHead(there ? 200 : 404).end(there ? "archived" : "not found");
  });
  const lorePort = await listen(lore);
  const log = new ServiceLog();
  const env: Record<string, string> = {
    GITHUB_APP_ID: String(APP_ID),
    GITHUB_APP_PRIVATE_KEY: PKCS8_KEY.replaceAll("\n", "\\n"),
    GITHUB_WEBHOOK_SECRET: SECRET,
    GITHUB_API_URL: fake.url,
    RPROC_DB_PATH: join(dir, "soak.sqlite"),
    HOST: "127.0.0.1",
    PORT: "0",
    RPROC_MAIL_SECRET: MAIL_SECRET,
    RPROC_MAIL_LIST: "linux-remoteproc@vger.example",
    RPROC_MAIL_OUTBOX_DIR: join(dir, "outbox"),
    RPROC_MAIL_FEED_URL: `http://127.0.0.1:${lorePort}`,
    RPROC_MAIL_FEED_LISTS: LIST,
    RPROC_MAIL_POLL_MS: "600000",
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    // Most of a GitHub job's time is GitHub's pacing of writes, not CPU.
    RPROC_WORKERS: "16",
    RPROC_WORKER_POLL_MS: "100",
    // Reviews are CPU on the service's one thread: with 16 workers and the mail intake a review takes
    // seconds of wall time, so the deadline is well above that (a deadline-interrupted review keeps its
    // CPU until its next request); a job left by the kill is taken again when its lease ends.
    RPROC_JOB_LEASE_MS: "30000",
    RPROC_JOB_TIMEOUT_MS: "24000",
    RPROC_REQUEST_TIMEOUT_MS: "1500",
    RPROC_JOB_RETRY_BASE_MS: "200",
    RPROC_JOB_RETRY_MAX_MS: "2000",
    RPROC_JOB_MAX_ATTEMPTS: "10",
    RPROC_GITHUB_RETRIES: "3",
    RPROC_GITHUB_RETRY_UNIT_MS: "50",
    RPROC_HEALTH_OVERDUE_MS: "30000",
    RPROC_SHUTDOWN_GRACE_MS: "2000",
    LOG_LEVEL: "info",
  };
  const plan = events(webhooks, mails);
  for (let pull = 1; pull <= plan.pulls; pull++) {
    fake.addPull({
      owner: OWNER,
      repo: REPO,
      number: pull,
      title: `[PATCH] remoteproc: soak ${pull}`,
      body: "",
      baseSha: "a".repeat(40),
      commits: [commit(headOf(pull), `remoteproc: soak change ${pull}`)],
    });
  }

  let served = spawnServe(env, dir, log);
  // A soak cut short leaves no service behind.
  const orphan = () => served.child.kill("SIGKILL");
  process.once("exit", orphan);
  let url = await served.url;
  let up: Promise<string> = Promise.resolve(url);
  const health = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const status = await fetch(`${url}/healthz`)
        .then(async (r) => String(((await r.json()) as { status?: unknown }).status))
        .catch(() => "unreachable");
      health.set(status, (health.get(status) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const started = Date.now();
  const latencies: number[] = [];
  const acknowledged = { webhooks: new Set<string>(), mails: new Set<string>() };
  const answers = new Map<number, number>();
  let refusedWhileDown = 0;
  let killedAt = -1;
  let runningAtKill = 0;
  const killAt = Math.floor(plan.events.length / 2);
  let index = 0;

  const send = async (e: Event): Promise<Response> => {
    const target = await up;
    if (e.kind === "webhook") {
      return fetch(`${target}/webhooks/github`, {
        method: "POST",
        body: e.body,
        headers: {
          "content-type": "application/json",
          "x-github-event": "pull_request",
          "x-github-delivery": e.id,
          "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(e.body).digest("hex")}`,
        },
      });
    }
    return fetch(`${target}/mail`, {
      method: "POST",
      body: new Uint8Array(e.bytes),
      headers: { "x-rproc-signature": await signMail(MAIL_SECRET, e.bytes) },
    });
  };

  const sender = async (): Promise<void> => {
    while (index < plan.events.length) {
      const i = index++;
      const e = plan.events[i] as Event;
      const wait = started + i * SEND_INTERVAL_MS - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (i % 100 === 0) injectGitHubFaults(fake);
      if (i === killAt) {
        // kill -9 half way; the service is started again on the same database.
        runningAtKill = (
          (await fetch(`${url}/healthz`).then((r) => r.json())) as { jobs: { running: number } }
        ).jobs.running;
        killedAt = Date.now() - started;
        served.child.kill("SIGKILL");
        let ready: (u: string) => void = () => {};
        up = new Promise<string>((resolve) => {
          ready = resolve;
        });
        await served.exit;
        served = spawnServe(env, dir, log);
        url = await served.url;
        ready(url);
      }
      for (;;) {
        const t = performance.now();
        let res: Response;
        try {
          res = await send(e);
        } catch {
          // The service is down (killed): wait for it and send again, as GitHub's redelivery would.
          refusedWhileDown++;
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        await res.arrayBuffer();
        answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res.status >= 500) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
        if (e.kind === "webhook") {
          latencies.push(performance.now() - t);
          if (res.status === 202 || res.status === 200) acknowledged.webhooks.add(e.id);
        } else if (res.status === 202) acknowledged.mails.add(e.messageId);
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: SENDERS }, () => sender()));
  const sentIn = Date.now() - started;

  // Settled: every pull request and series answered, nothing left in the queue.
  const comments = (pull: number) =>
    fake.comments.filter(
      (c) =>
        c.issue === `${OWNER}/${REPO}#${pull}` && c.user.type === "Bot" && c.body.includes(STICKY_MARKER),
    ).length;
  const runs = (pull: number) => fake.checkRuns.filter((r) => r.head_sha === headOf(pull)).length;
  const repliesOf = (series: number): SinkMail[] => {
    const cover = `<${coverOf(series)}>`;
    return sink.received.filter(
      (m) => /^In-Reply-To: (.*)$/m.exec(m.data.replace(/\r\n/g, "\n"))?.[1] === cover,
    );
  };
  const deadline = Date.now() + SETTLE_MS;
  let settled = false;
  while (!settled && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const jobs = await fetch(`${url}/healthz`)
      .then(async (r) => ((await r.json()) as { jobs: Record<string, number> }).jobs)
      .catch(() => null);
    settled =
      jobs !== null &&
      jobs.pending === 0 &&
      jobs.running === 0 &&
      Array.from({ length: plan.pulls }, (_, i) => i + 1).every((p) => comments(p) > 0 && runs(p) > 0) &&
      Array.from({ length: plan.series }, (_, i) => i + 1).every((k) => repliesOf(k).length > 0);
  }
  const settledIn = Date.now() - started;
  polling = false;
  await poller;
  served.child.kill("SIGTERM");
  const stopped = await Promise.race([
    served.exit.then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 30_000)),
  ]);
  if (!stopped) served.child.kill("SIGKILL");
  process.removeListener("exit", orphan);

  const db = new Database(env.RPROC_DB_PATH as string, { readonly: true });
  const jobRows = db
    .prepare<[], { status: string; n: number }>("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
    .all();
  const jobs = Object.fromEntries(jobRows.map((r) => [r.status, r.n])) as Record<string, number>;
  const failedJobs = db
    .prepare<[], { id: number; kind: string; last_error: string }>(
      "SELECT id, kind, last_error FROM jobs WHERE status = 'failed' LIMIT 5",
    )
    .all();
  const storedDeliveries = new Set(
    db
      .prepare<[], { id: string }>("SELECT id FROM deliveries")
      .all()
      .map((r) => r.id),
  );
  const storedMails = new Set(
    db
      .prepare<[], { message_id: string }>("SELECT message_id FROM mail_messages")
      .all()
      .map((r) => r.message_id),
  );
  const unsent = db
    .prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'")
    .get()?.n;
  const sendAttempts = db
    .prepare<[], { n: number | null }>("SELECT SUM(send_attempts) AS n FROM outbox WHERE kind = 'mail'")
    .get()?.n;
  db.close();

  const problems: string[] = [];
  if (!stopped) problems.push("the service did not stop within 30 s of SIGTERM");
  if (!settled) problems.push(`not settled within ${SETTLE_MS / 60_000} minutes`);
  let oneComment = 0;
  let oneRun = 0;
  for (let p = 1; p <= plan.pulls; p++) {
    if (comments(p) === 1) oneComment++;
    else problems.push(`pull request ${p}: ${comments(p)} sticky comments`);
    if (runs(p) === 1) oneRun++;
    else problems.push(`pull request ${p}: ${runs(p)} check runs on its head`);
  }
  let oneReply = 0;
  let copies = 0;
  for (let k = 1; k <= plan.series; k++) {
    const got = repliesOf(k);
    const ids = new Set(got.map((m) => /^Message-ID: (.*)$/m.exec(m.data.replace(/\r\n/g, "\n"))?.[1]));
    if (ids.size === 1 && got.every((m) => m.data === got[0]?.data)) oneReply++;
    else problems.push(`series ${k}: ${got.length} deliveries with ${ids.size} Message-IDs`);
    copies += Math.max(0, got.length - 1);
  }
  const lostWebhooks = [...acknowledged.webhooks].filter((id) => !storedDeliveries.has(id));
  const lostMails = [...acknowledged.mails].filter((id) => !storedMails.has(id));
  if (lostWebhooks.length > 0) problems.push(`${lostWebhooks.length} acknowledged webhooks not stored`);
  if (lostMails.length > 0) problems.push(`${lostMails.length} acknowledged mails not stored`);
  if ((jobs.failed ?? 0) > 0) {
    problems.push(
      `${jobs.failed} failed jobs: ${failedJobs.map((j) => `${j.id} ${j.kind}: ${j.last_error}`).join("; ")}`,
    );
  }
  if ((unsent ?? 0) > 0) problems.push(`${unsent} outbox items not sent`);
  if (log.count("http.error") > 0) problems.push(`${log.count("http.error")} internal errors (http.error)`);

  await fake.close();
  await new Promise<void>((r) => sink.server.close(() => r()));
  lore.closeAllConnections();
  await new Promise<void>((r) => lore.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
  if (problems.length > 0) {
    throw new Error(
      `soak failed: ${problems.slice(0, 20).join("; ")}${problems.length > 20 ? ` (+${problems.length - 20})` : ""}\n${log.tail.join("\n")}`,
    );
  }

  latencies.sort((a, b) => a - b);
  const webhookKinds = (action: string) =>
    plan.events.filter((e) => e.kind === "webhook" && e.action === action).length;
  const ending = (what: SinkEnding) => sink.received.filter((m) => m.ending === what).length;
  const statuses = [...answers.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${n} ${s}`)
    .join(", ");
  const healthText = [...health.entries()].map(([s, n]) => `${n} ${s}`).join(", ");
  const inj = fake.injected;
  return [
    `${webhooks} webhooks (${webhookKinds("opened")} pull requests opened, ${webhookKinds("edited")} edited, ${webhookKinds("redelivered")} redelivered) and ${plan.series * MAILS.length} mails (${plan.series} series of ${MAILS.length}) interleaved (one every ${SEND_INTERVAL_MS} ms, up to ${SENDERS} at a time), against a spawned serve (16 workers, real engine, the App on 40 installations) with the fake GitHub, an SMTP sink and a public-inbox archive on 127.0.0.1`,
    `faults: GitHub ${inj.failed + inj.appliedThenFailed} 5xx (${inj.appliedThenFailed} after applying the request), ${inj.held + inj.appliedThenHeld} requests never answered (${inj.appliedThenHeld} after applying them); SMTP sink: ${ending("die")} died before its 250, ${refused} refused with 451, ${ending("hold")} never answered; kill -9 after ${killAt} events at ${(killedAt / 1000).toFixed(1)} s with ${runningAtKill} jobs running, ${plural(refusedWhileDown, "request")} refused while it was down and sent again`,
    `result: ${oneComment}/${plan.pulls} pull requests with one sticky comment, ${oneRun}/${plan.pulls} heads with one check run, ${oneReply}/${plan.series} series with one reply; jobs ${jobs.done ?? 0} done, ${jobs.failed ?? 0} failed; 0 acknowledged webhooks or mails lost; ${log.count("github.adopted")} GitHub creates adopted after a failure`,
    `mail: ${sink.received.length} messages reached the sink for ${plan.series} replies (${sendAttempts ?? 0} SMTP transactions begun); ${plural(copies, "copy", "copies")} sent again with the same Message-ID after a doubt (${log.count("mail.in-doubt")} in doubt, ${log.count("mail.reconciled")} reconciled from the archive without sending)`,
    `time: all ${plan.events.length} requests sent in ${(sentIn / 1000).toFixed(1)} s, settled after ${(settledIn / 1000).toFixed(1)} s; webhook acknowledgement p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms; answers ${statuses}; /healthz polled every 250 ms: ${healthText}; ${log.count("job.retry")} job retries`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scale = Number(process.env.RPROC_SOAK_SCALE ?? 1);
  for (const line of await soak({ webhooks: Math.round(1000 * scale), mails: Math.round(1000 * scale) })) {
    process.stdout.write(`soak: ${line}\n`);
  }
}

/** For bench/run.ts (`npm run bench`, or `npm run bench -- soak` alone): the soak at full size. */
export async function benchSoak(): Promise<string[]> {
  return soak();
}
