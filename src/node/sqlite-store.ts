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
  DELIVERY_JOB,
  FAIL_EXPIRED_JOBS,
  INSERT_DELIVERY,
  INSERT_JOB,
  type JobRow,
  LEASE_JOB_BY_ID,
  NEXT_READY_JOB,
  SUPERSEDE_WAITING_REVIEWS,
  toJob,
} from "../bot/rows.ts";
import { MIGRATIONS } from "../bot/schema.ts";
import { SqlBotStore } from "../bot/sql-store.ts";
import type { AcceptResult, Delivery, Job, JobInput } from "../bot/store.ts";
import { InputError } from "../errors.ts";
import type { SqlRunner, SqlValue, Statement } from "../mail/sql-store.ts";

/** The shared SQL executor over better-sqlite3; statements are prepared once per text. */
export class SqliteRunner implements SqlRunner {
  private readonly prepared = new Map<string, Database.Statement<SqlValue[]>>();

  constructor(private readonly db: Database.Database) {}

  private statement(text: string): Database.Statement<SqlValue[]> {
    let st = this.prepared.get(text);
    if (st === undefined) {
      st = this.db.prepare<SqlValue[]>(text);
      this.prepared.set(text, st);
    }
    return st;
  }

  async all<T>(text: string, ...params: SqlValue[]): Promise<T[]> {
    return this.statement(text).all(...params) as T[];
  }

  async first<T>(text: string, ...params: SqlValue[]): Promise<T | null> {
    return (this.statement(text).get(...params) as T | undefined) ?? null;
  }

  async batch(statements: readonly Statement[]): Promise<number[]> {
    return this.db.transaction(() => statements.map((s) => this.statement(s.sql).run(...s.params).changes))();
  }
}

export const DEFAULT_DB_PATH = "./data/rproc-review.sqlite";

export interface SqliteStoreOptions {
  /** Attempts before a job is marked failed; default 5. */
  maxAttempts?: number;
}

function openDatabase(path: string): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (e) {
    throw new InputError(`cannot open the database: ${e instanceof Error ? e.message : String(e)}`, {
      subject: path,
      cause: e,
    });
  }
  db.pragma("journal_mode = WAL");
  // In WAL mode NORMAL still survives a crash of this process (only an OS crash or power loss can drop the
  // last commits), and it takes the fsync off every webhook acknowledgement: GitHub waits 10 s and never
  // retries, but a lost delivery after a power cut is also recovered by the next push or a comment command.
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  return db;
}

export class SqliteStore extends SqlBotStore {
  readonly path: string;
  private readonly connection: Database.Database;
  /** The queue's statements, prepared once per text (preparing was most of an acknowledgement's CPU). */
  private readonly prepared = new Map<string, Database.Statement<SqlValue[]>>();
  /** The two queue transactions, wrapped once (better-sqlite3 builds a wrapper per `transaction` call). */
  private readonly acceptTx: (delivery: Delivery, job: JobInput | null) => AcceptResult;
  private readonly claimTx: (now: number, leaseMs: number) => Job | null;

  constructor(path: string = DEFAULT_DB_PATH, options: SqliteStoreOptions = {}) {
    const db = openDatabase(path);
    super(new SqliteRunner(db), options);
    this.path = path;
    this.connection = db;
    this.migrate();
    this.acceptTx = db.transaction((d: Delivery, j: JobInput | null) => this.acceptIn(d, j)).immediate;
    this.claimTx = db.transaction((now: number, leaseMs: number) => this.claimIn(now, leaseMs)).immediate;
  }

  private sql(text: string): Database.Statement<SqlValue[]> {
    let st = this.prepared.get(text);
    if (st === undefined) {
      st = this.connection.prepare<SqlValue[]>(text);
      this.prepared.set(text, st);
    }
    return st;
  }

  /** Applies the migrations not applied yet, each in its own transaction. */
  private migrate(): void {
    this.connection.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
    );
    const applied = new Set(
      this.connection
        .prepare<[], { version: number }>("SELECT version FROM schema_migrations")
        .all()
        .map((r) => r.version),
    );
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      this.connection.transaction(() => {
        this.connection.exec(m.sql);
        this.connection
          .prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)")
          .run(m.version, m.name, Date.now());
      })();
    }
  }

  close(): void {
    if (this.connection.open) this.connection.close();
  }

  // Queue

  async accept(delivery: Delivery, job: JobInput | null): Promise<AcceptResult> {
    return this.acceptTx(delivery, job);
  }

  private acceptIn(delivery: Delivery, job: JobInput | null): AcceptResult {
    const inserted = this.sql(INSERT_DELIVERY).run(
      delivery.id,
      delivery.event,
      delivery.action,
      delivery.repo,
      delivery.receivedAt,
    );
    if (inserted.changes === 0) {
      const row = this.sql(DELIVERY_JOB).get(delivery.id) as { job_id: number | null } | undefined;
      return { status: "duplicate", jobId: row?.job_id ?? null, enqueued: false };
    }
    if (job === null) return { status: "accepted", jobId: null, enqueued: false };
    const now = delivery.receivedAt;
    const created = this.sql(INSERT_JOB).run(
      job.kind,
      job.key,
      JSON.stringify(job.payload),
      this.maxAttempts,
      job.lane ?? null,
      now,
      now,
      now,
    );
    const id = (
      this.sql("SELECT id FROM jobs WHERE idempotency_key = ?").get(job.key) as { id: number } | undefined
    )?.id;
    if (id === undefined) throw new Error(`job ${job.key} vanished while being enqueued`);
    if (created.changes > 0 && job.kind === "review" && job.lane != null)
      this.sql(SUPERSEDE_WAITING_REVIEWS).run(now, job.key, job.key, job.lane);
    this.sql("UPDATE deliveries SET job_id = ? WHERE id = ?").run(id, delivery.id);
    return { status: "accepted", jobId: id, enqueued: created.changes > 0 };
  }

  async claim(now: number, leaseMs: number): Promise<Job | null> {
    // IMMEDIATE: two processes on one file never lease the same job (the write lock is taken before reading).
    return this.claimTx(now, leaseMs);
  }

  private claimIn(now: number, leaseMs: number): Job | null {
    this.sql(FAIL_EXPIRED_JOBS).run(now, now);
    const row = this.sql(NEXT_READY_JOB).get(now, now, now) as JobRow | undefined;
    if (!row) return null;
    const leaseToken = randomUUID();
    this.sql(LEASE_JOB_BY_ID).run(now + leaseMs, leaseToken, now, row.id);
    return toJob({ ...row, attempts: row.attempts + 1 }, leaseToken);
  }
}
