/**
 * Explores several versions in parallel: one worker_thread per version, at most one per core (the explorer core
 * in src/explore is single-threaded and Workers-safe; threads are Node-only, hence here). A single version, or
 * a single core, runs in this thread.
 */
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { loadFixtures } from "../emulator/api.ts";
import {
  type EventId,
  type Explorable,
  type ExploreProgress,
  exploreAndClassify,
  type VersionReport,
} from "../explore/index.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../semantics/versions.ts";

export interface ExploreJob {
  versions: readonly string[];
  depth: number;
  events?: readonly EventId[];
  /** Worker threads to use at most (default: one per core). */
  threads?: number;
}

interface WorkerInput {
  version: string;
  depth: number;
  events?: EventId[];
}

type WorkerMessage =
  | { type: "progress"; progress: ExploreProgress }
  | { type: "done"; report: VersionReport }
  | { type: "error"; message: string };

const BASELINE_ID = "mainline";

function designOf(id: string): Explorable {
  const v = builtinVersion(id);
  if (v === undefined) throw new Error(`unknown version ${id}`);
  return { id: v.id, facts: v.facts };
}

/** The baseline and the series versions listed before `id` (oldest first). */
function contextOf(id: string): { baseline: Explorable; earlier: Explorable[] } {
  const at = BUILTIN_VERSIONS.findIndex((v) => v.id === id);
  const earlier = BUILTIN_VERSIONS.slice(0, Math.max(0, at)).filter((v) => v.id !== BASELINE_ID);
  return { baseline: designOf(BASELINE_ID), earlier: earlier.map((v) => designOf(v.id)) };
}

/** Explores one version in this thread. */
export async function exploreOne(
  id: string,
  depth: number,
  events: readonly EventId[] | undefined,
  onProgress?: (p: ExploreProgress) => void,
): Promise<VersionReport> {
  const fixtures = await loadFixtures();
  return exploreAndClassify(designOf(id), contextOf(id), fixtures, {
    depth,
    ...(events === undefined ? {} : { events }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
}

// The worker loads this module through tsx, resolved here: an eval'd worker resolves bare names from the cwd.
const WORKER_BOOT = `
const { workerData } = require("node:worker_threads");
import(workerData.tsx).then((tsx) => { tsx.register(); return import(workerData.entry); });
`;

function runInWorker(input: WorkerInput, onProgress: (p: ExploreProgress) => void): Promise<VersionReport> {
  return new Promise((resolve, reject) => {
    const entry = new URL(import.meta.url).href;
    const tsx = import.meta.resolve("tsx/esm/api");
    const worker = new Worker(WORKER_BOOT, { eval: true, workerData: { entry, input, tsx } });
    let settled = false;
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "progress") onProgress(m.progress);
      else if (m.type === "done") {
        settled = true;
        resolve(m.report);
        void worker.terminate();
      } else {
        settled = true;
        reject(new Error(`explore worker for ${input.version}: ${m.message}`));
        void worker.terminate();
      }
    });
    worker.on("error", (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    worker.on("exit", (code) => {
      if (!settled) reject(new Error(`explore worker for ${input.version} exited with code ${code}`));
    });
  });
}

/** Explores every version of the job, in parallel when there is more than one version and more than one core. */
export async function exploreVersions(
  job: ExploreJob,
  onProgress: (p: ExploreProgress) => void = () => {},
): Promise<VersionReport[]> {
  const threads = Math.min(job.threads ?? availableParallelism(), job.versions.length);
  const events = job.events === undefined ? undefined : [...job.events];
  if (threads <= 1) {
    const out: VersionReport[] = [];
    for (const id of job.versions) out.push(await exploreOne(id, job.depth, events, onProgress));
    return out;
  }
  const reports = new Map<string, VersionReport>();
  const queue = [...job.versions];
  // Largest designs first would balance better, but the order of versions is the user's: keep it for output.
  await Promise.all(
    Array.from({ length: threads }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const input: WorkerInput = { version: id, depth: job.depth, ...(events ? { events } : {}) };
        reports.set(id, await runInWorker(input, onProgress));
      }
    }),
  );
  return job.versions.map((id) => reports.get(id) as VersionReport);
}

// Worker side: explore the version named in workerData, post progress (throttled) and the report.
if (!isMainThread && parentPort !== null && (workerData as { entry?: string })?.entry === import.meta.url) {
  const port = parentPort;
  const { input } = workerData as { input: WorkerInput };
  let last = 0;
  exploreOne(input.version, input.depth, input.events, (progress) => {
    const now = performance.now();
    if (now - last < 100) return;
    last = now;
    port.postMessage({ type: "progress", progress } satisfies WorkerMessage);
  })
    .then((report) => port.postMessage({ type: "done", report } satisfies WorkerMessage))
    .catch((e: unknown) =>
      port.postMessage({
        type: "error",
        message: e instanceof Error ? (e.stack ?? e.message) : String(e),
      } satisfies WorkerMessage),
    );
}
