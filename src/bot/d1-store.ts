/**
 * The bot's Store and Queue, and the mail bot's MailStore, on Cloudflare D1: the same schema
 * (src/bot/schema.ts, applied as migrations/ by `wrangler d1 migrations apply`) and the same statements as
 * the SQLite adapter. D1 has no interactive transactions: every multi-row write is one `batch` (atomic),
 * and a claim is one UPDATE … RETURNING.
 */
import { SqlMailStore, type SqlRunner, type SqlValue, type Statement, sql } from "../mail/sql-store.ts";
import type { Series } from "../series/types.ts";
import {
  CHECK_RUNS,
  CLAIM_NEXT_JOB,
  COMPLETE_JOB,
  COUNT_JOBS,
  DELIVERY_JOB,
  FAIL_EXPIRED_JOBS,
  findVersionQuery,
  INSERT_DELIVERY,
  INSERT_JOB,
  INSERT_OUTBOX,
  INSERT_REPORT,
  INSERT_RUN,
  insertResult,
  JOB_OUTBOX,
  type JobRow,
  LEASED_JOBS,
  MARK_SENT,
  OLDEST_READY,
  OLDEST_RUNNING,
  type OutboxRow,
  POSTED_COMMENTS,
  type PostedKey,
  type PostedTable,
  PREVIOUS_VERSION,
  RETRY_JOB,
  type ReadyRow,
  type ReportRow,
  type RunningRow,
  retryStatus,
  SELECT_REPORT,
  STATS,
  SUPERSEDE_WAITING_REVIEWS,
  toCounts,
  toHealth,
  toJob,
  toOutboxItem,
  toVersion,
  UPSERT_FACTS,
  UPSERT_SERIES,
  UPSERT_VERSION,
  VERSION_BY_HEAD,
  type VersionRow,
} from "./rows.ts";
import type {
  AcceptResult,
  Delivery,
  Job,
  JobInput,
  JobStatus,
  OutboxInput,
  OutboxItem,
  Queue,
  QueueCounts,
  QueueHealth,
  RunRecord,
  Store,
  StoredReport,
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
    const seen = async () => (await db.first<{ job_id: number | null }>(DELIVERY_JOB, delivery.id)) ?? null;
    const before = await seen();
    if (before) return { status: "duplicate", jobId: before.job_id, enqueued: false };
    const now = delivery.receivedAt;
    const statements = [
      sql(INSERT_DELIVERY, delivery.id, delivery.event, delivery.action, delivery.repo, delivery.receivedAt),
    ];
    if (job !== null) {
      statements.push(
        sql(
          INSERT_JOB,
          job.kind,
          job.key,
          JSON.stringify(job.payload),
          this.maxAttempts,
          job.lane ?? null,
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
      if (job.kind === "review" && job.lane != null)
        statements.push(sql(SUPERSEDE_WAITING_REVIEWS, now, job.key, job.key, job.lane));
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
    await this.sqlDb.batch([sql(FAIL_EXPIRED_JOBS, now, now)]);
    const row = await this.sqlDb.first<JobRow>(CLAIM_NEXT_JOB, now + leaseMs, leaseToken, now, now, now, now);
    return row ? toJob(row, leaseToken) : null;
  }

  async complete(job: Job, now: number): Promise<void> {
    await this.sqlDb.batch([sql(COMPLETE_JOB, now, job.id, job.leaseToken)]);
  }

  async retry(job: Job, error: string, runAfter: number, now: number): Promise<JobStatus> {
    const status = retryStatus(job);
    await this.sqlDb.batch([sql(RETRY_JOB, status, runAfter, error, now, job.id, job.leaseToken)]);
    return status;
  }

  async counts(): Promise<QueueCounts> {
    return toCounts(await this.sqlDb.all<{ status: JobStatus; n: number }>(COUNT_JOBS));
  }

  async health(now: number): Promise<QueueHealth> {
    const running = await this.sqlDb.first<RunningRow>(OLDEST_RUNNING);
    const ready = await this.sqlDb.first<ReadyRow>(OLDEST_READY, now, now);
    const leased = (await this.sqlDb.first<{ n: number }>(LEASED_JOBS, now))?.n ?? 0;
    return toHealth(running, ready, leased);
  }

  // Store

  async saveVersion(
    v: { seriesKey: string; headSha: string; series: Series },
    now: number,
  ): Promise<StoredVersion> {
    const version = `(SELECT id FROM versions WHERE series_key = ? AND head_sha = ?)`;
    await this.sqlDb.batch([
      sql(UPSERT_SERIES, v.seriesKey, v.series.title, now),
      sql(UPSERT_VERSION, v.seriesKey, v.headSha, v.series.id, JSON.stringify(v.series), now),
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
    const row = await this.sqlDb.first<VersionRow>(VERSION_BY_HEAD, v.seriesKey, v.headSha);
    if (!row) throw new Error(`version ${v.seriesKey}@${v.headSha} vanished while being saved`);
    return toVersion(row);
  }

  async previousVersion(seriesKey: string, exceptHeadSha: string): Promise<StoredVersion | null> {
    const row = await this.sqlDb.first<VersionRow>(PREVIOUS_VERSION, seriesKey, exceptHeadSha);
    return row ? toVersion(row) : null;
  }

  async findVersion(seriesKey: string, ref: string): Promise<StoredVersion | null> {
    const q = findVersionQuery(seriesKey, ref);
    const row = await this.sqlDb.first<VersionRow>(q.sql, ...q.params);
    return row ? toVersion(row) : null;
  }

  async writeOutbox(jobId: number, items: OutboxInput[], run: RunRecord | null, now: number): Promise<void> {
    const statements: Statement[] = [];
    // The run, its results and facts only once per job: a retried job keeps the first ones.
    const known = run
      ? await this.sqlDb.first<{ id: number }>("SELECT id FROM runs WHERE job_id = ?", jobId)
      : null;
    if (run && !known) {
      const result = insertResult("(SELECT id FROM runs WHERE job_id = ?)");
      statements.push(
        sql(
          INSERT_RUN,
          run.versionId,
          jobId,
          run.against,
          run.scenarios ? JSON.stringify(run.scenarios) : null,
          run.conclusion,
          now,
        ),
        ...run.cells.map((c) => sql(result, jobId, c.version, c.scenario, JSON.stringify(c))),
      );
      if (run.facts) {
        statements.push(
          sql(
            UPSERT_FACTS,
            run.versionId,
            JSON.stringify(run.facts.facts),
            JSON.stringify(run.facts.evidence),
          ),
        );
      }
    }
    items.forEach((it, seq) => {
      statements.push(sql(INSERT_OUTBOX, jobId, seq, it.kind, JSON.stringify(it.body)));
    });
    await this.sqlDb.batch(statements);
  }

  async outbox(jobId: number): Promise<OutboxItem[]> {
    return (await this.sqlDb.all<OutboxRow>(JOB_OUTBOX, jobId)).map(toOutboxItem);
  }

  async markSent(itemId: number, githubId: number | null, now: number): Promise<void> {
    await this.sqlDb.batch([sql(MARK_SENT, githubId, now, itemId)]);
  }

  private async posted(table: PostedTable, key: PostedKey): Promise<number | null> {
    return (await this.sqlDb.first<{ id: number }>(table.select, ...key))?.id ?? null;
  }

  /** Records the posted id (null: forgets it). */
  private async savePosted(
    table: PostedTable,
    key: PostedKey,
    id: number | null,
    now: number,
  ): Promise<void> {
    await this.sqlDb.batch([id === null ? sql(table.remove, ...key) : sql(table.upsert, ...key, id, now)]);
  }

  async postedComment(repo: string, issueNumber: number, marker: string): Promise<number | null> {
    return this.posted(POSTED_COMMENTS, [repo, issueNumber, marker]);
  }

  async savePostedComment(
    repo: string,
    issueNumber: number,
    marker: string,
    commentId: number | null,
    now: number,
  ): Promise<void> {
    await this.savePosted(POSTED_COMMENTS, [repo, issueNumber, marker], commentId, now);
  }

  async checkRun(repo: string, headSha: string, name: string): Promise<number | null> {
    return this.posted(CHECK_RUNS, [repo, headSha, name]);
  }

  async saveReport(r: { id: string; title: string; json: string }, now: number): Promise<void> {
    await this.sqlDb.batch([sql(INSERT_REPORT, r.id, r.title, r.json, now)]);
  }

  async report(id: string): Promise<StoredReport | null> {
    const row = await this.sqlDb.first<ReportRow>(SELECT_REPORT, id);
    return row ? { id: row.id, title: row.title, json: row.json, createdAt: row.created_at } : null;
  }

  async saveCheckRun(
    repo: string,
    headSha: string,
    name: string,
    checkRunId: number,
    now: number,
  ): Promise<void> {
    await this.savePosted(CHECK_RUNS, [repo, headSha, name], checkRunId, now);
  }

  async stats(): Promise<StoreStats> {
    const row = await this.sqlDb.first<StoreStats>(STATS);
    return row ?? { deliveries: 0, jobs: 0, versions: 0, runs: 0, outbox: 0 };
  }
}
