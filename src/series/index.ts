/**
 * Public API of series ingestion. Everything here is Workers-safe (no node: imports, no Buffer); reading
 * paths, directories and git ranges is in src/node/inputs.ts.
 */
export { chainVersions } from "./chain.ts";
export { newFileContent, parseFileChanges } from "./diff.ts";
export {
  fetchPullRequest,
  type PullRequestOptions,
  type PullRequestSpec,
  parsePullRequestSpec,
} from "./github.ts";
export { DEFAULT_LIMITS, parseMbox, parseMessages, type RawMessage } from "./ingest.ts";
export { isBlank, splitMbox } from "./mbox.ts";
export {
  countMissing,
  describeMissing,
  MAX_LISTED_MISSING,
  type MissingRange,
  missingRanges,
  seriesMissing,
} from "./missing.ts";
export { patchId, seriesCodeId, seriesKey } from "./patchid.ts";
export { type OutsidePath, outsideTree, pathsOutsideTree } from "./paths.ts";
export { parseSubject, type SubjectInfo } from "./subject.ts";
export type * from "./types.ts";
