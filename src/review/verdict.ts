/**
 * The verdict of a review, decided here and nowhere else. Rules, in order:
 *  - fail: B introduces a finding, or carries one of A's that mainline does not have (still open), in a
 *    scenario or in the exploration of event sequences (unless mainline raises it with the same events);
 *    or in the interleaving scenarios (introduced or carried, in a scenario judged);
 *  - warn (a check run's "neutral", b4's "warn"): some scenarios could not be reviewed (a cell did not run the
 *    posted code, an interleaving scenario not judged), a scenario ran on one side only, or the changelog does
 *    not mention a difference;
 *  - pass: none of these.
 * An unknown cell never counts: it neither fixes nor introduces anything (src/compare/diff.ts classifies
 * nothing in it), and a report with unknown cells says so first.
 */
import type { ExploreDiff } from "../compare/explore.ts";
import type { InterleaveDiff, InterleaveFindingRef } from "../compare/interleave.ts";
import type { ChangelogCheck, ClassifiedFinding, VersionDiff } from "../compare/types.ts";

export type VerdictStatus = "pass" | "warn" | "fail";

/** The scenarios a review could not judge, and why: the first thing a report says when there are any. */
export interface CannotReview {
  scenarios: string[];
  total: number;
  /** Unknown facts and changed functions the cells depended on ("tee.ctxLock", "rproc_boot()"). */
  what: string[];
  /** Files of the series behind them. */
  files: string[];
  /** Distinct reasons, most frequent first. */
  reasons: string[];
  /** "cannot review 9 of 16 scenarios: tee.ctxLock (drivers/…/remoteproc_tee.c), because …" */
  line: string;
}

export interface Verdict {
  status: VerdictStatus;
  line: string;
  /** Present when some scenarios could not be reviewed. */
  cannotReview: CannotReview | null;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Findings of a class counted once per kind and place, whatever the number of scenarios showing them. */
function distinct(diff: VersionDiff, cls: ClassifiedFinding["class"]): number {
  return new Set(
    diff.scenarios.flatMap((s) => s.findings.filter((f) => f.class === cls).map((f) => `${f.kind} ${f.at}`)),
  ).size;
}

/** What the unknown scenarios depended on, or null when every scenario was reviewed. */
export function cannotReview(diff: VersionDiff): CannotReview | null {
  const unknown = diff.scenarios.filter((s) => s.status === "unknown");
  if (unknown.length === 0) return null;
  const reasons = unknown.flatMap((s) => s.unknownBecause);
  const what = [...new Set(reasons.map((r) => r.what))];
  const files = [...new Set(reasons.flatMap((r) => r.files))].sort();
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r.why, (counts.get(r.why) ?? 0) + 1);
  const why = [...counts.entries()].sort((x, y) => y[1] - x[1]).map(([w]) => w);
  const total = diff.scenarios.length;
  const shown = what.length > 6 ? [...what.slice(0, 6), `${what.length - 6} more`] : what;
  const line =
    `cannot review ${unknown.length} of ${plural(total, "scenario")}: ${shown.join(", ")}` +
    `${files.length > 0 ? ` (${files.join(", ")})` : ""}, because ${why[0] ?? "they could not be run"}` +
    `${why.length > 1 ? ` (and ${why.length - 1} other reason${why.length > 2 ? "s" : ""})` : ""}`;
  return { scenarios: unknown.map((s) => s.scenario), total, what, files, reasons: why, line };
}

/** Findings B's interleavings leave open: introduced or carried, in a scenario judged. */
export function openInterleaveFindings(x: InterleaveDiff | undefined): InterleaveFindingRef[] {
  return (x?.scenarios ?? []).flatMap((s) =>
    s.findings.filter((f) => f.class === "introduced" || f.class === "carried"),
  );
}

/**
 * The verdict line's part on the interleavings: distinct findings (kind, function) per class, the classes with
 * none left out ("interleavings (depth 4): 3 introduced, 1 carried, 5 pre-existing"), the scenarios not judged.
 */
export function interleavePart(x: InterleaveDiff): string {
  const judged = x.scenarios.length - x.counts.notJudged;
  if (judged === 0)
    return `interleavings (depth ${x.depth}): not judged, ${x.scenarios[0]?.notJudged ?? "nothing ran"}`;
  const distinct = (cls: string) =>
    new Set(
      x.scenarios.flatMap((s) => s.findings.filter((f) => f.class === cls).map((f) => `${f.kind} ${f.at}`)),
    ).size;
  const counts = ["introduced", "carried", "fixed", "pre-existing"]
    .map((cls) => ({ cls, n: distinct(cls) }))
    .filter((c) => c.n > 0)
    .map((c) => `${c.n} ${c.cls}`);
  const notJudged =
    x.counts.notJudged > 0 ? ` (${x.counts.notJudged} of ${x.scenarios.length} scenarios not judged)` : "";
  return `interleavings (depth ${x.depth}): ${counts.length > 0 ? counts.join(", ") : "no finding"}${notJudged}`;
}

export function verdictOf(
  diff: VersionDiff,
  changelog: ChangelogCheck,
  explored?: ExploreDiff,
  interleaved?: InterleaveDiff,
): Verdict {
  const c = diff.counts;
  const total = diff.scenarios.length;
  const blocked = cannotReview(diff);
  const parts: string[] = [];
  if (blocked) parts.push(blocked.line);
  // Out of the scenarios it could review: an unknown cell neither differs nor agrees.
  const reviewed = blocked
    ? plural(total - blocked.scenarios.length, "reviewed scenario")
    : plural(total, "scenario");
  parts.push(
    `${c.different} of ${reviewed} ${c.different === 1 ? "behaves" : "behave"} differently`,
    `${plural(c.introduced, "finding")} introduced${c.introduced > 0 ? ` (${distinct(diff, "introduced")} distinct)` : ""}`,
  );
  if (c.carried > 0) parts.push(`${c.carried} carried (${distinct(diff, "carried")} distinct, still open)`);
  parts.push(`${c.fixed} fixed`, `${c.preExisting} pre-existing`);
  if (c.missing > 0) parts.push(`${c.missing} run on one side only`);
  if (changelog.available && changelog.unmentioned.length > 0)
    parts.push(`${plural(changelog.unmentioned.length, "difference")} the changelog does not mention`);
  // Findings B's exploration raises (new or carried from A), unless mainline raises them with the same events.
  const exploreOpen = explored?.unknown
    ? 0
    : (explored?.introduced.filter((f) => f.mainline !== "present").length ?? 0) +
      (explored?.carried.filter((f) => f.mainline !== "present").length ?? 0);
  if (explored) {
    parts.push(
      explored.unknown
        ? `explore (depth ${explored.depth}): not judged, ${explored.unknown}`
        : `explore (depth ${explored.depth}): ${explored.introduced.length} introduced, ${explored.carried.length} carried, ${explored.fixed.length} fixed`,
    );
  }
  if (interleaved) parts.push(interleavePart(interleaved));
  const interleaveOpen = openInterleaveFindings(interleaved).length;
  const interleaveBlocked = (interleaved?.counts.notJudged ?? 0) > 0;
  const status: VerdictStatus =
    c.introduced > 0 || c.carried > 0 || exploreOpen > 0 || interleaveOpen > 0
      ? "fail"
      : blocked !== null ||
          interleaveBlocked ||
          c.missing > 0 ||
          (changelog.available && changelog.unmentioned.length > 0)
        ? "warn"
        : "pass";
  return { status, line: `${diff.a.id} → ${diff.b.id}: ${parts.join(", ")}`, cannotReview: blocked };
}

export const FINDING_CLASSES: readonly ClassifiedFinding["class"][] = [
  "introduced",
  "carried",
  "fixed",
  "pre-existing",
];

/** What `--fail-on` says of a review: "findings" when one of the named classes is present, "cannot-say" when
 * none is but some scenarios could not be reviewed (a named class may hide there), else "clean". */
export function failOnOutcome(
  diff: VersionDiff,
  classes: readonly ClassifiedFinding["class"][],
  explored?: ExploreDiff,
  interleaved?: InterleaveDiff,
): "findings" | "cannot-say" | "clean" {
  const named = new Set(classes);
  if (diff.scenarios.some((s) => s.findings.some((f) => named.has(f.class)))) return "findings";
  if (explored && !explored.unknown) {
    const open = (fs: readonly { mainline: string }[]) => fs.some((f) => f.mainline !== "present");
    if (named.has("introduced") && open(explored.introduced)) return "findings";
    if (named.has("carried") && open(explored.carried)) return "findings";
    if (named.has("fixed") && explored.fixed.length > 0) return "findings";
  }
  for (const f of (interleaved?.scenarios ?? []).flatMap((s) => s.findings))
    if (named.has(f.class)) return "findings";
  if (
    cannotReview(diff) !== null ||
    (explored?.unknown ?? null) !== null ||
    (interleaved?.counts.notJudged ?? 0) > 0
  )
    return "cannot-say";
  return "clean";
}
