import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { printText } from "../output.ts";
import { requirePaths } from "../paths.ts";

export function register(program: Command): void {
  program
    .command("mail-post")
    .description(
      "post a series (mbox or .eml) to a bot's POST /mail, signed with $RPROC_MAIL_SECRET, with the facts the mapper derives here (a Worker cannot parse C)",
    )
    .argument("<mbox>", "the series as an mbox or .eml file")
    .requiredOption(
      "--url <url>",
      "the bot's /mail endpoint, e.g. https://rproc-review.example.workers.dev/mail",
    )
    .option("--list <name>", "the list the series was posted to (e.g. linux-remoteproc)")
    .option("--no-facts", "post the mails only (a Node bot maps the series itself)")
    .action(async (path: string, opts: { url: string; list?: string; facts: boolean }) => {
      const secret = process.env.RPROC_MAIL_SECRET;
      if (!secret) throw new UsageError("RPROC_MAIL_SECRET is not set (the shared secret of POST /mail)");
      await requirePaths([{ path, what: "the series to post", kind: "file" }]);
      const { postMail } = await import("../../node/mail-post.ts");
      const { status, body } = await postMail({
        url: opts.url,
        secret,
        path,
        facts: opts.facts,
        ...(opts.list ? { list: opts.list } : {}),
      });
      printText(`${status} ${JSON.stringify(body)}\n`);
    });
}
