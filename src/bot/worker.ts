/**
 * Takes jobs from the queue one at a time. At-least-once: a job is leased, handled, then completed; if the
 * handler fails the job goes back with an exponential delay, and a job whose worker died is taken again
 * once its lease has expired. The loop that calls `processNext` is the platform's (src/node/server.ts).
 */
import { handleJob, type JobContext } from "./jobs.ts";
import type { Job, JobKind, Queue } from "./store.ts";

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
  try {
    await (ctx.handlers?.[job.kind] ?? handleJob)(job, ctx);
    await ctx.queue.complete(job, ctx.now());
    log.info("job.done");
  } catch (e) {
    const interrupted = ctx.signal?.aborted === true;
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
  }
  return true;
}
