/**
 * What the mailing-list bot needs at run time, whatever the platform: the Node service reads it from the
 * environment (src/node/mail-config.ts), the Worker from its bindings (src/workers/config.ts).
 */
export interface MailConfig {
  /** Shared secret of `POST /mail` (HMAC-SHA256 of the body, header X-Rproc-Signature). */
  secret: string;
  /** From header of the replies, "Name <address>". */
  from: string;
  /** The list's address: Cc of every reply. */
  listAddress: string | null;
  /** How long a series waits for its missing parts before it is reviewed as incomplete. */
  assemblyTimeoutMs: number;
  /** public-inbox lists to follow: `<baseUrl>/<list>/new.atom`; none when null. */
  feed: { baseUrl: string; lists: readonly string[] } | null;
  /** Who may give commands: addresses or "@domain"; empty: anyone on the list. */
  commandsFrom: readonly string[];
}

/** True when `address` may give commands. */
export function mayCommand(config: Pick<MailConfig, "commandsFrom">, address: string): boolean {
  const a = address.toLowerCase();
  return (
    config.commandsFrom.length === 0 ||
    config.commandsFrom.some((allowed) => {
      const x = allowed.toLowerCase();
      return x.startsWith("@") ? a.endsWith(x) : a === x;
    })
  );
}

/** A comma list of addresses and "@domain" entries. */
export function parseCommandsFrom(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

export const DEFAULT_ASSEMBLY_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_FEED_BASE_URL = "https://lore.kernel.org";

/** The address part of "Name <address>" (or the text itself). */
export function addressOf(mailbox: string): string {
  return (/<([^<>\s]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox.trim()).toLowerCase();
}

/** The MailConfig of validated variables (the same on Node, RPROC_MAIL_*, and on the Worker, MAIL_*). */
export function mailConfigOf(v: {
  secret: string;
  from: string;
  list: string | undefined;
  assemblyTimeoutMs: number;
  commandsFrom: string | undefined;
  feedUrl: string;
  feedLists: readonly string[];
}): MailConfig {
  return {
    secret: v.secret,
    from: v.from,
    listAddress: v.list ?? null,
    assemblyTimeoutMs: v.assemblyTimeoutMs,
    commandsFrom: parseCommandsFrom(v.commandsFrom),
    feed: v.feedLists.length > 0 ? { baseUrl: v.feedUrl, lists: v.feedLists } : null,
  };
}
