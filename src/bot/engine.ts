/**
 * The narrow interface between the bot and the review library. The bot only wires HTTP, storage and
 * delivery around it; the real implementation (./review-engine.ts) calls the same library functions as the
 * CLI.
 */

import type { ReviewReport } from "../review/report.ts";
import type { CellResult } from "../scenarios/result.ts";
import type { Series } from "../series/types.ts";
import type { Json } from "./store.ts";

/** A version to review against or compare: a stored revision of a pull request, or a built-in design. */
export type VersionRef =
  | {
      kind: "series";
      /** How to name it in the report: its label, with the head commit when the label is ambiguous. */
      label: string;
      series: Series;
    }
  | { kind: "builtin"; id: string };

import type { CheckAnnotation } from "../report/github.ts";

export type Conclusion = "success" | "neutral" | "failure";

export interface ReviewOutcome {
  /** GitHub markdown for the sticky comment (the bot adds its hidden marker). */
  markdown: string;
  checkTitle: string;
  checkSummary: string;
  checkText: string | null;
  /** One per root cause on its posted line (the checks API's annotation objects). */
  annotations?: CheckAnnotation[];
  conclusion: Conclusion;
  /** The matrix cells, stored as results. */
  cells: CellResult[];
  /** What the mapper derived from the series (stored as facts), if it ran. */
  facts: { facts: Json; evidence: Json } | null;
  /** The full report, kept and served at GET /reports/<id>. */
  report?: ReviewReport;
}

export interface ReviewEngine {
  /** Ids of the scenarios `run` accepts. */
  scenarioIds(): readonly string[];
  /** True when `id` names a built-in version. */
  isBuiltinVersion(id: string): boolean;
  /** The built-in version nearest to the series (to review against when no earlier revision is stored). */
  nearestBuiltinVersion(series: Series): string | null;
  reviewPullRequest(
    series: Series,
    against: VersionRef | null,
    options: { scenarios: readonly string[] | null },
  ): Promise<ReviewOutcome>;
  /** What changes from A to B, as GitHub markdown. */
  diff(a: VersionRef, b: VersionRef): Promise<{ markdown: string }>;
}
