/**
 * Takes a job from the queue and runs it. At-least-once: a job is leased, handled, then completed; if the
 * handler fails the job goes back with an exponential delay, and a job whose worker died is taken again
 * once its lease has expired. Every attempt has a deadline (BotConfig.jobTimeoutMs, shorter than the
 * lease): past it the attempt's signal is aborted (its requests with it) and the job is handed back, so a
 * stuck job holds its worker no longer than that. The loops that call `processNext` are the platform's
 * (src/node/server.ts runs several).
 */
import { handleJob, type JobContext } from "./jobs.ts";
import type { Job, JobKind, Queue } from "./store.ts";
import { whenAborted } from "./timeout.ts";

/** An attempt that ran past the job's deadline. */
export class JobDeadlineError extends Error {
  override readonly name = "JobDeadlineError";
}

export type JobHandler = (job: Job, ctx: WorkerContext) => Promise<void>;

export interface WorkerContext extends JobContext {
  queue: Queue;
  /** Handlers of further job kinds (the mailing-list bot's, src/mail/jobs.ts); the GitHub kinds otherwise. */
  handlers?: Partial<Record<JobKind, JobHandler>>;
}

function retryDelay(ctx: WorkerContext, attempts: number): number {
  return Math.min(ctx.config.retryMaxMs, ctx.config.retryBaseMs * 2 ** Math.max(0, attempts - 1));
}

/** Handles the next ready job; false when there was none. */
export async function processNext(ctx: WorkerContext): Promise<boolean> {
  const job = await ctx.queue.claim(ctx.now(), ctx.config.leaseMs);
  if (!job) return false;
  const log = ctx.log.child({ job: job.id, kind: job.kind, key: job.key, attempt: job.attempts });
  log.info("job.start");
  // The attempt's signal: aborted at its deadline or when the service shuts down.
  const attempt = new AbortController();
  const stop = () => attempt.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener("abort", stop, { once: true });
  if (ctx.signal?.aborted) stop();
  const ms = ctx.config.jobTimeoutMs;
  const deadline = setTimeout(
    () =>
      attempt.abort(
        new JobDeadlineError(
          `attempt ${job.attempts} of ${job.maxAttempts} ran past the job's deadline of ${ms} ms`,
        ),
      ),
    ms,
  );
  try {
    const handler = ctx.handlers?.[job.kind] ?? handleJob;
    // A handler that ignores its signal is not waited for past the deadline: the job is handed back.
    await Promise.race([handler(job, { ...ctx, signal: attempt.signal }), whenAborted(attempt.signal)]);
    await ctx.queue.complete(job, ctx.now());
    log.info("job.done");
  } catch (raw) {
    const interrupted = ctx.signal?.aborted === true;
    const e = attempt.signal.reason instanceof JobDeadlineError ? attempt.signal.reason : raw;
    // A job interrupted by a shutdown is handed back at once for the next worker.
    const runAfter = interrupted ? ctx.now() : ctx.now() + retryDelay(ctx, job.attempts);
    const message = e instanceof Error ? e.message : String(e);
    const status = await ctx.queue.retry(job, message, runAfter, ctx.now());
    const fields = {
      error: e,
      status,
      retryAt: status === "failed" ? null : new Date(runAfter).toISOString(),
    };
    if (status === "failed") log.error("job.failed", fields);
    else log.warn(interrupted ? "job.interrupted" : "job.retry", fields);
  } finally {
    clearTimeout(deadline);
    ctx.signal?.removeEventListener("abort", stop);
    // Whatever the handler still has in flight stops at its next request.
    if (!attempt.signal.aborted) attempt.abort(new Error("the attempt is over"));
  }
  return true;
}
