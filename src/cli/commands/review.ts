import type { Command } from "commander";
import type { CellSummary } from "../../compare/types.ts";
import { UsageError } from "../../errors.ts";
import type { InputOptions } from "../../node/inputs.ts";
import { loadStore } from "../../node/series-store.ts";
import { REVIEW_INTERLEAVE_DEPTH } from "../../review/depth.ts";
import type { ReviewReport, ReviewRunOptions, ReviewSubject } from "../../review/index.ts";
import { FINDING_CLASSES } from "../../review/verdict.ts";
import type { Series } from "../../series/types.ts";
import { printJson, printText } from "../output.ts";
import { requireCommandPaths } from "../paths.ts";
import {
  exploreDepthOf,
  formatOf,
  INTERLEAVE_DEPTH_HELP,
  interleaveDepthOf,
  KERNEL_TREE_HELP,
  MODEL_ONLY_HELP,
  type RenderedReviewOptions,
  writeReport,
} from "./diff.ts";

interface ReviewOptions extends RenderedReviewOptions {
  against?: string;
  history?: string;
  store?: string;
  archive?: string;
}

/** --fail-on: a comma set of finding classes. */
export function failOnClasses(
  text: string | undefined,
): ReviewReport["diff"]["scenarios"][number]["findings"][number]["class"][] {
  if (text === undefined) return [];
  const out = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const c of out)
    if (!(FINDING_CLASSES as readonly string[]).includes(c))
      throw new UsageError(`unknown value "${c}" (known: ${FINDING_CLASSES.join(", ")}, comma-separated)`, {
        subject: "--fail-on",
      });
  return out as ReturnType<typeof failOnClasses>;
}

/** Where message-id inputs are looked up. */
const inputOptions = (opts: ReviewOptions): InputOptions =>
  opts.archive !== undefined ? { archive: opts.archive } : {};

/** The series known with the one under review: the rest of its input, --history, --store. */
async function knownSeries(input: string, opts: ReviewOptions): Promise<Series[]> {
  const { loadInputs, loadSeriesFrom, splitSelection } = await import("../../node/inputs.ts");
  const known: Series[] = [];
  const { input: base, series: picked } = await splitSelection(input);
  const inputs = inputOptions(opts);
  if (picked !== null) known.push(...(await loadSeriesFrom(base, inputs)));
  if (opts.history !== undefined)
    known.push(
      ...(await loadInputs(
        opts.history.split(",").filter((s) => s.trim() !== ""),
        inputs,
      )),
    );
  if (opts.store !== undefined) known.push(...(await loadStore(opts.store)));
  return known;
}

/** --model-only: the hand model runs the inputs too (also $RPROC_REVIEW_MODEL_ONLY). */
function only(opts: ReviewOptions): { modelOnly?: boolean; kernelTree?: string } {
  return {
    ...(opts.modelOnly === true ? { modelOnly: true } : {}),
    ...(opts.kernelTree !== undefined ? { kernelTree: opts.kernelTree } : {}),
  };
}

/** The version compared with, why, and the chain before it: --against, else the chain, else the built-ins. */
async function comparison(
  series: Series,
  input: string,
  opts: ReviewOptions,
): Promise<{ a: ReviewSubject; why: string; history?: ReviewSubject[] }> {
  const { defaultComparisonWhy, precedingInChain } = await import("../../compare/against.ts");
  const { builtinManifests, mappedSubject, resolveVersion } = await import("../../node/versions.ts");
  if (opts.against !== undefined)
    return {
      a: await resolveVersion(opts.against, undefined, inputOptions(opts), only(opts)),
      why: "given (--against)",
    };
  const before = precedingInChain(series, await knownSeries(input, opts));
  if (before !== null) {
    const history: ReviewSubject[] = [];
    for (const s of before.history) history.push(await mappedSubject(s, s.origin, only(opts)));
    return {
      a: await mappedSubject(before.series, before.series.origin, only(opts)),
      why: `the version it follows in the chain of the series given with it (linked by ${before.linkedBy})`,
      history,
    };
  }
  const d = defaultComparisonWhy(series, await builtinManifests());
  return { a: await resolveVersion(d.id), why: d.why };
}

function describe(c: CellSummary | null): string {
  if (c === null) return "-";
  if (c.unknown) return `unknown: ${c.unknownBecause.map((u) => `${u.what}: ${u.why}`).join("; ")}`;
  if (!c.applicable) return `n/a (${c.reason ?? ""})`;
  const findings = c.findings.map((f) => f.kind);
  return `${c.ok ? "ok" : `errno ${c.errno}`}, ${c.finalState}, TA [${c.tee.join(" ")}]${findings.length ? `, findings: ${findings.join(", ")}` : ""}`;
}

/** The short form of `review` (no --format): the verdict, then each scenario that differs or is unknown. */
function printSummary(
  series: Series,
  r: ReviewReport,
  json: boolean,
  describeRan: (ran: ReviewReport["b"]["ran"]) => string,
): void {
  const differ = r.diff.scenarios.filter((s) => s.status !== "same");
  if (json) {
    const out = {
      series: series.title,
      version: series.id,
      against: r.a.id,
      comparison: r.comparison,
      verdict: r.verdict,
      ran: { against: r.a.ran ?? null, series: r.b.ran ?? null },
      notReviewed: r.notReviewed ?? [],
      scenarios: r.diff.scenarios.length,
      counts: r.diff.counts,
      differences: differ.map((d) => ({
        scenario: d.scenario,
        title: d.title,
        status: d.status,
        against: d.a,
        series: d.b,
        findings: d.findings.filter((f) => f.class !== "pre-existing"),
      })),
      // With --interleave-depth: the interleavings' counts, the scenarios not judged and the open findings.
      interleave: r.interleave
        ? {
            depth: r.interleave.depth,
            counts: r.interleave.counts,
            notJudged: r.interleave.scenarios
              .filter((s) => s.notJudged !== null)
              .map((s) => ({ scenario: s.scenario, why: s.notJudged })),
            open: r.interleave.scenarios.flatMap((s) =>
              s.findings.filter((f) => f.class === "introduced" || f.class === "carried"),
            ),
          }
        : null,
    };
    printJson(out);
    return;
  }
  const lines: string[] = [];
  if (r.verdict.cannotReview) lines.push(r.verdict.cannotReview.line);
  lines.push(
    `${series.title} (${series.id}) against ${r.a.id} (${r.comparison.why}): ${r.diff.counts.different} of ${r.diff.scenarios.length} scenarios differ`,
    `verdict: ${r.verdict.status}: ${r.verdict.line}`,
  );
  // What ran, per side that did not run the hand model alone (the files from C, the files nothing ran).
  const ran = [r.a, r.b].filter((v) => v.ran !== undefined && v.ran.length > 0);
  if (ran.length > 0) lines.push(`ran: ${ran.map((v) => `${v.id}: ${describeRan(v.ran)}`).join("; ")}`);
  if (r.notReviewed !== undefined)
    lines.push(
      `not reviewed (no scenario runs or reads them: outside the model and not run from C, or build files): ${r.notReviewed.join(", ")}`,
    );
  for (const d of differ) {
    lines.push(`  ${d.scenario}: ${d.title}${d.status === "different" ? "" : ` [${d.status}]`}`);
    lines.push(`    ${r.a.id}: ${describe(d.a)}`);
    lines.push(`    ${series.id}: ${describe(d.b)}`);
  }
  const open = r.diff.scenarios.flatMap((s) =>
    s.findings.filter((f) => f.class === "introduced" || f.class === "carried"),
  );
  const distinct = new Map(open.map((f) => [`${f.class} ${f.kind} ${f.at}`, f]));
  for (const f of distinct.values())
    lines.push(`  ${f.class}${f.since ? ` (since ${f.since})` : ""}: ${f.kind} in ${f.at}: ${f.detail}`);
  // With --interleave-depth: the interleavings' open findings, each once, with a shortest schedule.
  const racy = new Map<string, string>();
  for (const s of r.interleave?.scenarios ?? [])
    for (const f of s.findings) {
      if (f.class !== "introduced" && f.class !== "carried") continue;
      const key = `${f.class} ${f.kind} ${f.at}`;
      if (!racy.has(key))
        racy.set(
          key,
          `  ${f.class} (interleavings, ${s.scenario}, schedule ${f.schedule.length === 0 ? "(default)" : f.schedule.map((t) => `t${t}`).join(",")}): ${f.kind} in ${f.at}: ${f.detail}`,
        );
    }
  lines.push(...racy.values());
  printText(`${lines.join("\n")}\n`);
}

export function register(program: Command): void {
  program
    .command("review")
    .description(
      "map a series, run the scenario matrix for it and for the version it follows, print the verdict and the scenarios that differ",
    )
    .argument(
      "<input>",
      "mbox, .eml, directory of mails/patches, b4's .mbx (with its .cover), - (an mbox on stdin), a message-id or lore URL, pr:owner/repo#n or git:<dir>:<a>..<b>",
    )
    .option(
      "--archive <dir>",
      "local archive (public-inbox repository, mbox or directory of mails) where a message-id is looked up (default: $RPROC_REVIEW_ARCHIVE, else b4 mbox fetches it)",
    )
    .option(
      "--against <id|input>",
      "built-in version id or another input (default: the version it follows in the chain of the series given with it, else the built-in version it follows, else mainline)",
    )
    .option(
      "--history <inputs>",
      "earlier versions of the series (comma-separated inputs), to find the one it follows",
    )
    .option(
      "--store <dir>",
      "directory of series ingested before (one Series JSON per file), to find the one it follows",
    )
    .option("--json", "print JSON")
    .option("--model-only", MODEL_ONLY_HELP)
    .option("--kernel-tree <dir>", KERNEL_TREE_HELP)
    .option(
      "--fail-on <classes>",
      `exit 1 when a finding of these classes is present (comma-separated: ${FINDING_CLASSES.join(", ")}), in a scenario or in the exploration; exit 4 when none is but some scenarios could not be reviewed`,
    )
    .option("--format <format>", "markdown, email, json or html: the full report, as `diff` prints it")
    .option("--out <file>", "with --format: write the report to a file")
    .option("--from <address>", "with --format email: the From header")
    .option(
      "--explore-depth <n>",
      "explore every sequence of up to n events on both versions, a side with posted C on its C (0: skip; default 3 with --format or --fail-on, 2 when a side runs C, else 0)",
    )
    .option(
      "--interleave-depth <n>",
      `${INTERLEAVE_DEPTH_HELP} (0: skip; default ${REVIEW_INTERLEAVE_DEPTH} with --format or --fail-on, else 0)`,
    )
    .action(async (input: string, opts: ReviewOptions) => {
      const classes = failOnClasses(opts.failOn);
      const full = opts.format !== undefined || opts.failOn !== undefined;
      if (full) formatOf(opts);
      const exploreDepth = full || opts.exploreDepth !== undefined ? exploreDepthOf(opts.exploreDepth) : 0;
      const interleaveDepth =
        full || opts.interleaveDepth !== undefined ? interleaveDepthOf(opts.interleaveDepth) : 0;
      await requireCommandPaths({ ...opts, inputs: [input] });
      // Loaded here, not for --help: the mapper, the model and the review room.
      const { loadInput } = await import("../../node/inputs.ts");
      const { builtinTeeStubs, mappedSubject, withTreeMainline } = await import("../../node/versions.ts");
      const { failOnOutcome, runReview } = await import("../../review/index.ts");
      const series = await loadInput(input, inputOptions(opts));
      const { a, why, history } = await comparison(series, input, opts);
      const runOpts: ReviewRunOptions = {
        ...(exploreDepth === undefined ? {} : { exploreDepth }),
        interleaveDepth,
        ...(opts.kernelTree !== undefined ? { kernelTree: opts.kernelTree } : {}),
        ...(opts.modelOnly === true ? { modelOnly: true } : {}),
        comparisonWhy: why,
        ...(history ? { history } : {}),
        builtinStubs: (id) => builtinTeeStubs(id),
      };
      const sides = await withTreeMainline(
        series,
        a,
        await mappedSubject(series, input, only(opts)),
        only(opts),
        input,
      );
      const { report } = await runReview(sides.a, sides.b, { ...runOpts, ...sides.run });
      if (full) await writeReport(report, opts);
      else {
        const { describeRan } = await import("../../scenarios/result.ts");
        printSummary(series, report, opts.json === true, describeRan);
      }
      if (classes.length > 0) {
        const outcome = failOnOutcome(report.diff, classes, report.explore, report.interleave);
        if (outcome === "findings") process.exitCode = 1;
        else if (outcome === "cannot-say") process.exitCode = 4;
      }
    });
}
