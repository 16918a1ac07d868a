/**
 * What the mailing-list bot keeps, in the bot's database (migration 2 of src/bot/schema.ts): every message
 * it took in, the assembly state of each series, the list feed entries already read, and its replies in the
 * shared outbox table (kind "mail"). Async, so that SQLite (src/node/mail-store.ts) and D1
 * (src/bot/d1-store.ts) implement it alike.
 */
import type { Json } from "../bot/store.ts";

/** One patch or cover letter of a series, as it arrived. */
export interface SeriesPart {
  messageId: string;
  seriesKey: string;
  /** 0 for the cover letter. */
  index: number;
  total: number;
  /** "v16", "v16-resend": parts of one series agree on it. */
  versionLabel: string;
  /** The subject without its [PATCH …] prefix. */
  title: string;
  subject: string;
  raw: Uint8Array;
  /** The list it came from, when known. */
  list: string | null;
}

export type AssemblyStatus = "assembling" | "assembled" | "abandoned";

export interface MailSeriesState {
  /** The message-id of the cover letter (or of the first patch when there is none). */
  key: string;
  list: string | null;
  label: string;
  title: string;
  total: number;
  /** Indices present, sorted (0 is the cover letter). */
  present: number[];
  /** When the first part arrived (ms). */
  firstSeen: number;
  status: AssemblyStatus;
  incomplete: boolean;
  jobId: number | null;
  /** Facts derived by a Node process (the mapper's MapResult JSON), for a platform without a C parser. */
  facts: Json | null;
  /** Its review found no facts (Workers): facts posted later queue it again. */
  awaitingFacts: boolean;
}

/** Where a stored message belongs. */
export interface MessageInfo {
  seriesKey: string | null;
  versionLabel: string | null;
  total: number | null;
}

export interface OutgoingMail {
  messageId: string;
  /** Envelope recipients. */
  to: string[];
  /** The whole message, RFC 5322, LF line ends. */
  eml: string;
}

export interface StoredMail extends OutgoingMail {
  id: number;
  seq: number;
  status: "pending" | "sent";
  /** SMTP transactions begun for it. */
  sendAttempts: number;
  /**
   * Set when an SMTP transaction began (recorded before it) and cleared when its outcome is known: a mail
   * still pending with this set may or may not have been delivered (the process died, or the connection
   * broke, between DATA and the server's answer).
   */
  inDoubtSince: number | null;
}

export interface MailStore {
  /** Records one part of a series; `added` is false when its message-id was seen before. */
  addPart(part: SeriesPart, now: number): Promise<{ added: boolean; state: MailSeriesState }>;
  /** Records a mail that is not part of a series (a command); false when seen before. */
  addMessage(messageId: string, subject: string, raw: Uint8Array, now: number): Promise<boolean>;
  message(messageId: string): Promise<MessageInfo | null>;
  series(key: string): Promise<MailSeriesState | null>;
  /** The raw parts of a series, cover letter first. */
  seriesParts(key: string): Promise<Array<{ messageId: string; index: number; raw: Uint8Array }>>;
  /** The newest assembled series with this label ("v16"), if any. */
  seriesByLabel(label: string): Promise<MailSeriesState | null>;
  setFacts(key: string, facts: Json): Promise<void>;
  /** Moves the parts of series `from` (still assembling) into series `into`; the state of `into`. */
  mergeSeries(from: string, into: string): Promise<MailSeriesState>;
  /** Sets or clears the wait for facts; false when it was already so. */
  setAwaitingFacts(key: string, awaiting: boolean): Promise<boolean>;
  /**
   * Ends the assembly of a series (assembled, or abandoned when nothing reviewable came). False when it was
   * no longer assembling: another intake or sweep got there first.
   */
  finishAssembly(
    key: string,
    status: Exclude<AssemblyStatus, "assembling">,
    incomplete: boolean,
    now: number,
  ): Promise<boolean>;
  setSeriesJob(key: string, jobId: number): Promise<void>;
  /** Keys of assembled series that have no job (a crash came between the two). */
  assembledWithoutJob(): Promise<string[]>;
  /** Keys of series still assembling whose first part arrived at or before `cutoff`. */
  waitingSince(cutoff: number): Promise<string[]>;
  /** Entry ids of a list feed already read, among `ids`. */
  feedSeen(list: string, ids: readonly string[]): Promise<Set<string>>;
  markFeedSeen(list: string, id: string, now: number): Promise<void>;
  /** Writes the replies of a job to the outbox (kind "mail"); idempotent per job. */
  writeMails(jobId: number, mails: readonly OutgoingMail[]): Promise<void>;
  mails(jobId: number): Promise<StoredMail[]>;
  /** Records, before an SMTP transaction begins, that its mail is in doubt until its outcome is known. */
  markMailSending(id: number, now: number): Promise<void>;
  /** The mail was certainly not delivered (refused, or no connection): no longer in doubt, still pending. */
  markMailNotSent(id: number): Promise<void>;
  markMailSent(id: number, now: number): Promise<void>;
}

/** Plain helpers both implementations use to keep raw bytes in a TEXT column. */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

export function base64ToBytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
