import { Command, CommanderError } from "commander";
import { EXIT, isUserError } from "../errors.ts";
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
import { printError, terminalLine } from "./output.ts";
import { version } from "./version.ts";

/**
 * Each command lives in its own module under ./commands and exports a `register(program)` function;
 * add one import and one entry here per command. Only commands that work are listed. A command module
 * imports what its action runs inside the action (`await import(…)`), so that `--help` and every other
 * command load none of it.
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

/** The end of `rproc-review --help`: exit statuses and the environment. */
export const HELP_FOOTER = `
Exit status:
  ${EXIT.ok}   done, nothing to report (findings printed without --fail-on are output, not failure)
  ${EXIT.findings}   a finding of a class named in --fail-on (review); an image that does not load (image load)
  ${EXIT.usage}   usage: unknown command, option or value
  ${EXIT.input}   bad input: a file or directory that does not exist, cannot be read or written, or does
      not parse (every missing path is named); mail-post: the bot refused the series
  ${EXIT.cannotSay}   with --fail-on: no finding of those classes, but some scenarios could not be reviewed
  ${EXIT.internal}  internal error (a bug: run again with --debug and report the stack trace)

Output: text for people shows control characters from mails and paths as text (^[ for ESC), JSON escapes
them; no colour is printed (NO_COLOR needs nothing more); progress lines appear only on a terminal, cut to
its width. Environment: RPROC_REVIEW_MAILS, RPROC_REVIEW_STORE, RPROC_REVIEW_FROM, GITHUB_TOKEN,
GITHUB_API_URL (see each command's --help and the README).
`;

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
    .showHelpAfterError(false)
    // commander's own messages quote the command line back: the same care as everything else on stderr.
    .configureOutput({ writeErr: (s) => printError(s) })
    .addHelpText("after", HELP_FOOTER);
  for (const register of registrations) register(program);
  return program;
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EISDIR: "is a directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "file name too long",
  EEXIST: "already exists",
};

/** A file system error on a path the command was given (or derived from one): bad input, not a bug. */
function fileError(e: unknown): { path: string; message: string } | null {
  if (!(e instanceof Error)) return null;
  const { code, path, syscall } = e as NodeJS.ErrnoException;
  if (typeof path !== "string" || code === undefined || !(code in FS_ERRORS)) return null;
  const verb = syscall === "open" || syscall === undefined ? "" : `${syscall}: `;
  return { path, message: `${verb}${FS_ERRORS[code]} (${code})` };
}

/**
 * Runs a program built by buildProgram (or a test's); returns the exit status (EXIT in src/errors.ts, listed
 * by --help). Never throws.
 */
export async function runProgram(program: Command, argv: readonly string[]): Promise<number> {
  const debug = argv.includes("--debug");
  // A command sets process.exitCode for its outcome; a run in the same process starts from none.
  process.exitCode = undefined;
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; commander already printed the reason otherwise.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (isUserError(e)) {
      printError(`rproc-review: ${terminalLine(e.oneLine())}\n`);
      if (debug && e.stack) printError(`${e.stack}\n`);
      return e.exitCode;
    }
    const file = fileError(e);
    if (file !== null) {
      printError(`rproc-review: ${terminalLine(`${file.path}: ${file.message}`)}\n`);
      if (debug && e instanceof Error && e.stack) printError(`${e.stack}\n`);
      return EXIT.input;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    printError(`rproc-review: internal error: ${terminalLine(err.message)}\n`);
    if (debug && err.stack) printError(`${err.stack}\n`);
    else printError("rproc-review: run again with --debug for the stack trace\n");
    return EXIT.internal;
  }
}

/** Runs the CLI; returns the exit status (0 ok, 1 findings, 2 usage, 3 bad input, 4 cannot say, 70 bug). */
export async function main(argv: readonly string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
