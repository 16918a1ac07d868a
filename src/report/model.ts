/**
 * The review report: one value every renderer (markdown, mail, JSON, HTML, b4 check) reads. Built from a
 * behavioural diff and its changelog check; plain JSON (this is what `--format json` prints).
 */

import { attributeCauses, type CellRunner } from "../compare/attribute.ts";
import { checkChangelog } from "../compare/changelog.ts";
import { type CompareOptions, compareVersions } from "../compare/diff.ts";
import type { ExploreDiff } from "../compare/explore.ts";
import type { ChangelogCheck, VersionDiff, VersionRef, VersionSide } from "../compare/types.ts";
import type { TraceStep } from "../scenarios/result.ts";
import type { Person, Series } from "../series/types.ts";
import { shellWord } from "../shell.ts";

/** What a reply needs to know about the mail a version came in. */
export interface SeriesRef {
  id: string;
  title: string;
  version: string;
  base: string | null;
  total: number;
  author: Person;
  origin: string;
  /** The mail to reply to: the cover letter, else the first patch present. */
  replyTo: { messageId: string; subject: string; references: string[]; isCover: boolean } | null;
}

export interface ReportVersion extends VersionRef {
  series: SeriesRef | null;
}

export type VerdictStatus = "pass" | "warn" | "fail";

export interface ReviewReport {
  tool: "rproc-review";
  a: ReportVersion;
  b: ReportVersion;
  verdict: { status: VerdictStatus; line: string };
  diff: VersionDiff;
  changelog: ChangelogCheck;
  reproduce: { command: string; versions: string[]; scenarios: string[] };
  /** Both traces of each scenario that behaves differently (for diagrams and details). */
  traces: Record<string, { a: TraceStep[]; b: TraceStep[] }>;
  /** Both versions explored to the same depth and their findings compared (absent when not explored). */
  explore?: ExploreDiff;
  /** Things a reader must know about how this report was made ("checked alone", …). */
  notes: string[];
}

export function seriesRef(s: Series): SeriesRef {
  const mail = s.cover ?? s.patches[0] ?? null;
  return {
    id: s.id,
    title: s.title,
    version: s.version.label,
    base: s.base,
    total: s.total,
    author: s.author,
    origin: s.origin,
    replyTo: mail
      ? {
          messageId: mail.messageId,
          subject: mail.subject,
          references: [...mail.references],
          isCover: s.cover !== null,
        }
      : null,
  };
}

export { shellWord };

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Findings of a class counted once per kind and place, whatever the number of scenarios showing them. */
function distinct(diff: VersionDiff, cls: "introduced" | "fixed"): number {
  return new Set(
    diff.scenarios.flatMap((s) => s.findings.filter((f) => f.class === cls).map((f) => `${f.kind} ${f.at}`)),
  ).size;
}

function verdictOf(
  diff: VersionDiff,
  changelog: ChangelogCheck,
  explored?: ExploreDiff,
): { status: VerdictStatus; line: string } {
  const c = diff.counts;
  const total = diff.scenarios.length;
  const parts = [
    `${c.different} of ${plural(total, "scenario")} ${c.different === 1 ? "behaves" : "behave"} differently`,
    `${plural(c.introduced, "finding")} introduced${c.introduced > 0 ? ` (${distinct(diff, "introduced")} distinct)` : ""}`,
    `${c.fixed} fixed`,
    `${c.preExisting} pre-existing`,
  ];
  if (c.unknown > 0) parts.push(`${c.unknown} unknown (facts the mapper could not read)`);
  if (c.missing > 0) parts.push(`${c.missing} run on one side only`);
  if (changelog.available && changelog.unmentioned.length > 0)
    parts.push(`${plural(changelog.unmentioned.length, "difference")} the changelog does not mention`);
  // Findings B's exploration raises and A's does not, unless mainline raises them too with the same events.
  const newInExplore = explored?.introduced.filter((f) => f.mainline !== "present").length ?? 0;
  if (explored) {
    parts.push(
      `explore (depth ${explored.depth}): ${explored.introduced.length} introduced, ${explored.fixed.length} fixed`,
    );
  }
  const status: VerdictStatus =
    c.introduced > 0 || newInExplore > 0
      ? "fail"
      : c.unknown > 0 || c.missing > 0 || (changelog.available && changelog.unmentioned.length > 0)
        ? "warn"
        : "pass";
  return { status, line: `${diff.a.id} → ${diff.b.id}: ${parts.join(", ")}` };
}

export interface ReportOptions extends CompareOptions {
  /** Command name used in the reproduce line; default "rproc-review". */
  command?: string;
  notes?: string[];
  /** A diff of a and b computed already (e.g. attributed); default: compareVersions(a, b, opts). */
  diff?: VersionDiff;
  /** Both versions' explorations compared (compareExplorations). */
  explore?: ExploreDiff;
}

/** Compares A (older) with B (newer) and checks B's changelog: the whole review in one value. */
export function buildReport(a: VersionSide, b: VersionSide, opts: ReportOptions = {}): ReviewReport {
  const diff = opts.diff ?? compareVersions(a, b, opts);
  const changelog = checkChangelog(diff, a, b);
  const interesting = diff.scenarios
    .filter((s) => s.status !== "same" || s.findings.some((f) => f.class !== "pre-existing"))
    .map((s) => s.scenario);
  const scenarios = interesting.length > 0 ? interesting : diff.scenarios.map((s) => s.scenario);
  const versions = [a.spec, b.spec];
  const traces: ReviewReport["traces"] = {};
  for (const s of diff.scenarios) {
    if (s.status !== "different" && s.status !== "unknown") continue;
    const trace = (v: VersionSide) => v.cells.find((c) => c.scenario === s.scenario)?.trace ?? [];
    traces[s.scenario] = { a: trace(a), b: trace(b) };
  }
  const command = [
    opts.command ?? "rproc-review",
    "matrix",
    "--versions",
    shellWord(versions.join(",")),
    "--scenarios",
    shellWord(scenarios.join(",")),
  ].join(" ");
  return {
    tool: "rproc-review",
    a: { ...diff.a, series: a.series ? seriesRef(a.series) : null },
    b: { ...diff.b, series: b.series ? seriesRef(b.series) : null },
    verdict: verdictOf(diff, changelog, opts.explore),
    diff,
    changelog,
    reproduce: { command, versions, scenarios },
    traces,
    ...(opts.explore ? { explore: opts.explore } : {}),
    notes: [...(opts.notes ?? [])],
  };
}

/**
 * The review with attribution: responsible facts narrowed to those that change B's behaviour when reverted
 * alone to A's value (each check is one more run of a scenario through `run`).
 */
export async function reviewVersions(
  a: VersionSide,
  b: VersionSide,
  run: CellRunner,
  opts: Omit<ReportOptions, "diff"> = {},
): Promise<ReviewReport> {
  const diff = await attributeCauses(compareVersions(a, b, opts), b, run);
  return buildReport(a, b, { ...opts, diff });
}
