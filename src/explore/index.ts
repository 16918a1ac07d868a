/**
 * Public API of the explorer (Workers-safe: no node: imports). The CLI runs versions in parallel with
 * worker_threads in src/node/explore-workers.ts.
 */
export {
  type Classification,
  classify,
  type Explorable,
  type ExploredFinding,
  type ExploreOptions,
  type ExploreProgress,
  type ExploreResult,
  explore,
  parseEvents,
  RunMemo,
  replay,
  reproduces,
} from "./explore.ts";
export {
  classifyExploration,
  exploreAndClassify,
  type ReportedFinding,
  renderExploreText,
  renderReplayText,
  renderTrace,
  replayCommand,
  type VersionReport,
} from "./report.ts";
export {
  EVENT_IDS,
  EVENT_TITLES,
  type EventId,
  isEventId,
  type RunOutcome,
  runEvents,
  Session,
  TEE_ONLY_EVENTS,
} from "./session.ts";
