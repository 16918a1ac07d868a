import { Command, CommanderError } from "commander";
import { isUserError } from "../errors.ts";
import { register as registerB4Check } from "./commands/b4-check.ts";
import { register as registerDiff } from "./commands/diff.ts";
import { register as registerExplore } from "./commands/explore.ts";
import { register as registerImage } from "./commands/image.ts";
import { register as registerIndex } from "./commands/index.ts";
import { register as registerMailPost } from "./commands/mail-post.ts";
import { register as registerMap } from "./commands/map.ts";
import { register as registerMatrix } from "./commands/matrix.ts";
import { register as registerReplay } from "./commands/replay.ts";
import { register as registerReview } from "./commands/review.ts";
import { register as registerSeries } from "./commands/series.ts";
import { register as registerServe } from "./commands/serve.ts";
import { version } from "./version.ts";

/**
 * Each command lives in its own module under ./commands and exports a `register(program)` function;
 * add one import and one entry here per command. Only commands that work are listed.
 */
const registrations: Array<(program: Command) => void> = [
  registerSeries,
  registerImage,
  registerMatrix,
  registerMap,
  registerReview,
  registerDiff,
  registerB4Check,
  registerExplore,
  registerReplay,
  registerIndex,
  registerServe,
  registerMailPost,
];

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("rproc-review")
    .description(
      "Executable review of the Linux remoteproc TEE series: run boot, recovery, shutdown and error scenarios of each version",
    )
    .version(version, "-V, --version")
    .option("--debug", "print stack traces of errors")
    .exitOverride()
    .showHelpAfterError(false);
  for (const register of registrations) register(program);
  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 bad input, 2 usage). Never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  const debug = argv.includes("--debug");
  // A command sets process.exitCode for its outcome; a run in the same process starts from none.
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; commander already printed the reason otherwise.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (isUserError(e)) {
      process.stderr.write(`rproc-review: ${e.oneLine()}\n`);
      if (debug && e.stack) process.stderr.write(`${e.stack}\n`);
      return e.exitCode;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`rproc-review: internal error: ${err.message}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write("rproc-review: run again with --debug for the stack trace\n");
    return 70;
  }
}
