import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../src/cli/main.ts";
import { MAIL_SECRET, type MailHarness, mailHarness } from "./helpers.ts";

const MBOX_PATH = fileURLToPath(new URL("../fixtures/map/tee-series.mbox", import.meta.url));

let h: MailHarness | null = null;
let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  await h?.close();
  h = null;
  stop = null;
  vi.unstubAllEnvs();
});

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
  try {
    const code = await main(["node", "rproc-review", ...args]);
    return {
      code,
      out: out.mock.calls.map((c) => String(c[0])).join(""),
      err: err.mock.calls.map((c) => String(c[0])).join(""),
    };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("rproc-review mail-post", () => {
  it("posts a series with the facts derived here, signed; a wrong secret is refused", {
    timeout: 60_000,
  }, async () => {
    h = await mailHarness();
    const harness = h;
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: harness.bot.app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s));
    });
    stop = () => new Promise((done) => server.close(() => done()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mail`;

    vi.stubEnv("RPROC_MAIL_SECRET", "not-the-secret-0123456789");
    const refused = await run(["mail-post", MBOX_PATH, "--url", url]);
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/answered 401/);

    vi.stubEnv("RPROC_MAIL_SECRET", MAIL_SECRET);
    const posted = await run(["mail-post", MBOX_PATH, "--url", url, "--list", "linux-remoteproc"]);
    expect(posted.code).toBe(0);
    expect(posted.out).toMatch(/^202 /);
    const db = new Database(h.dbPath, { readonly: true });
    const row = db
      .prepare<[], { list: string; facts_json: string | null }>("SELECT list, facts_json FROM mail_series")
      .get();
    db.close();
    expect(row?.list).toBe("linux-remoteproc");
    const facts = JSON.parse(row?.facts_json ?? "null") as {
      version: string;
      facts: Record<string, unknown>;
    };
    expect(facts.version).toBe("v2");
    expect(Object.keys(facts.facts).length).toBeGreaterThan(0);
  });

  it("needs the secret in the environment", async () => {
    vi.stubEnv("RPROC_MAIL_SECRET", "");
    const r = await run(["mail-post", MBOX_PATH, "--url", "http://127.0.0.1:9/mail"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/RPROC_MAIL_SECRET is not set/);
  });
});
