/**
 * The MailStore in SQL, over a small async executor that better-sqlite3 (src/node/mail-store.ts) and D1
 * (src/bot/d1-store.ts) both provide: one set of statements for both databases.
 */
import type { Json } from "../bot/store.ts";
import {
  type AssemblyStatus,
  base64ToBytes,
  bytesToBase64,
  type MailSeriesState,
  type MailStore,
  type MessageInfo,
  type OutgoingMail,
  type SeriesPart,
  type StoredMail,
} from "./store.ts";

export type SqlValue = string | number | null;

export interface Statement {
  sql: string;
  params: SqlValue[];
}

export interface SqlRunner {
  all<T>(sql: string, ...params: SqlValue[]): Promise<T[]>;
  first<T>(sql: string, ...params: SqlValue[]): Promise<T | null>;
  /** Runs the statements in one transaction; the number of rows each changed. */
  batch(statements: readonly Statement[]): Promise<number[]>;
}

export const sql = (text: string, ...params: SqlValue[]): Statement => ({ sql: text, params });

interface SeriesRow {
  key: string;
  list: string | null;
  label: string;
  title: string;
  total: number;
  first_seen: number;
  status: string;
  incomplete: number;
  job_id: number | null;
  facts_json: string | null;
  awaiting_facts: number;
}

const SERIES_COLUMNS =
  "key, list, label, title, total, first_seen, status, incomplete, job_id, facts_json, awaiting_facts";

export class SqlMailStore implements MailStore {
  constructor(private readonly db: SqlRunner) {}

  private async state(row: SeriesRow): Promise<MailSeriesState> {
    const present = await this.db.all<{ idx: number }>(
      "SELECT idx FROM mail_messages WHERE series_key = ? ORDER BY idx",
      row.key,
    );
    return {
      key: row.key,
      list: row.list,
      label: row.label,
      title: row.title,
      total: row.total,
      present: [...new Set(present.map((p) => p.idx))],
      firstSeen: row.first_seen,
      status: row.status as AssemblyStatus,
      incomplete: row.incomplete !== 0,
      jobId: row.job_id,
      facts: row.facts_json === null ? null : (JSON.parse(row.facts_json) as Json),
      awaitingFacts: row.awaiting_facts !== 0,
    };
  }

  async addPart(part: SeriesPart, now: number): Promise<{ added: boolean; state: MailSeriesState }> {
    const [inserted = 0] = await this.db.batch([
      sql(
        `INSERT OR IGNORE INTO mail_messages (message_id, series_key, idx, total, version_label, subject, raw, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        part.messageId,
        part.seriesKey,
        part.index,
        part.total,
        part.versionLabel,
        part.subject,
        bytesToBase64(part.raw),
        now,
      ),
      sql(
        `INSERT INTO mail_series (key, list, label, title, total, first_seen) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET title = CASE WHEN ? = 0 THEN excluded.title ELSE title END,
           list = COALESCE(list, excluded.list)`,
        part.seriesKey,
        part.list,
        part.versionLabel,
        part.title,
        part.total,
        now,
        part.index,
      ),
    ]);
    const state = await this.series(part.seriesKey);
    if (!state) throw new Error(`series ${part.seriesKey} vanished while a part was added`);
    return { added: inserted > 0, state };
  }

  async addMessage(messageId: string, subject: string, raw: Uint8Array, now: number): Promise<boolean> {
    const [inserted = 0] = await this.db.batch([
      sql(
        "INSERT OR IGNORE INTO mail_messages (message_id, subject, raw, received_at) VALUES (?, ?, ?, ?)",
        messageId,
        subject,
        bytesToBase64(raw),
        now,
      ),
    ]);
    return inserted > 0;
  }

  async message(messageId: string): Promise<MessageInfo | null> {
    const row = await this.db.first<{
      series_key: string | null;
      version_label: string | null;
      total: number | null;
    }>("SELECT series_key, version_label, total FROM mail_messages WHERE message_id = ?", messageId);
    return row ? { seriesKey: row.series_key, versionLabel: row.version_label, total: row.total } : null;
  }

  async series(key: string): Promise<MailSeriesState | null> {
    const row = await this.db.first<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM mail_series WHERE key = ?`,
      key,
    );
    return row ? this.state(row) : null;
  }

  async seriesParts(key: string): Promise<Array<{ messageId: string; index: number; raw: Uint8Array }>> {
    const rows = await this.db.all<{ message_id: string; idx: number; raw: string }>(
      "SELECT message_id, idx, raw FROM mail_messages WHERE series_key = ? ORDER BY idx, received_at",
      key,
    );
    return rows.map((r) => ({ messageId: r.message_id, index: r.idx, raw: base64ToBytes(r.raw) }));
  }

  async seriesByLabel(label: string): Promise<MailSeriesState | null> {
    const row = await this.db.first<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM mail_series WHERE label = ? AND status = 'assembled'
       ORDER BY assembled_at DESC LIMIT 1`,
      label,
    );
    return row ? this.state(row) : null;
  }

  async setFacts(key: string, facts: Json): Promise<void> {
    await this.db.batch([
      sql("UPDATE mail_series SET facts_json = ? WHERE key = ?", JSON.stringify(facts), key),
    ]);
  }

  async mergeSeries(from: string, into: string): Promise<MailSeriesState> {
    await this.db.batch([
      sql("UPDATE mail_messages SET series_key = ? WHERE series_key = ?", into, from),
      sql(
        `UPDATE mail_series SET first_seen = MIN(first_seen, COALESCE((SELECT first_seen FROM mail_series WHERE key = ?), first_seen))
         WHERE key = ?`,
        from,
        into,
      ),
      sql("DELETE FROM mail_series WHERE key = ? AND status = 'assembling'", from),
    ]);
    const state = await this.series(into);
    if (!state) throw new Error(`series ${into} vanished while ${from} was merged into it`);
    return state;
  }

  async setAwaitingFacts(key: string, awaiting: boolean): Promise<boolean> {
    const flag = awaiting ? 1 : 0;
    const [changed = 0] = await this.db.batch([
      sql("UPDATE mail_series SET awaiting_facts = ? WHERE key = ? AND awaiting_facts <> ?", flag, key, flag),
    ]);
    return changed > 0;
  }

  async finishAssembly(
    key: string,
    status: Exclude<AssemblyStatus, "assembling">,
    incomplete: boolean,
    now: number,
  ): Promise<boolean> {
    const [changed = 0] = await this.db.batch([
      sql(
        `UPDATE mail_series SET status = ?, incomplete = ?, assembled_at = ? WHERE key = ? AND status = 'assembling'`,
        status,
        incomplete ? 1 : 0,
        now,
        key,
      ),
    ]);
    return changed > 0;
  }

  async setSeriesJob(key: string, jobId: number): Promise<void> {
    await this.db.batch([sql("UPDATE mail_series SET job_id = ? WHERE key = ?", jobId, key)]);
  }

  async assembledWithoutJob(): Promise<string[]> {
    const rows = await this.db.all<{ key: string }>(
      "SELECT key FROM mail_series WHERE status = 'assembled' AND job_id IS NULL ORDER BY assembled_at",
    );
    return rows.map((r) => r.key);
  }

  async waitingSince(cutoff: number): Promise<string[]> {
    const rows = await this.db.all<{ key: string }>(
      "SELECT key FROM mail_series WHERE status = 'assembling' AND first_seen <= ? ORDER BY first_seen",
      cutoff,
    );
    return rows.map((r) => r.key);
  }

  async feedSeen(list: string, ids: readonly string[]): Promise<Set<string>> {
    const seen = new Set<string>();
    // D1 limits bound parameters per statement (100): ask in slices.
    for (let i = 0; i < ids.length; i += 50) {
      const slice = ids.slice(i, i + 50);
      const rows = await this.db.all<{ entry_id: string }>(
        `SELECT entry_id FROM mail_feed_seen WHERE list = ? AND entry_id IN (${slice.map(() => "?").join(", ")})`,
        list,
        ...slice,
      );
      for (const r of rows) seen.add(r.entry_id);
    }
    return seen;
  }

  async markFeedSeen(list: string, id: string, now: number): Promise<void> {
    await this.db.batch([
      sql("INSERT OR IGNORE INTO mail_feed_seen (list, entry_id, seen_at) VALUES (?, ?, ?)", list, id, now),
    ]);
  }

  async writeMails(jobId: number, mails: readonly OutgoingMail[]): Promise<void> {
    if (mails.length === 0) return;
    await this.db.batch(
      mails.map((m, seq) =>
        sql(
          "INSERT OR IGNORE INTO outbox (job_id, seq, kind, body) VALUES (?, ?, 'mail', ?)",
          jobId,
          seq,
          JSON.stringify({ messageId: m.messageId, to: m.to, eml: m.eml }),
        ),
      ),
    );
  }

  async mails(jobId: number): Promise<StoredMail[]> {
    const rows = await this.db.all<{
      id: number;
      seq: number;
      body: string;
      status: string;
      send_attempts: number;
      in_doubt_since: number | null;
    }>(
      "SELECT id, seq, body, status, send_attempts, in_doubt_since FROM outbox WHERE job_id = ? AND kind = 'mail' ORDER BY seq",
      jobId,
    );
    return rows.map((r) => {
      const body = JSON.parse(r.body) as OutgoingMail;
      return {
        id: r.id,
        seq: r.seq,
        messageId: body.messageId,
        to: body.to,
        eml: body.eml,
        status: r.status === "sent" ? "sent" : "pending",
        sendAttempts: r.send_attempts,
        inDoubtSince: r.in_doubt_since,
      };
    });
  }

  async markMailSending(id: number, now: number): Promise<void> {
    await this.db.batch([
      sql("UPDATE outbox SET send_attempts = send_attempts + 1, in_doubt_since = ? WHERE id = ?", now, id),
    ]);
  }

  async markMailNotSent(id: number): Promise<void> {
    await this.db.batch([sql("UPDATE outbox SET in_doubt_since = NULL WHERE id = ?", id)]);
  }

  async markMailSent(id: number, now: number): Promise<void> {
    await this.db.batch([
      sql("UPDATE outbox SET status = 'sent', sent_at = ?, in_doubt_since = NULL WHERE id = ?", now, id),
    ]);
  }
}
