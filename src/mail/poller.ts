/**
 * Following a public-inbox list (lore.kernel.org or a mirror): its Atom feed `<base>/<list>/new.atom` names
 * the newest messages; for each entry not read yet, the whole thread `<base>/<list>/<message-id>/t.mbox.gz`
 * is taken in (messages seen before change nothing), unless the message already came with an earlier
 * thread. An entry is marked read only once its thread was taken in, so a failed fetch is tried again at
 * the next poll. Every request has a time limit (the answer's body included): a server that never answers
 * fails the fetch, which is tried again at the next poll.
 */
import { DEFAULT_REQUEST_TIMEOUT_MS, timedFetch } from "../bot/timeout.ts";
import { type IntakeResult, intakeMbox, type MailContext } from "./intake.ts";
import type { MailArchive } from "./jobs.ts";

export interface FeedEntry {
  id: string;
  messageId: string;
  title: string;
}

export interface PollResult {
  list: string;
  entries: number;
  threads: number;
  results: IntakeResult[];
  errors: string[];
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

const decodeXml = (s: string): string =>
  s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, "$1")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, "&");

/** The entries of a public-inbox Atom feed; the message-id is the last path segment of the entry's link. */
export function parseAtom(xml: string): FeedEntry[] {
  const entries: FeedEntry[] = [];
  for (const m of xml.matchAll(/<entry\b[\s\S]*?<\/entry>/g)) {
    const entry = m[0];
    const href = /<link\b[^>]*\bhref="([^"]+)"/.exec(entry)?.[1];
    const id = decodeXml(/<id>([\s\S]*?)<\/id>/.exec(entry)?.[1]?.trim() ?? href ?? "");
    const title = decodeXml(/<title[^>]*>([\s\S]*?)<\/title>/.exec(entry)?.[1]?.trim() ?? "");
    const segment = href ? decodeXml(href).replace(/\/+$/, "").split("/").at(-1) : undefined;
    if (!segment || id === "") continue;
    entries.push({ id, messageId: decodeURIComponent(segment), title });
  }
  return entries;
}

/** public-inbox's spelling of a message-id in a URL path. */
function pathOf(messageId: string): string {
  return encodeURIComponent(messageId).replace(/%40/g, "@").replace(/%2B/g, "+");
}

async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  // A server (or a fetch implementation) may already have removed the gzip layer.
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function get(fetchFn: Fetch, url: string): Promise<Uint8Array> {
  const res = await fetchFn(url, { headers: { "user-agent": "rproc-review-bot" } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Reads one list's feed and takes in the threads of its new entries; each request within `timeoutMs`. */
export async function pollList(
  ctx: MailContext,
  baseUrl: string,
  list: string,
  fetchWith: Fetch = fetch,
  timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<PollResult> {
  const fetchFn = timedFetch(timeoutMs, undefined, fetchWith);
  const base = `${baseUrl.replace(/\/+$/, "")}/${list}`;
  const result: PollResult = { list, entries: 0, threads: 0, results: [], errors: [] };
  let entries: FeedEntry[];
  try {
    entries = parseAtom(new TextDecoder().decode(await get(fetchFn, `${base}/new.atom`)));
  } catch (e) {
    result.errors.push(e instanceof Error ? e.message : String(e));
    ctx.log.warn("mail.poll.failed", { list, error: e });
    return result;
  }
  result.entries = entries.length;
  const seen = await ctx.store.feedSeen(
    list,
    entries.map((e) => e.id),
  );
  // Oldest first, so that a series' parts arrive in the order they were sent.
  for (const entry of entries.filter((e) => !seen.has(e.id)).reverse()) {
    // A message already taken in came with a thread fetched for an earlier entry.
    if (await ctx.store.message(entry.messageId)) {
      await ctx.store.markFeedSeen(list, entry.id, ctx.now());
      continue;
    }
    const url = `${base}/${pathOf(entry.messageId)}/t.mbox.gz`;
    try {
      const mbox = await gunzip(await get(fetchFn, url));
      result.results.push(...(await intakeMbox(ctx, mbox, url, { list })));
      result.threads++;
      await ctx.store.markFeedSeen(list, entry.id, ctx.now());
    } catch (e) {
      result.errors.push(e instanceof Error ? e.message : String(e));
      ctx.log.warn("mail.poll.thread-failed", { list, url, error: e });
    }
  }
  return result;
}

/**
 * The lists' public-inbox archive as a MailArchive: a Message-ID is there when `<base>/<list>/<id>/raw`
 * answers 200 for one of the lists, and not there when every list answers 404.
 */
export function listArchive(
  baseUrl: string,
  lists: readonly string[],
  fetchWith: Fetch = fetch,
  timeoutMs: number = DEFAULT_REQUEST_TIMEOUT_MS,
): MailArchive {
  const fetchFn = timedFetch(timeoutMs, undefined, fetchWith);
  const base = baseUrl.replace(/\/+$/, "");
  return {
    async has(messageId) {
      let unknown = lists.length === 0;
      for (const list of lists) {
        try {
          const res = await fetchFn(`${base}/${list}/${pathOf(messageId)}/raw`, {
            headers: { "user-agent": "rproc-review-bot" },
          });
          if (res.status === 200) return true;
          if (res.status !== 404 && res.status !== 410) unknown = true;
        } catch {
          unknown = true;
        }
      }
      return unknown ? null : false;
    },
  };
}
