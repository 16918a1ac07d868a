/**
 * Commands in replies to the bot's mails: a line (not quoted) starting with `#rproc-review`, as
 * `#rproc-review diff <A> [<B>]` or `#rproc-review run <scenario>`. The grammar is the GitHub bot's
 * (src/bot/commands.ts) with `#` for `/`, since a slash command means nothing in a mail.
 */
import { type BotCommand, COMMAND_WORD, HELP_TEXT, parseCommand } from "../bot/commands.ts";

export const MAIL_COMMAND_WORD = "#rproc-review";

/** The command of a mail body, or null when it has none. */
export function parseMailCommand(body: string): BotCommand | null {
  const lines = body.split(/\r?\n/).map((line) => {
    const word = line.trim().split(/\s+/, 1)[0]?.toLowerCase();
    if (word === MAIL_COMMAND_WORD) return line.replace(/#rproc-review/i, COMMAND_WORD);
    // A slash command in a mail is not one: keep parseCommand from reading it.
    return word === COMMAND_WORD ? `.${line}` : line;
  });
  const command = parseCommand(lines.join("\n"));
  if (command?.kind === "invalid")
    return { ...command, line: command.line.replace(COMMAND_WORD, MAIL_COMMAND_WORD) };
  return command;
}

/** HELP_TEXT as a mail says it. */
export const MAIL_HELP_TEXT = HELP_TEXT.replaceAll(COMMAND_WORD, MAIL_COMMAND_WORD)
  .replaceAll("`", "")
  .replaceAll("review the pull request again", "review the series again")
  .replaceAll(
    "a label of this pull request (v3), a head commit (7+ hex digits) or",
    "a version label seen on the list (v15) or",
  );
