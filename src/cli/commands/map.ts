import type { Command } from "commander";
import { printJson, printText } from "../output.ts";
import { inputPaths, requirePaths } from "../paths.ts";

export function register(program: Command): void {
  program
    .command("map")
    .description(
      "derive the design facts of a series from its diff, with evidence, unmodelled changes and out-of-scope files",
    )
    .argument("<input>", "mbox, .eml, directory of mails/patches, pr:owner/repo#n or git:<dir>:<a>..<b>")
    .option(
      "--json",
      "print JSON (keys: series, version, facts, status, evidence, unmodelled, outOfScope, and c: the series' C lowered for a Worker, which cannot parse it)",
    )
    .action(async (input: string, opts: { json?: boolean }) => {
      await requirePaths(await inputPaths([input]));
      const { loadInput } = await import("../../node/inputs.ts");
      const series = await loadInput(input);
      if (opts.json) {
        const { jobFacts } = await import("../../node/job-c.ts");
        printJson(await jobFacts(series));
        return;
      }
      const { cParser } = await import("../../node/c-parser.ts");
      const { mapSeries } = await import("../../semantics/map/index.ts");
      const { mapText } = await import("../../semantics/map/report.ts");
      printText(mapText(series, mapSeries(series, await cParser())));
    });
}
