/**
 * The bot's Store and Queue, and the mail bot's MailStore, on Cloudflare D1: the same schema
 * (src/bot/schema.ts, applied as migrations/ by `wrangler d1 migrations apply`) and the same statements as
 * the SQLite adapter (./sql-store.ts). D1 has no interactive transactions: every multi-row write is one
 * `batch` (atomic), and a claim is one UPDATE … RETURNING.
 */
import { type SqlRunner, type SqlValue, type Statement, sql } from "../mail/sql-store.ts";
import {
  CLAIM_NEXT_JOB,
  DELIVERY_JOB,
  FAIL_EXPIRED_JOBS,
  INSERT_DELIVERY,
  INSERT_JOB,
  type JobRow,
  SUPERSEDE_WAITING_REVIEWS,
  toJob,
} from "./rows.ts";
import { SqlBotStore } from "./sql-store.ts";
import type { AcceptResult, Delivery, Job, JobInput } from "./store.ts";

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

export class D1Store extends SqlBotStore {
  constructor(db: D1Like, options: { maxAttempts?: number } = {}) {
    super(new D1Runner(db), options);
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
}
