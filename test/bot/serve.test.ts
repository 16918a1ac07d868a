import { createPrivateKey } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { toPkcs8Pem } from "../../src/bot/keys.ts";
import { createLogger, REDACTED } from "../../src/bot/log.ts";
import { InputError, UsageError } from "../../src/errors.ts";
import { loadConfig } from "../../src/node/config.ts";
import { type Spawned, spawnNode } from "../helpers/spawn.ts";
import { APP_ID, deliver, PKCS1_KEY, PKCS8_KEY, SECRET, serviceStarted } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/rproc-review.js", import.meta.url));

function run(args: string[], cwd: string, env: Record<string, string>): Spawned {
  return spawnNode([BIN, ...args], { cwd, env: { HOME: cwd, ...env } });
}

const dirs: string[] = [];
const children: Spawned["child"][] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "rproc-serve-"));
  dirs.push(d);
  return d;
}

describe("rproc-review serve", () => {
  it("refuses to start with a bad configuration, naming each variable and never its secret value", async () => {
    const r = run(["serve"], tempDir(), {
      GITHUB_APP_PRIVATE_KEY: "not-a-key-but-secret-text",
      PORT: "http",
      RPROC_ALLOWED_ASSOCIATIONS: "OWNER,ADMIN",
    });
    children.push(r.child);
    expect(await r.exit).toBe(2);
    const err = r.stderr();
    expect(err).toMatch(/^rproc-review: serve: invalid configuration: /);
    expect(err).toContain("GITHUB_APP_ID: required: the GitHub App's numeric id");
    expect(err).toContain("GITHUB_WEBHOOK_SECRET: required");
    expect(err).toContain("PORT: expected a whole number");
    expect(err).toContain("RPROC_ALLOWED_ASSOCIATIONS: expected a comma list of OWNER");
    expect(err).toContain("GITHUB_APP_PRIVATE_KEY: not a PEM private key");
    expect(err).not.toContain("not-a-key-but-secret-text");
  });

  it("serves from a .env file, answers /healthz, rejects a forged delivery and stops on SIGTERM", async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, ".env"),
      [
        `GITHUB_APP_ID=${APP_ID}`,
        `GITHUB_APP_PRIVATE_KEY="${PKCS1_KEY.replaceAll("\n", "\\n")}"`,
        `GITHUB_WEBHOOK_SECRET=${SECRET}`,
        "GITHUB_API_URL=http://127.0.0.1:9",
        "HOST=127.0.0.1",
        "PORT=0",
        "",
      ].join("\n"),
    );
    const r = run(["serve"], cwd, {});
    children.push(r.child);
    const start = await serviceStarted(r.stdout, r.stderr);
    expect(start.db).toBe("./data/rproc-review.sqlite");
    const health = await fetch(`${start.url}/healthz`);
    expect(health.status).toBe(200);
    expect((await deliver(start.url, "ping", {}, { signature: "sha256=00" })).status).toBe(401);
    r.child.kill("SIGTERM");
    expect(await r.exit).toBe(0);
    const out = r.stdout();
    expect(out).toContain('"event":"service.stop"');
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain("PRIVATE KEY");
  });
});

describe("configuration", () => {
  const base = {
    GITHUB_APP_ID: "12",
    GITHUB_APP_PRIVATE_KEY: PKCS8_KEY,
    GITHUB_WEBHOOK_SECRET: SECRET,
  };

  it("has defaults for everything but the App and its secret", () => {
    const c = loadConfig(base);
    expect(c).toMatchObject({
      appId: 12,
      apiUrl: "https://api.github.com",
      dbPath: "./data/rproc-review.sqlite",
      host: "127.0.0.1",
      port: 3000,
      bot: { allowedAssociations: ["OWNER", "MEMBER", "COLLABORATOR"], checkName: "rproc-review" },
    });
  });

  it("gives each job a deadline before its lease ends, and runs several workers", () => {
    const c = loadConfig(base);
    expect(c.bot).toMatchObject({ leaseMs: 300_000, jobTimeoutMs: 240_000, healthOverdueMs: 600_000 });
    expect(c).toMatchObject({ workers: 4, requestTimeoutMs: 30_000 });
    expect(loadConfig({ ...base, RPROC_JOB_LEASE_MS: "1000" }).bot.jobTimeoutMs).toBe(800);
    expect(() => loadConfig({ ...base, RPROC_JOB_LEASE_MS: "1000", RPROC_JOB_TIMEOUT_MS: "1000" })).toThrow(
      "RPROC_JOB_TIMEOUT_MS: must be less than RPROC_JOB_LEASE_MS (1000), so that a job is handed back before its lease ends",
    );
    expect(() => loadConfig({ ...base, RPROC_WORKERS: "0" })).toThrow(/RPROC_WORKERS: /);
  });

  it("reads the key from a file, and wants exactly one of key and key file", () => {
    const c = loadConfig(
      { ...base, GITHUB_APP_PRIVATE_KEY: undefined, GITHUB_APP_PRIVATE_KEY_PATH: "/keys/app.pem" },
      (p) => (p === "/keys/app.pem" ? PKCS1_KEY : ""),
    );
    expect(c.privateKey).toBe(PKCS1_KEY);
    expect(() => loadConfig({ ...base, GITHUB_APP_PRIVATE_KEY_PATH: "/keys/app.pem" })).toThrow(
      "GITHUB_APP_PRIVATE_KEY, GITHUB_APP_PRIVATE_KEY_PATH: set only one of them",
    );
    expect(() => loadConfig({ ...base, GITHUB_WEBHOOK_SECRET: "short" })).toThrow(UsageError);
  });
});

describe("private keys", () => {
  it("turns a PKCS#1 key into the same key in PKCS#8, and keeps PKCS#8 as it is", () => {
    const pkcs8 = toPkcs8Pem(PKCS1_KEY);
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pkcs8).toBe(PKCS8_KEY);
    expect(createPrivateKey(pkcs8).export({ type: "pkcs1", format: "pem" })).toBe(PKCS1_KEY);
    expect(toPkcs8Pem(PKCS8_KEY)).toBe(PKCS8_KEY);
    expect(toPkcs8Pem(PKCS1_KEY.replaceAll("\n", "\\n"))).toBe(PKCS8_KEY);
  });

  it("rejects what is not a PEM private key", () => {
    expect(() => toPkcs8Pem("ssh-rsa AAAA")).toThrow(InputError);
    expect(() => toPkcs8Pem("-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----")).toThrow(
      "the PKCS#1 private key is not valid base64",
    );
  });
});

describe("structured logs", () => {
  it("write one JSON object per line and never a secret", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l), secrets: [SECRET, PKCS1_KEY] }).child({ job: 3 });
    log.info("github.call", {
      headers: { authorization: "token ghs_abcdefghijklmnopqrstuvwxyz0123" },
      url: `https://example.test/?secret=${SECRET}`,
      key: PKCS1_KEY,
      error: new Error(`bad key ${PKCS1_KEY.replaceAll("\n", "\\n")}`),
      note: "installation token ghs_abcdefghijklmnopqrstuvwxyz0123 expired",
    });
    log.debug("hidden below info");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    expect(entry).toMatchObject({ level: "info", event: "github.call", job: 3 });
    expect(entry.headers).toEqual({ authorization: REDACTED });
    expect(entry.url).toBe(`https://example.test/?secret=${REDACTED}`);
    expect(entry.note).toBe(`installation token ${REDACTED} expired`);
    expect(lines[0]).not.toContain(SECRET);
    expect(lines[0]).not.toContain("ghs_");
    expect(lines[0]).not.toMatch(/PRIVATE KEY|MII/);
  });
});
