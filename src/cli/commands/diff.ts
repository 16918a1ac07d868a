import { join } from "node:path";
import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { DEFAULT_FROM, isReportFormat, REPORT_FORMATS, type ReportFormat } from "../../report/formats.ts";
import { REVIEW_EXPLORE_DEPTH, REVIEW_EXPLORE_DEPTH_C, REVIEW_INTERLEAVE_DEPTH } from "../../review/depth.ts";
import type { ReviewReport } from "../../review/report.ts";
import { BUILTIN_VERSIONS } from "../../semantics/versions.ts";
import { jsonText, printText } from "../output.ts";
import { requireCommandPaths, writeOutput } from "../paths.ts";

export interface OutputOptions {
  format?: string;
  json?: boolean;
  out?: string;
  from?: string;
}

export function formatOf(opts: OutputOptions): ReportFormat {
  const format = opts.json ? "json" : (opts.format ?? "markdown");
  if (!isReportFormat(format))
    throw new UsageError(`unknown format "${format}" (known: ${REPORT_FORMATS.join(", ")})`, {
      subject: "--format",
    });
  return format;
}

/**
 * Renders the report in the chosen format to --out (as it is), else stdout: markdown and email for people with
 * control characters shown as text, JSON escaped, HTML as it is (its inlined script is code).
 */
export async function writeReport(report: ReviewReport, opts: OutputOptions): Promise<void> {
  const format = formatOf(opts);
  const { renderReview } = await import("../../report/index.ts");
  const { loadMermaidScript } = await import("../../node/html.ts");
  const text = renderReview(report, format, {
    email: { date: new Date(), from: opts.from ?? process.env.RPROC_REVIEW_FROM ?? DEFAULT_FROM },
    ...(format === "html" ? { html: { mermaidScript: await loadMermaidScript() } } : {}),
  });
  if (opts.out !== undefined) await writeOutput(opts.out, text);
  else if (format === "json") process.stdout.write(jsonText(report));
  else if (format === "html") process.stdout.write(text);
  else printText(text);
}

export const MODEL_ONLY_HELP =
  "run inputs with the hand model too, not the TEE client driver they post in C (also RPROC_REVIEW_MODEL_ONLY=1)";

/** The --kernel-tree option's help (matrix, diff, review). */
export const KERNEL_TREE_HELP =
  "kernel sources whose stm32_rproc.c runs from C with an input series applied, beside the TEE driver it posts (default: the git: input's repository, $RPROC_REVIEW_KERNEL_TREE, or the current directory when it is one)";

/** Adds --format, --json (unless the command has its own), --out and --from to a command printing a review. */
export function withOutputOptions(cmd: Command, opts: { json?: boolean } = {}): Command {
  cmd.option("--format <format>", `output format: ${REPORT_FORMATS.join(", ")} (default: markdown)`);
  if (opts.json !== false) cmd.option("--json", "same as --format json");
  return cmd
    .option("--out <file>", "write the report to a file instead of stdout")
    .option("--model-only", MODEL_ONLY_HELP)
    .option("--kernel-tree <dir>", KERNEL_TREE_HELP)
    .option(
      "--from <address>",
      `From of the email format (default: $RPROC_REVIEW_FROM, else ${DEFAULT_FROM})`,
    );
}

export interface RenderedReviewOptions extends OutputOptions {
  /** --model-only: the hand model runs inputs too, not the C they post (also $RPROC_REVIEW_MODEL_ONLY). */
  modelOnly?: boolean;
  /** --kernel-tree: the tree whose STM32 driver runs from C with an input series applied. */
  kernelTree?: string;
  /** Finding classes, comma-separated: exit 1 when one is present (review, CI). */
  failOn?: string;
  exploreDepth?: string;
  interleaveDepth?: string;
}

export const INTERLEAVE_DEPTH_HELP =
  "search the interleaving scenarios (auto-boot at probe, unbind racing start, recovery racing stop) to n scheduling choices on both versions and mainline, each with the C its cells ran, and compare their findings";

/** --interleave-depth: scheduling choices the review searches in the interleaving scenarios (0: none). */
export function interleaveDepthOf(text: string | undefined): number {
  if (text === undefined) return REVIEW_INTERLEAVE_DEPTH;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 8) {
    throw new UsageError(`expected an integer from 0 to 8, not "${text}"`, { subject: "--interleave-depth" });
  }
  return n;
}

/**
 * --explore-depth: the longest event sequence the review explores on both versions (0: none); not given:
 * undefined, the review's default (REVIEW_EXPLORE_DEPTH, or REVIEW_EXPLORE_DEPTH_C when a side runs C).
 */
export function exploreDepthOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 8) {
    throw new UsageError(`expected an integer from 0 to 8, not "${text}"`, { subject: "--explore-depth" });
  }
  return n;
}

interface DiffOptions extends OutputOptions {
  modelOnly?: boolean;
  kernelTree?: string;
  scenarios?: string;
  mails?: string;
  archive?: string;
  exploreDepth?: string;
  interleaveDepth?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command("diff")
    .description(
      "compare the behaviour of two versions, scenario by scenario: what differs, why (facts and the patch, file, function and line), whether the changelog says so, how to reproduce",
    )
    .argument(
      "<A>",
      `older version: built-in id (${BUILTIN_VERSIONS.map((v) => v.id).join(", ")}) or an input`,
    )
    .argument(
      "<B>",
      "newer version: built-in id or an input (mbox, .eml, directory, pr:owner/repo#n, git:<dir>:<a>..<b>)",
    )
    .option("--scenarios <ids>", "comma-separated scenario ids (default: all)")
    .option(
      "--explore-depth <n>",
      `explore every sequence of up to n external events on both versions and compare their findings (0: skip; default ${REVIEW_EXPLORE_DEPTH}, ${REVIEW_EXPLORE_DEPTH_C} when a side runs posted C: it is explored on its C)`,
    )
    .option(
      "--interleave-depth <n>",
      `${INTERLEAVE_DEPTH_HELP} (0: skip; default ${REVIEW_INTERLEAVE_DEPTH})`,
    )
    .option(
      "--archive <dir>",
      "local archive (public-inbox repository, mbox or directory of mails) where message-id inputs are looked up",
    )
    .option(
      "--mails <dir>",
      "directory with one sub-directory of mails per built-in id, to read the changelog of built-in versions (default: $RPROC_REVIEW_MAILS, else ../shared/lkml next to the checkout when present)",
    );
  withOutputOptions(cmd).action(async (aSpec: string, bSpec: string, opts: DiffOptions) => {
    formatOf(opts);
    const exploreDepth = exploreDepthOf(opts.exploreDepth);
    const interleaveDepth = interleaveDepthOf(opts.interleaveDepth);
    const { builtinTeeStubs, defaultMailsDir, resolveVersion, withTreeMainline } = await import(
      "../../node/versions.ts"
    );
    const { runReview } = await import("../../review/run.ts");
    const mails = opts.mails ?? (await defaultMailsDir());
    const inputs = opts.archive !== undefined ? { archive: opts.archive } : {};
    await requireCommandPaths({
      ...opts,
      inputs: [aSpec, bSpec],
      ...(mails === undefined
        ? {}
        : { mailsDir: { path: mails, what: opts.mails !== undefined ? "--mails" : "$RPROC_REVIEW_MAILS" } }),
    });
    const only = {
      ...(opts.modelOnly === true ? { modelOnly: true } : {}),
      ...(opts.kernelTree !== undefined ? { kernelTree: opts.kernelTree } : {}),
    };
    const a = await resolveVersion(aSpec, mails, inputs, only);
    const b = await resolveVersion(bSpec, mails, inputs, only);
    const notes: string[] = [];
    if (b.series === null)
      notes.push(
        mails === undefined
          ? `${bSpec} is a built-in design without its mails, so its changelog was not checked; give --mails <dir> (one sub-directory of mails per version id) or the series itself as input.`
          : `${bSpec} is a built-in design and ${join(mails, bSpec)} does not exist, so its changelog was not checked; --mails ${mails} needs one sub-directory of mails per version id.`,
      );
    const scenarios = opts.scenarios
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    // The tree comes with a side's series (B's first), as it came when the side was resolved.
    const posted = b.series !== null ? { series: b.series, spec: bSpec } : { series: a.series, spec: aSpec };
    const sides =
      posted.series === null
        ? { a, b, run: {} }
        : await withTreeMainline(posted.series, a, b, only, posted.spec);
    const { report } = await runReview(sides.a, sides.b, {
      ...(scenarios ? { scenarios } : {}),
      ...sides.run,
      notes,
      ...(exploreDepth === undefined ? {} : { exploreDepth }),
      interleaveDepth,
      ...(opts.kernelTree !== undefined ? { kernelTree: opts.kernelTree } : {}),
      ...(opts.modelOnly === true ? { modelOnly: true } : {}),
      builtinStubs: (id) => builtinTeeStubs(id, mails),
    });
    await writeReport(report, opts);
  });
}
