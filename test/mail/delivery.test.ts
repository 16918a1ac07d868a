import { createServer as createHttpServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { parseAtom } from "../../src/mail/poller.ts";
import { headerOf, MAILS, type MailHarness, MBOX, mailHarness } from "./helpers.ts";

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

/** A minimal SMTP server that records what it was given. */
function smtpSink(): { server: TcpServer; received: Array<{ from: string; to: string[]; data: string }> } {
  const received: Array<{ from: string; to: string[]; data: string }> = [];
  const server = createTcpServer((socket) => {
    let buffer = "";
    let inData = false;
    let current = { from: "", to: [] as string[], data: "" };
    socket.write("220 sink.example ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          const end = buffer.indexOf("\r\n.\r\n");
          if (end < 0) return;
          current.data = buffer.slice(0, end);
          buffer = buffer.slice(end + 5);
          inData = false;
          received.push(current);
          current = { from: "", to: [], data: "" };
          socket.write("250 queued\r\n");
          continue;
        }
        const nl = buffer.indexOf("\r\n");
        if (nl < 0) return;
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO" || verb === "HELO") socket.write("250 sink.example\r\n");
        else if (verb === "MAIL") {
          current.from = /<([^>]*)>/.exec(line)?.[1] ?? "";
          socket.write("250 ok\r\n");
        } else if (verb === "RCPT") {
          current.to.push(/<([^>]*)>/.exec(line)?.[1] ?? "");
          socket.write("250 ok\r\n");
        } else if (verb === "DATA") {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (verb === "QUIT") socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
  });
  return { server, received };
}

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
