/**
 * The real review engine of the bot: the library calls `rproc-review review`/`diff` make, in the same order
 * (map the series, run the matrix for both sides and mainline, attribute each difference, build the report,
 * render GitHub markdown). Workers-safe: the C parser comes from the platform (src/node/c-parser.ts).
 */
import type { Parser } from "web-tree-sitter";
import { type BuiltinManifest, defaultComparison, defaultComparisonWhy } from "../compare/against.ts";
import type { MappedFacts } from "../compare/sides.ts";
import { InputError } from "../errors.ts";
import {
  decodeSeriesC,
  lowerSeriesC,
  missingTeeStubs,
  type SeriesC,
  seriesCDesign,
} from "../interp/env/series.ts";
import { checkAnnotations, type ReviewReport, renderComment, renderMarkdown } from "../report/index.ts";
import { builtinSubject, type ReviewSubject, runReview, seriesSubject, withC } from "../review/run.ts";
import { SCENARIOS } from "../scenarios/scenarios.ts";
import type { TeeDriverImpl } from "../scenarios/world.ts";
import { mapSeries } from "../semantics/map/index.ts";
import type { MapResult } from "../semantics/map/types.ts";
import { BUILTIN_VERSIONS, builtinVersion, MAINLINE } from "../semantics/versions.ts";
import type { Series } from "../series/types.ts";
import type { Conclusion, ReviewEngine, ReviewOutcome, VersionRef } from "./engine.ts";
import type { Json } from "./store.ts";

export interface ReviewEngineOptions {
  /** The C parser the mapper reads a series with (Node: src/node/c-parser.ts). */
  parser?: Parser;
  /** Instead of a parser: the facts of a series derived elsewhere (Workers, which cannot load the grammar). */
  mapSeries?: (series: Series) => MapResult;
  /** The built-in versions' manifests (patches/<id>/manifest.json), to recognise a resend or a follow-up. */
  builtinManifests?: readonly BuiltinManifest[];
  /** The mapper's stored reading of a built-in version (its evidence), when the platform has it. */
  builtinMapping?: (id: string) => Promise<MappedFacts | null>;
  /**
   * Instead of a parser: the series' C lowered elsewhere, as it came with the job (Workers: decodeSeriesC of
   * the job's JSON, which names whatever is missing or wrong).
   */
  seriesC?: (series: Series) => SeriesC;
  /** The CONFIG_REMOTEPROC_TEE=n stubs of a built-in version's posted header, when the platform has its mails. */
  builtinStubs?: (id: string) => Promise<TeeDriverImpl>;
}

/** Below GitHub's 65 536 characters of a comment or check-run text, with room for the bot's marker and footer. */
const TEXT_LIMIT = 64_000;

const CONCLUSIONS: Record<ReviewReport["verdict"]["status"], Conclusion> = {
  pass: "success",
  warn: "neutral",
  fail: "failure",
};

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** The engine, plus the report itself for renderers other than markdown (the mail bot's, src/mail/). */
export interface ReportingEngine extends ReviewEngine {
  report(a: VersionRef, b: VersionRef, scenarios: readonly string[] | null): Promise<ReviewReport>;
}

export function createReviewEngine(options: ReviewEngineOptions): ReportingEngine {
  const mainline = BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE);
  const mapWithParser = (series: Series): MapResult => {
    if (!options.parser) throw new InputError("no C parser here: the series' facts must come with the job");
    return mapSeries(series, options.parser);
  };

  async function resolve(ref: VersionRef): Promise<ReviewSubject> {
    if (ref.kind === "builtin") {
      const v = builtinVersion(ref.id);
      if (!v) throw new InputError(`unknown built-in version "${ref.id}"`);
      const teeStubs =
        (await options.builtinStubs?.(v.id)) ??
        missingTeeStubs(`the mails of built-in version ${v.id} are not at hand on this service`);
      return withC(builtinSubject(v, (await options.builtinMapping?.(v.id)) ?? null), { teeStubs });
    }
    const mapped = options.mapSeries?.(ref.series) ?? mapWithParser(ref.series);
    // A pull request is named by its pr: input, so the reproduce and replay commands run as printed.
    const spec = ref.series.origin.startsWith("pr:") ? ref.series.origin : ref.label;
    // The C the series creates runs as the CLI runs it: lowered here with the parser, else as it came with
    // the job; never silently the hand model.
    const c =
      options.seriesC?.(ref.series) ??
      (options.parser ? lowerSeriesC(ref.series, options.parser) : decodeSeriesC(ref.series, undefined));
    return withC(seriesSubject(ref.series, mapped, spec, ref.label), seriesCDesign(c));
  }

  /** A against B (plus mainline for pre-existing findings), as `rproc-review diff` runs it. */
  /** Why A is the version compared with, for the report. */
  function whyAgainst(aRef: VersionRef, bRef: VersionRef): string {
    if (aRef.kind === "series") return `the previous version seen (${aRef.label})`;
    if (bRef.kind === "series") {
      const d = defaultComparisonWhy(bRef.series, options.builtinManifests ?? []);
      if (d.id === aRef.id) return d.why;
    }
    return "given";
  }

  async function review(aRef: VersionRef, bRef: VersionRef, scenarios: readonly string[] | null) {
    const b = await resolve(bRef);
    const run = await runReview(await resolve(aRef), b, {
      ...(scenarios ? { scenarios } : {}),
      comparisonWhy: whyAgainst(aRef, bRef),
      ...(options.builtinStubs ? { builtinStubs: options.builtinStubs } : {}),
    });
    return { ...run, b };
  }

  return {
    scenarioIds: () => SCENARIOS.map((s) => s.id),
    isBuiltinVersion: (id) => builtinVersion(id) !== undefined,
    // as `rproc-review review` without --against (src/compare/against.ts)
    nearestBuiltinVersion: (series: Series) => defaultComparison(series, options.builtinManifests ?? []),
    async reviewPullRequest(series, against, { scenarios }): Promise<ReviewOutcome> {
      const aRef: VersionRef = against ?? { kind: "builtin", id: mainline?.id ?? "mainline" };
      const { report, cells, b } = await review(
        aRef,
        { kind: "series", label: series.id, series },
        scenarios,
      );
      // The sticky comment is one screen; the check run carries the report and the annotations.
      return {
        markdown: renderComment(report, {
          ...(series.origin.startsWith("pr:")
            ? { checksUrl: `https://github.com/${series.origin.slice(3).replace("#", "/pull/")}/checks` }
            : {}),
        }),
        checkTitle: report.verdict.line,
        checkSummary: report.verdict.line,
        checkText: renderMarkdown(report, { maxChars: TEXT_LIMIT }),
        annotations: checkAnnotations(report),
        conclusion: CONCLUSIONS[report.verdict.status],
        cells,
        facts: b.mapped ? { facts: toJson(b.mapped.facts), evidence: toJson(b.mapped.evidence) } : null,
        report,
      };
    },
    async diff(a, b) {
      const { report } = await review(a, b, null);
      return { markdown: renderMarkdown(report, { maxChars: TEXT_LIMIT }) };
    },
    report: async (a, b, scenarios) => (await review(a, b, scenarios)).report,
  };
}
