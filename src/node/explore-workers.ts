/**
 * Explores several versions in parallel: one worker_thread per version, at most one per core (the explorer core
 * in src/explore is single-threaded and Workers-safe; threads are Node-only, hence here). A single version, or
 * a single core, runs in this thread.
 */
import { availableParallelism } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { canonicalJson } from "../compare/diff.ts";
import { loadFixtures } from "../emulator/api.ts";
import {
  classifyExploration,
  type EventId,
  type Explorable,
  type ExploreOptions,
  type ExploreProgress,
  exploreAndClassify,
  type VersionReport,
} from "../explore/index.ts";
import { runsC } from "../explore/session.ts";
import { BUILTIN_VERSIONS, builtinVersion } from "../semantics/versions.ts";
import { isWorkerFor, startModuleWorker } from "./threads.ts";

/** One design to explore, with what its findings are classified against. */
export interface ExploreItem {
  design: Explorable;
  context: { baseline: Explorable; earlier: Explorable[] };
}

export interface ExploreJob {
  items: readonly ExploreItem[];
  depth: number;
  events?: readonly EventId[];
  /** Worker threads to use at most (default: one per core). */
  threads?: number;
  /** How to search: explore's keepWorlds and audit. */
  search?: SearchOptions;
}

/** The explore options that tune the search itself rather than what is searched. */
export type SearchOptions = Pick<ExploreOptions, "keepWorlds" | "audit">;

/** One design's search, as a worker thread receives it. */
interface OneSearch {
  item: ExploreItem;
  depth: number;
  events?: readonly EventId[];
  search?: SearchOptions;
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
function contextOf(id: string): ExploreItem["context"] {
  const at = BUILTIN_VERSIONS.findIndex((v) => v.id === id);
  const earlier = BUILTIN_VERSIONS.slice(0, Math.max(0, at)).filter((v) => v.id !== BASELINE_ID);
  return { baseline: designOf(BASELINE_ID), earlier: earlier.map((v) => designOf(v.id)) };
}

/** Built-in versions by id, each classified against mainline and the built-in versions before it. */
export function builtinItems(ids: readonly string[]): ExploreItem[] {
  return ids.map((id) => ({ design: designOf(id), context: contextOf(id) }));
}

/**
 * A design that is not a built-in version (a series read from an input, a variant): a later version of the
 * series, so its findings are classified against mainline and every built-in version (oldest first), then
 * the designs given before it (`before`).
 */
export function laterItem(design: Explorable, before: readonly Explorable[] = []): ExploreItem {
  const builtins = BUILTIN_VERSIONS.filter((v) => v.id !== BASELINE_ID).map((v) => designOf(v.id));
  return { design, context: { baseline: designOf(BASELINE_ID), earlier: [...builtins, ...before] } };
}

/** Explores one design in this thread. */
export async function exploreOne(
  one: OneSearch,
  onProgress?: (p: ExploreProgress) => void,
): Promise<VersionReport> {
  const fixtures = await loadFixtures();
  return exploreAndClassify(one.item.design, one.item.context, fixtures, {
    depth: one.depth,
    ...one.search,
    ...(one.events === undefined ? {} : { events: one.events }),
    ...(onProgress === undefined ? {} : { onProgress }),
  });
}

function runInWorker(input: OneSearch, onProgress: (p: ExploreProgress) => void): Promise<VersionReport> {
  return new Promise((resolve, reject) => {
    const worker = startModuleWorker(import.meta.url, input);
    let settled = false;
    worker.on("message", (m: WorkerMessage) => {
      if (m.type === "progress") onProgress(m.progress);
      else if (m.type === "done") {
        settled = true;
        resolve(m.report);
        void worker.terminate();
      } else {
        settled = true;
        reject(new Error(`explore worker for ${input.item.design.id}: ${m.message}`));
        void worker.terminate();
      }
    });
    worker.on("error", (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    worker.on("exit", (code) => {
      if (!settled) reject(new Error(`explore worker for ${input.item.design.id} exited with code ${code}`));
    });
  });
}

/**
 * Explores every design of the job, in parallel when there is more than one design and more than one core.
 * Designs with the same facts (a RESEND, an unchanged reroll) are searched once; each has its findings
 * classified for itself.
 */
export async function exploreVersions(
  job: ExploreJob,
  onProgress: (p: ExploreProgress) => void = () => {},
): Promise<VersionReport[]> {
  // A design that runs posted C is its own search (another C with the same facts is another design).
  const keys = job.items.map((item, i) => (runsC(item.design) ? `C ${i}` : canonicalJson(item.design.facts)));
  const first = new Map<string, number>();
  const unique: ExploreItem[] = [];
  job.items.forEach((item, i) => {
    const key = keys[i] as string;
    if (!first.has(key)) {
      first.set(key, unique.length);
      unique.push(item);
    }
  });
  const searched = await exploreDistinct({ ...job, items: unique }, onProgress);
  const fixtures = await loadFixtures();
  return Promise.all(
    job.items.map((item, i) => {
      const report = searched[first.get(keys[i] as string) as number] as VersionReport;
      return report.version === item.design.id
        ? report
        : classifyExploration(report, item.design, item.context, fixtures);
    }),
  );
}

async function exploreDistinct(
  job: ExploreJob,
  onProgress: (p: ExploreProgress) => void,
): Promise<VersionReport[]> {
  const threads = Math.min(job.threads ?? availableParallelism(), job.items.length);
  const events = job.events === undefined ? undefined : [...job.events];
  const searchOf = (item: ExploreItem): OneSearch => ({
    item,
    depth: job.depth,
    ...(events ? { events } : {}),
    ...(job.search === undefined ? {} : { search: job.search }),
  });
  if (threads <= 1) {
    const out: VersionReport[] = [];
    for (const item of job.items) out.push(await exploreOne(searchOf(item), onProgress));
    return out;
  }
  const reports: VersionReport[] = new Array(job.items.length);
  // A design that runs posted C, or is classified against one, explores in this thread: its C (the lowered
  // program, the environment's closures) does not cross to a worker, which gets its item by structured clone.
  const local = (item: ExploreItem): boolean =>
    runsC(item.design) || runsC(item.context.baseline) || item.context.earlier.some(runsC);
  const queue = job.items.map((item, i) => ({ item, i })).filter((x) => !local(x.item));
  const here = job.items.map((item, i) => ({ item, i })).filter((x) => local(x.item));
  // Largest designs first would balance better, but the order of designs is the user's: keep it for output.
  await Promise.all([
    (async () => {
      for (const x of here) reports[x.i] = await exploreOne(searchOf(x.item), onProgress);
    })(),
    ...Array.from({ length: Math.max(1, threads - (here.length > 0 ? 1 : 0)) }, async () => {
      for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
        reports[next.i] = await runInWorker(searchOf(next.item), onProgress);
      }
    }),
  ]);
  return reports;
}

// Worker side: explore the version named in workerData, post progress (throttled) and the report.
if (parentPort !== null && isWorkerFor(import.meta.url)) {
  const port = parentPort;
  const input = (workerData as { data: OneSearch }).data;
  let last = 0;
  exploreOne(input, (progress) => {
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
