import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { signMail } from "../../src/mail/hmac.ts";
import { APP_ID, eventually, PKCS1_KEY, SECRET } from "../bot/helpers.ts";
import { MAIL_SECRET, MBOX } from "./helpers.ts";

const BIN = fileURLToPath(new URL("../../bin/rproc-review.js", import.meta.url));
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

describe("rproc-review serve with RPROC_MAIL_SECRET", () => {
  it("takes mail on POST /mail and writes the reply to ./data/outbox", { timeout: 120_000 }, async () => {
    const cwd = mkdtempSync(join(tmpdir(), "rproc-mail-serve-"));
    const child = spawn(process.execPath, [BIN, "serve"], {
      cwd,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: cwd,
        GITHUB_APP_ID: String(APP_ID),
        GITHUB_APP_PRIVATE_KEY: PKCS1_KEY,
        GITHUB_WEBHOOK_SECRET: SECRET,
        GITHUB_API_URL: "http://127.0.0.1:9",
        PORT: "0",
        RPROC_MAIL_SECRET: MAIL_SECRET,
        RPROC_MAIL_LIST: "linux-remoteproc@vger.example",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    cleanup.push(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(cwd, { recursive: true, force: true });
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
    await eventually("the service to start", () => out.includes('"event":"service.start"'), {
      ms: 60_000,
      diagnose: () => err,
    });
    const start = JSON.parse(out.split("\n").find((l) => l.includes("service.start")) ?? "{}") as {
      url: string;
    };
    const res = await fetch(`${start.url}/mail`, {
      method: "POST",
      body: MBOX,
      headers: { "x-rproc-signature": await signMail(MAIL_SECRET, MBOX) },
    });
    expect(res.status).toBe(202);
    const eml = join(cwd, "data", "outbox", "1.eml");
    await eventually("the reply", () => existsSync(eml), { ms: 60_000, diagnose: () => out + err });
    expect(readFileSync(eml, "utf8")).toMatch(/^In-Reply-To: <fixture-v2-0@example.org>$/m);
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    expect(out).toContain('"event":"mail.dry-run"');
    expect(out).not.toContain(MAIL_SECRET);
  });
});
