/**
 * One review, as every front end runs it (`diff`, `review`, `b4-check`, the GitHub bot, the mail bot): run the
 * matrix for A, B and mainline (pre-existing findings), build both sides, attribute each difference by
 * re-running B with single facts set back, explore both versions' event interleavings, and build the report.
 * Workers-safe: the caller resolves versions (built-in ids, mapped series) and passes them in.
 */
import { loadFixtures } from "../emulator/api.ts";
import { type ReviewReport, reviewVersions } from "../report/index.ts";
import type { CellResult } from "../scenarios/result.ts";
import { type Design, runMatrix, runScenario } from "../scenarios/run.ts";
import { FACT_PATHS } from "../semantics/facts.ts";
import type { MapResult } from "../semantics/map/types.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, MAINLINE } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import { shellWord } from "../shell.ts";
import type { CellRunner } from "./attribute.ts";
import { compareExplorations } from "./explore.ts";
import { builtinSide, cellsOf, type MappedFacts, seriesSide } from "./sides.ts";
import type { VersionSide } from "./types.ts";

/** A version ready to be run and compared: its design, and how to build its side from its cells. */
export interface ReviewSubject {
  design: Design;
  /** The series it came from or was attached to (changelog, mail headers), if any. */
  series: Series | null;
  /** What the mapper read, when the version came from a series. */
  mapped: MapResult | null;
  /** Its side of a comparison, under the id its design ran with (made unique by runReview). */
  side: (cells: VersionSide["cells"], id: string) => VersionSide;
  /** The arguments a replay command names it with (`--version <id or input>`). */
  replayAs: string;
}

/** A built-in version; `mapped` is the mapper's stored reading of its mails (evidence), `series` its mails. */
export function builtinSubject(
  v: BuiltinVersion,
  mapped: MappedFacts | null = null,
  series: Series | null = null,
): ReviewSubject {
  return {
    design: { id: v.id, title: v.title, facts: v.facts },
    series,
    mapped: null,
    side: (cells, id) => builtinSide(v, cells, { mapped, series, designId: id }),
    replayAs: `--version ${v.id}`,
  };
}

/** A series read by the mapper; `spec` is how the user named it (an input, a label). */
export function seriesSubject(
  series: Series,
  mapped: MapResult,
  spec: string,
  id = series.id,
): ReviewSubject {
  return {
    design: {
      id,
      title: series.title,
      facts: mapped.facts,
      unknownFacts: FACT_PATHS.filter((p) => mapped.status[p] === "unknown"),
    },
    series,
    mapped,
    side: (cells, designId) => seriesSide(series, mapped, cells, { spec, designId }),
    replayAs: `--version ${shellWord(spec)}`,
  };
}

export interface ReviewRunOptions {
  scenarios?: readonly string[];
  notes?: string[];
  /** Longest event sequence the review explores on both versions (default 3; 0: no exploration). */
  exploreDepth?: number;
}

/** The review's default exploration depth: every sequence of up to three events, well under a second. */
export const REVIEW_EXPLORE_DEPTH = 3;

export interface ReviewRun {
  report: ReviewReport;
  /** Every cell that ran (A, B and the mainline baseline). */
  cells: CellResult[];
}

/**
 * Runs the matrix for A, B and mainline (for pre-existing findings) and builds the review report. Design ids
 * are made unique (an input of version v16 against built-in v16).
 */
export async function runReview(
  a: ReviewSubject,
  b: ReviewSubject,
  opts: ReviewRunOptions = {},
): Promise<ReviewRun> {
  if (b.design.id === a.design.id) b.design = { ...b.design, id: `${b.design.id} (B)` };
  let mainline: ReviewSubject | null = null;
  if (a.design.facts === MAINLINE) mainline = a;
  else if (b.design.facts === MAINLINE) mainline = b;
  else {
    const base = BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE);
    if (base) mainline = builtinSubject(base);
  }
  const designs = [a.design, b.design];
  if (mainline && mainline !== a && mainline !== b) {
    if (designs.some((d) => d.id === mainline.design.id))
      mainline.design = { ...mainline.design, id: `${mainline.design.id} (baseline)` };
    designs.push(mainline.design);
  }
  const matrix = await runMatrix(designs, opts.scenarios ? [...opts.scenarios] : undefined);
  const side = (s: ReviewSubject) => s.side(cellsOf(matrix.results, s.design.id), s.design.id);
  const sa = side(a);
  const fixtures = await loadFixtures();
  const unknownFacts = b.design.unknownFacts ?? [];
  const run: CellRunner = (facts, scenario) =>
    runScenario({ id: b.design.id, title: b.design.title, facts, unknownFacts }, scenario, fixtures);
  const depth = opts.exploreDepth ?? REVIEW_EXPLORE_DEPTH;
  const explorable = (s: ReviewSubject) => ({ id: s.design.id, facts: s.design.facts, replayAs: s.replayAs });
  const explored =
    depth > 0
      ? await compareExplorations(
          explorable(a),
          explorable(b),
          mainline ? explorable(mainline) : null,
          fixtures,
          depth,
          [...new Set([...(a.design.unknownFacts ?? []), ...(b.design.unknownFacts ?? [])])],
        )
      : undefined;
  const report = await reviewVersions(sa, side(b), run, {
    mainline: mainline === a ? sa : mainline ? side(mainline) : null,
    scenarios: matrix.scenarios,
    ...(opts.notes ? { notes: opts.notes } : {}),
    ...(explored ? { explore: explored } : {}),
  });
  return { report, cells: matrix.results };
}
