/**
 * The bot's Store and Queue on SQLite (better-sqlite3), with the schema and migrations D1 shares
 * (src/bot/schema.ts). One file, default ./data/rproc-review.sqlite, in WAL mode; every multi-row write is
 * one transaction, so a crash never leaves a delivery without its job or a run without its outbox.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import {
  CHECK_RUNS,
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
  LEASE_JOB_BY_ID,
  LEASED_JOBS,
  MARK_SENT,
  NEXT_READY_JOB,
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
} from "../bot/rows.ts";
import { MIGRATIONS } from "../bot/schema.ts";
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
} from "../bot/store.ts";
import { InputError } from "../errors.ts";
import type { Series } from "../series/types.ts";

export const DEFAULT_DB_PATH = "./data/rproc-review.sqlite";

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
          .prepare(INSERT_DELIVERY)
          .run(delivery.id, delivery.event, delivery.action, delivery.repo, delivery.receivedAt);
        if (inserted.changes === 0) {
          const row = this.db.prepare<[string], { job_id: number | null }>(DELIVERY_JOB).get(delivery.id);
          return { status: "duplicate", jobId: row?.job_id ?? null, enqueued: false };
        }
        if (job === null) return { status: "accepted", jobId: null, enqueued: false };
        const now = delivery.receivedAt;
        const created = this.db
          .prepare(INSERT_JOB)
          .run(
            job.kind,
            job.key,
            JSON.stringify(job.payload),
            this.maxAttempts,
            job.lane ?? null,
            now,
            now,
            now,
          );
        const id = this.db
          .prepare<[string], { id: number }>("SELECT id FROM jobs WHERE idempotency_key = ?")
          .get(job.key)?.id;
        if (id === undefined) throw new Error(`job ${job.key} vanished while being enqueued`);
        if (created.changes > 0 && job.kind === "review" && job.lane != null)
          this.db.prepare(SUPERSEDE_WAITING_REVIEWS).run(now, job.key, job.key, job.lane);
        this.db.prepare("UPDATE deliveries SET job_id = ? WHERE id = ?").run(id, delivery.id);
        return { status: "accepted", jobId: id, enqueued: created.changes > 0 };
      })
      .immediate();
  }

  async claim(now: number, leaseMs: number): Promise<Job | null> {
    // IMMEDIATE: two processes on one file never lease the same job (the write lock is taken before reading).
    return this.db
      .transaction((): Job | null => {
        this.db.prepare(FAIL_EXPIRED_JOBS).run(now, now);
        const row = this.db.prepare<[number, number, number], JobRow>(NEXT_READY_JOB).get(now, now, now);
        if (!row) return null;
        const leaseToken = randomUUID();
        this.db.prepare(LEASE_JOB_BY_ID).run(now + leaseMs, leaseToken, now, row.id);
        return toJob({ ...row, attempts: row.attempts + 1 }, leaseToken);
      })
      .immediate();
  }

  async complete(job: Job, now: number): Promise<void> {
    this.db.prepare(COMPLETE_JOB).run(now, job.id, job.leaseToken);
  }

  async retry(job: Job, error: string, runAfter: number, now: number): Promise<JobStatus> {
    const status = retryStatus(job);
    this.db.prepare(RETRY_JOB).run(status, runAfter, error, now, job.id, job.leaseToken);
    return status;
  }

  async counts(): Promise<QueueCounts> {
    return toCounts(this.db.prepare<[], { status: JobStatus; n: number }>(COUNT_JOBS).all());
  }

  async health(now: number): Promise<QueueHealth> {
    const running = this.db.prepare<[], RunningRow>(OLDEST_RUNNING).get() ?? null;
    const ready = this.db.prepare<[number, number], ReadyRow>(OLDEST_READY).get(now, now) ?? null;
    const leased = this.db.prepare<[number], { n: number }>(LEASED_JOBS).get(now)?.n ?? 0;
    return toHealth(running, ready, leased);
  }

  // Store

  async saveVersion(
    v: { seriesKey: string; headSha: string; series: Series },
    now: number,
  ): Promise<StoredVersion> {
    return this.db.transaction((): StoredVersion => {
      this.db.prepare(UPSERT_SERIES).run(v.seriesKey, v.series.title, now);
      this.db.prepare(UPSERT_VERSION).run(v.seriesKey, v.headSha, v.series.id, JSON.stringify(v.series), now);
      const row = this.db.prepare<[string, string], VersionRow>(VERSION_BY_HEAD).get(v.seriesKey, v.headSha);
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
    const row = this.db.prepare<[string, string], VersionRow>(PREVIOUS_VERSION).get(seriesKey, exceptHeadSha);
    return row ? toVersion(row) : null;
  }

  async findVersion(seriesKey: string, ref: string): Promise<StoredVersion | null> {
    const q = findVersionQuery(seriesKey, ref);
    const row = this.db.prepare<[string, string], VersionRow>(q.sql).get(...q.params);
    return row ? toVersion(row) : null;
  }

  async writeOutbox(jobId: number, items: OutboxInput[], run: RunRecord | null, now: number): Promise<void> {
    this.db.transaction(() => {
      if (run) {
        const inserted = this.db
          .prepare(INSERT_RUN)
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
          const cell = this.db.prepare(insertResult("?"));
          for (const c of run.cells) cell.run(runId, c.version, c.scenario, JSON.stringify(c));
          if (run.facts) {
            this.db
              .prepare(UPSERT_FACTS)
              .run(run.versionId, JSON.stringify(run.facts.facts), JSON.stringify(run.facts.evidence));
          }
        }
      }
      const item = this.db.prepare(INSERT_OUTBOX);
      items.forEach((it, seq) => {
        item.run(jobId, seq, it.kind, JSON.stringify(it.body));
      });
    })();
  }

  async outbox(jobId: number): Promise<OutboxItem[]> {
    return this.db.prepare<[number], OutboxRow>(JOB_OUTBOX).all(jobId).map(toOutboxItem);
  }

  async markSent(itemId: number, githubId: number | null, now: number): Promise<void> {
    this.db.prepare(MARK_SENT).run(githubId, now, itemId);
  }

  private posted(table: PostedTable, key: PostedKey): number | null {
    return this.db.prepare<PostedKey, { id: number }>(table.select).get(...key)?.id ?? null;
  }

  /** Records the posted id (null: forgets it). */
  private savePosted(table: PostedTable, key: PostedKey, id: number | null, now: number): void {
    if (id === null) this.db.prepare(table.remove).run(...key);
    else this.db.prepare(table.upsert).run(...key, id, now);
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
    this.savePosted(POSTED_COMMENTS, [repo, issueNumber, marker], commentId, now);
  }

  async checkRun(repo: string, headSha: string, name: string): Promise<number | null> {
    return this.posted(CHECK_RUNS, [repo, headSha, name]);
  }

  async saveReport(r: { id: string; title: string; json: string }, now: number): Promise<void> {
    this.db.prepare(INSERT_REPORT).run(r.id, r.title, r.json, now);
  }

  async report(id: string): Promise<StoredReport | null> {
    const row = this.db.prepare<[string], ReportRow>(SELECT_REPORT).get(id);
    return row ? { id: row.id, title: row.title, json: row.json, createdAt: row.created_at } : null;
  }

  async saveCheckRun(
    repo: string,
    headSha: string,
    name: string,
    checkRunId: number,
    now: number,
  ): Promise<void> {
    this.savePosted(CHECK_RUNS, [repo, headSha, name], checkRunId, now);
  }

  async stats(): Promise<StoreStats> {
    return (
      this.db.prepare<[], StoreStats>(STATS).get() ?? {
        deliveries: 0,
        jobs: 0,
        versions: 0,
        runs: 0,
        outbox: 0,
      }
    );
  }
}
