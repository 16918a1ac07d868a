/**
 * The bot's Store and Queue in SQL, over the async executor that better-sqlite3 (src/node/sqlite-store.ts)
 * and D1 (./d1-store.ts) both provide (the mail bot's SqlRunner): one set of statements (./rows.ts) for both
 * databases. Taking a delivery and leasing a job are the platforms' own (SQLite takes them in an IMMEDIATE
 * transaction, D1 as one batch and one UPDATE … RETURNING); everything else is here.
 */
import { SqlMailStore, type SqlRunner, type Statement, sql } from "../mail/sql-store.ts";
import type { Series } from "../series/types.ts";
import {
  CHECK_RUNS,
  COMPLETE_JOB,
  COUNT_JOBS,
  findVersionQuery,
  INSERT_OUTBOX,
  INSERT_REPORT,
  INSERT_RUN,
  insertResult,
  JOB_OUTBOX,
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
  toCounts,
  toHealth,
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

export abstract class SqlBotStore extends SqlMailStore implements Store, Queue {
  protected readonly sqlDb: SqlRunner;
  protected readonly maxAttempts: number;

  constructor(runner: SqlRunner, options: { maxAttempts?: number } = {}) {
    super(runner);
    this.sqlDb = runner;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  abstract accept(delivery: Delivery, job: JobInput | null): Promise<AcceptResult>;

  abstract claim(now: number, leaseMs: number): Promise<Job | null>;

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
