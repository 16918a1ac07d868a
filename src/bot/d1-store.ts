/**
 * The bot's Store and Queue, and the mail bot's MailStore, on Cloudflare D1: the same schema
 * (src/bot/schema.ts, applied as migrations/ by `wrangler d1 migrations apply`) and the same statements as
 * the SQLite adapter. D1 has no interactive transactions: every multi-row write is one `batch` (atomic),
 * and a claim is one UPDATE … RETURNING.
 */
import { SqlMailStore, type SqlRunner, type SqlValue, type Statement, sql } from "../mail/sql-store.ts";
import type { Series } from "../series/types.ts";
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
} from "./store.ts";

/** The part of the D1 binding this adapter uses (structural, so that Node's type check needs no Workers types). */
export interface D1Statement {
  bind(...values: SqlValue[]): D1Statement;
  all<T>(): Promise<{ results: T[] }>;
  first<T>(): Promise<T | null>;
  run(): Promise<{ meta: { changes: number; last_row_id: number } }>;
}

export interface D1Like {
  prepare(query: string): D1Statement;
  batch(statements: D1Statement[]): Promise<Array<{ meta: { changes: number; last_row_id: number } }>>;
}

export class D1Runner implements SqlRunner {
  constructor(private readonly db: D1Like) {}

  private bound(s: Statement): D1Statement {
    return this.db.prepare(s.sql).bind(...s.params);
  }

  async all<T>(query: string, ...params: SqlValue[]): Promise<T[]> {
    return (await this.bound(sql(query, ...params)).all<T>()).results;
  }

  async first<T>(query: string, ...params: SqlValue[]): Promise<T | null> {
    return this.bound(sql(query, ...params)).first<T>();
  }

  async batch(statements: readonly Statement[]): Promise<number[]> {
    if (statements.length === 0) return [];
    const results = await this.db.batch(statements.map((s) => this.bound(s)));
    return results.map((r) => r.meta.changes);
  }
}

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

const VERSION_COLUMNS = "id, series_key, head_sha, label, series_json";

function toVersion(row: VersionRow): StoredVersion {
  return {
    id: row.id,
    seriesKey: row.series_key,
    headSha: row.head_sha,
    label: row.label,
    series: JSON.parse(row.series_json) as Series,
  };
}

export class D1Store extends SqlMailStore implements Store, Queue {
  private readonly sqlDb: D1Runner;
  private readonly maxAttempts: number;

  constructor(db: D1Like, options: { maxAttempts?: number } = {}) {
    const runner = new D1Runner(db);
    super(runner);
    this.sqlDb = runner;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  // Queue

  async accept(delivery: Delivery, job: JobInput | null): Promise<AcceptResult> {
    const db = this.sqlDb;
    const seen = async () =>
      (await db.first<{ job_id: number | null }>(
        "SELECT job_id FROM deliveries WHERE id = ?",
        delivery.id,
      )) ?? null;
    const before = await seen();
    if (before) return { status: "duplicate", jobId: before.job_id, enqueued: false };
    const now = delivery.receivedAt;
    const statements = [
      sql(
        "INSERT OR IGNORE INTO deliveries (id, event, action, repo, received_at) VALUES (?, ?, ?, ?, ?)",
        delivery.id,
        delivery.event,
        delivery.action,
        delivery.repo,
        delivery.receivedAt,
      ),
    ];
    if (job !== null) {
      statements.push(
        sql(
          `INSERT OR IGNORE INTO jobs (kind, idempotency_key, payload, max_attempts, run_after, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
          job.kind,
          job.key,
          JSON.stringify(job.payload),
          this.maxAttempts,
          now,
          now,
          now,
        ),
        sql(
          "UPDATE deliveries SET job_id = (SELECT id FROM jobs WHERE idempotency_key = ?) WHERE id = ? AND job_id IS NULL",
          job.key,
          delivery.id,
        ),
      );
    }
    const [inserted = 0, created = 0] = await db.batch(statements);
    const row = await seen();
    // Another request recorded the same delivery in between: its answer stands.
    if (inserted === 0) return { status: "duplicate", jobId: row?.job_id ?? null, enqueued: false };
    if (job === null) return { status: "accepted", jobId: null, enqueued: false };
    if (row?.job_id == null) throw new Error(`job ${job.key} vanished while being enqueued`);
    return { status: "accepted", jobId: row.job_id, enqueued: created > 0 };
  }

  async claim(now: number, leaseMs: number): Promise<Job | null> {
    const leaseToken = crypto.randomUUID();
    const row = await this.sqlDb.first<JobRow>(
      `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ?, lease_token = ?, updated_at = ?
       WHERE id = (SELECT id FROM jobs
         WHERE (status = 'pending' AND run_after <= ?) OR (status = 'running' AND lease_until <= ?)
         ORDER BY run_after, id LIMIT 1)
       RETURNING id, kind, idempotency_key, payload, attempts, max_attempts`,
      now + leaseMs,
      leaseToken,
      now,
      now,
      now,
    );
    if (!row) return null;
    return {
      id: row.id,
      kind: row.kind as JobKind,
      key: row.idempotency_key,
      payload: JSON.parse(row.payload) as Json,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      leaseToken,
    };
  }

  async complete(job: Job, now: number): Promise<void> {
    await this.sqlDb.batch([
      sql(
        `UPDATE jobs SET status = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = ?
         WHERE id = ? AND lease_token = ?`,
        now,
        job.id,
        job.leaseToken,
      ),
    ]);
  }

  async retry(job: Job, error: string, runAfter: number, now: number): Promise<JobStatus> {
    const status: JobStatus = job.attempts >= job.maxAttempts ? "failed" : "pending";
    await this.sqlDb.batch([
      sql(
        `UPDATE jobs SET status = ?, run_after = ?, lease_until = NULL, lease_token = NULL, last_error = ?, updated_at = ?
         WHERE id = ? AND lease_token = ?`,
        status,
        runAfter,
        error,
        now,
        job.id,
        job.leaseToken,
      ),
    ]);
    return status;
  }

  async counts(): Promise<QueueCounts> {
    const counts: QueueCounts = { pending: 0, running: 0, done: 0, failed: 0 };
    const rows = await this.sqlDb.all<{ status: JobStatus; n: number }>(
      "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status",
    );
    for (const r of rows) counts[r.status] = r.n;
    return counts;
  }

  // Store

  async saveVersion(
    v: { seriesKey: string; headSha: string; series: Series },
    now: number,
  ): Promise<StoredVersion> {
    const version = `(SELECT id FROM versions WHERE series_key = ? AND head_sha = ?)`;
    await this.sqlDb.batch([
      sql(
        "INSERT INTO series (key, title, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET title = excluded.title",
        v.seriesKey,
        v.series.title,
        now,
      ),
      sql(
        `INSERT INTO versions (series_key, head_sha, label, series_json, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (series_key, head_sha) DO UPDATE SET label = excluded.label, series_json = excluded.series_json`,
        v.seriesKey,
        v.headSha,
        v.series.id,
        JSON.stringify(v.series),
        now,
      ),
      sql(`DELETE FROM patches WHERE version_id = ${version}`, v.seriesKey, v.headSha),
      ...v.series.patches.map((p) =>
        sql(
          `INSERT INTO patches (version_id, idx, title, patch_id) VALUES (${version}, ?, ?, ?)`,
          v.seriesKey,
          v.headSha,
          p.index,
          p.title,
          p.patchId,
        ),
      ),
    ]);
    const row = await this.sqlDb.first<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE series_key = ? AND head_sha = ?`,
      v.seriesKey,
      v.headSha,
    );
    if (!row) throw new Error(`version ${v.seriesKey}@${v.headSha} vanished while being saved`);
    return toVersion(row);
  }

  async previousVersion(seriesKey: string, exceptHeadSha: string): Promise<StoredVersion | null> {
    const row = await this.sqlDb.first<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions WHERE series_key = ? AND head_sha <> ?
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      seriesKey,
      exceptHeadSha,
    );
    return row ? toVersion(row) : null;
  }

  async findVersion(seriesKey: string, ref: string): Promise<StoredVersion | null> {
    const bySha = /^[0-9a-f]{7,40}$/i.test(ref);
    const row = await this.sqlDb.first<VersionRow>(
      `SELECT ${VERSION_COLUMNS} FROM versions
       WHERE series_key = ? AND ${bySha ? "head_sha LIKE ? || '%'" : "label = ?"}
       ORDER BY created_at DESC, id DESC LIMIT 1`,
      seriesKey,
      bySha ? ref.toLowerCase() : ref,
    );
    return row ? toVersion(row) : null;
  }

  async writeOutbox(jobId: number, items: OutboxInput[], run: RunRecord | null, now: number): Promise<void> {
    const statements: Statement[] = [];
    // The run, its results and facts only once per job: a retried job keeps the first ones.
    const known = run
      ? await this.sqlDb.first<{ id: number }>("SELECT id FROM runs WHERE job_id = ?", jobId)
      : null;
    if (run && !known) {
      const runId = "(SELECT id FROM runs WHERE job_id = ?)";
      statements.push(
        sql(
          `INSERT OR IGNORE INTO runs (version_id, job_id, against, scenarios, conclusion, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          run.versionId,
          jobId,
          run.against,
          run.scenarios ? JSON.stringify(run.scenarios) : null,
          run.conclusion,
          now,
        ),
        ...run.cells.map((c) =>
          sql(
            `INSERT OR REPLACE INTO results (run_id, version, scenario, result_json) VALUES (${runId}, ?, ?, ?)`,
            jobId,
            c.version,
            c.scenario,
            JSON.stringify(c),
          ),
        ),
      );
      if (run.facts) {
        statements.push(
          sql(
            `INSERT INTO facts (version_id, facts_json, evidence_json) VALUES (?, ?, ?)
             ON CONFLICT (version_id) DO UPDATE SET facts_json = excluded.facts_json, evidence_json = excluded.evidence_json`,
            run.versionId,
            JSON.stringify(run.facts.facts),
            JSON.stringify(run.facts.evidence),
          ),
        );
      }
    }
    items.forEach((it, seq) => {
      statements.push(
        sql(
          "INSERT OR IGNORE INTO outbox (job_id, seq, kind, body) VALUES (?, ?, ?, ?)",
          jobId,
          seq,
          it.kind,
          JSON.stringify(it.body),
        ),
      );
    });
    await this.sqlDb.batch(statements);
  }

  async outbox(jobId: number): Promise<OutboxItem[]> {
    const rows = await this.sqlDb.all<{
      id: number;
      seq: number;
      kind: string;
      body: string;
      status: string;
      github_id: number | null;
    }>(
      "SELECT id, seq, kind, body, status, github_id FROM outbox WHERE job_id = ? AND kind <> 'mail' ORDER BY seq",
      jobId,
    );
    return rows.map((r) => ({
      id: r.id,
      seq: r.seq,
      kind: r.kind as OutboxKind,
      body: JSON.parse(r.body) as Json,
      status: r.status === "sent" ? "sent" : "pending",
      githubId: r.github_id,
    }));
  }

  async markSent(itemId: number, githubId: number | null, now: number): Promise<void> {
    await this.sqlDb.batch([
      sql(
        "UPDATE outbox SET status = 'sent', github_id = ?, sent_at = ? WHERE id = ?",
        githubId,
        now,
        itemId,
      ),
    ]);
  }

  async postedComment(repo: string, issueNumber: number, marker: string): Promise<number | null> {
    const row = await this.sqlDb.first<{ comment_id: number }>(
      "SELECT comment_id FROM posted_comments WHERE repo = ? AND issue_number = ? AND marker = ?",
      repo,
      issueNumber,
      marker,
    );
    return row?.comment_id ?? null;
  }

  async savePostedComment(
    repo: string,
    issueNumber: number,
    marker: string,
    commentId: number | null,
    now: number,
  ): Promise<void> {
    await this.sqlDb.batch([
      commentId === null
        ? sql(
            "DELETE FROM posted_comments WHERE repo = ? AND issue_number = ? AND marker = ?",
            repo,
            issueNumber,
            marker,
          )
        : sql(
            `INSERT INTO posted_comments (repo, issue_number, marker, comment_id, updated_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (repo, issue_number, marker) DO UPDATE SET comment_id = excluded.comment_id, updated_at = excluded.updated_at`,
            repo,
            issueNumber,
            marker,
            commentId,
            now,
          ),
    ]);
  }

  async checkRun(repo: string, headSha: string, name: string): Promise<number | null> {
    const row = await this.sqlDb.first<{ check_run_id: number }>(
      "SELECT check_run_id FROM check_runs WHERE repo = ? AND head_sha = ? AND name = ?",
      repo,
      headSha,
      name,
    );
    return row?.check_run_id ?? null;
  }

  async saveCheckRun(
    repo: string,
    headSha: string,
    name: string,
    checkRunId: number,
    now: number,
  ): Promise<void> {
    await this.sqlDb.batch([
      sql(
        `INSERT INTO check_runs (repo, head_sha, name, check_run_id, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (repo, head_sha, name) DO UPDATE SET check_run_id = excluded.check_run_id, updated_at = excluded.updated_at`,
        repo,
        headSha,
        name,
        checkRunId,
        now,
      ),
    ]);
  }

  async stats(): Promise<StoreStats> {
    const row = await this.sqlDb.first<StoreStats>(
      `SELECT (SELECT COUNT(*) FROM deliveries) AS deliveries, (SELECT COUNT(*) FROM jobs) AS jobs,
        (SELECT COUNT(*) FROM versions) AS versions, (SELECT COUNT(*) FROM runs) AS runs,
        (SELECT COUNT(*) FROM outbox) AS outbox`,
    );
    return row ?? { deliveries: 0, jobs: 0, versions: 0, runs: 0, outbox: 0 };
  }
}
