/**
 * Posting a series to a bot's `POST /mail` from Node, signed with the shared secret, with the facts the
 * mapper derives here (what a Worker cannot do: it has no C parser). `rproc-review mail-post` runs it.
 */
import { readFileSync } from "node:fs";
import { InputError, UsageError } from "../errors.ts";
import { SIGNATURE_HEADER, signMail } from "../mail/hmac.ts";
import { parseMbox } from "../series/ingest.ts";
import { jobFacts } from "./job-c.ts";

export interface MailPostOptions {
  /** The bot's /mail URL. */
  url: string;
  secret: string;
  /** The mbox or .eml file. */
  path: string;
  list?: string;
  /** Derive and send the facts (default true). */
  facts?: boolean;
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export async function postMail(options: MailPostOptions): Promise<{ status: number; body: unknown }> {
  if (!/^https?:\/\//.test(options.url)) throw new UsageError(`not an http(s) URL: ${options.url}`);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(options.path);
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      subject: options.path,
    });
  }
  let payload: Uint8Array;
  let type: string;
  if (options.facts === false) {
    payload = bytes;
    type = "application/mbox";
  } else {
    const series = await parseMbox(bytes, options.path);
    if (series.length !== 1) {
      throw new InputError(`holds ${series.length} series; post one series with its facts at a time`, {
        subject: options.path,
      });
    }
    const one = series[0] as (typeof series)[number];
    // The facts and the series' lowered C (a Worker cannot parse C: it runs what comes with the job).
    const facts = await jobFacts(one);
    const body = {
      mbox: new TextDecoder().decode(bytes),
      facts,
      ...(options.list ? { list: options.list } : {}),
    };
    payload = new TextEncoder().encode(JSON.stringify(body));
    type = "application/json";
  }
  const res = await (options.fetch ?? fetch)(options.url, {
    method: "POST",
    body: new Uint8Array(payload),
    headers: { "content-type": type, [SIGNATURE_HEADER]: await signMail(options.secret, payload) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: kept as text.
  }
  if (!res.ok) {
    const why =
      typeof body === "object" && body !== null && "error" in body ? String(body.error) : text.slice(0, 300);
    throw new InputError(`${options.url} answered ${res.status}: ${why}`);
  }
  return { status: res.status, body };
}
