/**
 * The review report: one value every renderer (markdown, mail, JSON, HTML, b4 check) reads. Built from a
 * behavioural diff and its changelog check; plain JSON (this is what `--format json` prints).
 */

import { attributeCauses, type CellRunner } from "../compare/attribute.ts";
import { checkChangelog } from "../compare/changelog.ts";
import { type CompareOptions, compareVersions } from "../compare/diff.ts";
import type { ExploreDiff } from "../compare/explore.ts";
import type { InterleaveDiff } from "../compare/interleave.ts";
import type { ChangelogCheck, VersionDiff, VersionRef, VersionSide } from "../compare/types.ts";
import type { CellResult, TraceStep } from "../scenarios/result.ts";
import { SCENARIOS } from "../scenarios/scenarios.ts";
import { isBuildFile } from "../semantics/map/derive.ts";
import type { Person, Series } from "../series/types.ts";
import { shellWord } from "../shell.ts";
import { type RootCause, rootCauses } from "./causes.ts";
import { type Verdict, verdictOf } from "./verdict.ts";

/** What a reply needs to know about the mail a version came in. */
export interface SeriesRef {
  id: string;
  title: string;
  version: string;
  base: string | null;
  total: number;
  author: Person;
  origin: string;
  /** Each patch's mail (a `patch link:` names the one with the line). */
  patches: { index: number; messageId: string }[];
  /** The mail to reply to: the cover letter, else the first patch present. */
  replyTo: { messageId: string; subject: string; references: string[]; isCover: boolean } | null;
}

export interface ReportVersion extends VersionRef {
  series: SeriesRef | null;
}

export interface ReviewReport {
  tool: "rproc-review";
  a: ReportVersion;
  b: ReportVersion;
  verdict: Verdict;
  /** One entry per root cause (introduced, carried, fixed), in report order: what every report leads with. */
  causes: RootCause[];
  /** Which version B is compared with, and why that one (the chain, the changelog, the user's choice). */
  comparison: { against: string; why: string };
  diff: VersionDiff;
  changelog: ChangelogCheck;
  reproduce: { command: string; versions: string[]; scenarios: string[] };
  /** Both traces of each scenario that behaves differently (for diagrams and details). */
  traces: Record<string, { a: TraceStep[]; b: TraceStep[] }>;
  /** Both versions explored to the same depth and their findings compared (absent when not explored). */
  explore?: ExploreDiff;
  /** The interleaving scenarios searched on A, B and mainline, findings classified (absent when not run). */
  interleave?: InterleaveDiff;
  /** Things a reader must know about how this report was made ("checked alone", …). */
  notes: string[];
  /**
   * The C files B's series changes that no scenario runs: outside the model (another platform's driver, a
   * file nothing modelled calls) and not run from C. Nothing in this report is about them.
   */
  notReviewed?: string[];
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
    patches: s.patches.map((p) => ({ index: p.index, messageId: p.messageId })),
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

export interface ReportOptions extends CompareOptions {
  /** Command name used in the reproduce line; default "rproc-review". */
  command?: string;
  notes?: string[];
  /** ReviewReport.notReviewed. */
  notReviewed?: readonly string[];
  /** A diff of a and b computed already (e.g. attributed); default: compareVersions(a, b, opts). */
  diff?: VersionDiff;
  /** Both versions' explorations compared (compareExplorations). */
  explore?: ExploreDiff;
  /** The interleaving scenarios compared (compareInterleavings). */
  interleave?: InterleaveDiff;
  /** Why A is the version compared with (default: "given"). */
  comparisonWhy?: string;
  /**
   * Cells of versions before A in the chain, newest first: a carried finding is named with the oldest version
   * back from A, without a gap, that raises it too.
   */
  history?: readonly { id: string; cells: readonly CellResult[] }[];
}

/** Names each carried finding with the oldest version of the chain that raises it (A when none before). */
function markCarriedSince(diff: VersionDiff, history: ReportOptions["history"] = []): void {
  for (const s of diff.scenarios)
    for (const f of s.findings) {
      if (f.class !== "carried") continue;
      let since = diff.a.id;
      for (const h of history) {
        const cell = h.cells.find((c) => c.scenario === s.scenario);
        if (!cell || cell.unknown || !cell.findings.some((x) => x.kind === f.kind && x.at === f.at)) break;
        since = h.id;
      }
      f.since = since;
    }
}

/** Compares A (older) with B (newer) and checks B's changelog: the whole review in one value. */
export function buildReport(a: VersionSide, b: VersionSide, opts: ReportOptions = {}): ReviewReport {
  const diff = opts.diff ?? compareVersions(a, b, opts);
  markCarriedSince(diff, opts.history);
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
  // Name the scenarios only when they are a part of the matrix: a reader re-runs the whole matrix otherwise.
  const all = SCENARIOS.every((x) => scenarios.includes(x.id));
  const command = [
    opts.command ?? "rproc-review",
    "matrix",
    "--versions",
    shellWord(versions.join(",")),
    ...(all ? [] : ["--scenarios", shellWord(scenarios.join(","))]),
  ].join(" ");
  return {
    tool: "rproc-review",
    a: { ...diff.a, series: a.series ? seriesRef(a.series) : null },
    b: { ...diff.b, series: b.series ? seriesRef(b.series) : null },
    verdict: verdictOf(diff, changelog, opts.explore, opts.interleave),
    causes: rootCauses(diff, a, b, opts.explore, opts.interleave),
    comparison: { against: diff.a.id, why: opts.comparisonWhy ?? "given" },
    diff,
    changelog,
    reproduce: { command, versions, scenarios },
    traces,
    ...(opts.explore ? { explore: opts.explore } : {}),
    ...(opts.interleave ? { interleave: opts.interleave } : {}),
    notes: [
      ...(opts.notes ?? []),
      ...notReviewedNotes(diff.b.id, opts.notReviewed ?? []),
      ...renameNotes(diff),
    ],
    ...(opts.notReviewed !== undefined && opts.notReviewed.length > 0
      ? { notReviewed: [...opts.notReviewed] }
      : {}),
  };
}

/** The files of B's series no scenario ran or read (ReviewReport.notReviewed), said once. */
function notReviewedNotes(id: string, files: readonly string[]): string[] {
  const build = files.filter(isBuildFile);
  const c = files.filter((f) => !isBuildFile(f));
  const them = (n: number) => (n === 1 ? "it" : "them");
  return [
    ...(c.length === 0
      ? []
      : [
          `${id} changes ${c.length === 1 ? "a C file" : `${c.length} C files`} no scenario runs (outside the model, not run from C), so this report says nothing about ${them(c.length)}: ${c.join(", ")}`,
        ]),
    ...(build.length === 0
      ? []
      : [
          `${id} changes ${build.length === 1 ? "a build file" : `${build.length} build files`} nothing reads (the scenarios choose their own config): ${build.join(", ")}`,
        ]),
  ];
}

/** What the compare matched across a rename (renamesOf), said once. */
function renameNotes(diff: VersionDiff): string[] {
  const r = diff.renames ?? [];
  if (r.length === 0) return [];
  const scenarios = new Set(r.flatMap((x) => x.scenarios)).size;
  return [
    `${diff.b.id} runs ${r.map((x) => `${x.from}() as ${x.to}()`).join(", ")}, step for step where both ran (${scenarios} scenario${scenarios === 1 ? "" : "s"}), and its patches add the new name${r.length === 1 ? "" : "s"}: a rename, so findings and traces are matched across it`,
  ];
}

/**
 * The review with attribution: responsible facts narrowed to those that change B's behaviour when reverted
 * alone to A's value (each check is one more run of a scenario through `run`).
 */
export async function reviewVersions(
  a: VersionSide,
  b: VersionSide,
  run: CellRunner,
  opts: Omit<ReportOptions, "diff"> & {
    /**
     * B as its facts give it over the hand model, when B ran a file from C: attribution reverts facts against
     * these cells (the facts explain; the C decided B's cells).
     */
    explainWith?: VersionSide;
  } = {},
): Promise<ReviewReport> {
  const diff = await attributeCauses(compareVersions(a, b, opts), opts.explainWith ?? b, run);
  return buildReport(a, b, { ...opts, diff });
}
