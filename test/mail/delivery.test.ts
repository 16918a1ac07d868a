import { createServer as createHttpServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { parseAtom } from "../../src/mail/poller.ts";
import { headerOf, MAILS, type MailHarness, MBOX, mailHarness, type SinkMail, smtpSink } from "./helpers.ts";

const closers: Array<() => Promise<void>> = [];
let h: MailHarness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
  while (closers.length > 0) await closers.pop()?.();
});

function listen(server: Server | TcpServer): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    closers.push(() => new Promise((done) => server.close(() => done())));
  });
}

const ids = MAILS.map((m) => /^Message-ID: <([^>]+)>/m.exec(m)?.[1] as string);

function atom(base: string): string {
  // public-inbox lists the newest first; ids are urn:uuid, links end with the message-id.
  const entries = [...ids].reverse().map(
    (id, i) => `<entry><author><name>Rita Fixture</name></author><title>patch ${i}</title>
<updated>2026-01-05T10:0${i}:00Z</updated><link href="${base}/linux-remoteproc/${encodeURIComponent(id)}/"/>
<id>urn:uuid:0000000${i}-0000-0000-0000-000000000000</id></entry>`,
  );
  return `<?xml version="1.0" encoding="us-ascii"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>linux-remoteproc</title>${entries.join("\n")}</feed>`;
}

describe("the list poller", () => {
  it("takes in each new feed entry's thread once, from gzipped mboxes", { timeout: 60_000 }, async () => {
    const requests: string[] = [];
    let down = true;
    let base = "";
    const server = createHttpServer((req, res) => {
      requests.push(req.url ?? "");
      if (req.url === "/linux-remoteproc/new.atom") {
        res.writeHead(200, { "content-type": "application/atom+xml" }).end(atom(base));
      } else if (/^\/linux-remoteproc\/[^/]+\/t\.mbox\.gz$/.test(req.url ?? "") && down) {
        res.writeHead(503).end("busy");
      } else if (/^\/linux-remoteproc\/[^/]+\/t\.mbox\.gz$/.test(req.url ?? "")) {
        res.writeHead(200, { "content-type": "application/gzip" }).end(gzipSync(MBOX));
      } else res.writeHead(404).end("not found");
    });
    base = `http://127.0.0.1:${await listen(server)}`;
    h = await mailHarness({ RPROC_MAIL_FEED_URL: base, RPROC_MAIL_FEED_LISTS: "linux-remoteproc" });
    // Threads that cannot be fetched are tried again at the next poll.
    await h.mail.tick();
    expect(requests.filter((r) => r.endsWith("/t.mbox.gz"))).toHaveLength(4);
    expect(await h.drain()).toBe(0);
    down = false;
    requests.length = 0;
    await h.mail.tick();
    expect(requests[0]).toBe("/linux-remoteproc/new.atom");
    // Oldest entry first: the cover letter's thread brings the patches, whose entries need no fetch.
    expect(requests.filter((r) => r.endsWith("/t.mbox.gz"))).toEqual([
      `/linux-remoteproc/${ids[0]}/t.mbox.gz`,
    ]);
    expect(await h.drain()).toBe(1);
    // Entries read before are not fetched again.
    await h.mail.tick();
    expect(requests.filter((r) => r.endsWith("/t.mbox.gz"))).toHaveLength(1);
    expect(await h.drain()).toBe(0);
    const db = new Database(h.dbPath, { readonly: true });
    const n = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE kind = 'mail'").get()?.n;
    db.close();
    expect(n).toBe(1);
  });

  it("gives up on a feed that never answers after RPROC_REQUEST_TIMEOUT_MS, and polls again later", {
    timeout: 60_000,
  }, async () => {
    let requests = 0;
    // Answers the headers and then never sends the body.
    const server = createHttpServer((_req, res) => {
      requests++;
      res.writeHead(200, { "content-type": "application/atom+xml" });
      res.write("<?xml");
    });
    const base = `http://127.0.0.1:${await listen(server)}`;
    closers.push(async () => server.closeAllConnections());
    h = await mailHarness({
      RPROC_MAIL_FEED_URL: base,
      RPROC_MAIL_FEED_LISTS: "linux-remoteproc",
      RPROC_REQUEST_TIMEOUT_MS: "300",
    });
    await h.mail.tick();
    const failed = h.logs.map((l) => JSON.parse(l)).find((l) => l.event === "mail.poll.failed");
    expect(failed?.error.message).toBe(
      `no complete answer to GET ${base}/linux-remoteproc/new.atom within 300 ms`,
    );
    await h.mail.tick();
    expect(requests).toBe(2);
  });

  it("reads message-ids from public-inbox entry links", () => {
    const entries = parseAtom(atom("https://lore.example"));
    expect(entries.map((e) => e.messageId)).toEqual([...ids].reverse());
  });
});

describe("SMTP", () => {
  it("sends the reply when SMTP_URL is set and marks it sent", { timeout: 60_000 }, async () => {
    const sink = smtpSink();
    const port = await listen(sink.server);
    h = await mailHarness({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    await h.post(MBOX);
    expect(await h.drain()).toBe(1);
    expect(sink.received).toHaveLength(1);
    const got = sink.received[0] as { from: string; to: string[]; data: string };
    expect(got.from).toBe("bot@rproc.example");
    expect(got.to).toEqual(["rita.fixture@example.org", "linux-remoteproc@vger.example"]);
    const eml = got.data.replace(/\r\n/g, "\n");
    expect(headerOf(eml, "In-Reply-To")).toBe("<fixture-v2-0@example.org>");
    const db = new Database(h.dbPath, { readonly: true });
    const row = db.prepare<[], { status: string }>("SELECT status FROM outbox WHERE kind = 'mail'").get();
    db.close();
    expect(row?.status).toBe("sent");
  });
});

interface MailRow {
  status: string;
  send_attempts: number;
  in_doubt_since: number | null;
}

function mailRows(dbPath: string): MailRow[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db
      .prepare<[], MailRow>(
        "SELECT status, send_attempts, in_doubt_since FROM outbox WHERE kind = 'mail' ORDER BY id",
      )
      .all();
  } finally {
    db.close();
  }
}

const events = (h: MailHarness, name: string) =>
  h.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === name);

describe("a mail whose delivery is in doubt", () => {
  it("is sent again after a restart, the same message with the same Message-ID, and said so", {
    timeout: 60_000,
  }, async () => {
    const sink = smtpSink(["die"]);
    h = await mailHarness({ SMTP_URL: `smtp://127.0.0.1:${await listen(sink.server)}` });
    await h.post(MBOX);
    // The sink reads the whole message and dies before its 250.
    expect(await h.bot.processNext()).toBe(true);
    expect(sink.received.map((m) => m.ending)).toEqual(["die"]);
    const [before] = mailRows(h.dbPath);
    expect(before).toMatchObject({ status: "pending", send_attempts: 1 });
    expect(before?.in_doubt_since).not.toBeNull();

    await h.restart();
    expect(await h.drain()).toBe(1);
    expect(sink.received).toHaveLength(2);
    const [first, second] = sink.received as [SinkMail, SinkMail];
    expect(second.data).toBe(first.data);
    expect(headerOf(second.data.replace(/\r\n/g, "\n"), "Message-ID")).toMatch(/^<rproc-review\..+>$/);
    expect(mailRows(h.dbPath)).toEqual([{ status: "sent", send_attempts: 2, in_doubt_since: null }]);
    const [doubt] = events(h, "mail.in-doubt");
    expect(doubt).toMatchObject({
      level: "warn",
      attempts: 1,
      archive: "no list archive is followed",
      action: "sending it again with the same Message-ID",
      messageId: headerOf(first.data.replace(/\r\n/g, "\n"), "Message-ID")?.slice(1, -1),
    });
  });

  it("is marked sent without sending it again when the list archive has its Message-ID", {
    timeout: 60_000,
  }, async () => {
    const sink = smtpSink(["die", "die"]);
    const smtpPort = await listen(sink.server);
    const asked: string[] = [];
    let archived = false;
    // The list's public-inbox: a mail is there once the sink took it (and the test says it reached the list).
    const lore = createHttpServer((req, res) => {
      asked.push(req.url ?? "");
      const id = /^\/linux-remoteproc\/([^/]+)\/raw$/.exec(req.url ?? "")?.[1];
      const there =
        archived &&
        id !== undefined &&
        sink.received.some((m) => m.data.includes(`Message-ID: <${decodeURIComponent(id)}>`));
      res.writeHead(there ? 200 : 404).end(there ? "the mail" : "not found");
    });
    const base = `http://127.0.0.1:${await listen(lore)}`;
    h = await mailHarness({
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      RPROC_MAIL_FEED_URL: base,
      RPROC_MAIL_FEED_LISTS: "linux-remoteproc",
    });
    await h.post(MBOX);
    expect(await h.bot.processNext()).toBe(true);
    // Not in the archive yet: sent again (and the sink dies again).
    await h.restart();
    expect(await h.bot.processNext()).toBe(true);
    expect(events(h, "mail.in-doubt")[0]).toMatchObject({ archive: "not in the list archive" });
    expect(sink.received).toHaveLength(2);
    archived = true;
    await h.restart();
    expect(await h.drain()).toBe(1);
    expect(sink.received).toHaveLength(2);
    expect(events(h, "mail.reconciled")).toEqual([
      expect.objectContaining({ how: "found in the list archive" }),
    ]);
    expect(mailRows(h.dbPath)).toEqual([{ status: "sent", send_attempts: 2, in_doubt_since: null }]);
    expect(asked).toHaveLength(2);
    expect(asked[0]).toMatch(/^\/linux-remoteproc\/rproc-review\.[^/]+@[^/]+\/raw$/);
  });

  it("is not in doubt when the server refused it: sent again without a word of doubt", {
    timeout: 60_000,
  }, async () => {
    const sink = smtpSink(["refuse"]);
    h = await mailHarness({ SMTP_URL: `smtp://127.0.0.1:${await listen(sink.server)}` });
    await h.post(MBOX);
    expect(await h.bot.processNext()).toBe(true);
    expect(mailRows(h.dbPath)).toEqual([{ status: "pending", send_attempts: 1, in_doubt_since: null }]);
    expect(await h.drain()).toBe(1);
    expect(sink.received).toHaveLength(1);
    expect(events(h, "mail.in-doubt")).toEqual([]);
    expect(mailRows(h.dbPath)).toEqual([{ status: "sent", send_attempts: 2, in_doubt_since: null }]);
  });

  it("is not in doubt when nothing got as far as DATA (no server listening)", {
    timeout: 60_000,
  }, async () => {
    const closed = createTcpServer();
    const port = await new Promise<number>((resolve) =>
      closed.listen(0, "127.0.0.1", () => resolve((closed.address() as AddressInfo).port)),
    );
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    h = await mailHarness({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    await h.post(MBOX);
    expect(await h.bot.processNext()).toBe(true);
    expect(mailRows(h.dbPath)).toEqual([{ status: "pending", send_attempts: 1, in_doubt_since: null }]);
    expect(events(h, "job.retry")[0]).toMatchObject({ error: { name: "MailNotDelivered" } });
  });

  it("times out on a server that takes the message and never answers (RPROC_REQUEST_TIMEOUT_MS)", {
    timeout: 60_000,
  }, async () => {
    const sink = smtpSink(["hold"]);
    h = await mailHarness({
      SMTP_URL: `smtp://127.0.0.1:${await listen(sink.server)}`,
      RPROC_REQUEST_TIMEOUT_MS: "500",
    });
    await h.post(MBOX);
    expect(await h.bot.processNext()).toBe(true);
    const [row] = mailRows(h.dbPath);
    expect(row).toMatchObject({ status: "pending", send_attempts: 1 });
    expect(row?.in_doubt_since).not.toBeNull();
    expect(events(h, "job.retry")[0]).toMatchObject({
      error: { message: expect.stringMatching(/timeout/i) },
    });
  });
});
