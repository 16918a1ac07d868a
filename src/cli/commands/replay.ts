import type { EventEmitter } from "node:events";
import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { EVENT_IDS } from "../../explore/events.ts";
import { printJson, printText } from "../output.ts";
import type { WorldCliOptions } from "./interleave.ts";
import { resolveNamedDesigns } from "./matrix.ts";

/** The world options (--writers, --unbind, --dt, --crash, --scenario, --kernel-tree) are the interleaving ones. */
export interface ReplayCliOptions extends WorldCliOptions {
  version?: string;
  variant?: string;
  events?: string;
  schedule?: string;
  json?: boolean;
}

export async function replayAction(operand: string | undefined, opts: ReplayCliOptions): Promise<void> {
  if (operand !== undefined && opts.version !== undefined && operand !== opts.version) {
    throw new UsageError(`two versions given: "${operand}" and "${opts.version}"`, { subject: "--version" });
  }
  opts.version ??= operand;
  if (opts.version === undefined && opts.variant === undefined) {
    throw new UsageError("--version (or --variant) is required");
  }
  if (opts.version !== undefined && opts.variant !== undefined) {
    throw new UsageError("give --version or --variant, not both", { subject: "--variant" });
  }
  if (opts.version?.includes(",")) throw new UsageError("one version only", { subject: "--version" });
  if (opts.schedule !== undefined) {
    if (opts.events !== undefined)
      throw new UsageError("give --events or --schedule, not both", { subject: "--schedule" });
    if (opts.version === undefined)
      throw new UsageError("--schedule needs an input", { subject: "--version" });
    if (opts.kernelTree !== undefined || opts.scenario !== undefined || opts.crash) {
      const { kernelInterleaveReplay } = await import("./interleave.ts");
      await kernelInterleaveReplay(opts.version, opts.schedule, opts);
      return;
    }
    const { interleaveReplay } = await import("./interleave.ts");
    await interleaveReplay(opts.version, opts.schedule, opts);
    return;
  }
  if (opts.events === undefined) throw new UsageError('--events is required ("" for none)');
  const { parseEvents, renderReplayText, replay } = await import("../../explore/index.ts");
  const { loadFixtures } = await import("../../emulator/api.ts");
  const events = parseEvents(opts.events);
  const [named] = await resolveNamedDesigns(
    opts.variant === undefined
      ? { versions: opts.version as string, versionsOption: "--version" }
      : { versions: "", variant: [opts.variant] },
  );
  if (named === undefined) throw new UsageError("no version given", { subject: "--version" });
  const { id, facts, tee, stm32 } = named.design;
  // An input replays on the C it runs in matrix, review and explore (its TEE driver; a tree's drivers).
  const design = {
    id,
    facts,
    ...(tee === undefined ? {} : { tee }),
    ...(stm32 === undefined ? {} : { stm32 }),
  };
  const out = await replay(design, events, await loadFixtures());
  if (opts.json) printJson({ version: id, events, findings: out.findings, trace: out.trace });
  else printText(`${renderReplayText(id, events, out)}\n`);
}

/** The first operand of the command line: the command being run. */
function commandOf(program: Command): string | undefined {
  const raw = (program as Command & { rawArgs?: string[] }).rawArgs ?? [];
  return raw.slice(2).find((a) => !a.startsWith("-"));
}

/**
 * The program's -V/--version flag is parsed before a subcommand sees its options, so `replay --version v14`
 * would print the program's version. While the command line runs replay, that flag is ignored and the id that
 * follows it reaches replay as its operand; everywhere else --version behaves as before.
 */
function yieldVersionFlagToReplay(program: Command): void {
  // commander's Command is an EventEmitter at run time; its typings expose only on().
  const emitter = program as unknown as EventEmitter;
  const printVersion = emitter.listeners("option:version");
  if (printVersion.length === 0) return;
  emitter.removeAllListeners("option:version");
  emitter.on("option:version", (...args: unknown[]) => {
    if (commandOf(program) === "replay") return;
    for (const l of printVersion) l.apply(program, args);
  });
}

export function register(program: Command): void {
  yieldVersionFlagToReplay(program);
  program
    .command("replay")
    .argument("[version]", "the version id (same as --version)")
    .description(
      "run one sequence of events on one version and print its trace and findings (as explore found them)",
    )
    .option("--version <id>", "a built-in version id or an input (mbox, .eml, directory, pr:…, git:…)")
    .option("--variant <file.json>", "a variant design (as explore and matrix take it)")
    .option("--events <ids>", `comma-separated events (${EVENT_IDS.join(", ")})`)
    .option(
      "--schedule <threads>",
      "instead of --events: the threads chosen at the choice points of the input's platform driver (t1,t2,…; as explore --interleave prints them)",
    )
    .option("--writers <list>", "with --schedule: sysfs state writers, each a thread (start, stop)")
    .option("--unbind", "with --schedule: unbind the driver on its own thread once probe bound it")
    .option("--dt <props>", 'with --schedule: boolean device-tree properties (default "st,auto-boot")')
    .option(
      "--kernel-tree <dir>",
      "with --schedule: run a kernel tree's drivers from C (as explore --interleave --kernel-tree)",
    )
    .option(
      "--scenario <id>",
      "with --schedule --kernel-tree: the interleaving scenario (as explore --interleave printed it)",
    )
    .option(
      "--crash",
      "with --schedule --kernel-tree: the watchdog fires on its own thread once the driver is bound",
    )
    .option(
      "--model-only",
      "with --schedule --scenario: run an input with the hand model, not the C it posts (as review --model-only printed it)",
    )
    .option("--json", "print the trace and findings as JSON")
    .action(replayAction);
}
