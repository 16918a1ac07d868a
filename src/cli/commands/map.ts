import type { Command } from "commander";
import { cParser } from "../../node/c-parser.ts";
import { loadInput } from "../../node/inputs.ts";
import { mapSeries } from "../../semantics/map/index.ts";
import { mapJson, mapText } from "../../semantics/map/report.ts";

export function register(program: Command): void {
  program
    .command("map")
    .description(
      "derive the design facts of a series from its diff, with evidence, unmodelled changes and out-of-scope files",
    )
    .argument("<input>", "mbox, .eml, directory of mails/patches, pr:owner/repo#n or git:<dir>:<a>..<b>")
    .option("--json", "print JSON (keys: series, version, facts, status, evidence, unmodelled, outOfScope)")
    .action(async (input: string, opts: { json?: boolean }) => {
      const series = await loadInput(input);
      const result = mapSeries(series, await cParser());
      process.stdout.write(
        opts.json ? `${JSON.stringify(mapJson(series, result), null, 2)}\n` : mapText(series, result),
      );
    });
}
