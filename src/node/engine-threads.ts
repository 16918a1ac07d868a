/**
 * Reviews off the service's event loop: the engine's long calls (a review, a diff, a report: hundreds of
 * milliseconds to seconds of synchronous work each) run in a pool of worker threads (./threads.ts), each with
 * its own engine (./node-engine.ts), so webhooks and mail are acknowledged while reviews run. The quick calls
 * (scenario ids, built-in lookups) are answered in the calling thread.
 */
import type { ReportingEngine } from "../bot/review-engine.ts";
import { createNodeEngine } from "./node-engine.ts";
import { createThreadPool, isWorkerFor, serveThread } from "./threads.ts";

type Long = Pick<ReportingEngine, "reviewPullRequest" | "diff" | "report">;

export interface EngineThreadsOptions {
  /** Threads in the pool (at least 1). */
  threads: number;
  /** Longest a call may run before its thread is terminated (the service's job deadline). */
  callTimeoutMs: number;
  /** The engine answering the quick calls here (default: one over the built-in versions, without a parser). */
  local?: ReportingEngine;
}

export interface EngineThreads extends ReportingEngine {
  /** Terminates the threads; pending calls fail. */
  close(): Promise<void>;
  /** Threads started so far (replacements included), for the tests and the logs. */
  readonly started: number;
}

async function quickEngine(): Promise<ReportingEngine> {
  const { createReviewEngine } = await import("../bot/review-engine.ts");
  const { builtinManifests } = await import("./versions.ts");
  return createReviewEngine({ builtinManifests: await builtinManifests() });
}

export async function createEngineThreads(options: EngineThreadsOptions): Promise<EngineThreads> {
  // The quick calls read only the built-in versions: no C parser is loaded in this thread for them.
  const local = options.local ?? (await quickEngine());
  const pool = createThreadPool<Long>({
    entry: import.meta.url,
    threads: options.threads,
    callTimeoutMs: options.callTimeoutMs,
    what: "the review",
  });
  return {
    scenarioIds: () => local.scenarioIds(),
    isBuiltinVersion: (id) => local.isBuiltinVersion(id),
    nearestBuiltinVersion: (series) => local.nearestBuiltinVersion(series),
    reviewPullRequest: (series, against, opts) => pool.call("reviewPullRequest", series, against, opts),
    diff: (a, b) => pool.call("diff", a, b),
    report: (a, b, scenarios) => pool.call("report", a, b, scenarios),
    get started() {
      return pool.started;
    },
    close: () => pool.close(),
  };
}

// Thread side: one engine, one call at a time.
if (isWorkerFor(import.meta.url)) {
  serveThread(async () => {
    const e = await createNodeEngine();
    return {
      reviewPullRequest: e.reviewPullRequest.bind(e),
      diff: e.diff.bind(e),
      report: e.report.bind(e),
    };
  });
}
