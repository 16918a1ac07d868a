import type { Command } from "commander";
import { defaultComparison } from "../../compare/against.ts";
import { REVIEW_EXPLORE_DEPTH } from "../../compare/review.ts";
import { cParser } from "../../node/c-parser.ts";
import { loadInput } from "../../node/inputs.ts";
import { builtinManifests } from "../../node/versions.ts";
import type { CellResult } from "../../scenarios/result.ts";
import { type Design, runMatrix } from "../../scenarios/run.ts";
import { FACT_PATHS } from "../../semantics/facts.ts";
import { mapSeries } from "../../semantics/map/index.ts";
import { builtinVersion } from "../../semantics/versions.ts";
import type { Series } from "../../series/types.ts";
import { type RenderedReviewOptions, renderedReview } from "./diff.ts";

async function designOf(series: Series, id: string): Promise<Design> {
  const mapped = mapSeries(series, await cParser());
  return {
    id,
    title: series.title,
    facts: mapped.facts,
    unknownFacts: FACT_PATHS.filter((p) => mapped.status[p] === "unknown"),
  };
}

function builtinDesign(id: string): Design | undefined {
  const v = builtinVersion(id);
  return v === undefined ? undefined : { id: v.id, title: v.title, facts: v.facts };
}

/** The version a series is compared with by default (src/compare/against.ts). */
async function defaultAgainst(series: Series): Promise<Design> {
  return builtinDesign(defaultComparison(series, await builtinManifests())) as Design;
}

function summary(c: CellResult | undefined): string {
  if (c === undefined) return "-";
  if (c.unknown) return "unknown (depends on a fact the mapper could not read)";
  if (!c.applicable) return `n/a (${c.reason ?? ""})`;
  const findings = c.findings.map((f) => f.kind);
  return `${c.ok ? "ok" : `errno ${c.errno}`}, ${c.finalState}, TA [${c.tee.join(" ")}]${findings.length ? `, findings: ${findings.join(", ")}` : ""}`;
}

export function register(program: Command): void {
  program
    .command("review")
    .description(
      "map a series, run the scenario matrix for it and for the version compared, print the scenarios that differ",
    )
    .argument("<input>", "mbox, .eml, directory of mails/patches, pr:owner/repo#n or git:<dir>:<a>..<b>")
    .option(
      "--against <id|input>",
      "built-in version id or another input (default: previous version, else nearest older, else mainline)",
    )
    .option("--json", "print JSON")
    .option(
      "--fail-on <what>",
      "introduced: exit 1 when the series introduces findings, in a scenario or in its exploration (for CI)",
    )
    .option("--format <format>", "markdown, email, json or html: the full report, as `diff` prints it")
    .option("--out <file>", "with --format: write the report to a file")
    .option("--from <address>", "with --format email: the From header")
    .option(
      "--explore-depth <n>",
      `with --format or --fail-on: explore every sequence of up to n events on both versions (0: skip; default ${REVIEW_EXPLORE_DEPTH})`,
    )
    .action(async (input: string, opts: { against?: string; json?: boolean } & RenderedReviewOptions) => {
      const series = await loadInput(input);
      if (opts.format !== undefined || opts.failOn !== undefined)
        return renderedReview(series, input, opts.against ?? (await defaultAgainst(series)).id, opts);
      const design = await designOf(series, series.id);
      let against: Design;
      if (opts.against === undefined) against = await defaultAgainst(series);
      else
        against =
          builtinDesign(opts.against) ?? (await designOf(await loadInput(opts.against), opts.against));
      if (against.id === design.id) design.id = `${design.id} (input)`;
      const matrix = await runMatrix([against, design]);
      const differ = matrix.scenarios
        .map((s) => {
          const before = matrix.results.find((r) => r.version === against.id && r.scenario === s.id);
          const after = matrix.results.find((r) => r.version === design.id && r.scenario === s.id);
          return { scenario: s, before, after };
        })
        .filter((d) => summary(d.before) !== summary(d.after));
      if (opts.json) {
        const cell = (c: CellResult | undefined) =>
          c && {
            ok: c.ok,
            errno: c.errno,
            finalState: c.finalState,
            tee: c.tee,
            findings: c.findings,
            unknown: c.unknown,
            applicable: c.applicable,
          };
        const out = {
          series: series.title,
          version: series.id,
          against: against.id,
          scenarios: matrix.scenarios.length,
          differences: differ.map((d) => ({
            scenario: d.scenario.id,
            title: d.scenario.title,
            against: cell(d.before),
            series: cell(d.after),
          })),
        };
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      const lines = [
        `${series.title} (${series.id}) against ${against.id}: ${differ.length} of ${matrix.scenarios.length} scenarios differ`,
      ];
      for (const d of differ) {
        lines.push(`  ${d.scenario.id}: ${d.scenario.title}`);
        lines.push(`    ${against.id}: ${summary(d.before)}`);
        lines.push(`    ${series.id}: ${summary(d.after)}`);
      }
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
