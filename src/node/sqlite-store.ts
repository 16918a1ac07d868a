/**
 * The bot's Store and Queue on SQLite (better-sqlite3), with the schema and migrations D1 shares
 * (src/bot/schema.ts). One file, default ./data/rproc-review.sqlite, in WAL mode; every multi-row write is
 * one transaction, so a crash never leaves a delivery without its job or a run without its outbox.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "../bot/schema.ts";
import type {
  AcceptResult,
  Delivery,
  Job,
  JobInput,
  JobKind,
  JobStatus,
  Json,
  OutboxInput,
  OutboxItem,
  OutboxKind,
  Queue,
  QueueCounts,
  RunRecord,
  Store,
  StoredVersion,
  StoreStats,
} from "../bot/store.ts";
import { InputError } from "../errors.ts";
import type { Series } from "../series/types.ts";

export const DEFAULT_DB_PATH = "./data/rproc-review.sqlite";

interface JobRow {
  id: number;
  kind: string;
  idempotency_key: string;
  payload: string;
  attempts: number;
  max_attempts: number;
}

interface VersionRow {
  id: number;
  series_key: string;
  head_sha: string;
  label: string;
  series_json: string;
}

interface OutboxRow {
  id: number;
  seq: number;
  kind: string;
  body: string;
  status: string;
  github_id: number | null;
}

function toVersion(row: VersionRow): StoredVersion {
  return {
    id: row.id,
    seriesKey: row.series_key,
    headSha: row.head_sha,
    label: row.label,
    series: JSON.parse(row.series_json) as Series,
  };
}

export interface SqliteStoreOptions {
  /** Attempts before a job is marked failed; default 5. */
  maxAttempts?: number;
}

export class SqliteStore implements Store, Queue {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly maxAttempts: number;

  constructor(path: string = DEFAULT_DB_PATH, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.maxAttempts = options.maxAttempts ?? 5;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    try {
      this.db = new Database(path);
    } catch (e) {
      throw new InputError(`cannot open the database: ${e instanceof Error ? e.message : String(e)}`, {
        subject: path,
        cause: e,
      });
    }
    this.db.pragma("journal_mode = WAL");
    // In WAL mode NORMAL still survives a crash of this process (only an OS crash or power loss can drop the
    // last commits), and it takes the fsync off every webhook acknowledgement: GitHub waits 10 s and never
    // retries, but a lost delivery after a power cut is also recovered by the next push or a comment command.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
  }

  /** Applies the migrations not applied yet, each in its own transaction. */
  private migrate(): void {
    this.db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    const applied = new Set(
      this.db
        .prepare<[], { version: number }>("SELECT version FROM schema_migrations")
        .all()
        .map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.db.transaction(() => {
        this.db.exec(m.sql);
        this.db
          .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
          .run(m.version, m.name, Date.now());
      })();
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  // Queue

  async accept(delivery: Delivery, job: JobInput | null): Promise<AcceptResult> {
    return this.db
      .transaction((): AcceptResult => {
        const inserted = this.db
          .prepare(
            "INSERT OR IGNORE INTO deliveries (id, event, action, repo, received_at) VALUES (?, ?, ?, ?, ?)",
          )
          .run(delivery.id, delivery.event, delivery.action, delivery.repo, delivery.receivedAt);
        if (inserted.changes === 0) {
          const row = this.db
            .prepare<[string], { job_id: number | null }>("SELECT job_id FROM deliveries WHERE id = ?")
            .get(delivery.id);
          return { status: "duplicate", jobId: row?.job_id ?? null, enqueued: false };
        }
        if (job === null) return { status: "accepted", jobId: null, enqueued: false };
        const now = delivery.receivedAt;
        const created = this.db
          .prepare(
            `INSERT OR IGNORE INTO jobs (kind, idempotency_key, payload, max_attempts, run_after, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(job.kind, job.key, JSON.stringify(job.payload), this.maxAttempts, now, now, now);
        const id = this.db
          .prepare<[string], { id: number }>("SELECT id FROM jobs WHERE idempotency_key = ?")
          .get(job.key)?.id;
        if (id === undefined) throw new Error(`job ${job.key} vanished while being enqueued`);
        this.db.prepare("UPDATE deliveries SET job_id = ? WHERE id = ?").run(id, delivery.id);
        return { status: "accepted", jobId: id, enqueued: created.changes > 0 };
      })
      .immediate();
  }

  async claim(now: number, leaseMs: number): Promise<Job | null> {
    // IMMEDIATE: two processes on one file never lease the same job (the write lock is taken before reading).
    return this.db
      .transaction((): Job | null => {
        const row = this.db
          .prepare<[number, number], JobRow>(
            `SELECT id, kind, idempotency_key, payload, attempts, max_attempts FROM jobs
           WHERE (status = 'pending' AND run_after <= ?) OR (status = 'running' AND lease_until <= ?)
           ORDER BY run_after, id LIMIT 1`,
          )
          .get(now, now);
        if (!row) return null;
        const leaseToken = randomUUID();
        this.db
          .prepare(
            `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ?, lease_token = ?, updated_at = ?
           WHERE id = ?`,
          )
          .run(now + leaseMs, leaseToken, now, row.id);
        return {
          id: row.id,
          kind: row.kind as JobKind,
          key: row.idempotency_key,
          payload: JSON.parse(row.payload) as Json,
          attempts: row.attempts + 1,
          maxAttempts: row.max_attempts,
          leaseToken,
        };
      })
      .immediate();
  }

  async complete(job: Job, now: number): Promise<void> {
    this.db
      .prepare(
        `UPDATE jobs SET status = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = ?
         WHERE id = ? AND lease_token = ?`,
      )
      .run(now, job.id, job.leaseToken);
  }

  async retry(job: Job, error: string, runAfter: number, now: number): Promise<JobStatus> {
    const status: JobStatus = job.attempts >= job.maxAttempts ? "failed" : "pending";
    this.db
      .prepare(
        `UPDATE jobs SET status = ?, run_after = ?, lease_until = NULL, lease_token = NULL, last_error = ?, updated_at = ?
         WHERE id = ? AND lease_token = ?`,
      )
      .run(status, runAfter, error, now, job.id, job.leaseToken);
    return status;
  }

  async counts(): Promise<QueueCounts> {
    const counts: QueueCounts = { pending: 0, running: 0, done: 0, failed: 0 };
    const rows = this.db
      .prepare<[], { status: JobStatus; n: number }>("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status")
      .all();
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  // Store

  async saveVersion(
    v: { seriesKey: string; headSha: string; series: Series },
    now: number,
  ): Promise<StoredVersion> {
    return this.db.transaction((): StoredVersion => {
      this.db
        .prepare(
          "INSERT INTO series (key, title, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET title = excluded.title",
        )
        .run(v.seriesKey, v.series.title, now);
      this.db
        .prepare(
          `INSERT INTO versions (series_key, head_sha, label, series_json, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (series_key, head_sha) DO UPDATE SET label = excluded.label, series_json = excluded.series_json`,
        )
        .run(v.seriesKey, v.headSha, v.series.id, JSON.stringify(v.series), now);
      const row = this.db
        .prepare<[string, string], VersionRow>(
          "SELECT id, series_key, head_sha, label, series_json FROM versions WHERE series_key = ? AND head_sha = ?",
        )
        .get(v.seriesKey, v.headSha);
      if (!row) throw new Error(`version ${v.seriesKey}@${v.headSha} vanished while being saved`);
      this.db.prepare("DELETE FROM patches WHERE version_id = ?").run(row.id);
      const patch = this.db.prepare(
        "INSERT INTO patches (version_id, idx, title, patch_id) VALUES (?, ?, ?, ?)",
      );
      for (const p of v.series.patches) patch.run(row.id, p.index, p.title, p.patchId);
      return toVersion(row);
    })();
  }

  async previousVersion(seriesKey: string, exceptHeadSha: string): Promise<StoredVersion | null> {
    const row = this.db
      .prepare<[string, string], VersionRow>(
        `SELECT id, series_key, head_sha, label, series_json FROM versions
         WHERE series_key = ? AND head_sha <> ? ORDER BY created_at DESC, id DESC LIMIT 1`,
      )
      .get(seriesKey, exceptHeadSha);
    return row ? toVersion(row) : null;
  }

  async findVersion(seriesKey: string, ref: string): Promise<StoredVersion | null> {
    const bySha = /^[0-9a-f]{7,40}$/i.test(ref);
    const row = this.db
      .prepare<[string, string], VersionRow>(
        `SELECT id, series_key, head_sha, label, series_json FROM versions
         WHERE series_key = ? AND ${bySha ? "head_sha LIKE ? || '%'" : "label = ?"}
         ORDER BY created_at DESC, id DESC LIMIT 1`,
      )
      .get(seriesKey, bySha ? ref.toLowerCase() : ref);
    return row ? toVersion(row) : null;
  }

  async writeOutbox(jobId: number, items: OutboxInput[], run: RunRecord | null, now: number): Promise<void> {
    this.db.transaction(() => {
      if (run) {
        const inserted = this.db
          .prepare(
            `INSERT OR IGNORE INTO runs (version_id, job_id, against, scenarios, conclusion, created_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
          )
          .run(
            run.versionId,
            jobId,
            run.against,
            run.scenarios ? JSON.stringify(run.scenarios) : null,
            run.conclusion,
            now,
          );
        if (inserted.changes > 0) {
          const runId = Number(inserted.lastInsertRowid);
          const cell = this.db.prepare(
            "INSERT OR REPLACE INTO results (run_id, version, scenario, result_json) VALUES (?, ?, ?, ?)",
          );
          for (const c of run.cells) cell.run(runId, c.version, c.scenario, JSON.stringify(c));
          if (run.facts) {
            this.db
              .prepare(
                `INSERT INTO facts (version_id, facts_json, evidence_json) VALUES (?, ?, ?)
                 ON CONFLICT (version_id) DO UPDATE SET facts_json = excluded.facts_json, evidence_json = excluded.evidence_json`,
              )
              .run(run.versionId, JSON.stringify(run.facts.facts), JSON.stringify(run.facts.evidence));
          }
        }
      }
      const item = this.db.prepare(
        "INSERT OR IGNORE INTO outbox (job_id, seq, kind, body) VALUES (?, ?, ?, ?)",
      );
      items.forEach((it, seq) => {
        item.run(jobId, seq, it.kind, JSON.stringify(it.body));
      });
    })();
  }

  async outbox(jobId: number): Promise<OutboxItem[]> {
    return this.db
      .prepare<[number], OutboxRow>(
        "SELECT id, seq, kind, body, status, github_id FROM outbox WHERE job_id = ? ORDER BY seq",
      )
      .all(jobId)
      .map((r) => ({
        id: r.id,
        seq: r.seq,
        kind: r.kind as OutboxKind,
        body: JSON.parse(r.body) as Json,
        status: r.status === "sent" ? "sent" : "pending",
        githubId: r.github_id,
      }));
  }

  async markSent(itemId: number, githubId: number | null, now: number): Promise<void> {
    this.db
      .prepare("UPDATE outbox SET status = 'sent', github_id = ?, sent_at = ? WHERE id = ?")
      .run(githubId, now, itemId);
  }

  async postedComment(repo: string, issueNumber: number, marker: string): Promise<number | null> {
    const row = this.db
      .prepare<[string, number, string], { comment_id: number }>(
        "SELECT comment_id FROM posted_comments WHERE repo = ? AND issue_number = ? AND marker = ?",
      )
      .get(repo, issueNumber, marker);
    return row?.comment_id ?? null;
  }

  async savePostedComment(
    repo: string,
    issueNumber: number,
    marker: string,
    commentId: number | null,
    now: number,
  ): Promise<void> {
    if (commentId === null) {
      this.db
        .prepare("DELETE FROM posted_comments WHERE repo = ? AND issue_number = ? AND marker = ?")
        .run(repo, issueNumber, marker);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO posted_comments (repo, issue_number, marker, comment_id, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (repo, issue_number, marker) DO UPDATE SET comment_id = excluded.comment_id, updated_at = excluded.updated_at`,
      )
      .run(repo, issueNumber, marker, commentId, now);
  }

  async checkRun(repo: string, headSha: string, name: string): Promise<number | null> {
    const row = this.db
      .prepare<[string, string, string], { check_run_id: number }>(
        "SELECT check_run_id FROM check_runs WHERE repo = ? AND head_sha = ? AND name = ?",
      )
      .get(repo, headSha, name);
    return row?.check_run_id ?? null;
  }

  async saveCheckRun(
    repo: string,
    headSha: string,
    name: string,
    checkRunId: number,
    now: number,
  ): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO check_runs (repo, head_sha, name, check_run_id, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (repo, head_sha, name) DO UPDATE SET check_run_id = excluded.check_run_id, updated_at = excluded.updated_at`,
      )
      .run(repo, headSha, name, checkRunId, now);
  }

  async stats(): Promise<StoreStats> {
    const count = (table: string): number =>
      this.db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).get()?.n ?? 0;
    return {
      deliveries: count("deliveries"),
      jobs: count("jobs"),
      versions: count("versions"),
      runs: count("runs"),
      outbox: count("outbox"),
    };
  }
}
