/**
 * The review room: the one place that runs a review (both sides run, differences attributed, findings
 * classified, the verdict decided) and returns the ReviewReport that every renderer (src/report) and every
 * front end (the CLI's review, diff and b4-check, the GitHub and mail bots) uses. Workers-safe.
 */
export { type CodeExcerpt, excerptOf, type RootCause, rootCauses } from "./causes.ts";
export {
  buildReport,
  type ReportOptions,
  type ReviewReport,
  reviewVersions,
  type SeriesRef,
  seriesRef,
} from "./report.ts";
export {
  builtinSubject,
  REVIEW_EXPLORE_DEPTH,
  type ReviewRun,
  type ReviewRunOptions,
  type ReviewSubject,
  runReview,
  seriesSubject,
} from "./run.ts";
export {
  type CannotReview,
  FINDING_CLASSES,
  failOnOutcome,
  type Verdict,
  type VerdictStatus,
  verdictOf,
} from "./verdict.ts";
