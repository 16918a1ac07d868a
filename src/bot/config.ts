/**
 * What the bot needs to know at run time, whatever the platform. The Node service reads it from the
 * environment (src/node/config.ts); a Workers entry point will read it from bindings.
 */
export interface BotConfig {
  /**
   * The GitHub App's webhook secret (HMAC-SHA256 of every delivery); null without a GitHub App (a
   * mail-only service): POST /webhooks/github then answers 404.
   */
  webhookSecret: string | null;
  /** Author associations whose `/rproc-review` comments are obeyed (upper case: OWNER, MEMBER, …). */
  allowedAssociations: readonly string[];
  /** Name of the check run on the head commit. */
  checkName: string;
  /** How long a claimed job is leased before another worker may take it again. */
  leaseMs: number;
  /**
   * A job's deadline: an attempt still running after this long is interrupted and handed back for a later
   * attempt, so that a stuck job holds its worker no longer. Less than leaseMs, so that a job is handed back
   * before another worker may take it.
   */
  jobTimeoutMs: number;
  /** `/healthz` reports the queue overdue when a ready job has waited this long for a worker. */
  healthOverdueMs: number;
  /** First retry delay of a failed job; doubles per attempt up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /**
   * Where this service is reached from outside (`https://rproc-review.example.org`): reports are linked as
   * <publicUrl>/reports/<id> from the check run, the comment and the mail. Unset: reports are still kept
   * and served, but nothing links to them.
   */
  publicUrl?: string;
}

export const DEFAULT_BOT_CONFIG: Omit<BotConfig, "webhookSecret"> = {
  allowedAssociations: ["OWNER", "MEMBER", "COLLABORATOR"],
  checkName: "rproc-review",
  leaseMs: 5 * 60_000,
  jobTimeoutMs: 4 * 60_000,
  healthOverdueMs: 10 * 60_000,
  retryBaseMs: 5_000,
  retryMaxMs: 10 * 60_000,
};
