import { readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import type { CellRunner } from "../../compare/attribute.ts";
import { builtinSide, cellsOf, type MappedFacts, seriesSide } from "../../compare/sides.ts";
import type { VersionSide } from "../../compare/types.ts";
import { loadFixtures } from "../../emulator/api.ts";
import { UsageError } from "../../errors.ts";
import { cParser } from "../../node/c-parser.ts";
import { loadMermaidScript } from "../../node/html.ts";
import { loadInput } from "../../node/inputs.ts";
import {
  DEFAULT_FROM,
  isReportFormat,
  REPORT_FORMATS,
  type ReportFormat,
  type ReviewReport,
  renderReview,
  reviewVersions,
} from "../../report/index.ts";
import { type Design, runMatrix, runScenario } from "../../scenarios/run.ts";
import { FACT_PATHS } from "../../semantics/facts.ts";
import { mapSeries } from "../../semantics/map/index.ts";
import { BUILTIN_VERSIONS, type BuiltinVersion, builtinVersion, MAINLINE } from "../../semantics/versions.ts";
import type { Series } from "../../series/types.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const PATCHES_DIR = join(ROOT, "patches");

/**
 * Where the mails of the built-in versions are looked for when --mails is not given: $RPROC_REVIEW_MAILS, else
 * the project's material next to the checkout (../shared/lkml, one sub-directory per version id) if present.
 */
async function defaultMailsDir(): Promise<string | undefined> {
  if (process.env.RPROC_REVIEW_MAILS) return process.env.RPROC_REVIEW_MAILS;
  const dir = join(ROOT, "..", "shared", "lkml");
  return (await stat(dir).catch(() => null))?.isDirectory() ? dir : undefined;
}

/** A version named on the command line, resolved to a design to run and a way to make its side. */
export interface ResolvedVersion {
  design: Design;
  /** The series it came from or was attached to (changelog, mail headers). */
  series: Series | null;
  /** Its side of a comparison, under the id its design ran with (made unique by runReview). */
  side: (cells: VersionSide["cells"], id: string) => VersionSide;
}

/** The mapper's stored reading of a built-in version (patches/<id>/facts.json), if there is one. */
async function storedMapping(id: string): Promise<MappedFacts | null> {
  const text = await readFile(join(PATCHES_DIR, id, "facts.json"), "utf8").catch(() => null);
  if (text === null) return null;
  const doc = JSON.parse(text) as Partial<MappedFacts>;
  return doc.facts && doc.evidence ? { facts: doc.facts, evidence: doc.evidence } : null;
}

/** The mails of built-in version `id` in `mailsDir/<id>`, when that directory exists. */
async function builtinMails(mailsDir: string | undefined, id: string): Promise<Series | null> {
  if (mailsDir === undefined) return null;
  const dir = join(mailsDir, id);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) return null;
  return loadInput(dir);
}

export function builtinResolved(
  v: BuiltinVersion,
  mapped: MappedFacts | null,
  series: Series | null,
): ResolvedVersion {
  const design: Design = { id: v.id, title: v.title, facts: v.facts };
  return { design, series, side: (cells, id) => builtinSide(v, cells, { mapped, series, designId: id }) };
}

export async function seriesResolved(series: Series, spec: string): Promise<ResolvedVersion> {
  const mapped = mapSeries(series, await cParser());
  const design: Design = {
    id: series.id,
    title: series.title,
    facts: mapped.facts,
    unknownFacts: FACT_PATHS.filter((p) => mapped.status[p] === "unknown"),
  };
  return {
    design,
    series,
    side: (cells, id) => seriesSide(series, mapped, cells, { spec, designId: id }),
  };
}

/** A built-in id, else an input (path, pr:, git:) read and mapped. */
export async function resolveVersion(spec: string, mailsDir?: string): Promise<ResolvedVersion> {
  const v = builtinVersion(spec);
  if (v !== undefined)
    return builtinResolved(v, await storedMapping(v.id), await builtinMails(mailsDir, v.id));
  return seriesResolved(await loadInput(spec), spec);
}

export interface ReviewRunOptions {
  scenarios?: string[];
  notes?: string[];
}

/**
 * Runs the matrix for A, B and mainline (for pre-existing findings) and builds the review report. Design ids
 * are made unique (an input of version v16 against built-in v16).
 */
export async function runReview(
  a: ResolvedVersion,
  b: ResolvedVersion,
  opts: ReviewRunOptions = {},
): Promise<ReviewReport> {
  if (b.design.id === a.design.id) b.design = { ...b.design, id: `${b.design.id} (B)` };
  const base = BUILTIN_VERSIONS.find((v) => v.facts === MAINLINE);
  let mainline: ResolvedVersion | null = null;
  if (a.design.facts === MAINLINE) mainline = a;
  else if (b.design.facts === MAINLINE) mainline = b;
  else if (base) mainline = builtinResolved(base, null, null);
  const designs = [a.design, b.design];
  if (mainline && mainline !== a && mainline !== b) {
    if (designs.some((d) => d.id === mainline.design.id))
      mainline.design = { ...mainline.design, id: `${mainline.design.id} (baseline)` };
    designs.push(mainline.design);
  }
  const matrix = await runMatrix(designs, opts.scenarios);
  const side = (r: ResolvedVersion) => r.side(cellsOf(matrix.results, r.design.id), r.design.id);
  const sa = side(a);
  const fixtures = await loadFixtures();
  const unknownFacts = b.design.unknownFacts ?? [];
  const run: CellRunner = (facts, scenario) =>
    runScenario({ id: b.design.id, title: b.design.title, facts, unknownFacts }, scenario, fixtures);
  return reviewVersions(sa, side(b), run, {
    mainline: mainline === a ? sa : mainline ? side(mainline) : null,
    scenarios: matrix.scenarios,
    ...(opts.notes ? { notes: opts.notes } : {}),
  });
}

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

/** Renders the report in the chosen format to --out, else stdout. */
export async function writeReport(report: ReviewReport, opts: OutputOptions): Promise<void> {
  const format = formatOf(opts);
  const text = renderReview(report, format, {
    email: { date: new Date(), from: opts.from ?? process.env.RPROC_REVIEW_FROM ?? DEFAULT_FROM },
    ...(format === "html" ? { html: { mermaidScript: await loadMermaidScript() } } : {}),
  });
  if (opts.out === undefined) process.stdout.write(text);
  else await writeFile(opts.out, text);
}

/** Adds --format, --json (unless the command has its own), --out and --from to a command printing a review. */
export function withOutputOptions(cmd: Command, opts: { json?: boolean } = {}): Command {
  cmd.option("--format <format>", `output format: ${REPORT_FORMATS.join(", ")} (default: markdown)`);
  if (opts.json !== false) cmd.option("--json", "same as --format json");
  return cmd
    .option("--out <file>", "write the report to a file instead of stdout")
    .option(
      "--from <address>",
      `From of the email format (default: $RPROC_REVIEW_FROM, else ${DEFAULT_FROM})`,
    );
}

export interface RenderedReviewOptions extends OutputOptions {
  /** "introduced": exit 1 when B introduces findings (CI). */
  failOn?: string;
}

/**
 * `review` with the renderers of diff: B is the series given as `spec`, A the version it is compared with (a
 * built-in id or an input). With failOn "introduced", the exit code is 1 when B introduces findings.
 */
export async function renderedReview(
  series: Series,
  spec: string,
  against: string,
  opts: RenderedReviewOptions,
) {
  if (opts.failOn !== undefined && opts.failOn !== "introduced")
    throw new UsageError(`unknown value "${opts.failOn}" (known: introduced)`, { subject: "--fail-on" });
  formatOf(opts);
  const report = await runReview(await resolveVersion(against), await seriesResolved(series, spec));
  await writeReport(report, opts);
  if (opts.failOn === "introduced" && report.diff.counts.introduced > 0) process.exitCode = 1;
}

interface DiffOptions extends OutputOptions {
  scenarios?: string;
  mails?: string;
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
      "--mails <dir>",
      "directory with one sub-directory of mails per built-in id, to read the changelog of built-in versions (default: $RPROC_REVIEW_MAILS, else ../shared/lkml next to the checkout when present)",
    );
  withOutputOptions(cmd).action(async (aSpec: string, bSpec: string, opts: DiffOptions) => {
    formatOf(opts);
    const mails = opts.mails ?? (await defaultMailsDir());
    const a = await resolveVersion(aSpec, mails);
    const b = await resolveVersion(bSpec, mails);
    const notes: string[] = [];
    if (b.series === null)
      notes.push(
        `${bSpec} is a built-in design without its mails, so its changelog was not checked; give --mails <dir> (one sub-directory of mails per version id) or the series itself as input.`,
      );
    const scenarios = opts.scenarios
      ?.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const report = await runReview(a, b, { ...(scenarios ? { scenarios } : {}), notes });
    await writeReport(report, opts);
  });
}
