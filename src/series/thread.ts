/**
 * Naming a series as maintainers do: by a message-id (`<id>`, `id@host`) or a lore URL, and finding its
 * thread among many mails by the threading headers alone (Message-ID, In-Reply-To, References), without
 * parsing bodies. Workers-safe; reading an archive is src/node/message-id.ts.
 */

/** The threading headers of one mail. */
export interface ThreadIds {
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
}

/** Headers are read from at most this many bytes of a mail: a header block is never larger in practice. */
const HEADER_SCAN = 256 * 1024;
/** At most this many references are kept (a thread is identified by its first). */
const MAX_REFERENCES = 256;

const latin1 = new TextDecoder("latin1");
const ID = /<([^<>\s]+@[^<>\s]+)>/g;

/** The threading headers of a mail (its header block only, unfolded). */
export function threadIds(bytes: Uint8Array): ThreadIds {
  const window = latin1.decode(bytes.subarray(0, Math.min(bytes.length, HEADER_SCAN)));
  const end = window.search(/\r?\n\r?\n/);
  const head = (end < 0 ? window : window.slice(0, end)).replace(/\r?\n[ \t]+/g, " ");
  const field = (name: string): string | null => {
    const m = new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(head);
    return m ? (m[1] as string) : null;
  };
  const first = (v: string | null): string | null =>
    v === null ? null : ([...v.matchAll(ID)][0]?.[1] ?? null);
  const refs = field("References");
  return {
    messageId: first(field("Message-ID")),
    inReplyTo: first(field("In-Reply-To")),
    references:
      refs === null ? [] : [...refs.matchAll(ID)].slice(0, MAX_REFERENCES).map((m) => m[1] as string),
  };
}

/** The mail a thread hangs from: the first reference, else what it replies to, else the mail itself. */
export function threadRoot(t: ThreadIds): string | null {
  return t.references[0] ?? t.inReplyTo ?? t.messageId;
}

/** Whether a mail belongs to the thread that hangs from `root`. */
export function inThread(t: ThreadIds, root: string): boolean {
  return t.messageId === root || t.inReplyTo === root || t.references.includes(root);
}

const LORE =
  /^https?:\/\/(?:lore\.kernel\.org|lkml\.kernel\.org|(?:patch\.)?msgid\.link)\/(?:(?:r|[^/\s]+)\/)?([^/\s]+(?:@|%40)[^/\s]+?)(?:\/(?:[Tt]\/?|raw|t\.mbox\.gz|#.*)?)?\/?$/;
const BARE = /^<?([^<>\s/@]+@[^<>\s/@]+)>?$/;

/**
 * The message-id an input names: `<id@host>`, `id@host`, or a lore / msgid.link URL (any of its forms:
 * /r/<id>, /<list>/<id>/, …/T/, …/raw, …/t.mbox.gz); null when it names none.
 */
export function messageIdOf(spec: string): string | null {
  const s = spec.trim();
  const url = LORE.exec(s);
  if (url) {
    const raw = url[1] as string;
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  if (/^https?:\/\//.test(s)) return null;
  return BARE.exec(s)?.[1] ?? null;
}
