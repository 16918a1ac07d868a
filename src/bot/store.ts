/**
 * What the bot keeps, as two async interfaces over one database (schema in ./schema.ts): the durable job
 * queue with its webhook deliveries, and the review store (series versions, facts, runs, results, posted
 * comments and check runs, outbox). Async so that the D1 adapter can implement them unchanged; the Node
 * adapter is src/node/sqlite-store.ts.
 */
import type { CellResult } from "../scenarios/result.ts";
import type { Series } from "../series/types.ts";

export type JobStatus = "pending" | "running" | "done" | "failed";
/** "mail-review" and "mail-command" are the mailing-list bot's (src/mail/jobs.ts). */
export type JobKind = "review" | "command" | "mail-review" | "mail-command";

/** A plain JSON value (what a job payload or an outbox body is stored as). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface JobInput {
  kind: JobKind;
  /** At most one job per key, ever: a repeated key does not enqueue again. */
  key: string;
  payload: Json;
  /**
   * Jobs of one lane run one at a time, in order (the jobs of one pull request: two at once would both find
   * no sticky comment and both create one); jobs without a lane run whenever a worker is free.
   */
  lane?: string;
}

export interface Job {
  id: number;
  kind: JobKind;
  key: string;
  payload: Json;
  /** Including the current one. */
  attempts: number;
  maxAttempts: number;
  /** Identifies this claim: completing or retrying with a stale lease does nothing. */
  leaseToken: string;
}

export interface Delivery {
  /** X-GitHub-Delivery. */
  id: string;
  event: string;
  action: string | null;
  repo: string | null;
  receivedAt: number;
}

export interface AcceptResult {
  status: "accepted" | "duplicate";
  /** The job this delivery maps to (new or already queued under the same key), or null (nothing to do). */
  jobId: number | null;
  /** True when this delivery created the job. */
  enqueued: boolean;
}

export type QueueCounts = Record<JobStatus, number>;

/** What `/healthz` judges the queue by. */
export interface QueueHealth {
  /** The running job that started first: since when (its claim), and until when it is leased. */
  oldestRunning: { id: number; kind: JobKind; startedAt: number; leaseUntil: number } | null;
  /** The ready job (due, or its lease expired) that has waited longest, and since when. */
  oldestReady: { id: number; kind: JobKind; readySince: number } | null;
  /** Jobs running under a live lease (a worker has them now). */
  leased: number;
}

export interface Queue {
  /**
   * Records a delivery and enqueues its job in one transaction. A delivery id seen before changes nothing
   * and answers "duplicate".
   */
  accept(delivery: Delivery, job: JobInput | null): Promise<AcceptResult>;
  /** Takes the oldest ready job (pending and due, or running with an expired lease) and leases it. */
  claim(now: number, leaseMs: number): Promise<Job | null>;
  complete(job: Job, now: number): Promise<void>;
  /** Gives the job back for another attempt at `runAfter`, or marks it failed after its last attempt. */
  retry(job: Job, error: string, runAfter: number, now: number): Promise<JobStatus>;
  counts(): Promise<QueueCounts>;
  health(now: number): Promise<QueueHealth>;
}

export interface StoredVersion {
  id: number;
  seriesKey: string;
  headSha: string;
  label: string;
  series: Series;
}

export interface RunRecord {
  versionId: number;
  /** What it was compared with: "pr:o/r#1@sha", a built-in version id, or null. */
  against: string | null;
  scenarios: string[] | null;
  conclusion: string;
  cells: CellResult[];
  facts: { facts: Json; evidence: Json } | null;
}

export type OutboxKind = "comment" | "check-run";

export interface OutboxInput {
  kind: OutboxKind;
  body: Json;
}

export interface OutboxItem extends OutboxInput {
  id: number;
  seq: number;
  status: "pending" | "sent";
  githubId: number | null;
}

export interface StoreStats {
  deliveries: number;
  jobs: number;
  versions: number;
  runs: number;
  outbox: number;
}

/** A review's full report as stored: served at GET /reports/<id> as JSON and HTML. */
export interface StoredReport {
  id: string;
  title: string;
  /** The ReviewReport as JSON. */
  json: string;
  createdAt: number;
}

export interface Store {
  /** Keeps a report under its id (the same id twice keeps the first). */
  saveReport(r: { id: string; title: string; json: string }, now: number): Promise<void>;
  report(id: string): Promise<StoredReport | null>;
  saveVersion(v: { seriesKey: string; headSha: string; series: Series }, now: number): Promise<StoredVersion>;
  /** The most recently stored version of the series other than `exceptHeadSha`. */
  previousVersion(seriesKey: string, exceptHeadSha: string): Promise<StoredVersion | null>;
  /** A stored version by label ("v3", latest first) or by head sha (7 hex digits or more). */
  findVersion(seriesKey: string, ref: string): Promise<StoredVersion | null>;
  /**
   * Writes what a job has to deliver (and the run it computed, if any) in one transaction. Idempotent per
   * job: items already written for the job are kept as they are.
   */
  writeOutbox(jobId: number, items: OutboxInput[], run: RunRecord | null, now: number): Promise<void>;
  outbox(jobId: number): Promise<OutboxItem[]>;
  markSent(itemId: number, githubId: number | null, now: number): Promise<void>;
  postedComment(repo: string, issueNumber: number, marker: string): Promise<number | null>;
  savePostedComment(
    repo: string,
    issueNumber: number,
    marker: string,
    commentId: number | null,
    now: number,
  ): Promise<void>;
  checkRun(repo: string, headSha: string, name: string): Promise<number | null>;
  saveCheckRun(repo: string, headSha: string, name: string, checkRunId: number, now: number): Promise<void>;
  stats(): Promise<StoreStats>;
}
