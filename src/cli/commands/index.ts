import type { Command } from "commander";
import type { IndexProgress } from "../../index/index.ts";
import { printJson, printText, statusLine } from "../output.ts";
import { requirePaths } from "../paths.ts";

export interface IndexCliOptions {
  json?: boolean;
}

/** One status line on a TTY: mails, MB, throughput, series. */
function progressLine(p: IndexProgress): string {
  const secs = Math.max(p.elapsedMs / 1000, 1e-6);
  const mb = p.counts.bytes / 1e6;
  return `${p.counts.mails} mails, ${mb.toFixed(1)} MB (${(mb / secs).toFixed(1)} MB/s, ${Math.round(p.counts.mails / secs)} mails/s), ${p.series} series`;
}

export async function indexAction(path: string, opts: IndexCliOptions): Promise<void> {
  await requirePaths([{ path, what: "the archive" }]);
  const { indexArchive, renderIndexText } = await import("../../index/index.ts");
  const { openArchive } = await import("../../node/archive.ts");
  const archive = await openArchive(path);
  const line = statusLine();
  let result: Awaited<ReturnType<typeof indexArchive>>;
  try {
    result = await indexArchive(archive.mails, {
      every: 200,
      ...(line.live ? { onProgress: (p: IndexProgress) => line.update(progressLine(p), true) } : {}),
    });
  } finally {
    line.done();
  }
  if (opts.json) printJson({ source: path, kind: archive.kind, ...result });
  else printText(`${renderIndexText(result, `${path} (${archive.kind})`)}\n`);
}

export function register(program: Command): void {
  program
    .command("index")
    .description(
      "stream a list archive (mbox file, directory of mails, public-inbox git directory), group every patch series into version chains and list the chains that touch modelled code",
    )
    .argument(
      "<archive>",
      "an mbox file, a directory of mail/mbox files, or a public-inbox (v2 or v1) directory",
    )
    .option("--json", "print counts and chains as JSON")
    .action(indexAction);
}
