/**
 * Webhook acknowledgement on loopback: the bot's Node service (Hono app, SQLite store, worker) on 127.0.0.1
 * with an ephemeral port, signed pull_request "opened" deliveries (the real example payload), each with its
 * own delivery id. First at a fixed 1,000 requests/s (latency p50/p99), then as fast as the connections go
 * (throughput). GitHub is unreachable on purpose: the one queued review fails and waits for its retry.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Webhooks } from "@octokit/webhooks";
import { createReviewEngine } from "../src/bot/review-engine.ts";
import { loadConfig } from "../src/node/config.ts";
import { startService } from "../src/node/server.ts";

const SECRET = "bench-webhook-secret";
const SECONDS = 5;
/** Requests per second of the steady run (RPROC_BENCH_RATE overrides). */
const RATE = Number(process.env.RPROC_BENCH_RATE ?? 1000);

interface Example {
  name: string;
  examples: Array<Record<string, unknown>>;
}

function openedPayload(): string {
  const examples = createRequire(import.meta.url)("@octokit/webhooks-examples") as Example[];
  const found = examples
    .find((e) => e.name === "pull_request")
    ?.examples.find((p) => p.action === "opened" && p.installation !== undefined);
  if (!found) throw new Error("no pull_request opened example with an installation");
  return JSON.stringify(found);
}

/**
 * The load generators run in a worker thread, so that they do not share the service's event loop. "steady" is
 * an open-loop load: `rate` requests per second in batches every 10 ms over keep-alive connections, each
 * request's latency measured from its send to its complete answer (autocannon's overallRate sends each
 * connection's share of a second in one burst, which measures queueing behind that burst, not a steady rate).
 * "autocannon" is autocannon with 20 connections, unpaced. Every request carries its own delivery id.
 */
const LOAD = `
const { parentPort, workerData: w } = require("node:worker_threads");
const { randomUUID } = require("node:crypto");
const http = require("node:http");
function steady() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const latencies = [];
  let failed = 0;
  const one = () => new Promise((resolve) => {
    const started = performance.now();
    const req = http.request(w.url, { method: "POST", agent,
      headers: { ...w.headers, "x-github-delivery": randomUUID(), "content-length": Buffer.byteLength(w.body) } },
      (res) => { res.resume(); res.on("end", () => { latencies.push(performance.now() - started);
        if (res.statusCode !== 202) failed++; resolve(); }); });
    req.on("error", () => { failed++; resolve(); });
    req.end(w.body);
  });
  return (async () => {
    const inflight = [];
    const t0 = performance.now();
    for (let t = 0; t < w.seconds * 100; t++) {
      const wait = t0 + t * 10 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (let i = 0; i < w.rate / 100; i++) inflight.push(one());
    }
    await Promise.all(inflight);
    agent.destroy();
    latencies.sort((a, b) => a - b);
    const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return { sent: inflight.length, failed, p50: at(0.5), p99: at(0.99), max: latencies[latencies.length - 1] ?? 0 };
  })();
}
function cannon() {
  const autocannon = require(w.autocannon);
  const opts = { url: w.url, method: "POST", body: w.body, headers: w.headers, duration: w.seconds, connections: 20,
    requests: [{ setupRequest: (r) => ({ ...r, headers: { ...r.headers, "x-github-delivery": randomUUID() } }) }] };
  // Off the main thread autocannon returns raw histograms: aggregate them as its main thread would.
  return new Promise((resolve, reject) => autocannon(opts, (err, raw) => {
    if (err) return reject(err);
    const r = autocannon.aggregateResult([raw], opts);
    resolve({ rps: raw.totalCompletedRequests / raw.duration, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
  }));
}
(w.mode === "steady" ? steady() : cannon()).then((r) => parentPort.postMessage(r));
`;

interface Load {
  url: string;
  headers: Record<string, string>;
  body: string;
  seconds: number;
  rate: number;
}

function load<T>(mode: "steady" | "autocannon", l: Load): Promise<T> {
  const autocannonPath = createRequire(import.meta.url).resolve("autocannon");
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD, { eval: true, workerData: { ...l, mode, autocannon: autocannonPath } });
    worker.once("message", (m: T) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

export async function benchWebhook(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "rproc-webhook-bench-"));
  const key = generateKeyPairSync("rsa", { modulusLength: 2048 })
    .privateKey.export({ type: "pkcs8", format: "pem" })
    .toString();
  const config = loadConfig({
    GITHUB_APP_ID: "4242",
    GITHUB_APP_PRIVATE_KEY: key.replaceAll("\n", "\\n"),
    GITHUB_WEBHOOK_SECRET: SECRET,
    GITHUB_API_URL: "http://127.0.0.1:9",
    RPROC_DB_PATH: join(dir, "bot.sqlite"),
    HOST: "127.0.0.1",
    PORT: "0",
    RPROC_JOB_RETRY_BASE_MS: "3600000",
    RPROC_GITHUB_RETRIES: "0",
    RPROC_SHUTDOWN_GRACE_MS: "0",
    LOG_LEVEL: "info",
  });
  // The service formats every log line as in production; the bench drops them instead of printing.
  const service = await startService({ config, engine: createReviewEngine({}), writeLog: () => {} });
  try {
    const body = openedPayload();
    const signature = await new Webhooks({ secret: SECRET }).sign(body);
    const l: Load = {
      url: `${service.url}/webhooks/github`,
      headers: {
        "content-type": "application/json",
        "x-github-event": "pull_request",
        "x-hub-signature-256": signature,
      },
      body,
      seconds: SECONDS,
      rate: RATE,
    };
    await load("autocannon", { ...l, seconds: 1 }); // warm-up
    const paced = await load<{ sent: number; failed: number; p50: number; p99: number; max: number }>(
      "steady",
      l,
    );
    const flat = await load<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }>(
      "autocannon",
      l,
    );
    return [
      `payload: pull_request opened, ${body.length} bytes, signed, a new delivery id per request; 127.0.0.1, load from a worker thread, ${SECONDS} s per run`,
      `acknowledgement latency at a steady ${RATE} requests/s (${paced.sent} requests, ${RATE / 100} every 10 ms, keep-alive): p50 ${paced.p50.toFixed(1)} ms, p99 ${paced.p99.toFixed(1)} ms, max ${paced.max.toFixed(1)} ms${paced.failed > 0 ? ` (${paced.failed} not 202)` : ""} (goal p99 <= 20 ms)`,
      `throughput (autocannon, 20 connections, unpaced): ${Math.round(flat.rps)} requests/s, latency p50 ${flat.p50} ms, p99 ${flat.p99} ms${flat.non2xx + flat.errors > 0 ? ` (${flat.non2xx} non-2xx, ${flat.errors} errors)` : ""}`,
    ];
  } finally {
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
