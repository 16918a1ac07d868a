/**
 * The `/rproc-review …` comment commands. The first line of a comment (outside code fences and quotes)
 * that starts with the word `/rproc-review` is the command; a comment without one is not for the bot.
 */
import { markdownCode } from "../report/escape.ts";

export const COMMAND_WORD = "/rproc-review";

export type BotCommand =
  | { kind: "run"; scenarios: string[] }
  | { kind: "diff"; a: string; b: string | null }
  | { kind: "help" }
  /** A command line the bot did not understand; `message` says why. */
  | { kind: "invalid"; line: string; message: string };

export const HELP_TEXT = [
  "`/rproc-review run [scenario…]`: review the pull request again, all scenarios or only those named.",
  "`/rproc-review diff <A> [<B>]`: compare version A with version B (default: the series under review). A version is a label of this pull request (`v3`), a head commit (7+ hex digits) or a built-in version id.",
  "`/rproc-review help`: this text.",
].join("\n");

const ARG = /^[A-Za-z0-9._:@/#+-]+$/;

function commandLine(body: string): string | null {
  let fenced = false;
  for (const raw of body.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith("```") || line.startsWith("~~~")) {
      fenced = !fenced;
      continue;
    }
    if (fenced || line.startsWith(">")) continue;
    const [word] = line.split(/\s+/, 1);
    if (word?.toLowerCase() === COMMAND_WORD) return line;
  }
  return null;
}

/** The command of a comment, or null when the comment has none. */
export function parseCommand(body: string): BotCommand | null {
  const line = commandLine(body);
  if (line === null) return null;
  const [, sub, ...args] = line.split(/\s+/);
  const invalid = (message: string): BotCommand => ({ kind: "invalid", line, message });
  const bad = args.find((a) => !ARG.test(a));
  if (bad !== undefined) return invalid(`${markdownCode(bad)} is not a valid argument`);
  switch (sub?.toLowerCase()) {
    case undefined:
      return invalid("a command is missing after `/rproc-review`");
    case "help":
      return args.length === 0 ? { kind: "help" } : invalid("`help` takes no arguments");
    case "run":
      return { kind: "run", scenarios: [...new Set(args)] };
    case "diff": {
      const [a, b, ...rest] = args;
      if (a === undefined) return invalid("`diff` needs a version to compare: `diff <A> [<B>]`");
      if (rest.length > 0) return invalid("`diff` takes one or two versions");
      return { kind: "diff", a, b: b ?? null };
    }
    default:
      return invalid(`unknown command ${markdownCode(sub ?? "")}`);
  }
}
