/**
 * Request bodies are read with the limit enforced while reading: a chunked body (no Content-Length) far
 * over the limit is answered 413 and the server stops reading it, on the webhook route and on POST /mail,
 * before any signature check or parse; the answer reaches a client that is still sending, also on a
 * loaded machine (the server reads and drops for a while before it closes, so the close is no reset).
 */
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LINGER_BYTES } from "../../src/bot/body.ts";
import { createLogger } from "../../src/bot/log.ts";
import type { MailEngine } from "../../src/mail/jobs.ts";
import { MAX_MAIL_BODY } from "../../src/mail/routes.ts";
import { loadMailConfig } from "../../src/node/mail-config.ts";
import { createMailService, type MailService } from "../../src/node/mail-service.ts";
import { type Harness, harness, testEngine } from "./helpers.ts";

const LIMIT = 25 * 1024 * 1024;
/** The limit, what a refused body is still read and dropped for, and the sockets' buffers. */
const TAKEN_AT_MOST = LIMIT + LINGER_BYTES + 8 * 1024 * 1024;

let h: Harness | null = null;
let mail: MailService | null = null;
afterEach(async () => {
  await h?.stop();
  await mail?.close();
  await h?.close();
  h = null;
  mail = null;
});

interface Sent {
  status: number | null;
  /** Body bytes the server took before it answered or closed. */
  written: number;
}

/**
 * Sends `total` body bytes chunked (64 KiB chunks, honouring backpressure) and stops when the server
 * answers or closes the connection. Without Content-Length the server cannot know the size in advance.
 */
function sendChunked(
  url: string,
  path: string,
  total: number,
  headers: Record<string, string>,
): Promise<Sent> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    const frame = Buffer.concat([
      Buffer.from(`${chunk.length.toString(16)}\r\n`),
      chunk,
      Buffer.from("\r\n"),
    ]);
    let written = 0;
    let response = "";
    let stopped = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response)?.[1];
      socket.destroy();
      resolve({ status: status === undefined ? null : Number(status), written });
    };
    socket.on("data", (d: Buffer) => {
      response += d.toString("latin1");
      stopped = true;
      if (response.includes("\r\n\r\n")) setTimeout(finish, 50);
    });
    socket.on("error", () => {
      stopped = true;
      setTimeout(finish, 200);
    });
    socket.on("close", () => setTimeout(finish, 200));
    const pump = () => {
      while (!stopped && written < total) {
        written += chunk.length;
        if (!socket.write(frame)) {
          socket.once("drain", pump);
          return;
        }
      }
      if (!stopped) socket.write("0\r\n\r\n");
    };
    socket.on("connect", () => {
      const head = Object.entries({ ...headers, "transfer-encoding": "chunked", host: `${hostname}:${port}` })
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
      pump();
    });
    setTimeout(finish, 60_000).unref();
  });
}

describe("request bodies", () => {
  it("stops reading a chunked webhook body at the limit and answers 413", { timeout: 60_000 }, async () => {
    h = await harness(testEngine());
    const s = await h.start();
    const r = await sendChunked(s.url, "/webhooks/github", 4 * LIMIT, {
      "x-github-event": "ping",
      "x-github-delivery": "big",
      "x-hub-signature-256": `sha256=${"0".repeat(64)}`,
    });
    expect(r.status).toBe(413);
    // Taken: the limit, what is read and dropped while the answer reaches the client (at most
    // LINGER_BYTES), and what the sockets' buffers hold; never the rest of the 100 MiB.
    expect(r.written).toBeGreaterThan(LIMIT);
    expect(r.written).toBeLessThan(TAKEN_AT_MOST);
  });

  it("stops reading a chunked POST /mail body at the limit and answers 413, before the signature", {
    timeout: 60_000,
  }, async () => {
    expect(MAX_MAIL_BODY).toBe(LIMIT);
    h = await harness(testEngine());
    const config = loadMailConfig({
      RPROC_MAIL_SECRET: "mail-secret-0123456789abcdef",
      RPROC_MAIL_OUTBOX_DIR: `${h.dir}/outbox`,
    });
    if (!config) throw new Error("mail configuration expected");
    mail = createMailService({
      config,
      dbPath: h.dbPath,
      engine: {} as MailEngine,
      log: createLogger({ write: () => {} }),
    });
    const s = await h.start({}, mail.extend);
    const r = await sendChunked(s.url, "/mail", 4 * LIMIT, {
      "x-rproc-signature": `sha256=${"0".repeat(64)}`,
    });
    expect(r.status).toBe(413);
    expect(r.written).toBeGreaterThan(LIMIT);
    expect(r.written).toBeLessThan(TAKEN_AT_MOST);
  });
});
