import type { Command } from "commander";

export function register(program: Command): void {
  program
    .command("map")
    .description(
      "derive the design facts of a series from its diff, with evidence, unmodelled changes and out-of-scope files",
    )
    .argument("<input>", "mbox, .eml, directory of mails/patches, pr:owner/repo#n or git:<dir>:<a>..<b>")
    .option("--json", "print JSON (keys: series, version, facts, status, evidence, unmodelled, outOfScope)")
    .action(async (input: string, opts: { json?: boolean }) => {
      const { loadInput } = await import("../../node/inputs.ts");
      const { cParser } = await import("../../node/c-parser.ts");
      const { mapSeries } = await import("../../semantics/map/index.ts");
      const { mapJson, mapText } = await import("../../semantics/map/report.ts");
      const series = await loadInput(input);
      const result = mapSeries(series, await cParser());
      process.stdout.write(
        opts.json ? `${JSON.stringify(mapJson(series, result), null, 2)}\n` : mapText(series, result),
      );
    });
}
