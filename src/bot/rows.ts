/**
 * What the two adapters of the bot's Store and Queue share (src/node/sqlite-store.ts on better-sqlite3,
 * ./d1-store.ts on D1): the statements over the schema of ./schema.ts, the rows they read and how a row
 * becomes an object. The adapters keep only how they run them (synchronous transactions, or D1 batches).
 * Workers-safe.
 */
import type { Series } from "../series/types.ts";
import type {
  Job,
  JobKind,
  JobStatus,
  Json,
  OutboxItem,
  OutboxKind,
  QueueCounts,
  QueueHealth,
  StoredVersion,
} from "./store.ts";

// Queue

export const INSERT_DELIVERY =
  "INSERT OR IGNORE INTO deliveries (id, event, action, repo, received_at) VALUES (?, ?, ?, ?, ?)";
export const DELIVERY_JOB = "SELECT job_id FROM deliveries WHERE id = ?";
/** Parameters: kind, key, payload, max attempts, lane, then `now` three times (run_after, created_at, updated_at). */
export const INSERT_JOB = `INSERT OR IGNORE INTO jobs (kind, idempotency_key, payload, max_attempts, lane, run_after, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const JOB_COLUMNS = "id, kind, idempotency_key, payload, attempts, max_attempts";
/**
 * The oldest ready job: pending and due, or running with an expired lease (its worker died or hung) and
 * attempts left; ordered by when it became ready (a job whose lease expired queues behind the jobs that were
 * waiting before, so a job that kills its worker never goes first). A worker may take it only when no job
 * with a live lease is running that it must not run beside: one of its lane (the jobs of one pull request),
 * or any job at all when either is a suspect. A suspect is a job that was running when its worker died: it
 * runs alone, so that a job that crashes the process takes no other job's attempts with it. Parameters: now,
 * now, now.
 */
/**
 * The jobs running with a live lease (few: at most one a worker), gathered once so that the checks of each
 * candidate are index lookups, not a scan of the whole table per pending job (with thousands of jobs waiting
 * behind a busy lane, that scan made every claim take seconds and held the event loop).
 */
const BUSY = `busy AS (SELECT lane, suspect FROM jobs WHERE status = 'running' AND lease_until > ?)`;
const READY_WHERE = `FROM jobs AS j WHERE ((j.status = 'pending' AND j.run_after <= ?)
    OR (j.status = 'running' AND j.lease_until <= ? AND j.attempts < j.max_attempts))
  AND NOT EXISTS (SELECT 1 FROM busy WHERE busy.lane = j.lane)
  AND NOT EXISTS (SELECT 1 FROM busy WHERE busy.suspect = 1)
  AND ((j.suspect = 0 AND j.status <> 'running') OR NOT EXISTS (SELECT 1 FROM busy))
  ORDER BY CASE WHEN j.status = 'running' THEN j.lease_until ELSE j.run_after END, j.id LIMIT 1`;
/** `SELECT <columns>` of the ready job (parameters: now, now, now). */
const readyJob = (columns: string) => `WITH ${BUSY} SELECT ${columns} ${READY_WHERE}`;
/**
 * Marks failed the jobs whose lease expired on their last attempt: each claim counted its attempt, so a job
 * that crashes or hangs its worker every time ends here and is never leased again. Parameters: now, now.
 */
export const FAIL_EXPIRED_JOBS = `UPDATE jobs SET status = 'failed', lease_until = NULL, lease_token = NULL,
  last_error = 'the lease expired on attempt ' || attempts || ' of ' || max_attempts
    || ' (the worker died or hung while running it)' || COALESCE('; before: ' || last_error, ''),
  updated_at = ?
  WHERE status = 'running' AND lease_until <= ? AND attempts >= max_attempts`;
export const NEXT_READY_JOB = readyJob(JOB_COLUMNS);
/**
 * A new review of a pull request supersedes the reviews of it still waiting (not started): the newest
 * delivery describes the pull request as it is, and a burst of pushes or edits is reviewed once, not once per
 * event behind one another in the lane. Parameters: now, the new job's key (twice), lane.
 */
export const SUPERSEDE_WAITING_REVIEWS = `UPDATE jobs SET status = 'done', updated_at = ?,
  last_error = 'superseded by a later delivery of the same pull request (' || ? || ')'
  WHERE kind = 'review' AND status = 'pending' AND idempotency_key <> ? AND lane = ?`;
/** Taking a job whose lease expired makes it a suspect (until it is done: see readyJob). */
const LEASE_JOB = `UPDATE jobs SET suspect = CASE WHEN status = 'running' THEN 1 ELSE suspect END,
  status = 'running', attempts = attempts + 1, lease_until = ?, lease_token = ?, updated_at = ?`;
/** Leases one job; parameters: lease until, lease token, now, job id. */
export const LEASE_JOB_BY_ID = `${LEASE_JOB} WHERE id = ?`;
/** Finds and leases the next ready job in one statement; parameters: lease until, lease token, now, then now three times. */
export const CLAIM_NEXT_JOB = `${LEASE_JOB} WHERE id = (${readyJob("id")}) RETURNING ${JOB_COLUMNS}`;
/** Parameters: now, job id, lease token. */
export const COMPLETE_JOB = `UPDATE jobs SET status = 'done', lease_until = NULL, lease_token = NULL, last_error = NULL, updated_at = ?
  WHERE id = ? AND lease_token = ?`;
/** Parameters: status, run after, error, now, job id, lease token. */
export const RETRY_JOB = `UPDATE jobs SET status = ?, run_after = ?, lease_until = NULL, lease_token = NULL, last_error = ?, updated_at = ?
  WHERE id = ? AND lease_token = ?`;
export const COUNT_JOBS = "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status";
/** The running job claimed first (a running job's updated_at is its claim). */
export const OLDEST_RUNNING = `SELECT id, kind, updated_at AS started_at, lease_until FROM jobs
  WHERE status = 'running' ORDER BY updated_at, id LIMIT 1`;
/** The job ready longest (whether or not a worker may take it now); parameters: now, now. */
export const OLDEST_READY = `SELECT id, kind, CASE WHEN status = 'running' THEN lease_until ELSE run_after END AS ready_since
  FROM jobs WHERE (status = 'pending' AND run_after <= ?) OR (status = 'running' AND lease_until <= ?)
  ORDER BY ready_since, id LIMIT 1`;

/** Jobs a worker has now; parameter: now. */
export const LEASED_JOBS = "SELECT COUNT(*) AS n FROM jobs WHERE status = 'running' AND lease_until > ?";

export interface RunningRow {
  id: number;
  kind: string;
  started_at: number;
  lease_until: number;
}

export interface ReadyRow {
  id: number;
  kind: string;
  ready_since: number;
}

export function toHealth(running: RunningRow | null, ready: ReadyRow | null, leased: number): QueueHealth {
  return {
    leased,
    oldestRunning: running
      ? {
          id: running.id,
          kind: running.kind as JobKind,
          startedAt: running.started_at,
          leaseUntil: running.lease_until,
        }
      : null,
    oldestReady: ready ? { id: ready.id, kind: ready.kind as JobKind, readySince: ready.ready_since } : null,
  };
}

export interface JobRow {
  id: number;
  kind: string;
  idempotency_key: string;
  payload: string;
  /** Including the current attempt. */
  attempts: number;
  max_attempts: number;
}

/** The leased job of a row whose `attempts` already counts this claim. */
export function toJob(row: JobRow, leaseToken: string): Job {
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

/** What a failed job becomes: failed after its last attempt, else pending again. */
export function retryStatus(job: Job): JobStatus {
  return job.attempts >= job.maxAttempts ? "failed" : "pending";
}

export function toCounts(rows: ReadonlyArray<{ status: JobStatus; n: number }>): QueueCounts {
  const counts: QueueCounts = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

// Store: versions

export const UPSERT_SERIES =
  "INSERT INTO series (key, title, created_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET title = excluded.title";
/** Parameters: series key, head sha, label, series JSON, now. */
export const UPSERT_VERSION = `INSERT INTO versions (series_key, head_sha, label, series_json, created_at) VALUES (?, ?, ?, ?, ?)
  ON CONFLICT (series_key, head_sha) DO UPDATE SET label = excluded.label, series_json = excluded.series_json`;

const VERSION_COLUMNS = "id, series_key, head_sha, label, series_json";
export const VERSION_BY_HEAD = `SELECT ${VERSION_COLUMNS} FROM versions WHERE series_key = ? AND head_sha = ?`;
export const PREVIOUS_VERSION = `SELECT ${VERSION_COLUMNS} FROM versions WHERE series_key = ? AND head_sha <> ?
  ORDER BY created_at DESC, id DESC LIMIT 1`;

/** The newest version of a series by label ("v3") or by head sha prefix (7 hex digits or more). */
export function findVersionQuery(seriesKey: string, ref: string): { sql: string; params: [string, string] } {
  const bySha = /^[0-9a-f]{7,40}$/i.test(ref);
  return {
    sql: `SELECT ${VERSION_COLUMNS} FROM versions
      WHERE series_key = ? AND ${bySha ? "head_sha LIKE ? || '%'" : "label = ?"}
      ORDER BY created_at DESC, id DESC LIMIT 1`,
    params: [seriesKey, bySha ? ref.toLowerCase() : ref],
  };
}

export interface VersionRow {
  id: number;
  series_key: string;
  head_sha: string;
  label: string;
  series_json: string;
}

export function toVersion(row: VersionRow): StoredVersion {
  return {
    id: row.id,
    seriesKey: row.series_key,
    headSha: row.head_sha,
    label: row.label,
    series: JSON.parse(row.series_json) as Series,
  };
}

// Store: runs and the outbox

/** Parameters: version id, job id, against, scenarios JSON, conclusion, now. */
export const INSERT_RUN = `INSERT OR IGNORE INTO runs (version_id, job_id, against, scenarios, conclusion, created_at)
  VALUES (?, ?, ?, ?, ?, ?)`;
/** `runId`: a placeholder or a sub-select giving the run's id. */
export const insertResult = (runId: string): string =>
  `INSERT OR REPLACE INTO results (run_id, version, scenario, result_json) VALUES (${runId}, ?, ?, ?)`;
export const UPSERT_FACTS = `INSERT INTO facts (version_id, facts_json, evidence_json) VALUES (?, ?, ?)
  ON CONFLICT (version_id) DO UPDATE SET facts_json = excluded.facts_json, evidence_json = excluded.evidence_json`;
export const INSERT_OUTBOX = "INSERT OR IGNORE INTO outbox (job_id, seq, kind, body) VALUES (?, ?, ?, ?)";
/** A GitHub job's items (the mail bot's replies, kind 'mail', are src/mail/sql-store.ts's). */
export const JOB_OUTBOX =
  "SELECT id, seq, kind, body, status, github_id FROM outbox WHERE job_id = ? AND kind <> 'mail' ORDER BY seq";
export const MARK_SENT = "UPDATE outbox SET status = 'sent', github_id = ?, sent_at = ? WHERE id = ?";

export interface OutboxRow {
  id: number;
  seq: number;
  kind: string;
  body: string;
  status: string;
  github_id: number | null;
}

export function toOutboxItem(r: OutboxRow): OutboxItem {
  return {
    id: r.id,
    seq: r.seq,
    kind: r.kind as OutboxKind,
    body: JSON.parse(r.body) as Json,
    status: r.status === "sent" ? "sent" : "pending",
    githubId: r.github_id,
  };
}

// Store: what the bot posted on GitHub, by a three-part key

/** (repo, issue number, marker) or (repo, head sha, check name). */
export type PostedKey = [string, string | number, string];

/** A table that maps (repo, a, b) to the id of something posted on GitHub. */
export interface PostedTable {
  /** SELECT the id AS id; parameters: the three key parts. */
  select: string;
  /** Insert or update; parameters: the three key parts, the id, now. */
  upsert: string;
  /** Parameters: the three key parts. */
  remove: string;
}

function postedTable(table: string, keys: readonly [string, string, string], id: string): PostedTable {
  const where = keys.map((k) => `${k} = ?`).join(" AND ");
  const columns = keys.join(", ");
  return {
    select: `SELECT ${id} AS id FROM ${table} WHERE ${where}`,
    upsert: `INSERT INTO ${table} (${columns}, ${id}, updated_at) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (${columns}) DO UPDATE SET ${id} = excluded.${id}, updated_at = excluded.updated_at`,
    remove: `DELETE FROM ${table} WHERE ${where}`,
  };
}

/** The sticky comment of a pull request: (repo, issue number, marker) → comment id. */
export const POSTED_COMMENTS = postedTable(
  "posted_comments",
  ["repo", "issue_number", "marker"],
  "comment_id",
);
/** The check run of a head commit: (repo, head sha, check name) → check run id. */
export const CHECK_RUNS = postedTable("check_runs", ["repo", "head_sha", "name"], "check_run_id");

export const STATS = `SELECT (SELECT COUNT(*) FROM deliveries) AS deliveries, (SELECT COUNT(*) FROM jobs) AS jobs,
  (SELECT COUNT(*) FROM versions) AS versions, (SELECT COUNT(*) FROM runs) AS runs,
  (SELECT COUNT(*) FROM outbox) AS outbox`;

/** Parameters: id, title, json, now. A report is stored once under its id (its content's hash). */
export const INSERT_REPORT =
  "INSERT OR IGNORE INTO reports (id, title, json, created_at) VALUES (?, ?, ?, ?)";
/** Parameters: id. */
export const SELECT_REPORT = "SELECT id, title, json, created_at FROM reports WHERE id = ?";
export interface ReportRow {
  id: string;
  title: string;
  json: string;
  created_at: number;
}
